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
  function draw(el) {
    fetch(el.dataset.mapUrl).then(function (response) { return response.json(); }).then(function (data) {
      var colorBy = el.dataset.color;
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
        return { type: "scattergl", mode: "markers", name: key + " (" + count.toLocaleString() + ")",
                 x: g.x, y: g.y, customdata: g.ids, text: g.text,
                 hovertemplate: "%{text}<extra></extra>", marker: { size: 5, opacity: 0.7 } };
      });
      var layout = { margin: { l: 30, r: 10, t: 10, b: 30 }, height: 620, legend: { orientation: "h" },
                     paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
                     xaxis: { zeroline: false }, yaxis: { zeroline: false } };
      return window.Plotly.newPlot(el, traces, layout, { responsive: true, displaylogo: false }).then(function () {
        el.on("plotly_click", function (event) {
          var id = event.points[0].customdata;
          window.location.href = el.dataset.profileUrl.replace(/0$/, String(id));
        });
        el.classList.add("chart-ready");
        var total = data.total !== undefined ? data.total : data.ids.length;
        document.getElementById("map-status").textContent = total > data.ids.length
          ? data.ids.length.toLocaleString() + " of " + total.toLocaleString() + " profiles drawn (an even sample)"
          : total.toLocaleString() + " profiles";
      });
    }).catch(function (error) {
      document.getElementById("map-status").textContent = "The map could not be loaded: " + error;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("population-map");
    if (el && window.Plotly) draw(el);
  });
})();
