// Progressive enhancement: the journey and ÖV-Güteklassen maps. Without JavaScript (or
// without tiles) the same information stays on the page as text and tables.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof L === "undefined") return;

  // names come from the operator's feed: shown as text, never as markup
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function baseMap(element) {
    element.setAttribute("role", "region");
    element.setAttribute("aria-label", element.dataset.ariaLabel);
    var map = L.map(element, { scrollWheelZoom: false, keyboard: true, preferCanvas: true });
    map.attributionControl.setPrefix(false);
    L.tileLayer(element.dataset.tiles, {
      maxZoom: 19,
      attribution: "&copy; OpenStreetMap contributors",
    }).addTo(map);
    return map;
  }

  var journey = document.getElementById("journey-map");
  var journeyData = document.getElementById("journey-data");
  if (journey && journeyData) {
    var data = JSON.parse(journeyData.textContent);
    var map = baseMap(journey);
    var bounds = [];
    data.legs.forEach(function (leg) {
      if (leg.points.length < 2) return;
      L.polyline(leg.points, {
        color: leg.color,
        weight: leg.kind === "ride" ? 5 : 3,
        dashArray: leg.kind === "walk" ? "4 6" : null,
      }).bindTooltip(text(leg.label)).addTo(map);
      bounds = bounds.concat(leg.points);
    });
    if (bounds.length) map.fitBounds(bounds, { padding: [20, 20] });
  }

  var quality = document.getElementById("quality-map");
  var qualityData = document.getElementById("quality-data");
  if (quality && qualityData) {
    var q = JSON.parse(qualityData.textContent);
    var qmap = baseMap(quality);
    // every ring of every stop, worst class first: where rings overlap the better class is
    // drawn last and stays visible ("best class wins")
    var rings = [];
    q.stops.forEach(function (stop) {
      stop.rings.forEach(function (ring) {
        rings.push({ lat: stop.lat, lon: stop.lon, radius: ring[0], klass: ring[1] });
      });
    });
    rings.sort(function (a, b) {
      return a.klass === b.klass ? b.radius - a.radius : a.klass < b.klass ? 1 : -1;
    });
    rings.forEach(function (ring) {
      L.circle([ring.lat, ring.lon], {
        radius: ring.radius,
        stroke: false,
        fillColor: q.colors[ring.klass],
        fillOpacity: 0.55,
        interactive: false,
      }).addTo(qmap);
    });
    var points = q.stops.map(function (stop) { return [stop.lat, stop.lon]; });
    q.stops.forEach(function (stop) {
      L.circleMarker([stop.lat, stop.lon], { radius: 3, color: "#1b1b1b", weight: 1 })
        .bindTooltip(text(stop.name + " (" + stop.category + ")"))
        .addTo(qmap);
    });
    if (points.length) qmap.fitBounds(points, { padding: [20, 20] });
  }
});
