"""Config keys of every thermal camera: the screening settings, with their limits and docs.

One source for each setting: the defaults are ScreeningConfig's (edge/screening/config.py), which a
validated entry becomes key for key (``ScreeningConfig.from_device``); a key here that is not a field
there, or the other way round, fails tests/edge/processors/test_screening_fields.py.
"""

from __future__ import annotations

from edge.config.schema import Bool, Enum, Field, Float, Int, ListOf, Obj
from edge.screening.config import HEALTH_FIELDS, ScreeningConfig, check_health

_D = ScreeningConfig()  # the defaults

RECT = ListOf(Int(min=0), min_len=4, max_len=4)

BLACKBODY = Obj(
    {
        "roi": Field(RECT, "[x, y, w, h] in pixels, inside the blackbody's face (keep off its edges)",
                     required=True),
        "temp_c": Field(Float(min=20, max=50), "the blackbody's set temperature", default=35.0),
    }
)

# The camera's own key (not a screening setting): telemetry_seconds, the last one.
SCREENING: dict[str, Field] = {
    "threshold_c": Field(Float(min=35, max=42), "fever threshold on the core temperature estimate",
                         default=_D.threshold_c),
    "canthus_offset_c": Field(Float(min=-2, max=3), "core = inner canthus + this",
                              default=_D.canthus_offset_c),
    "method": Field(Enum(choices=("canthus", "face_max")),
                    "`canthus` (needs about 16+ pixels across a face) or `face_max` for very coarse sensors",
                    default=_D.method),
    "uncertainty_c": Field(Float(min=0, max=5),
                           "reported with alerts; default 0.3 (canthus), 1.0 (face_max)"),
    "blackbody": Field(BLACKBODY, "a reference blackbody in view; strongly recommended"),
    "masks": Field(ListOf(RECT), "static masks [x, y, w, h]: areas never screened (heaters, windows)",
                   default=list),
    "skin_min_c": Field(Float(min=20, max=40), "lowest skin temperature considered", default=_D.skin_min_c),
    "skin_max_c": Field(Float(min=35, max=50), "above this a pixel is an object (cup, heater), never skin",
                        default=_D.skin_max_c),
    "face_width_px": Field(ListOf(Int(min=1), min_len=2, max_len=2),
                           "[min, max] face width in pixels for this lens and distance; default from the "
                           "frame width (1/32 to 1/3)"),
    "measure_width_px": Field(Int(min=1), "faces narrower than this are tracked but not measured; "
                              "default frame width / 16"),
    "min_frames": Field(Int(min=1, max=50), "good measurements before a person counts as screened",
                        default=_D.min_frames),
    "confirm_frames": Field(Int(min=1, max=20), "re-measurements that must confirm a fever",
                           default=_D.confirm_frames),
    "alert_margin_c": Field(Float(min=0, max=1), "a fever alerts once the estimate is at least "
                            "threshold_c + this (the reported temp_c is the estimate itself)",
                            default=_D.alert_margin_c),
    "hysteresis_c": Field(Float(min=0, max=2), "a fever suspicion clears only below threshold - this",
                          default=_D.hysteresis_c),
    "merge_seconds": Field(Float(min=0, max=60), "a new face next to an alerted one this soon is the same "
                           "person", default=_D.merge_seconds),
    "snapshot": Field(Bool(), "attach a false-colour thermal crop (PNG, base64) to fever and recheck alerts",
                      default=_D.snapshot),
    "blur_table_c": Field(ListOf(ListOf(Float(min=-2, max=1000), min_len=2, max_len=2)),
                          "[[face width px, degC], ...] added to the canthus reading for optical blur, "
                          "widths rising; [] turns it off; default: the table derived for the simulated "
                          "P2 Pro / Lepton optics (canthus), none (face_max)"),
    "fallback": Field(Bool(), "eyes covered (glasses): measure the forehead and send a `recheck` when it "
                      "reads near or above the threshold", default=_D.fallback),
    "fallback_offset_c": Field(Float(min=0, max=5), "core = forehead + this (eyes covered)",
                                 default=_D.fallback_offset_c),
    "fallback_uncertainty_c": Field(Float(min=0, max=5), "reported with rechecks",
                                      default=_D.fallback_uncertainty_c),
    "recheck_margin_c": Field(Float(min=0, max=3), "recheck when the forehead estimate is at or above "
                              "threshold_c - this", default=_D.recheck_margin_c),
    "telemetry_seconds": Field(Float(min=1, max=3600), "how often screened / fevers / max_temp_c are sent",
                               default=60.0),
    **HEALTH_FIELDS,
}


def check_screening(entry: dict, path: str, errors: list[str]) -> None:
    check_health(entry, path, errors)
    if entry["skin_min_c"] >= entry["skin_max_c"]:
        errors.append(f"{path}.skin_min_c: must be below skin_max_c ({entry['skin_max_c']:g})")
    fw = entry.get("face_width_px")
    if fw and fw[0] >= fw[1]:
        errors.append(f"{path}.face_width_px: min must be below max, got {fw}")
    table = entry.get("blur_table_c") or []
    if any(b[0] <= a[0] for a, b in zip(table, table[1:], strict=False)):
        errors.append(f"{path}.blur_table_c: face widths must rise, got {[w for w, _ in table]}")
    rects = [("blackbody.roi", entry["blackbody"]["roi"])] if entry.get("blackbody") else []
    rects += [(f"masks[{i}]", m) for i, m in enumerate(entry.get("masks") or [])]
    for where, (_, _, w, h) in rects:
        if w < 1 or h < 1:
            errors.append(f"{path}.{where}: width and height must be at least 1")
