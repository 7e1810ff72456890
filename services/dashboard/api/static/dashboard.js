// Draws one bar chart per table from the rows the page shows (suppressed cells are gaps).
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  Object.keys(data).forEach(function (name) {
    var el = document.getElementById("chart-" + name);
    if (!el || !window.Plotly) { return; }
    var chart = data[name];
    window.Plotly.newPlot(
      el,
      [{ type: "bar", x: chart.x, y: chart.y, name: chart.label, marker: { color: "#0b5394" } }],
      { margin: { t: 24, r: 8, b: 96, l: 48 }, yaxis: { title: { text: chart.label } } },
      { displaylogo: false, responsive: true }
    );
  });
  document.body.dataset.chartsReady = "true";
})();
