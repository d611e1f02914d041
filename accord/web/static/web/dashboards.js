// Dashboards: draws each chart of the page with the vendored Chart.js from the figures the
// server embedded as JSON (<script type="application/json" id="…-data">). Every chart also
// has its table on the page, so nothing is lost without this script.
(function () {
  "use strict";

  // One colour per figure, the same on every chart (and readable on white).
  var COLOURS = {
    closed_won: "#1a7f37", commit: "#0b5cad", best_case: "#2f8fb8", pipeline: "#7b8794",
    quota: "#b35900", amount: "#0b5cad", weighted: "#6f42c1",
    visit: "#1a7f37", call: "#0b5cad", meeting: "#b35900"
  };
  var FALLBACK = ["#0b5cad", "#1a7f37", "#b35900", "#6f42c1", "#7b8794", "#2f8fb8"];

  function colour(key, i) { return COLOURS[key] || FALLBACK[i % FALLBACK.length]; }

  function formatter(locale, currency, kind, compact) {
    if (kind === "money") {
      return new Intl.NumberFormat(locale, {
        style: "currency", currency: currency, currencyDisplay: "narrowSymbol",
        notation: compact ? "compact" : "standard", maximumFractionDigits: compact ? 1 : 0
      });
    }
    if (kind === "rate") {
      return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
    }
    return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  }

  function build(canvas, root) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var locale = root.getAttribute("data-locale") || "en-GB";
    var currency = root.getAttribute("data-currency") || "THB";
    var valueKind = spec.series.length ? spec.series[0].kind : "count";
    var full = formatter(locale, currency, valueKind, false);
    var compact = formatter(locale, currency, valueKind, true);
    var horizontal = spec.kind === "horizontal";
    var datasets = spec.series.map(function (s, i) {
      var c = colour(s.key, i);
      var set = { label: s.label, data: s.values, backgroundColor: c, borderColor: c, accordKey: s.key };
      if (horizontal && spec.barKeys && spec.barKeys.length) {
        set.backgroundColor = spec.barKeys.map(function (k, j) { return colour(k, j); });
      }
      if (spec.kind === "line" || s.line) {
        set.type = "line";
        set.fill = false;
        set.tension = 0.2;
        set.pointRadius = 3;
        if (s.line && spec.kind !== "line") {
          // A quota per bar group: a short mark across each group, not a line between
          // people or places (the figures are not a series in time).
          set.showLine = false;
          set.pointStyle = "line";
          set.pointRadius = 22;
          set.pointHoverRadius = 24;
          set.pointBorderWidth = 3;
          set.order = -1;
        }
      }
      if (spec.kind === "stacked") set.stack = "all";
      return set;
    });
    var valueAxis = {
      beginAtZero: true,
      stacked: spec.kind === "stacked",
      ticks: { callback: function (v) { return compact.format(v); } }
    };
    var labelAxis = { stacked: spec.kind === "stacked", ticks: { autoSkip: true, maxRotation: 45 } };
    var chart = new Chart(canvas, {
      type: spec.kind === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: { display: !horizontal, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                var v = item.raw;
                return item.dataset.label + ": " + (v === null ? "—" : full.format(v));
              }
            }
          }
        }
      }
    });
    canvas.setAttribute("data-rendered", "true");
    return chart;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Chart !== "undefined") {
      Chart.defaults.font.family = "system-ui, 'Noto Sans Thai', 'Loma', 'Garuda', sans-serif";
      Chart.defaults.color = "#1f2933";
    }
    document.querySelectorAll("[data-dashboard]").forEach(function (root) {
      root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) { build(canvas, root); });
    });
  });
})();
