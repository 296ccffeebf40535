"""The upkeep pages in a real browser on a phone: water through a real meter topic makes a filter due, the
logistics office records the service and sees its counters reset; a duty teacher reports a leak with a
photo and the logistics office accepts it. Screenshots: var/screenshots/upkeep-*.png."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from edge.hub.upkeep import service
from tests.conftest import wait_for
from tests.edge.hub.support import info
from tests.edge.hub.web.browser import DESKTOP, PHONE, chromium, log_in, shot
from tests.edge.hub.web.support import PASSWORDS, snapshot_png
from tests.edge.hub.web.test_upkeep_pages import MAINTENANCE


def test_logistics_services_a_due_filter_and_accepts_a_duty_repair(run_console, mqtt_probe, tmp_path):
    rc = run_console(maintenance=MAINTENANCE)
    probe = mqtt_probe()
    probe.publish("campus/test-site/meters/info", info(("water-3f", "water_meter", "三楼水表")), retain=True)
    now = int(time.time() * 1000)
    for seq, (volume, ts) in enumerate(((10.000, now - 2000), (10.150, now - 1000)), 1):
        probe.publish("campus/test-site/meters/water-3f/telemetry",
                      {"ts": ts, "seq": seq, "values": {"volume_m3": volume}})
    wait_for(lambda: service.maintenance_view(rc.hub.journal, rc.cfg, None)[0]["litres"] >= 150, 10,
             "the hub to count 150 L through the dispenser's meter")
    photo = tmp_path / "leak.png"
    photo.write_bytes(snapshot_png())

    with chromium() as browser:
        logistics = browser.new_context(viewport=PHONE).new_page()
        log_in(logistics, rc.url, "logistics", PASSWORDS["logistics"])
        logistics.get_by_role("link", name="设备维保").click()
        expect(logistics.get_by_role("heading", name="设备维保", exact=True)).to_be_visible()
        task = logistics.get_by_role("article", name="三楼东饮水机 更换滤芯")
        expect(task.locator('[data-field="used"]')).to_contain_text("150 升")
        expect(task.locator('[data-field="state"]')).to_contain_text("已到期：已用水 150 L（每 100 L）")
        expect(task.locator('[data-field="last"]')).to_have_text("尚无记录")
        shot(logistics, "upkeep-maintenance-due-phone")

        task.get_by_text("记录维保").click()
        task.get_by_label("备注").fill("更换 PP 棉和活性炭")
        task.get_by_label("更换配件").fill("PP棉 x1, 活性炭 x1")
        task.get_by_role("button", name="保存维保记录").click()
        expect(logistics.get_by_role("alert")).to_contain_text("已记录 更换滤芯 的维保，计数已清零")
        task = logistics.get_by_role("article", name="三楼东饮水机 更换滤芯")
        expect(task.locator('[data-field="used"]')).to_contain_text("0.0 升")
        expect(task.locator('[data-field="state"]')).to_have_text("正常")
        expect(task.locator('[data-field="last"]')).to_contain_text("logistics")
        shot(logistics, "upkeep-maintenance-phone")

        duty = browser.new_context(viewport=PHONE).new_page()
        log_in(duty, rc.url, "duty", PASSWORDS["duty"])
        expect(duty.get_by_role("link", name="设备维保")).to_have_count(0)  # not duty's page
        duty.get_by_role("link", name="报修").click()
        duty.get_by_label("地点").fill("二楼女卫生间")
        duty.get_by_label("故障描述").fill("洗手池水龙头漏水，地面有积水")
        duty.get_by_label(re.compile("照片")).set_input_files(str(photo))
        duty.get_by_role("button", name="提交报修").click()
        expect(duty.get_by_role("alert")).to_contain_text("报修单 1 已提交")
        row = duty.locator("tr[data-repair='1']")
        expect(row).to_contain_text("已报修")
        expect(row.get_by_role("button")).to_have_count(0)  # duty cannot answer it
        expect(row.get_by_role("link", name="查看照片")).to_be_visible()
        shot(duty, "upkeep-repairs-duty-phone")

        logistics.get_by_role("link", name="报修").click()
        row = logistics.locator("tr[data-repair='1']")
        expect(row).to_contain_text("洗手池水龙头漏水")
        row.get_by_role("button", name="受理").click()
        expect(logistics.get_by_role("alert")).to_contain_text("报修单 1：已受理")
        row = logistics.locator("tr[data-repair='1']")
        expect(row).to_contain_text("已受理")
        expect(row).to_contain_text(re.compile(r"受理 \d{4}-\d\d-\d\d \d\d:\d\d logistics"))
        expect(row).to_contain_text("分钟")  # the response time
        for el in (row, logistics.locator("header.top")):  # nothing wider than the phone
            box = el.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
        shot(logistics, "upkeep-repairs-phone")
        logistics.set_viewport_size(DESKTOP)
        shot(logistics, "upkeep-repairs-desktop")
    assert service.get_repair(rc.hub.journal, 1)["accepted_by"] == "logistics"
