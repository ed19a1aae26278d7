// Progressive enhancement: after a form comes back with errors, move focus to the error
// summary so that screen-reader and keyboard users land on what needs fixing. Without
// JavaScript the summary is still the first thing in the page's main content.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("form-errors");
  if (summary) summary.focus();
});
