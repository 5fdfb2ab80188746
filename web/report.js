// The charts of `loadctl report --format html`: inlined into the report
// with uPlot and charts.js; reads the run's JSON from the element with id
// "run-data" (a script element of type application/json).
"use strict";

(function () {
  const run = JSON.parse(document.getElementById("run-data").textContent);
  const charts = LoaddCharts.runCharts(document.getElementById("chart-rps"),
                                       document.getElementById("chart-latency"),
                                       document.getElementById("chart-errors"));
  charts.update(run);
  window.addEventListener("resize", charts.resize);
  document.body.dataset.chartsReady = "1";
})();
