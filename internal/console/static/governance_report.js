// Draws the behaviour report's bar charts (/governance/report)
// with the vendored Apache ECharts, from the JSON the page embeds in
// <script type="application/json" id="gov-report-data">. Each chart's data
// is also in a table on the page, so nothing is lost without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("gov-report-data");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var charts = [];
  data.charts.forEach(function (c) {
    var box = document.getElementById(c.id);
    if (!box) {
      return;
    }
    var several = c.series.length > 1;
    var chart = echarts.init(box, null, { renderer: "canvas", locale: data.lang });
    chart.setOption({
      animation: false,
      aria: { enabled: true },
      color: ["#0b4f9c", "#c8102e", "#0f7b4a"],
      grid: { left: 8, right: 16, top: several ? 48 : 32, bottom: 36, containLabel: true },
      legend: several ? { top: 0, data: c.series.map(function (s) { return s.name; }) } : { show: false },
      // Plain-text tooltips: the page's CSP allows no inline styles.
      tooltip: {
        trigger: "axis",
        renderMode: "richText",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var lines = [items[0].axisValueLabel];
          items.forEach(function (it) {
            var s = c.series[it.seriesIndex];
            lines.push(s.name + ": " + it.value + "% (" + s.counts[it.dataIndex] + ")");
          });
          return lines.join("\n");
        }
      },
      xAxis: {
        type: "category",
        data: c.categories,
        name: c.xName,
        nameLocation: "middle",
        nameGap: 28,
        axisLabel: { interval: 0, hideOverlap: true }
      },
      yAxis: { type: "value", name: c.yName, min: 0, axisLabel: { formatter: "{value}%" } },
      series: c.series.map(function (s) {
        return {
          type: "bar",
          name: s.name,
          data: s.data,
          barMaxWidth: 48,
          label: { show: !several, position: "top", formatter: "{c}%" }
        };
      })
    });
    box.setAttribute("data-drawn", "true");
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
