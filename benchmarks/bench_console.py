"""Console benchmark: alert latency to the browser's DOM, and page load times on a month of history.

    .venv/bin/python benchmarks/bench_console.py [--alerts 50] [--meters 20] [--days 30] [--loads 5]

Runs a private Mosquitto, the hub with its console, and Debian's chromium through Playwright.
- Alert latency: a fever event (with its snapshot) published as a camera publishes it -> the alert's card
  in the gate page's DOM (a MutationObserver stamps it). Baseline in the same run: raw MQTT one-way latency
  (paho publish -> paho subscriber) of the same payload.
- Page loads: a month of one-minute `energy_kwh` history for --meters meters, written with the bridge's
  own SQLite sink; each page's load in the browser (navigation to load event) and over plain HTTP.
  Baselines: the meters page's queries run bare on the readings layer (no web), and a bare SELECT of the
  month's rows of the same meters (what a naive page would read).
Figures are medians (and p99 for latency); the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import base64
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.bridge.lineproto import Point  # noqa: E402
from edge.bridge.sinks import SqliteSink  # noqa: E402
from edge.broker import Mosquitto  # noqa: E402
from edge.hub.readings import SqliteReadings, parse_hours  # noqa: E402
from edge.hub.web import views  # noqa: E402
from tests.edge.hub.web.browser import DESKTOP, chromium  # noqa: E402
from tests.edge.hub.web.support import PASSWORDS, RunningConsole, snapshot_png  # noqa: E402

SITE = "test-site"
PAGES = ("/gate", "/appliances", "/meters", "/nodes", "/alerts")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def write_history(path: Path, meters: int, days: int, now_ms: int) -> int:
    """A month of one-minute readings per meter through the bridge's own sink (same table, same key)."""
    sink = SqliteSink(str(path))
    start = now_ms - days * 86_400_000
    start -= start % 60_000
    n = 0
    for m in range(meters):
        node, device = f"block-{m // 2}", f"meter-{m}"
        batch = []
        for i, ts in enumerate(range(start, now_ms, 60_000)):
            batch.append(Point("electricity_meter", (("site", SITE), ("node", node), ("device", device)),
                               (("energy_kwh", 10_000.0 + i * (0.02 + m * 0.001)),), ts))
            if len(batch) == 20_000:
                sink.write(batch)
                n += len(batch)
                batch = []
        sink.write(batch)
        n += len(batch)
    sink.close()
    return n


def publish_infos(port: int, meters: int) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", port)
    c.loop_start()
    for b in range((meters + 1) // 2):
        devs = [{"id": f"meter-{m}", "kind": "electricity_meter", "driver": "dlt645",
                 "name": f"{b + 1}号楼 电表{m}"} for m in (2 * b, 2 * b + 1) if m < meters]
        devs.append({"id": f"ac-{b}", "kind": "relay", "driver": "gpio", "name": f"{b + 1}号楼 空调",
                     "groups": ["after-hours"]})
        base = f"campus/{SITE}/block-{b}"
        info = {"version": "0.1.0", "session": 1, "started": 0, "devices": devs}
        c.publish(f"{base}/info", json.dumps(info), qos=1, retain=True).wait_for_publish(5)
        c.publish(f"{base}/status", "online", qos=1, retain=True).wait_for_publish(5)
    cam = "campus/test-site/gate-east"
    c.publish(f"{cam}/info", json.dumps({"version": "0.1.0", "session": 1, "started": 0, "devices": [
        {"id": "cam-east", "kind": "thermal_camera", "driver": "replay", "name": "东门"}]}),
        qos=1, retain=True).wait_for_publish(5)
    c.loop_stop()
    c.disconnect()


def fever_payload(seq: int) -> dict:
    return {"ts": int(time.time() * 1000), "seq": seq, "type": "fever", "track": seq,
            "temp_c": 38.0 + seq % 10 / 10, "threshold_c": 37.3, "uncertainty_c": 0.3, "frames": 5,
            "blackbody": True, "snapshot_png": base64.b64encode(snapshot_png()).decode("ascii")}


OBSERVER = """() => {
  window.__seen = {};
  new MutationObserver(muts => {
    const t = performance.timeOrigin + performance.now();
    for (const m of muts) for (const n of m.addedNodes)
      if (n.dataset && n.dataset.alertId && !(n.dataset.alertId in window.__seen))
        window.__seen[n.dataset.alertId] = t;
  }).observe(document.getElementById('alerts'), {childList: true});
}"""


def alert_latency(rc: RunningConsole, port: int, n: int) -> list[float]:
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    out = []
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(rc.url + "/login")
        page.get_by_label("用户名").fill("duty")
        page.get_by_label("密码").fill(PASSWORDS["duty"])
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda u: u.endswith("/gate"))
        page.wait_for_selector("body[data-live=open]")
        page.evaluate(OBSERVER)
        for i in range(1, n + 1):
            payload = json.dumps(fever_payload(i))
            t0 = time.time() * 1000
            pub.publish("campus/test-site/gate-east/cam-east/event", payload, qos=1)
            page.wait_for_function("n => Object.keys(window.__seen).length >= n", arg=i, timeout=15_000)
            seen = page.evaluate("() => Math.max(...Object.values(window.__seen))")
            out.append(seen - t0)
            time.sleep(0.05)
    pub.loop_stop()
    pub.disconnect()
    return out


def raw_one_way(port: int, n: int) -> list[float]:
    got: dict[int, float] = {}
    ev = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def on_message(c, u, m):
        got[json.loads(m.payload)["seq"]] = time.time() * 1000
        ev.set()

    sub.on_message = on_message
    sub.on_subscribe = lambda *a: ev.set()
    sub.connect("127.0.0.1", port)
    sub.loop_start()
    sub.subscribe("bench/raw", qos=1)
    ev.wait(5)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    out = []
    for i in range(1, n + 1):
        ev.clear()
        payload = json.dumps(fever_payload(i))
        t0 = time.time() * 1000
        pub.publish("bench/raw", payload, qos=1)
        ev.wait(5)
        out.append(got[i] - t0)
        time.sleep(0.02)
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return out


def page_loads(rc: RunningConsole, loads: int) -> dict[str, tuple[float, float]]:
    """page -> (browser load ms, HTTP ms), medians."""
    out = {}
    http = httpx.Client(base_url=rc.url, timeout=60)
    tok = http.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    http.post("/login", data={"csrf": tok, "name": "admin", "password": PASSWORDS["admin"]})
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(rc.url + "/login")
        page.get_by_label("用户名").fill("admin")
        page.get_by_label("密码").fill(PASSWORDS["admin"])
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda u: "/login" not in u)
        for path in PAGES:
            b, h = [], []
            for _ in range(loads):
                page.goto(rc.url + path, wait_until="load")
                b.append(page.evaluate("() => { const e = performance.getEntriesByType('navigation')[0];"
                                       " return e.loadEventEnd - e.startTime; }"))
                t0 = time.perf_counter()
                r = http.get(path)
                h.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (path, r.status_code)
            out[path] = (statistics.median(b), statistics.median(h))
    return out


def bare_queries(rc: RunningConsole, history: Path, loads: int) -> tuple[float, float, int]:
    """(the meters page's queries on the readings layer, a bare SELECT of the month's rows) in ms, rows."""
    readings = SqliteReadings(history)
    ms = views.meters(rc.hub.nodes())
    now = int(time.time() * 1000)
    tz = rc.console.tz
    layer = []
    for _ in range(loads):
        t0 = time.perf_counter()
        for m in ms:
            views.meter_summary(readings, m, now, tz)
        views.after_hours_ranking(readings, ms, now, tz, parse_hours("07:00-18:00"))
        views.meter_charts(readings, [ms[0]], now, tz)
        layer.append((time.perf_counter() - t0) * 1000)
    readings.close()
    first = views.periods(now, tz)["month"][0]
    start = views.local_midnight(first, tz) if (now - views.local_midnight(first, tz)) > 86_400_000 else \
        now - 30 * 86_400_000
    conn = sqlite3.connect(f"file:{history}?mode=ro", uri=True)
    scan = []
    rows = 0
    for _ in range(loads):
        t0 = time.perf_counter()
        rows = len(conn.execute(
            "SELECT node, device, ts, value FROM points WHERE site=? AND ts>=? AND "
            "measurement='electricity_meter' AND field='energy_kwh'", (SITE, start)).fetchall())
        scan.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return statistics.median(layer), statistics.median(scan), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alerts", type=int, default=50)
    ap.add_argument("--meters", type=int, default=20)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--loads", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as d:
        tmp = Path(d)
        history = tmp / "history.db"
        t0 = time.perf_counter()
        points = write_history(history, args.meters, args.days, int(time.time() * 1000))
        print(f"history: {points} one-minute readings ({args.meters} meters x {args.days} days) "
              f"written in {time.perf_counter() - t0:.1f} s")
        broker = Mosquitto(tmp / "mosquitto").start()
        rc = None
        try:
            rc = RunningConsole(broker, tmp, readings={"path": str(history)})
            publish_infos(broker.port, args.meters)
            deadline = time.monotonic() + 10
            while len(views.meters(rc.hub.nodes())) < args.meters:
                assert time.monotonic() < deadline, "hub did not learn the meters"
                time.sleep(0.05)
            raw = raw_one_way(broker.port, args.alerts)
            lat = alert_latency(rc, broker.port, args.alerts)
            loads = page_loads(rc, args.loads)
            layer, scan, rows = bare_queries(rc, history, args.loads)
        finally:
            if rc is not None:
                rc.stop()
            broker.kill()
    print(f"alert publish -> card in the DOM  p50 {pct(lat, 0.5):7.1f} ms  p99 {pct(lat, 0.99):7.1f} ms "
          f"(n={len(lat)}, with snapshot)")
    print(f"raw MQTT one-way (same payload)   p50 {pct(raw, 0.5):7.1f} ms  p99 {pct(raw, 0.99):7.1f} ms")
    print(f"  ratio console/raw               p50 {pct(lat, 0.5) / pct(raw, 0.5):6.1f}x")
    print(f"page loads (median of {args.loads}):         browser load   HTTP GET")
    for path, (b, h) in loads.items():
        print(f"  {path:<12}                      {b:8.1f} ms  {h:8.1f} ms")
    print(f"meters page queries, bare on the readings layer: {layer:8.1f} ms "
          f"(meters page HTTP / bare = {loads['/meters'][1] / layer:.2f}x)")
    print(f"bare SELECT of the month's rows ({rows} rows):  {scan:8.1f} ms "
          f"(meters page HTTP / full fetch = {loads['/meters'][1] / scan:.2f}x)")


if __name__ == "__main__":
    main()
