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

// Postcode -> place: when five digits are typed and the place beside it is empty (or was
// filled in here before), the place is filled in and announced to screen readers. Several
// places become suggestions. Without JavaScript the server fills it in when the step is sent.
document.addEventListener("input", function (event) {
  var input = event.target;
  if (!input.dataset || !input.dataset.placeTarget) return;
  var place = document.getElementById(input.dataset.placeTarget);
  var postcode = input.value.trim();
  if (!place || !/^[0-9]{5}$/.test(postcode)) return;
  if (place.value && place.dataset.filledFrom === undefined) return; // typed by the person
  fetch(input.dataset.placesUrl + "?plz=" + encodeURIComponent(postcode), {
    headers: { Accept: "application/json" },
  })
    .then(function (response) { return response.ok ? response.json() : { places: [] }; })
    .then(function (body) {
      var places = body.places || [];
      if (input.value.trim() !== postcode) return; // typed on meanwhile
      if (places.length === 1) {
        place.value = places[0];
        place.dataset.filledFrom = postcode;
        var status = document.getElementById("form-announce");
        if (status) status.textContent = status.dataset.placeFilled + " " + places[0];
      } else if (places.length > 1) {
        var list = document.getElementById(place.id + "_places") || document.createElement("datalist");
        list.id = place.id + "_places";
        list.replaceChildren.apply(list, places.map(function (name) {
          var option = document.createElement("option");
          option.value = name;
          return option;
        }));
        place.after(list);
        place.setAttribute("list", list.id);
      }
    })
    .catch(function () { /* the server fills it in when the step is sent */ });
});
// A place the person changes by hand is theirs: never overwritten.
document.addEventListener("change", function (event) {
  var place = event.target;
  if (place.dataset && place.dataset.filledFrom !== undefined && event.isTrusted) {
    delete place.dataset.filledFrom;
  }
});
