// Progressive enhancement: the map of the measuring stations and the small map of one
// station. Without JavaScript, without tiles (RATHAUS_TILE_URL empty) or offline, the same
// information stays on the page as text and tables; the markers then stand on a plain
// background.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof L === "undefined") return;

  // names come from the sensors' operators: shown as text, never as markup
  function text(tag, value, className) {
    var element = document.createElement(tag);
    element.textContent = value;
    if (className) element.className = className;
    return element;
  }

  function baseMap(element) {
    // a landmark only once there is a map in it (without JavaScript the div stays empty)
    element.setAttribute("role", "region");
    element.setAttribute("aria-label", element.dataset.ariaLabel);
    var map = L.map(element, { scrollWheelZoom: false, keyboard: true });
    map.attributionControl.setPrefix(false);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, {
        maxZoom: 19,
        attribution: "&copy; OpenStreetMap contributors",
      }).addTo(map);
    }
    return map;
  }

  var stations = document.getElementById("stations-map");
  var stationsData = document.getElementById("stations-data");
  if (stations && stationsData) {
    var data = JSON.parse(stationsData.textContent);
    var map = baseMap(stations);
    // the view first: markers added to a map without one wait, and have no element yet
    var points = data.stations.map(function (station) { return [station.lat, station.lon]; });
    if (points.length) map.fitBounds(points, { padding: [30, 30], maxZoom: 13 });
    else map.setView([51.34, 12.37], 11);
    data.stations.forEach(function (station) {
      var label = station.name + ": " + data.property + " " +
        (station.unit ? station.value + " " + station.unit : station.value) + ", " +
        station.band_label + (station.time ? ", " + station.time : "");
      var icon = L.divIcon({
        className: "rh-aq-marker rh-aq--" + station.band,
        html: text("span", station.value),
        iconSize: [46, 26],
        iconAnchor: [23, 13],
        popupAnchor: [0, -12],
      });
      var popup = document.createElement("div");
      var link = text("a", station.name, "kern-link");
      link.href = station.url;
      popup.appendChild(link);
      popup.appendChild(text("p", label.slice(station.name.length + 2)));
      var marker = L.marker([station.lat, station.lon], { icon: icon, title: label, keyboard: true })
        .bindPopup(popup)
        .addTo(map);
      // the marker's name is the whole sentence, not only the number it shows
      marker.getElement().setAttribute("aria-label", label);
    });
  }

  var one = document.getElementById("thing-map");
  if (one) {
    var position = [parseFloat(one.dataset.lat), parseFloat(one.dataset.lon)];
    var small = baseMap(one).setView(position, 14);
    L.marker(position, { title: one.dataset.label, alt: one.dataset.label }).addTo(small);
  }
});
