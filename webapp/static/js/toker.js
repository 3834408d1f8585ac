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
  // Send the user to a confirmation-free delete only after they confirmed in the browser.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
