// Draws a campaign's hourly issues and rides (/benefits/campaigns/{id})
// with the vendored Apache ECharts, from the JSON the page embeds in
// <script type="application/json" id="bn-stats-data">. The same numbers
// are in the table below the chart, so nothing is lost without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("bn-stats-data");
  var box = document.getElementById("bn-stats-chart");
  if (!source || !box || typeof echarts === "undefined") {
    return;
  }
  var d = JSON.parse(source.textContent);
  if (!d.hours || d.hours.length === 0) {
    return;
  }
  var chart = echarts.init(box, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    aria: { enabled: true },
    color: ["#0b4f9c", "#c8102e"],
    grid: { left: 8, right: 16, top: 40, bottom: 36, containLabel: true },
    legend: { top: 0, data: [d.labels.issued, d.labels.rides] },
    tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "category", data: d.hours },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: d.labels.issued, type: "bar", data: d.issued },
      { name: d.labels.rides, type: "bar", data: d.rides }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
