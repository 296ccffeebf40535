"""A meter's readings through its alert detectors (leak, after-hours): a processor.

The meter drivers turn bytes and pulses into readings and stop there. The agent
attaches this processor to a meter whose entry has ``leak:`` or ``after_hours:``:
it sees every reading the driver sends (``telemetry``), feeds the detectors,
sends their alerts as events, and keeps their memory in the device's storage
(``alerts``), written at most every ALERT_SAVE_SECONDS and at stop.
"""

from __future__ import annotations

import time
from typing import Any

from drivers.base import Device, DeviceContext
from edge.alerts.after_hours import AfterHoursDetector
from edge.alerts.config import AFTER_HOURS, LEAK
from edge.alerts.leak import LeakDetector
from edge.alerts.text import alert_line
from edge.config.schema import Field

ALERT_SAVE_SECONDS = 60.0  # detector memory is written at most this often (and at stop)

# The keys this processor adds to a meter's entry, by kind.
FIELDS: dict[str, dict[str, Field]] = {
    "electricity_meter": {
        "after_hours": Field(AFTER_HOURS,
                             "after-hours waste alert (`after_hours_load`); leave out to disable"),
    },
    "water_meter": {
        "leak": Field(LEAK, "leak alerts (`leak`); leave out to disable"),
    },
}


class MeterAlerts:
    """The detectors of one meter, their memory, and what they say."""

    def __init__(self, config: dict[str, Any], context: DeviceContext) -> None:
        self.ctx = context
        self.detectors: dict[str, Any] = {}
        saved = context.load("alerts") or {}
        # An alert block without its own time zone follows the agent's (`timezone` at the top).
        agent_tz = getattr(context, "timezone", None)
        if config.get("leak") is not None:
            leak = {**config["leak"], "timezone": config["leak"].get("timezone") or agent_tz}
            self.detectors["leak"] = LeakDetector(leak, saved.get("leak"))
        if config.get("after_hours") is not None:
            ah = {**config["after_hours"], "timezone": config["after_hours"].get("timezone") or agent_tz}
            self.detectors["after_hours"] = AfterHoursDetector(ah, saved.get("after_hours"),
                                                               getattr(context, "calendar", None))
        self._saved = time.monotonic()

    def feed(self, ts: int, values: dict[str, float]) -> None:
        for detector in self.detectors.values():
            for alert in detector.feed(ts, values):
                self.ctx.log.warning("alert %s: %s", alert.type, alert_line(alert.type, alert.fields))
                self.ctx.event(alert.type, alert.fields, alert.ts_ms)
        if self.detectors and time.monotonic() - self._saved >= ALERT_SAVE_SECONDS:
            self.save()

    def save(self) -> None:
        if self.detectors:
            self.ctx.save("alerts", {name: d.to_state() for name, d in self.detectors.items()})
            self._saved = time.monotonic()


class AlertingContext:
    """The DeviceContext a meter with alerts gets: the agent's, with every reading also fed to the
    detectors (after it is queued, as before: an alert never precedes the reading that raised it)."""

    def __init__(self, inner: DeviceContext, alerts: MeterAlerts) -> None:
        self._inner = inner
        self.alerts = alerts

    def __getattr__(self, name: str) -> Any:  # device_id, log, resources, timezone, event, state, ...
        return getattr(self._inner, name)

    def telemetry(self, values: dict[str, float], ts_ms: int | None = None) -> None:
        ts = ts_ms if ts_ms is not None else int(time.time() * 1000)
        self._inner.telemetry(values, ts)
        self.alerts.feed(ts, values)


class MeterWithAlerts:
    """A meter device and its detectors: started and stopped together (their memory saved at stop)."""

    def __init__(self, device: Device, alerts: MeterAlerts) -> None:
        self.device = device
        self.alerts = alerts
        self.id = device.id
        self.kind = device.kind

    def __getattr__(self, name: str) -> Any:  # the driver's own attributes (publisher, ...) stay reachable
        return getattr(self.device, name)

    def start(self) -> None:
        self.device.start()

    def stop(self) -> None:
        self.device.stop()
        self.alerts.save()


def with_alerts(config: dict[str, Any], context: DeviceContext, build: Any) -> Device:
    """``build(config, context)`` the meter; with its detectors when its entry asks for any."""
    alerts = MeterAlerts(config, context)
    if not alerts.detectors:
        return build(config, context)
    return MeterWithAlerts(build(config, AlertingContext(context, alerts)), alerts)
