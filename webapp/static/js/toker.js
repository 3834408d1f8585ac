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
  // The profiles table's selection outlives paging, sorting and filtering: the ticked ids are
  // kept in sessionStorage (this tab only), counted in #selection-bar, and every form that
  // acts on the selection sends all of them, not only the rows on screen.
  var SELECTION_KEY = "toker.selection";
  var TICKS = 'input[name="ids"][form="compare-form"]';
  function selection() {
    try {
      var ids = JSON.parse(window.sessionStorage.getItem(SELECTION_KEY) || "[]");
      return Array.isArray(ids) ? ids.map(String) : [];
    } catch (unreadable) {
      return [];
    }
  }
  function keep(ids) {
    window.sessionStorage.setItem(SELECTION_KEY, JSON.stringify(ids));
    showSelection();
  }
  function showSelection() {
    var bar = document.getElementById("selection-bar");
    if (!bar) return;
    var ids = selection();
    document.querySelectorAll(TICKS).forEach(function (box) {
      box.checked = ids.indexOf(box.value) !== -1;
    });
    document.getElementById("selection-number").textContent = String(ids.length);
    bar.hidden = false;
  }
  document.addEventListener("DOMContentLoaded", showSelection);
  document.addEventListener("htmx:afterSettle", showSelection);
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(TICKS)) return;
    // A list's page ticks its members for compare only: they stay out of the table's selection.
    if (!document.getElementById("selection-bar")) return;
    var ids = selection().filter(function (id) { return id !== box.value; });
    if (box.checked) ids.push(box.value);
    keep(ids);
  });
  document.addEventListener("click", function (event) {
    if (event.target.id === "selection-clear") keep([]);
  });
  function putIds(form, ids) {
    form.querySelectorAll("input[data-selected]").forEach(function (field) { field.remove(); });
    ids.forEach(function (id) {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "ids";
      field.value = id;
      field.dataset.selected = "1";
      form.appendChild(field);
    });
  }
  // Compare takes 2 to 4 selected profiles: with fewer or more, say so beside the button and
  // stay on the page, the ticked rows as they were.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "compare-form") return;
    var min = Number(form.dataset.min), max = Number(form.dataset.max);
    var ids = document.getElementById("selection-bar") ? selection() : [];
    document.querySelectorAll(TICKS + ":checked").forEach(function (box) {
      if (ids.indexOf(box.value) === -1) ids.push(box.value);
    });
    var count = ids.length;
    var message = document.getElementById("compare-message");
    if (count >= min && count <= max) {
      message.hidden = true;
      var shown = Array.prototype.map.call(document.querySelectorAll(TICKS + ":checked"),
        function (box) { return box.value; });
      putIds(form, ids.filter(function (id) { return shown.indexOf(id) === -1; }));
      return;
    }
    event.preventDefault();
    message.textContent = "Choose " + min + " to " + max + " profiles to compare: " + count +
      (count === 1 ? " is" : " are") + " chosen. Tick them in the table's first column.";
    message.hidden = false;
  });
  // The bulk forms on the table carry the whole selection; a confirmed delete empties it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-clear-selection")) {
      window.sessionStorage.removeItem(SELECTION_KEY);
      return;
    }
    if (!form.hasAttribute("data-selection") || !form.closest("#selection-bar")) return;
    var ids = selection();
    var message = document.getElementById("compare-message");
    if (!ids.length) {
      event.preventDefault();
      message.textContent = "No profile is selected: tick them in the table's first column.";
      message.hidden = false;
      return;
    }
    message.hidden = true;
    putIds(form, ids);
  });
  // "Add to list" (htmx) sends the whole selection too.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "bulk-add-button" || !selection().length) return;
    var data = event.detail.formData;
    if (data) {
      data.delete("ids");
      selection().forEach(function (id) { data.append("ids", id); });
    } else {
      event.detail.parameters.ids = selection();
    }
  });
  // A saved view keeps the query in the address bar when it is saved: htmx changes it with
  // every filter, sort and page without reloading the menu around the table.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "save-view") return;
    document.getElementById("save-view-query").value = window.location.search;
  });
  // Send the user to a confirmation-free delete only after they confirmed in the browser.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // A facet's link sets (or clears) a filter outside the table it swaps: the filter form's own
  // control takes the same value, so that the form's next change keeps it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.facet-value[data-field]");
    if (!link) return;
    var control = document.getElementById(link.dataset.field);
    if (control) control.value = link.classList.contains("chosen") ? "" : link.dataset.facet;
  });
})();
