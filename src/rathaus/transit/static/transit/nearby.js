// "Stops near me": offered only where the browser can tell its position.
document.addEventListener("DOMContentLoaded", function () {
  var link = document.getElementById("nearby-link");
  if (!link || !navigator.geolocation) return;
  link.hidden = false;
  link.addEventListener("click", function (event) {
    event.preventDefault();
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = position.coords.latitude.toFixed(5);
      var lon = position.coords.longitude.toFixed(5);
      window.location.href = link.getAttribute("href") + encodeURIComponent(lat + "," + lon);
    });
  });
});
