/* Usage charts on the meters page (uPlot, vendored): data rendered by the server into #chart-data. */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || !window.uPlot) { return; }
  var data = JSON.parse(el.textContent);
  var bars = uPlot.paths.bars({size: [0.7, 40]});
  // local time of the school (the hub's time zone), whatever the phone's own zone is
  var tzDate = data.tz ? function (ts) { return uPlot.tzDate(new Date(ts * 1e3), data.tz); } : undefined;
  function draw(id, series, fmt) {
    var box = document.getElementById(id);
    var width = Math.max(280, box.clientWidth);
    new uPlot({
      width: width, height: 200, legend: {show: false}, tzDate: tzDate,
      scales: {x: {time: true}, y: {range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; }}},
      axes: [{values: fmt}, {size: 50}],
      series: [{}, {stroke: "#1565c0", fill: "rgba(21,101,192,0.35)", paths: bars, points: {show: false}}]
    }, series, box);
  }
  draw("chart-hourly", data.hourly, "{HH}:00");
  draw("chart-daily", data.daily, "{M}/{D}");
})();
