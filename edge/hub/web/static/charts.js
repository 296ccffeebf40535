/* Usage charts on the meters page (uPlot, vendored): data rendered by the server into #chart-data. */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || !window.uPlot) { return; }
  var data = JSON.parse(el.textContent);
  var bars = uPlot.paths.bars({size: [0.7, 40]});
  function draw(id, series, fmt) {
    var box = document.getElementById(id);
    var width = Math.max(280, box.clientWidth);
    new uPlot({
      width: width, height: 200, legend: {show: false},
      scales: {x: {time: true}},
      axes: [{values: fmt}, {size: 50}],
      series: [{}, {stroke: "#1565c0", fill: "rgba(21,101,192,0.35)", paths: bars, points: {show: false}}]
    }, series, box);
  }
  draw("chart-hourly", data.hourly, "{HH}:00");
  draw("chart-daily", data.daily, "{M}/{D}");
})();
