// Progressive enhancement: turns the map placeholder into a Leaflet map. Without JavaScript
// (or without tiles) the address and the coordinates stay on the page as text.
document.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("map");
  if (!element || typeof L === "undefined") return;
  // A landmark only once there is a map in it (without JavaScript the div stays empty).
  element.setAttribute("role", "region");
  element.setAttribute("aria-label", element.dataset.ariaLabel);
  var position = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lon)];
  var map = L.map(element, { scrollWheelZoom: false, keyboard: true }).setView(position, 17);
  map.attributionControl.setPrefix(false);
  L.tileLayer(element.dataset.tiles, {
    maxZoom: 19,
    attribution: "&copy; OpenStreetMap contributors",
  }).addTo(map);
  L.marker(position, { title: element.dataset.label, alt: element.dataset.label }).addTo(map);
});
