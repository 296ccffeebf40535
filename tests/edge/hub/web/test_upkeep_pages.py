"""The maintenance and repairs pages over plain HTTP against the running hub: every new door shut without a
session or CSRF token, duty may report but not answer a repair nor record a service (the server says 403),
and what the forms do lands in the same upkeep tables the CLI writes."""

from __future__ import annotations

import re

from edge.hub.upkeep import service
from tests.edge.hub.web.support import snapshot_png

MAINTENANCE = [
    {"id": "dispenser-3f", "name": "三楼东饮水机", "meter": {"node": "meters", "device": "water-3f"},
     "tasks": [{"id": "filter", "name": "更换滤芯", "every_litres": 100, "every_days": 90}]},
    {"id": "extinguisher-1f", "name": "一楼灭火器", "tasks": [{"id": "inspect", "name": "月度检查",
                                                           "every_days": 30}]},
]
NEW_GETS = ["/maintenance", "/repairs", "/repairs?state=open", "/repairs/1/photo"]
NEW_POSTS = ["/maintenance/dispenser-3f/filter/service", "/repairs/report", "/repairs/1/accept",
             "/repairs/1/fix", "/repairs/1/defer"]


def test_new_routes_refuse_without_a_session_and_without_the_csrf_token(run_console):
    rc = run_console(maintenance=MAINTENANCE)
    anon = rc.client()
    for path in NEW_GETS:
        r = anon.get(path, headers={"accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        assert anon.get(path, headers={"accept": "application/json"}).status_code == 401, path
    for path in NEW_POSTS:
        assert anon.post(path, data={"place": "x", "description": "y"}).status_code == 401, path

    c, token = rc.login("logistics")
    rid = service.add_repair(rc.hub.journal, rc.cfg, "二楼女卫生间", "水龙头漏水", "someone")["id"]
    for path in NEW_POSTS:
        path = path.replace("/1/", f"/{rid}/")
        data = {"place": "x", "description": "y", "reason": "r", "expected_date": "2026-12-20"}
        assert c.post(path, data=data).status_code == 403, path
        assert c.post(path, data={**data, "csrf": "not-the-token"}).status_code == 403, path
        assert c.post(path, files={"photo": ("p.png", snapshot_png(), "image/png")},
                      data=data).status_code == 403, path
    # nothing changed behind the refusals
    assert [r["state"] for r in service.repairs(rc.hub.journal)] == ["reported"]
    assert service.services(rc.hub.journal, 0, 2**62) == []
    assert c.get("/repairs").status_code == 200 and token


def test_duty_reports_a_repair_but_may_not_answer_it_nor_record_a_service(run_console):
    rc = run_console(maintenance=MAINTENANCE)
    duty, token = rc.login("duty")
    page = duty.get("/repairs")
    assert page.status_code == 200 and "我要报修" in page.text
    assert 'href="/repairs"' in page.text and 'href="/maintenance"' not in page.text  # nav by role
    assert duty.get("/maintenance").status_code == 403

    r = duty.post("/repairs/report",
                  data={"csrf": token, "place": "二楼女卫生间", "description": "水龙头漏水"},
                  files={"photo": ("leak.png", snapshot_png(), "image/png")})
    assert r.status_code == 303 and r.headers["location"].startswith("/repairs?msg=")
    [rep] = service.repairs(rc.hub.journal)
    assert (rep["place"], rep["description"], rep["by"], rep["state"]) == (
        "二楼女卫生间", "水龙头漏水", "duty", "reported")
    # kept like the CLI's --photo: a copy in upkeep-photos/ beside the journal, served to staff
    assert rep["photo"].startswith("upkeep-photos/repair-") and rep["photo"].endswith(".png")
    assert (rc.hub.journal.dir / rep["photo"]).read_bytes() == snapshot_png()
    photo = duty.get(f"/repairs/{rep['id']}/photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    assert photo.content == snapshot_png()
    # the logistics office hears of it as a repair_request alert, like a CLI report
    [alert] = rc.hub.journal.alerts(types="repair_request")
    assert alert.fields["repair"] == rep["id"] and alert.fields["by"] == "duty"

    for action in ("accept", "fix", "defer"):
        r = duty.post(f"/repairs/{rep['id']}/{action}",
                      data={"csrf": token, "reason": "等配件", "expected_date": "2026-12-20"})
        assert r.status_code == 403, action
    r = duty.post("/maintenance/dispenser-3f/filter/service", data={"csrf": token, "note": "x"})
    assert r.status_code == 403
    assert service.get_repair(rc.hub.journal, rep["id"])["state"] == "reported"
    assert service.services(rc.hub.journal, 0, 2**62) == []
    assert "受理" not in duty.get("/repairs").text.split("<tbody>")[1]  # no buttons for duty


def test_bad_photos_are_refused_and_nothing_is_reported(run_console):
    rc = run_console(maintenance=MAINTENANCE)
    c, token = rc.login("duty")
    form = {"csrf": token, "place": "三楼", "description": "灯不亮"}
    r = c.post("/repairs/report", data=form, files={"photo": ("x.png", b"GIF89a" + b"\0" * 100, "image/png")},
               headers={"accept": "application/json"})
    assert r.status_code == 415 and "PNG" in r.json()["error"]
    big = b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)
    r = c.post("/repairs/report", data=form, files={"photo": ("x.jpg", big, "image/jpeg")},
               headers={"accept": "application/json"})
    assert r.status_code == 413
    r = c.post("/repairs/report", data={**form, "place": " "}, headers={"accept": "application/json"})
    assert r.status_code == 400 and "place" in r.json()["error"]
    assert service.repairs(rc.hub.journal) == []
    assert not (rc.hub.journal.dir / "upkeep-photos").exists()


def test_logistics_records_a_service_and_steps_a_repair_through_the_upkeep_functions(run_console):
    rc = run_console(maintenance=MAINTENANCE)
    c, token = rc.login("logistics")
    page = c.get("/maintenance")
    assert page.status_code == 200
    assert "三楼东饮水机" in page.text and "更换滤芯" in page.text and "一楼灭火器" in page.text
    assert "尚无记录" in page.text

    r = c.post("/maintenance/dispenser-3f/filter/service",
               data={"csrf": token, "note": "更换 PP 棉", "parts": "PP棉 x1"})
    assert r.status_code == 303 and "/maintenance?msg=" in r.headers["location"]
    [s] = service.services(rc.hub.journal, 0, 2**62)
    assert (s["item"], s["task"], s["by"], s["note"], s["parts"]) == ("dispenser-3f", "filter", "logistics",
                                                                     "更换 PP 棉", "PP棉 x1")
    page = c.get("/maintenance").text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d logistics", page)
    r = c.post("/maintenance/no-such/filter/service", data={"csrf": token},
               headers={"accept": "application/json"})
    assert r.status_code == 400 and "no-such" in r.json()["error"]

    rid = service.add_repair(rc.hub.journal, rc.cfg, "二楼", "门锁坏了", "duty")["id"]
    r = c.post(f"/repairs/{rid}/defer", data={"csrf": token, "reason": "等配件"},
               headers={"accept": "application/json"})
    assert r.status_code == 409 and "expected date" in r.json()["error"]  # a deferral needs its date
    assert c.post(f"/repairs/{rid}/defer", data={"csrf": token, "reason": "等配件",
                                                 "expected_date": "2026-12-20"}).status_code == 303
    assert c.post(f"/repairs/{rid}/accept", data={"csrf": token}).status_code == 303
    assert c.post(f"/repairs/{rid}/fix", data={"csrf": token}).status_code == 303
    rep = service.get_repair(rc.hub.journal, rid)
    assert rep["state"] == "fixed" and rep["fixed_by"] == "logistics" and rep["reason"] == "等配件"
    r = c.post(f"/repairs/{rid}/accept", data={"csrf": token}, headers={"accept": "application/json"})
    assert r.status_code == 409  # already fixed
    assert c.post(f"/repairs/{rid}/explode", data={"csrf": token}).status_code == 404
    listing = c.get("/repairs").text
    assert "已修复" in listing and "门锁坏了" in listing and "暂缓" in listing
    en = c.get("/repairs?lang=en").text
    assert "Repair requests" in en and "Fixed" in en


def test_maintenance_page_in_english_names_the_due_reason_in_english(run_console):
    rc = run_console(maintenance=MAINTENANCE, language="zh-CN")
    c, _ = rc.login("admin")
    with rc.hub.journal.db.transaction() as tx:  # the filter's baseline 100 days ago: due by the calendar
        tx.execute("UPDATE upkeep_baseline SET since_ms = since_ms - ? WHERE item='dispenser-3f'",
                   (100 * 86_400_000,))
    en = c.get("/maintenance?lang=en").text
    assert "Due: 100 days since the last service (every 90 days)" in en
    assert 'class="task due"' in en and en.count('class="task due"') == 1
    zh = c.get("/maintenance?lang=zh-CN").text
    assert "已到期：距上次维保 100 天（每 90 天）" in zh


def test_bodies_without_a_length_or_beyond_the_limit_are_refused_before_they_are_read(run_console):
    # a chunked upload (no Content-Length) could otherwise be spooled without bound before the photo's
    # own size check runs; a stated size beyond the limit is refused at once, without waiting for the body
    import http.client
    from urllib.parse import urlsplit

    rc = run_console(maintenance=MAINTENANCE)
    c, token = rc.login("duty")
    host = urlsplit(rc.url)
    cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())

    def post(headers: dict[str, str], body: bytes | None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=20)
        conn.putrequest("POST", "/repairs/report")
        for k, v in {"Cookie": cookie, "Content-Type": "multipart/form-data; boundary=x", **headers}.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            conn.send(body)
        r = conn.getresponse()
        out = (r.status, r.read().decode())
        conn.close()
        return out

    status, said = post({"Transfer-Encoding": "chunked"}, b"5\r\n--x--\r\n0\r\n\r\n")
    assert status == 411 and "Content-Length" in said and "请在浏览器中重新提交" in said
    status, said = post({"Content-Length": str(100 * 1024 * 1024)}, None)  # the body never comes
    assert status == 413 and "请求过大（上限 8 MB）" in said and "limit 8 MB" in said
    assert service.repairs(rc.hub.journal) == []
    # forms as browsers send them still work
    r = c.post("/repairs/report", data={"csrf": token, "place": "三楼", "description": "灯不亮"},
               headers={"accept": "application/json"})
    assert r.status_code in (200, 303) and len(service.repairs(rc.hub.journal)) == 1
