// Progressive enhancement for the directory: the map beside the list (server-side clusters:
// one marker per grid cell, its number the count of organisations there) and the small map
// on a profile. Without JavaScript or tiles the list and the address say the same.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof L === "undefined") return;

  function text(tag, value, className) {
    var element = document.createElement(tag);
    element.textContent = value; // names come from users: text, never markup
    if (className) element.className = className;
    return element;
  }

  function baseMap(element) {
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

  var element = document.getElementById("directory-map");
  var source = document.getElementById("directory-map-data");
  if (element && source) {
    var data = JSON.parse(source.textContent);
    var map = baseMap(element);
    var points = data.clusters.map(function (c) { return [c.lat, c.lon]; });
    if (points.length) map.fitBounds(points, { padding: [30, 30], maxZoom: 14 });
    else map.setView([51.34, 12.37], 11);
    data.clusters.forEach(function (cluster) {
      var names = cluster.entries.map(function (e) { return e.name; });
      // the label starts with the number the marker shows (WCAG 2.5.3, label in name)
      var label = cluster.count + " " +
        (cluster.count === 1 ? element.dataset.one : element.dataset.many) + ": " +
        names.join(", ") + (cluster.count > names.length ? ", …" : "");
      var icon = L.divIcon({
        className: "rh-econ-marker" + (cluster.count > 1 ? " rh-econ-marker--many" : ""),
        html: text("span", String(cluster.count)),
        iconSize: [32, 32],
        iconAnchor: [16, 16],
        popupAnchor: [0, -14],
      });
      var popup = document.createElement("ul");
      popup.className = "rh-econ-popup";
      cluster.entries.forEach(function (entry) {
        var item = document.createElement("li");
        var link = text("a", entry.name, "kern-link");
        link.href = entry.url;
        item.appendChild(link);
        popup.appendChild(item);
      });
      var marker = L.marker([cluster.lat, cluster.lon], { icon: icon, title: label, keyboard: true })
        .bindPopup(popup)
        .addTo(map);
      marker.getElement().setAttribute("aria-label", label);
    });
  }

  var one = document.getElementById("organisation-map");
  if (one) {
    var position = [parseFloat(one.dataset.lat), parseFloat(one.dataset.lon)];
    var small = baseMap(one).setView(position, 15);
    L.marker(position, { title: one.dataset.label, alt: one.dataset.label }).addTo(small);
  }
});
