"""The agent's config file: one schema, validated as a whole when it loads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from drivers import catalog
from edge import extras, processors, simulated
from edge.calendar import CalendarRef
from edge.config.common import ID, MQTT, TOPIC_ROOT, file_problem, load
from edge.config.schema import (
    MISSING,
    Bool,
    Date,
    Enum,
    Field,
    Float,
    Int,
    ListOf,
    Obj,
    Spec,
    Str,
    _show,
)
from edge.heartbeat import WATCHDOG
from edge.loaders.rules import RULE, check_rules

# Keys every device entry has, whatever its driver.
DEVICE_COMMON: dict[str, Field] = {
    "id": Field(ID, "device id, unique on this node; part of its topics (not `agent`, `set`, `info`, `cmd`, "
                "`status`, `reply`, `state`, `telemetry`, `event`)", required=True),
    "kind": Field(Str(), "what the device is: " + ", ".join(sorted(catalog.kinds())), required=True),
    "driver": Field(Str(), "which driver talks to it (see the driver table below)", required=True),
    "name": Field(Str(), "a human-readable name (shown in the birth message and dashboards)"),
    "groups": Field(
        ListOf(ID), "command groups this device answers (campus/{site}/group/{group}/set)", default=list
    ),
}


class DeviceEntry(Spec):
    """A device: the common keys plus the keys its (kind, driver) adds."""

    doc_type = "mapping"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(value, dict):
            return self.fail(path, errors, f"expected a mapping, got {_show(value)}")
        kinds = catalog.kinds()
        kind, driver = value.get("kind"), value.get("driver")
        if kind is None or driver is None or not isinstance(kind, str) or not isinstance(driver, str):
            return Obj(DEVICE_COMMON).check(value, path, errors)
        if kind not in kinds:
            return self.fail(
                f"{path}.kind", errors, f"unknown kind {_show(kind)} (known: {', '.join(sorted(kinds))})"
            )
        if driver not in kinds[kind]:
            return self.fail(
                f"{path}.driver",
                errors,
                f"no driver {_show(driver)} for kind {kind} (known: {', '.join(kinds[kind])})",
            )
        problem = extras.missing(processors.EXTRA_OF_KIND.get(kind))
        if problem:  # before the driver's module is imported (it would fail on the missing import)
            return self.fail(f"{path}.kind", errors, f"{kind} {problem}")
        return device_schema(kind, driver).check(value, path, errors)


def _check_sim_port(entry: dict, path: str, errors: list[str]) -> None:
    """A `sim:` port is checked when the config loads, not when the bus first opens."""
    problem = simulated.check_port(entry.get("port"))
    if problem:
        errors.append(f"{path}.port: {problem}" if path else f"port: {problem}")


def device_schema(kind: str, driver: str) -> Obj:
    """One device entry's keys and checks: the common ones, its driver's, its kind's processing."""
    spec = processors.spec_for(kind, driver)
    checks = [c for c in (_check_sim_port if "port" in spec.fields else None, spec.check) if c is not None]

    def check(entry: dict, path: str, errors: list[str]) -> None:
        for c in checks:
            c(entry, path, errors)
    return Obj({**DEVICE_COMMON, **spec.fields}, check_whole=check if checks else None)


# Topic words a device id must not be (docs/mqtt.md): `agent` carries the agent's own health; the others
# are the leaves of the contract's topics, and a device named after one makes topics that read two ways.
TOPIC_WORDS = ("set", "info", "cmd", "status", "reply", "state", "telemetry", "event")
RESERVED_DEVICE_IDS = {"agent": "the agent's own health readings",
                       **dict.fromkeys(TOPIC_WORDS, "a topic word of the MQTT contract")}
# campus/{site}/group/{group}/set carries the site-wide group commands: a node `group` would obey them.
RESERVED_NODE_IDS = {"group": "the site-wide group commands (campus/{site}/group/...)"}


class NodeId(Str):
    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        value = ID.check(value, path, errors)
        if isinstance(value, str) and value in RESERVED_NODE_IDS:
            return self.fail(path, errors, f"{value!r} is reserved for {RESERVED_NODE_IDS[value]}")
        return value


def _check_devices(devices: list, path: str, errors: list[str]) -> None:
    for check in (_check_ids, _check_ports, _check_addresses, _check_pins):
        check(devices, path, errors)


def _check_ids(devices: list, path: str, errors: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, dev in enumerate(devices):
        if not isinstance(dev, dict) or not isinstance(dev.get("id"), str):
            continue
        if dev["id"] in seen:
            errors.append(f"{path}[{i}].id: {dev['id']!r} is already used by devices[{seen[dev['id']]}]")
        elif dev["id"] in RESERVED_DEVICE_IDS:
            errors.append(f"{path}[{i}].id: {dev['id']!r} is reserved for {RESERVED_DEVICE_IDS[dev['id']]}")
        else:
            seen[dev["id"]] = i


def _check_ports(devices: list, path: str, errors: list[str]) -> None:
    """Meters on one RS-485 port share its line settings: one port, one baud rate."""
    ports: dict[str, int] = {}
    for i, dev in enumerate(devices):
        port = dev.get("port") if isinstance(dev, dict) else None
        if not isinstance(port, str):
            continue
        if port not in ports:
            ports[port] = i
            continue
        first = devices[ports[port]]
        for key in ("baudrate", "parity", "stopbits"):
            if dev.get(key) != first.get(key):
                errors.append(
                    f"{path}[{i}].{key}: {dev.get(key)!r} differs from {first.get(key)!r} of "
                    f"devices[{ports[port]}] on the same port {port}"
                )


def _check_addresses(devices: list, path: str, errors: list[str]) -> None:
    """Two meters answering the same bus address on one port: every reply would be read by both."""
    addresses: dict[tuple[str, str, Any], int] = {}
    for i, dev in enumerate(devices):
        if not isinstance(dev, dict) or not isinstance(dev.get("port"), str):
            continue
        id_key = {"dlt645": "address", "modbus": "unit"}.get(str(dev.get("driver")))
        if id_key is None or dev.get(id_key) is None:
            continue
        bus = (dev["port"], dev["driver"], dev[id_key])
        if bus in addresses:
            errors.append(f"{path}[{i}].{id_key}: {dev[id_key]!r} is already used by "
                          f"devices[{addresses[bus]}] on the same port {dev['port']}")
        else:
            addresses[bus] = i


def _check_pins(devices: list, path: str, errors: list[str]) -> None:
    pins: dict[int, int] = {}
    for i, dev in enumerate(devices):
        pin = dev.get("pin") if isinstance(dev, dict) else None
        if isinstance(pin, int):
            if pin in pins:
                errors.append(f"{path}[{i}].pin: GPIO {pin} is already used by devices[{pins[pin]}]")
            pins[pin] = i


class Devices(ListOf):
    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        out = super().check(value, path, errors)
        if out is not MISSING:
            _check_devices(out, path, errors)
        return out


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _check_schedule(entry: dict, path: str, errors: list[str]) -> None:
    if not entry["devices"] and not entry["groups"]:
        errors.append(f"{path}: name at least one of devices or groups")


SCHEDULE = Obj(
    {
        "at": Field(
            Str(pattern=r"([01]\d|2[0-3]):[0-5]\d", hint="expected a time HH:MM"),
            "local time of day",
            required=True,
        ),
        "days": Field(
            ListOf(Enum(choices=DAYS), min_len=1), "days of the week", default=lambda: list(DAYS[:5])
        ),
        "action": Field(Enum(choices=("on", "off")), "what to do", required=True),
        "devices": Field(ListOf(ID), "device ids on this node", default=list),
        "groups": Field(ListOf(ID), "groups (every device on this node listing one)", default=list),
        "skip_dates": Field(
            ListOf(Date()),
            "holidays: dates on which this entry does not run",
            default=list,
        ),
        "school_days": Field(
            Bool(),
            "run on the school days of the `calendar` (terms, holidays, make-up days) instead of on `days`",
            default=False,
        ),
    },
    check_whole=_check_schedule,
)

STORAGE = Obj(
    {
        "path": Field(
            Str(min_len=1),
            "SQLite file for the outbox, command log and device state",
            default="/var/lib/campus-edge/agent.db",
        ),
        "max_outbox": Field(
            Int(min=100),
            "messages kept while the broker is away; when full the oldest "
            "telemetry is dropped first (events last), and counted",
            default=200_000,
        ),
        "flush_ms": Field(
            Int(min=0, max=60_000),
            "readings the broker acknowledges within this many ms are never written to the SD card; "
            "older unacknowledged ones are written then, in one transaction. A reading accepted more "
            "than flush_ms (+ 0.2 s) before a power loss survives, a younger one may not; events, "
            "rule actions and command replies are written at once whatever this says. 0: every "
            "reading is written (fsync) before it is accepted",
            default=1000,
        ),
    }
)

HOMEASSISTANT = Obj(
    {
        "discovery": Field(
            Bool(), "publish Home Assistant MQTT discovery configs (switches, meter sensors)", default=False
        ),
        "prefix": Field(TOPIC_ROOT, "Home Assistant's discovery prefix", default="homeassistant"),
    }
)

AGENT = Obj(
    {
        "site": Field(ID, "site (school) id, part of every topic", required=True),
        "node": Field(NodeId(), "this node's id, unique on the site (not `group`)", required=True),
        "mqtt": Field(MQTT, "how to reach the broker", default=lambda: MQTT.check({}, "mqtt", [])),
        "storage": Field(
            STORAGE,
            "where the agent keeps what must survive a restart",
            default=lambda: STORAGE.check({}, "storage", []),
        ),
        "health_seconds": Field(
            Float(min=1, max=3600),
            "how often the agent publishes its own health (device `agent`)",
            default=60.0,
        ),
        "timezone": Field(Str(min_len=1), "IANA time zone for schedules; default: the system's"),
        "calendar": Field(CalendarRef(), "the school calendar (a file such as "
                          "/etc/campus-edge/calendar.yaml, or its keys inline), used by schedules with "
                          "`school_days: true` and by after-hours alerts; see docs/operations.md"),
        "devices": Field(Devices(item=DeviceEntry()), "the devices this node drives", default=list),
        "schedules": Field(ListOf(SCHEDULE), "switch devices or groups at set times", default=list),
        "rules": Field(
            ListOf(RULE),
            "local alarms: on an event of a device here, switch a relay here, also while the network is "
            "down; once per event, also across restarts",
            default=list,
        ),
        "watchdog": Field(WATCHDOG, "when a stuck thread stops the systemd watchdog (docs/operations.md)",
                          default=lambda: WATCHDOG.check({}, "watchdog", [])),
        "homeassistant": Field(
            HOMEASSISTANT,
            "Home Assistant integration",
            default=lambda: HOMEASSISTANT.check({}, "homeassistant", []),
        ),
    }
)


def _check_references(cfg: dict, errors: list[str]) -> None:
    devices = cfg["devices"] if isinstance(cfg["devices"], list) else []
    ids = {d["id"] for d in devices if isinstance(d, dict) and isinstance(d.get("id"), str)}
    schedules = cfg["schedules"] if isinstance(cfg["schedules"], list) else []
    for i, entry in enumerate(schedules):
        if not isinstance(entry, dict):
            continue
        for j, dev in enumerate(entry.get("devices") or []):
            if isinstance(dev, str) and dev not in ids:
                errors.append(f"schedules[{i}].devices[{j}]: no device {dev!r} on this node")
    check_rules(cfg, errors)
    for i, entry in enumerate(schedules):
        if isinstance(entry, dict) and entry.get("school_days") and not cfg.get("calendar"):
            errors.append(f"schedules[{i}].school_days: needs a `calendar:` (a file or inline) at the top")
    storage = cfg.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("path"), str):
        problem = file_problem(storage["path"])
        if problem:
            errors.append(f"storage.path: {storage['path']}: {problem}")
    if cfg.get("timezone"):
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(cfg["timezone"])
        except Exception:
            errors.append(f"timezone: unknown time zone {cfg['timezone']!r}")


AGENT.check_whole = lambda cfg, path, errors: _check_references(cfg, errors)
AGENT.check_partial = True


def load_agent_config(path: str | Path) -> dict[str, Any]:
    return load(AGENT, path)


def client_id_for(cfg: dict[str, Any]) -> str:
    return cfg["mqtt"]["client_id"] or re.sub(r"[^A-Za-z0-9_.-]", "-", f"ce-{cfg['site']}-{cfg['node']}")[:64]
