// Toker's own behaviour: draw Plotly figures handed over as JSON in data-figure attributes,
// on first load and whenever htmx swaps new content in.
(function () {
  function drawFigures(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var fig = JSON.parse(el.dataset.figure);
      var config = Object.assign({ responsive: true, displaylogo: false }, fig.config || {});
      window.Plotly.newPlot(el, fig.data, fig.layout || {}, config).then(function () {
        el.dataset.drawn = "1";
        el.classList.add("chart-ready");
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawFigures(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawFigures(event.target); });
  // Show each slider's value beside its name as it moves.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.type !== "range") return;
    var output = document.querySelector('output[for="' + field.id + '"]');
    if (output) output.textContent = field.value;
  });
  // htmx restores history from saved HTML, which does not hold what was typed into a field:
  // put the filters back from the restored URL so they match the restored table.
  document.addEventListener("htmx:historyRestore", function () {
    var form = document.getElementById("filters");
    if (!form) return;
    var params = new URLSearchParams(window.location.search);
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.type !== "hidden" && field.type !== "submit") {
        field.value = params.get(field.name) || "";
      }
    });
  });
  // Send the user to a confirmation-free delete only after they confirmed in the browser.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
