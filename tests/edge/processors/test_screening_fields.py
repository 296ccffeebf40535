"""One source for each screening setting: the config keys are ScreeningConfig's fields, with its defaults."""

from dataclasses import fields

from edge import processors
from edge.processors.screening_fields import SCREENING
from edge.screening.config import ScreeningConfig

CAMERA_ONLY = {"telemetry_seconds"}  # the device's own key, not a screening setting
NOT_CONFIGURABLE = {"lost_seconds"}  # fixed by the tracker's design, not a site setting


def test_every_screening_key_is_a_setting_with_the_same_default():
    settings = {f.name: f for f in fields(ScreeningConfig)}
    assert set(SCREENING) - CAMERA_ONLY == set(settings) - NOT_CONFIGURABLE
    defaults = ScreeningConfig()
    for key in set(SCREENING) - CAMERA_ONLY:
        default = SCREENING[key].default
        if callable(default) or key in ("blackbody", "uncertainty_c", "face_width_px", "measure_width_px",
                                        "blur_table_c"):
            continue  # optional keys (None: derived) and factories (masks: [] -> ())
        assert default == getattr(defaults, key), key


def test_a_validated_entry_becomes_the_pipelines_settings_key_for_key():
    entry = processors.spec_for("thermal_camera", "replay")
    from edge.config.schema import Obj

    cfg = Obj(entry.fields).check({"path": "x.npy", "threshold_c": 37.8, "masks": [[0, 0, 2, 2]],
                                   "blackbody": {"roi": [1, 2, 3, 4]}, "face_width_px": [5, 50]}, "", [])
    s = ScreeningConfig.from_device(cfg)
    assert s.threshold_c == 37.8 and s.masks == ((0, 0, 2, 2),) and s.face_width_px == (5, 50)
    assert s.blackbody is not None and s.blackbody.roi == (1, 2, 3, 4) and s.blackbody.temp_c == 35.0
    assert s.min_frames == ScreeningConfig().min_frames


def test_a_coarse_sensor_driver_chooses_its_own_default_method():
    assert processors.spec_for("thermal_camera", "mlx90640").fields["method"].default == "face_max"
    assert processors.spec_for("thermal_camera", "lepton").fields["method"].default == "canthus"
