// Charts shared by the dashboard (app.js) and the HTML report (report.js):
// uPlot line charts of a run's timeline. No DOM input is ever parsed as
// HTML: titles and labels go in as text.
"use strict";

(function () {
  const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"];

  // A chart in `el` with one x axis (seconds) and the given series:
  // [{label, scale?}], scale "y" (left) or "y2" (right).
  function makeChart(el, title, series, opts) {
    opts = opts || {};
    const width = Math.max(300, el.clientWidth || 600);
    const uSeries = [{ label: "t (s)" }];
    series.forEach(function (s, i) {
      uSeries.push({
        label: s.label,
        scale: s.scale || "y",
        stroke: COLORS[i % COLORS.length],
        width: 2,
        points: { show: false },
      });
    });
    const axes = [{ label: "seconds" }, { label: opts.yLabel || "", scale: "y" }];
    if (series.some(function (s) { return s.scale === "y2"; })) {
      axes.push({ label: opts.y2Label || "", scale: "y2", side: 1, grid: { show: false } });
    }
    const empty = [[]].concat(series.map(function () { return []; }));
    const chart = new uPlot({
      title: title,
      width: width,
      height: opts.height || 220,
      series: uSeries,
      axes: axes,
      scales: { x: { time: false } },
      legend: { live: true },
    }, empty, el);
    el.dataset.points = "0";
    return {
      set: function (data) {
        chart.setData(data);
        el.dataset.points = String(data[0].length);
      },
      resize: function () {
        chart.setSize({ width: Math.max(300, el.clientWidth || 600), height: opts.height || 220 });
      },
    };
  }

  // The run-wide series of a run's JSON (GET /v1/runs/{id}): its timeline.
  function timelineData(run) {
    const tl = Array.isArray(run.timeline) ? run.timeline : [];
    const col = function (f) { return tl.map(f); };
    const num = function (v) { return typeof v === "number" ? v : 0; };
    return {
      rps: [col(function (s) { return num(s.t); }), col(function (s) { return num(s.rps); }),
            col(function (s) { return num(s.users); })],
      latency: [col(function (s) { return num(s.t); }),
                col(function (s) { return num(s.p50_us) / 1000; }),
                col(function (s) { return num(s.p95_us) / 1000; }),
                col(function (s) { return num(s.p99_us) / 1000; })],
      errors: [col(function (s) { return num(s.t); }),
               col(function (s) { return num(s.failures); })],
    };
  }

  // The three run-wide charts in container elements rpsEl, latencyEl, errorsEl.
  function runCharts(rpsEl, latencyEl, errorsEl) {
    const charts = {
      rps: makeChart(rpsEl, "Requests/s and active users",
                     [{ label: "requests/s" }, { label: "users", scale: "y2" }],
                     { yLabel: "requests/s", y2Label: "users" }),
      latency: makeChart(latencyEl, "Latency (ms)",
                         [{ label: "p50" }, { label: "p95" }, { label: "p99" }],
                         { yLabel: "ms" }),
      errors: makeChart(errorsEl, "Errors/s", [{ label: "errors/s" }], { yLabel: "errors/s" }),
    };
    return {
      update: function (run) {
        const d = timelineData(run);
        charts.rps.set(d.rps);
        charts.latency.set(d.latency);
        charts.errors.set(d.errors);
      },
      resize: function () {
        Object.keys(charts).forEach(function (k) { charts[k].resize(); });
      },
    };
  }

  window.LoaddCharts = { makeChart: makeChart, runCharts: runCharts, timelineData: timelineData };
})();
