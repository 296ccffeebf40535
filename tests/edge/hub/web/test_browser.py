"""End to end in a real browser: Mosquitto, an agent with mock relays, a gate camera's events, the hub
and its console; Playwright drives Debian's chromium through what a user sees (roles, labels, text)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import wait_for
from tests.edge.hub.web.browser import DESKTOP, PHONE, chromium, log_in, shot
from tests.edge.hub.web.support import PASSWORDS, GateCamera

LIVE = 5_000  # ms: an alert must show up within a second; generous for a loaded CI machine


def test_duty_sees_a_fever_live_acknowledges_and_records_the_reading(run_console, mqtt_probe):
    rc = run_console()
    gate = GateCamera(mqtt_probe())
    gate.telemetry(screened=42)
    wait_for(lambda: any(n["node"] == "gate-east" and n["devices"] for n in rc.hub.nodes()), 10,
             "the hub to learn the gate node")
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        log_in(page, rc.url, "duty", PASSWORDS["duty"])
        expect(page).to_have_url(re.compile(r"/gate$"))
        expect(page.get_by_role("heading", name=re.compile("校门测温"))).to_be_visible()
        expect(page.get_by_text("暂无待处理的预警")).to_be_visible()
        expect(page.locator("body[data-live=open]")).to_have_count(1, timeout=LIVE)  # stream connected

        gate.fever(38.4)
        card = page.get_by_role("article", name="发热预警 东门")
        expect(card).to_be_visible(timeout=LIVE)  # arrived live, without a reload
        expect(card.get_by_text("38.4 °C")).to_be_visible()
        img = card.get_by_role("img", name="东门 热成像截图")
        expect(img).to_be_visible()
        assert img.evaluate("el => el.complete && el.naturalWidth > 0"), "snapshot did not load"
        expect(page.locator('[data-counter="alerts"]')).to_have_text("1", timeout=LIVE)
        expect(page.locator('[data-counter="screened"]')).to_have_text("42")
        expect(page.get_by_text("黑体正常")).to_be_visible()
        shot(page, "gate-phone")

        card.get_by_role("button", name="确认").click()
        card = page.get_by_role("article", name="发热预警 东门")
        expect(card.get_by_text(re.compile("duty 于 .* 确认"))).to_be_visible()
        card.get_by_label("复测体温（°C）").fill("38.2")
        card.get_by_label("处理结果").select_option(label="已送回家")
        card.get_by_role("button", name="记录并关闭").click()
        expect(page.get_by_role("article", name="发热预警 东门")).to_have_count(0)
        expect(page.get_by_text("暂无待处理的预警")).to_be_visible()

        page.get_by_role("link", name="告警记录").click()
        row = page.get_by_role("row").filter(has_text="东门")
        expect(row).to_contain_text("38.2")
        expect(row).to_contain_text("已送回家")
        expect(row).to_contain_text("已关闭")
        shot(page, "alerts-phone")

        # an alert arriving after the page was rendered but before its live stream started is not lost:
        # the stream's request is held until the alert is in the journal, and the page catches up on open
        desk = browser.new_page(viewport=DESKTOP)
        held: list = []
        desk.route("**/events", lambda route: held.append(route))
        log_in(desk, rc.url, "duty", PASSWORDS["duty"])
        expect(desk.get_by_text("暂无待处理的预警")).to_be_visible()
        wait_for(lambda: held, 10, "the page to open its live stream")
        gate.fever(38.9, kind="recheck")
        wait_for(lambda: rc.hub.journal.alerts(types=["recheck"]), 10, "the recheck in the journal")
        held[0].continue_()
        expect(desk.get_by_role("article", name="需复测 东门")).to_be_visible(timeout=LIVE)
        shot(desk, "gate-desktop")
        desk.goto(rc.url + "/gate?lang=en")
        expect(desk.get_by_role("article", name="Re-check 东门")).to_be_visible()
        shot(desk, "gate-desktop-en")

    [alert] = rc.hub.journal.alerts(types=["fever"])
    assert alert.state == "closed"
    closed = rc.hub.journal.actions(alert.id)[-1]
    assert (closed.by, closed.outcome, closed.reading_c) == ("duty", "sent_home", 38.2)


def test_logistics_switches_a_relay_and_sees_the_agents_state(run_console, run_agent, pin_factory):
    rc = run_console()
    agent = run_agent([{"id": "ac-301", "kind": "relay", "driver": "gpio", "pin": 17, "name": "301 空调",
                        "groups": ["after-hours"]},
                       {"id": "lights-301", "kind": "relay", "driver": "gpio", "pin": 22, "name": "301 灯",
                        "groups": ["after-hours"]}], node="classroom-301")
    wait_for(lambda: any(d.get("state") for n in rc.hub.nodes() for d in n["devices"]), 10,
             "the hub to see the relays' states")
    pin = pin_factory.pin(17)
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        log_in(page, rc.url, "logistics", PASSWORDS["logistics"])
        page.get_by_role("link", name="电器控制").click()
        row = page.get_by_role("region", name="classroom-301").get_by_role("listitem").filter(
            has_text="301 空调")
        expect(row.locator("[data-state]")).to_have_text("关闭")
        expect(page.locator("body[data-live=open]")).to_have_count(1, timeout=LIVE)

        row.get_by_role("button", name="打开 301 空调").click()
        expect(row.get_by_role("status")).to_have_text("设备已执行", timeout=15_000)
        expect(row.locator("[data-state]")).to_have_text("开启", timeout=LIVE)  # the agent's retained state
        assert pin.state == 1  # the relay's pin really switched (active high)

        groups = page.get_by_role("region", name="分组控制")
        group = groups.get_by_role("listitem").filter(has_text="after-hours")
        group.get_by_role("button", name="after-hours 全部关闭").click()
        expect(group.get_by_role("status")).to_have_text("2/2 台已执行", timeout=15_000)
        expect(row.locator("[data-state]")).to_have_text("关闭", timeout=LIVE)
        page.reload()
        expect(page.get_by_role("row").filter(has_text="test-site/classroom-301/ac-301").first).to_contain_text(
            "logistics")
        shot(page, "appliances-phone")

        duty = browser.new_page(viewport=PHONE)
        log_in(duty, rc.url, "duty", PASSWORDS["duty"])
        expect(duty.get_by_role("link", name="电器控制")).to_have_count(0)
        # the server refuses the switch itself, not only the hidden button
        status = duty.evaluate("""() => fetch('/api/switch', {method: 'POST', headers: {
              'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf},
              body: JSON.stringify({site: 'test-site', node: 'classroom-301', device: 'ac-301',
                                    action: 'on'})}).then(r => r.status)""")
        assert status == 403
    assert pin.state == 0  # the group switched it off; duty's attempt changed nothing
    assert agent.agent.topics.base.endswith("classroom-301")


def test_admin_adds_a_duty_account_who_can_then_log_in(run_console):
    rc = run_console()
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        log_in(page, rc.url, "admin", PASSWORDS["admin"])
        page.get_by_role("link", name="用户").click()
        form = page.get_by_role("heading", name="添加用户").locator("..")
        form.get_by_label("名称").fill("zhao")
        form.get_by_label("角色").select_option(label="值班")
        form.get_by_label("密码").fill("zhao-password-1")
        form.get_by_role("button", name="添加用户").click()
        expect(page.get_by_text("已添加用户 zhao")).to_be_visible()
        expect(page.get_by_role("row").filter(has_text="zhao")).to_contain_text("值班")
        shot(page, "users-phone")
        page.get_by_role("button", name="退出").click()
        log_in(page, rc.url, "zhao", "zhao-password-1")
        expect(page).to_have_url(re.compile(r"/gate$"))
    assert rc.console.users.get("zhao").role == "duty"
