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
  // htmx does not swap error answers in: say what went wrong where the flash messages go.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var detail = "";
    try {
      detail = JSON.parse(xhr.responseText).detail || "";
    } catch (notJson) {
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var text = page.querySelector("#error-page .muted");
      detail = text ? text.textContent : "";
    }
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-error";
      box.className = "flash error";
      box.setAttribute("role", "alert");
      var main = document.getElementById("content");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = "Toker could not finish this (" + xhr.status + "). " +
      (detail || "Try again in a moment.");
  });
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
  // Compare takes 2 to 4 ticked profiles: with fewer or more, say so beside the button and
  // stay on the page, the ticked rows as they were.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "compare-form") return;
    var min = Number(form.dataset.min), max = Number(form.dataset.max);
    var count = document.querySelectorAll('input[name="ids"][form="compare-form"]:checked').length;
    var message = document.getElementById("compare-message");
    if (count >= min && count <= max) {
      message.hidden = true;
      return;
    }
    event.preventDefault();
    message.textContent = "Choose " + min + " to " + max + " profiles to compare: " + count +
      (count === 1 ? " is" : " are") + " chosen. Tick them in the table's first column.";
    message.hidden = false;
  });
  // Send the user to a confirmation-free delete only after they confirmed in the browser.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
