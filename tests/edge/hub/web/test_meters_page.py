"""The water and electricity page on data the real bridge wrote to its SQLite sink, in a real browser."""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from edge.hub.readings import local_midnight, periods
from edge.i18n import zone
from tests.conftest import wait_for
from tests.edge.hub.web.browser import PHONE, chromium, log_in, shot
from tests.edge.hub.web.support import PASSWORDS

STEP = 15 * 60_000  # a reading every 15 min
KWH_PER_STEP = 0.25


def test_meters_page_shows_local_day_usage_charts_and_ranking(run_console, run_bridge, mqtt_probe, tmp_path):
    history = tmp_path / "history.db"
    bridge = run_bridge(sink={"type": "sqlite", "path": str(history)})
    rc = run_console(readings={"path": str(history)})
    probe = mqtt_probe()
    base = "campus/test-site/meter-room"
    probe.publish(f"{base}/info", {"version": "0.1.0", "session": 1, "started": 0, "devices": [
        {"id": "meter-a", "kind": "electricity_meter", "driver": "dlt645", "name": "教学楼A 电表"},
        {"id": "meter-b", "kind": "electricity_meter", "driver": "dlt645", "name": "教学楼B 电表"},
        {"id": "water-1", "kind": "water_meter", "driver": "pulse", "name": "主水表"}]}, retain=True)
    now = int(time.time() * 1000)
    start = now - 3 * 86_400_000
    samples = []
    n = 0
    for i, ts in enumerate(range(start - start % STEP, now, STEP)):
        probe.publish(f"{base}/meter-a/telemetry",
                      {"ts": ts, "seq": i, "values": {"energy_kwh": i * KWH_PER_STEP}})
        probe.publish(f"{base}/meter-b/telemetry", {"ts": ts, "seq": i, "values": {"energy_kwh": i * 0.1}})
        probe.publish(f"{base}/water-1/telemetry",
                      {"ts": ts, "seq": i, "values": {"volume_m3": i * 0.01, "flow_lpm": 2.0}})
        samples.append((ts, i * KWH_PER_STEP))
        n += 3  # points (one per message)
    wait_for(lambda: bridge.counters.get("written", 0) >= n, 30, "the bridge to write the history")
    wait_for(lambda: any(n["node"] == "meter-room" for n in rc.hub.nodes()), 10, "the hub to know the meters")

    tz = zone("Asia/Shanghai")
    midnight = local_midnight(periods(now, tz)["today"][0], tz)
    at_midnight = max((v for ts, v in samples if ts <= midnight), default=samples[0][1])
    today_kwh = samples[-1][1] - at_midnight

    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        log_in(page, rc.url, "logistics", PASSWORDS["logistics"])
        page.get_by_role("link", name="水电监测").click()
        row = page.get_by_role("row").filter(has_text="教学楼A 电表")
        expect(row.get_by_role("cell").nth(3)).to_have_text(f"{today_kwh:.2f}")
        expect(page.get_by_role("row").filter(has_text="主水表").get_by_role("cell").nth(6)).to_have_text("2.0")
        ranking = page.get_by_role("region", name="非工作时间用电排名", exact=False)
        expect(ranking.get_by_role("row").nth(1)).to_contain_text("教学楼A 电表")  # uses more than B
        expect(page.locator("#chart-hourly canvas")).to_have_count(1)
        expect(page.locator("#chart-daily canvas")).to_have_count(1)
        shot(page, "meters-phone")
        # the building's electricity: both meters summed, today's bucket in the month chart included
        page.get_by_role("row").filter(has_text="合计").filter(has_text="用电").get_by_role(
            "link", name="meter-room").click()
        expect(page.get_by_text("meter-room：本月逐日")).to_be_visible()
        charts = json.loads(page.locator("#chart-data").text_content())
        today_bucket = charts["daily"][0].index(midnight // 1000)
        assert abs(charts["daily"][1][today_bucket] - today_kwh * 1.4) < 1e-6  # B uses 0.4 of A
        page.get_by_role("link", name="节点").click()
        expect(page.get_by_role("heading", name="meter-room")).to_be_visible()
        shot(page, "nodes-phone")
