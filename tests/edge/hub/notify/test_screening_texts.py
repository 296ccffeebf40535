"""What staff read for the screening's reports: unscreened, screening degraded / blind, calibration drift."""

from __future__ import annotations

from edge.hub.model import Alert
from edge.hub.notify.texts import headline, render
from edge.i18n import has
from edge.mqtt.events import EVENTS
from edge.screening.payloads import FIELDS
from tests.edge.hub.notify.support import TZ, ts


def alert(type_: str, fields: dict, place: str = "东门") -> Alert:
    return Alert(5, "mh-primary", "gate-east", "cam", type_, ts(7, 42), 1, fields, place=place)


def test_every_screening_report_has_a_title_a_headline_and_a_catalog_entry():
    for type_, fields in FIELDS.items():
        assert EVENTS["thermal_camera"][type_] == fields
        assert has(f"alert.title.{type_}") and has(f"notify.{type_}")


def test_unscreened_says_why_in_both_languages():
    a = alert("unscreened", {"track": 3, "reason": "too_fast", "frames": 1, "seen": 4, "width_px": 22,
                             "snapshot_png": None})
    zh = render(a, "zh-CN", TZ, snapshot=None)
    assert zh.text.splitlines()[0] == "【未完成测温】东门 07:42 有人未完成测温即通过，请核查"
    assert "原因：通过太快" in zh.text.splitlines()
    en = render(alert("unscreened", {"reason": "eyes_covered"}, "East gate"), "en", TZ, snapshot=None)
    assert "Reason: eyes covered, forehead not measurable" in en.text.splitlines()


def test_screening_blind_and_degraded_name_the_reason():
    blind = alert("screening_blind", {"reason": "blackbody_not_uniform", "seconds": 12.4, "face_frames": 30,
                                      "detail": "ROI [228, 8, 16, 16] spans the blackbody's edge"})
    assert headline(blind, "zh-CN", TZ) == (
        "【测温失效】东门 07:42 自动测温已失效 12 秒（黑体区域不均匀（区域跨越黑体边缘"
        "或被遮挡）），期间有人通过未测温，请立即人工测温")
    degraded = alert("screening_degraded", {"reason": "frozen"}, "East gate")
    assert headline(degraded, "en", TZ) == ("[Screening degraded] East gate 07:42 automatic screening is not "
                                            "reliable (camera image frozen): be ready to screen by hand")
    odd = alert("screening_degraded", {"reason": "solar_flare"}, "East gate")
    assert "(unknown reason)" in headline(odd, "en", TZ)


def test_calibration_drift_gives_the_crowd_mean_and_the_band():
    a = alert("calibration_drift", {"mean_c": 35.87, "band_low_c": 36.3, "band_high_c": 37.1, "samples": 10})
    assert headline(a, "zh-CN", TZ).startswith(
        "【测温校准漂移】东门 07:42 近期健康人群平均体温读数 35.87°C，超出合理范围 36.3–37.1°C")
