"""Per-device composition: a driver's readings or frames through the processing its kind gets.

The drivers (adapters) turn bytes, pins and frames into readings and frames,
and nothing more. Here the agent's devices are put together from the device
entry's keys, each key declared once:

- thermal cameras: the driver opens frames (``DriverSpec.frames``); the
  screening settings (screening_fields.py) configure the pipeline that
  ThermalCamera (thermal.py) runs on them;
- meters: the driver's readings go through the leak / after-hours detectors
  (meters.py) when the entry has ``leak:`` / ``after_hours:``;
- surveillance cameras: the driver opens a visit source that grabs pictures
  (``DriverSpec.frames``); PatrolCamera (patrol.py) schedules the visits, runs
  the patrol's checks on them and reports faults.

``spec_for(kind, driver)`` is the driver's spec with these keys added: what
the config loader validates and the docs list; ``build(config, context)`` is
what the agent starts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drivers import catalog
from drivers.base import Device, DeviceContext, DriverSpec
from edge.config.schema import Field

kinds = catalog.kinds

# The extra (pyproject) a kind needs beyond the core install: checked when the config loads (edge.extras).
EXTRA_OF_KIND: dict[str, str] = {"thermal_camera": "thermal", "surveillance": "surveillance"}


def _thermal_fields() -> dict[str, Field]:
    from edge.processors.screening_fields import SCREENING

    return SCREENING


def _fields(kind: str) -> dict[str, Field]:
    if kind == "thermal_camera":
        return _thermal_fields()
    if kind == "surveillance":
        from edge.processors.patrol import FIELDS as PATROL

        return PATROL
    from edge.processors.meters import FIELDS

    return FIELDS.get(kind, {})


def _with_defaults(fields: dict[str, Field], defaults: dict[str, Any]) -> dict[str, Field]:
    return {key: replace(f, default=defaults[key]) if key in defaults else f for key, f in fields.items()}


def _checks(*checks: Any) -> Any:
    checks = tuple(c for c in checks if c is not None)
    if not checks:
        return None

    def check(entry: dict, path: str, errors: list[str]) -> None:
        for c in checks:
            c(entry, path, errors)
    return check


def spec_for(kind: str, driver: str) -> DriverSpec:
    """The device's spec: the driver's keys, then its kind's processing keys, one build."""
    spec = catalog.spec_for(kind, driver)
    fields = {**spec.fields, **_with_defaults(_fields(kind), spec.defaults)}
    if kind == "thermal_camera":
        from edge.processors.screening_fields import check_screening

        return replace(spec, fields=fields, check=_checks(check_screening, spec.check),
                       build=lambda config, context: _camera(spec, config, context))
    if kind in ("electricity_meter", "water_meter"):
        from edge.processors.meters import with_alerts

        build = spec.build
        return replace(spec, fields=fields, build=lambda config, context: with_alerts(config, context, build))
    if kind == "surveillance":
        return replace(spec, fields=fields, build=lambda config, context: _patrol(spec, config, context))
    return replace(spec, fields=fields)


def _camera(spec: DriverSpec, config: dict[str, Any], context: DeviceContext) -> Device:
    from edge.processors.thermal import ThermalCamera

    assert spec.frames is not None, f"{spec.driver}: a camera driver opens frames"
    return ThermalCamera(config, context, spec.frames(config, context.resources))


def _patrol(spec: DriverSpec, config: dict[str, Any], context: DeviceContext) -> Device:
    from edge.processors.patrol import PatrolCamera

    assert spec.frames is not None, f"{spec.driver}: a surveillance driver opens a visit source"
    return PatrolCamera(config, context, spec.frames(config, context.resources))


def build(config: dict[str, Any], context: DeviceContext) -> Device:
    """The device for a validated entry, as the agent starts it."""
    make = spec_for(config["kind"], config["driver"]).build
    assert make is not None
    return make(config, context)
