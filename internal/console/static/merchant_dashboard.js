// Draws the merchant dashboard's charts (/merchant) with the vendored
// Apache ECharts, from the JSON in <script type="application/json"
// id="mc-data">: tickets issued (bars) and rides paid (line) per day, and
// benefit uses by entry station. The tables beside the charts hold the
// same numbers, so nothing is lost without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("mc-data");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  var d = JSON.parse(source.textContent);
  function draw(id, option) {
    var box = document.getElementById(id);
    if (!box) {
      return;
    }
    var chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(option);
    box.dataset.drawn = "true";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (d.days && d.days.length > 0) {
    draw("mc-days-chart", {
      animation: false,
      aria: { enabled: true },
      color: ["#0b4f9c", "#c8102e"],
      grid: { left: 8, right: 16, top: 40, bottom: 36, containLabel: true },
      legend: { top: 0, data: [d.labels.issued, d.labels.rides] },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: { type: "category", data: d.days },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: d.labels.issued, type: "bar", data: d.issued },
        { name: d.labels.rides, type: "line", data: d.rides }
      ]
    });
  }
  if (d.stations && d.stations.length > 0) {
    draw("mc-stations-chart", {
      animation: false,
      aria: { enabled: true },
      color: ["#0b4f9c"],
      grid: { left: 8, right: 16, top: 16, bottom: 24, containLabel: true },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: d.stations, inverse: true },
      series: [{ name: d.labels.trips, type: "bar", data: d.trips }]
    });
  }
})();
