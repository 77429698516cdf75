// Draws a campaign's metro benefit use (/benefits/campaigns/{id}/uses) by
// hour of entry, entry station and exit station with the vendored Apache
// ECharts, from the JSON in <script type="application/json" id="uses-data">.
// The tables under the charts hold the same numbers.
(function () {
  "use strict";
  var source = document.getElementById("uses-data");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  var d = JSON.parse(source.textContent);
  function bars(id, names, values, horizontal) {
    var box = document.getElementById(id);
    if (!box || !names || names.length === 0) {
      return;
    }
    var chart = echarts.init(box, null, { renderer: "canvas" });
    var cat = { type: "category", data: names };
    var val = { type: "value", minInterval: 1 };
    if (horizontal) {
      cat.inverse = true;
    }
    chart.setOption({
      animation: false,
      aria: { enabled: true },
      color: ["#0b4f9c"],
      grid: { left: 8, right: 16, top: 16, bottom: 24, containLabel: true },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? cat : val,
      series: [{ name: d.labels.trips, type: "bar", data: values }]
    });
    box.dataset.drawn = "true";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  bars("uses-hour-chart", d.hours, d.byHour, false);
  bars("uses-entry-chart", d.entries, d.byEntry, true);
  bars("uses-exit-chart", d.exits, d.byExit, true);
})();
