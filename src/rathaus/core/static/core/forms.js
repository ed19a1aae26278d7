// Progressive enhancement: after a form comes back with errors, move focus to the error
// summary so that screen-reader and keyboard users land on what needs fixing. Without
// JavaScript the summary is still the first thing in the page's main content.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("form-errors");
  if (summary) summary.focus();
});

// Conditions, re-evaluated live: an item whose condition depends on another field shows or
// hides as that field changes. The server evaluates them again on every step it receives.
function rathausConditions(form) {
  form.querySelectorAll("[data-condition-field]").forEach(function (element) {
    var values = JSON.parse(element.dataset.conditionValues || "[]");
    var current = [];
    form.querySelectorAll('[name="' + CSS.escape(element.dataset.conditionField) + '"]').forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) current.push(input.value);
      } else {
        current.push(input.value);
      }
    });
    element.hidden = !current.some(function (value) { return values.indexOf(value) !== -1; });
  });
}
document.addEventListener("change", function (event) {
  var form = event.target.closest && event.target.closest("form");
  if (form) rathausConditions(form);
});
