// The population map: fetch the points as JSON and draw one WebGL trace per colour group.
(function () {
  // Plotly draws a subset of HTML (links, bold) in hover labels: names go in as typed text.
  function asText(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  // "Music 40%, Dance 25%": each point's two largest interests (category indices and shares
  // in per cent), a share of 0 left out.
  function topInterests(data, i) {
    var parts = [];
    for (var j = 0; j < 2; j++) {
      if (data.top_shares[i][j] > 0) parts.push(data.categories[data.top[i][j]] + " " + data.top_shares[i][j] + "%");
    }
    return parts.length ? parts.join(", ") : "Unclassified";
  }
  // "component 1 (41.2 % of variance)", or "component 1" when the answer does not say.
  function axisTitle(data, j) {
    var share = data.explained ? data.explained[j] : null;
    var name = "component " + (j + 1);
    return share === null || share === undefined ? name
      : name + " (" + (share * 100).toFixed(1) + " % of variance)";
  }
  // A fixed colour per group: a category's by its taxonomy position, a cluster's by its
  // number, so that no two groups on one map share a colour and a category keeps its own.
  function colourOf(palette, colorBy, data, key) {
    if (colorBy === "dominant") return palette.categories[key];
    if (colorBy === "cluster") {
      var j = data.clusters.indexOf(key);
      return j < 0 ? undefined : palette.ordered[j % palette.ordered.length];
    }
    return undefined;  // platforms: Plotly's first colours, three of them
  }
  function render(el, data) {
    var colorBy = el.dataset.color;
    var palette = JSON.parse(el.dataset.palette || '{"categories": {}, "ordered": []}');
    var groupOf = function (i) {
      if (colorBy === "platform") return data.platform[i];
      if (colorBy === "dominant") return data.dominant[i];
      return data.clusters[data.cluster[i]];
    };
    var groups = {};
    for (var i = 0; i < data.ids.length; i++) {
      var key = groupOf(i);
      var g = groups[key] || (groups[key] = { x: [], y: [], ids: [], text: [] });
      g.x.push(data.x[i]); g.y.push(data.y[i]); g.ids.push(data.ids[i]);
      g.text.push(asText(data.username[i]) + " · " + topInterests(data, i) + " · cluster: " + data.clusters[data.cluster[i]]);
    }
    // Clusters are counted over every profile, also when the map draws a sample of them.
    var sizes = {};
    if (colorBy === "cluster" && data.cluster_sizes) {
      data.clusters.forEach(function (name, j) { sizes[name] = (sizes[name] || 0) + data.cluster_sizes[j]; });
    }
    var traces = Object.keys(groups).sort().map(function (key) {
      var g = groups[key];
      var count = sizes[key] !== undefined ? sizes[key] : g.ids.length;
      var marker = { size: 5, opacity: 0.7 };
      var colour = colourOf(palette, colorBy, data, key);
      if (colour) marker.color = colour;
      return { type: "scattergl", mode: "markers", name: asText(key) + " (" + count.toLocaleString() + ")",
               x: g.x, y: g.y, customdata: g.ids, text: g.text,
               hovertemplate: "%{text}<extra></extra>", marker: marker };
    });
    var layout = { margin: { l: 50, r: 10, t: 10, b: 50 }, height: 620, legend: { orientation: "h", yanchor: "top", y: -0.13 },
                   paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
                   xaxis: { zeroline: false, title: { text: axisTitle(data, 0), standoff: 8 }, automargin: true },
                   yaxis: { zeroline: false, title: { text: axisTitle(data, 1) }, automargin: true } };
    el.classList.remove("chart-ready");
    return window.Plotly.react(el, traces, layout, { responsive: true, displaylogo: false }).then(function () {
      if (!el.dataset.clickBound) {
        el.on("plotly_click", function (event) {
          var id = event.points[0].customdata;
          window.location.href = el.dataset.profileUrl.replace(/0$/, String(id));
        });
        el.dataset.clickBound = "1";
      }
      el.dataset.drawnColor = colorBy;
      el.classList.add("chart-ready");
      var total = data.total !== undefined ? data.total : data.ids.length;
      document.getElementById("map-status").textContent = total > data.ids.length
        ? data.ids.length.toLocaleString() + " of " + total.toLocaleString() + " profiles drawn (an even sample)"
        : total.toLocaleString() + " profiles";
    });
  }
  var answers = {};  // map data by URL: a new colouring redraws without asking again
  function draw(el) {
    var url = el.dataset.mapUrl;
    var answer = answers[url] || (answers[url] = fetch(url).then(function (response) {
      if (!response.ok) throw new Error("the server answered " + response.status);
      return response.json();
    }));
    answer.then(function (data) { return render(el, data); }).catch(function (error) {
      delete answers[url];
      document.getElementById("map-status").textContent = "The map could not be loaded: " + error;
    });
  }
  // Changing the colouring or k redraws at once; the address keeps the choice for a reload.
  function redrawFromForm(el, form) {
    var color = form.elements.color.value;
    var k = form.elements.k.value;
    if (!form.elements.k.checkValidity()) return;
    var url = new URL(el.dataset.mapUrl, window.location.href);
    url.searchParams.set("k", k);
    el.dataset.mapUrl = url.pathname + url.search;
    el.dataset.color = color;
    var here = new URL(window.location.href);
    here.searchParams.set("color", color);
    here.searchParams.set("k", k);
    window.history.replaceState(null, "", here.pathname + here.search);
    draw(el);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("population-map");
    if (!el || !window.Plotly) return;
    draw(el);
    var form = document.getElementById("map-form");
    form.addEventListener("change", function () { redrawFromForm(el, form); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      redrawFromForm(el, form);
    });
  });
})();
