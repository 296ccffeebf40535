"""Home Assistant MQTT discovery configs, built from the device list (pure).

With ``homeassistant: {discovery: true}`` the agent publishes, retained, one
config per entity under ``{prefix}/{component}/{node}/{object}/config``:
a ``switch`` per relay (HA sends plain ON / OFF, which the agent accepts) and a
``sensor`` per meter value, read from the device's retained ``state``. Home
Assistant then lists every classroom's appliances and meters without any YAML
on its side. The entity descriptions are data (``SENSORS``, ``EVENT_TYPES``), not branches.

Meters and cameras also get their own availability: an entity is available only while the node is
``online`` on ``{base}/status`` AND the device is ``online`` on ``{base}/{device}/availability``
(``availability_mode: all``), which the agent drives from ``meter_offline``/``meter_online`` and
``camera_offline``/``camera_online``. Each device with events (edge/mqtt/events.py; a relay: ``relay_fault``,
``relay_ok``, ``rule_action``) has an ``event`` entity (``fever``,
``recheck``, ``leak``, ... as event types; attributes are the event's fields without the snapshot),
and each camera an ``image`` entity showing the latest fever snapshot (``{base}/{device}/snapshot``,
base64 PNG, retained). ``removed`` lists the configs announced before that are gone now: the agent
publishes an empty retained payload there, which deletes the entity in Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.mqtt.events import EVENTS
from edge.mqtt.topics import Topics

# value name -> (device_class, unit, state_class)
SENSORS: dict[str, tuple[str | None, str, str]] = {
    "energy_kwh": ("energy", "kWh", "total_increasing"),
    "power_w": ("power", "W", "measurement"),
    "voltage_v": ("voltage", "V", "measurement"),
    "current_a": ("current", "A", "measurement"),
    "volume_m3": ("water", "m³", "total_increasing"),
    "flow_lpm": ("volume_flow_rate", "L/min", "measurement"),
}
KIND_SENSORS: dict[str, tuple[str, ...]] = {
    "electricity_meter": ("energy_kwh", "power_w", "voltage_v", "current_a"),
    "water_meter": ("volume_m3", "flow_lpm"),
}
# the camera's counts come with its telemetry (per `telemetry_seconds` window), not its state
TELEMETRY_SENSORS: dict[str, tuple[str, str | None, str | None]] = {  # value -> (name, device_class, unit)
    "screened": ("screened", None, "pupils"),
    "fevers": ("fevers", None, "pupils"),
    "max_temp_c": ("max temperature", "temperature", "°C"),
}
KIND_TELEMETRY_SENSORS: dict[str, tuple[str, ...]] = {"thermal_camera": ("screened", "fevers", "max_temp_c")}
# every event type a device of this kind sends on {base}/{device}/event (HA refuses types not listed):
# the contract's table, and a relay's `rule_action` (a local rule switched it: docs/mqtt.md)
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    kind: (*events, *(("rule_action",) if kind == "relay" else ()))
    for kind, events in EVENTS.items() if events
}
AVAILABILITY_EVENTS: dict[str, str] = {
    "meter_offline": "offline", "meter_online": "online",
    "camera_offline": "offline", "camera_online": "online",
}
# kinds whose devices have an availability of their own (they emit the events above)
AVAILABILITY_KINDS = frozenset(k for k, types in EVENT_TYPES.items() if set(types) & set(AVAILABILITY_EVENTS))
# the event's own fields become the HA event's attributes; the snapshot (tens of kB) stays out
EVENT_TEMPLATE = (
    "{{ dict(value_json.items() | rejectattr(0, 'in', ['type', 'snapshot_png']) | list, "
    "event_type=value_json.type) | to_json }}"
)


@dataclass(frozen=True)
class DiscoveryConfig:
    topic: str
    payload: dict[str, Any]


def _node_device(topics: Topics, version: str) -> dict[str, Any]:
    return {
        "identifiers": [f"campus-edge_{topics.site}_{topics.node}"],
        "name": f"{topics.site} {topics.node}",
        "manufacturer": "campus-edge",
        "model": "edge agent",
        "sw_version": version,
    }


def discovery_configs(
    prefix: str, topics: Topics, version: str, devices: list[dict[str, Any]]
) -> list[DiscoveryConfig]:
    # The node id alone names the topics, so a broker ACL can grant each agent
    # `homeassistant/+/<its user name>/#` (deploy/mosquitto/campus.acl); unique ids carry the site.
    node_id = topics.node
    uid = f"{topics.site}_{topics.node}"
    common = {
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "device": _node_device(topics, version),
    }
    out: list[DiscoveryConfig] = []
    for dev in devices:
        dev_id, kind = dev["id"], dev["kind"]
        name = dev.get("name") or dev_id
        state = topics.device(dev_id, "state")
        if kind in AVAILABILITY_KINDS:  # node AND device available (see the module's doc)
            base = {k: v for k, v in common.items() if not k.startswith(("availability_topic", "payload_"))}
            common_dev = {
                **base,
                "availability": [{"topic": topics.status}, {"topic": availability_topic(topics, dev_id)}],
                "availability_mode": "all",
            }
        else:
            common_dev = common
        if kind == "relay":
            out.append(
                DiscoveryConfig(
                    f"{prefix}/switch/{node_id}/{dev_id}/config",
                    {
                        "name": name,
                        "unique_id": f"ce_{uid}_{dev_id}",
                        "command_topic": topics.device(dev_id, "set"),
                        "state_topic": state,
                        "value_template": "{{ 'ON' if value_json.on else 'OFF' }}",
                        "payload_on": "ON",
                        "payload_off": "OFF",
                        "state_on": "ON",
                        "state_off": "OFF",
                        **common,
                    },
                )
            )
        for value in KIND_SENSORS.get(kind, ()):
            device_class, unit, state_class = SENSORS[value]
            payload = {
                "name": f"{name} {value.rsplit('_', 1)[0].replace('_', ' ')}",
                "unique_id": f"ce_{uid}_{dev_id}_{value}",
                "state_topic": state,
                "value_template": f"{{{{ value_json['values']['{value}'] }}}}",
                "unit_of_measurement": unit,
                "state_class": state_class,
                **common_dev,
            }
            if device_class:
                payload["device_class"] = device_class
            out.append(DiscoveryConfig(f"{prefix}/sensor/{node_id}/{dev_id}_{value}/config", payload))
        for value in KIND_TELEMETRY_SENSORS.get(kind, ()):
            label, tel_class, tel_unit = TELEMETRY_SENSORS[value]
            payload = {
                "name": f"{name} {label}",
                "unique_id": f"ce_{uid}_{dev_id}_{value}",
                "state_topic": topics.device(dev_id, "telemetry"),
                # a window without that value (no one screened: no max_temp_c) keeps the last state
                "value_template": f"{{{{ value_json['values']['{value}'] "
                                  f"if '{value}' in value_json['values'] else this.state }}}}",
                "state_class": "measurement",
                **common_dev,
            }
            if tel_unit:
                payload["unit_of_measurement"] = tel_unit
            if tel_class:
                payload["device_class"] = tel_class
            out.append(DiscoveryConfig(f"{prefix}/sensor/{node_id}/{dev_id}_{value}/config", payload))
        if kind in EVENT_TYPES:
            out.append(DiscoveryConfig(
                f"{prefix}/event/{node_id}/{dev_id}_events/config",
                {
                    "name": f"{name} events",
                    "unique_id": f"ce_{uid}_{dev_id}_events",
                    "state_topic": topics.device(dev_id, "event"),
                    "event_types": list(EVENT_TYPES[kind]),
                    "value_template": EVENT_TEMPLATE,
                    **common_dev,
                },
            ))
        if kind == "thermal_camera":
            out.append(DiscoveryConfig(
                f"{prefix}/image/{node_id}/{dev_id}_fever_snapshot/config",
                {
                    "name": f"{name} last fever",
                    "unique_id": f"ce_{uid}_{dev_id}_fever_snapshot",
                    "image_topic": snapshot_topic(topics, dev_id),
                    "image_encoding": "b64",
                    "content_type": "image/png",
                    **common_dev,
                },
            ))
    return out


def availability_topic(topics: Topics, device: str) -> str:
    return topics.device(device, "availability")


def snapshot_topic(topics: Topics, device: str) -> str:
    return topics.device(device, "snapshot")


def availability_for_event(event_type: str) -> str | None:
    """``online``/``offline`` when this event changes a device's availability, else None."""
    return AVAILABILITY_EVENTS.get(event_type)


def removed(announced: list[str], configs: list[DiscoveryConfig]) -> list[str]:
    """Config topics announced earlier and not any more: publish an empty retained payload there."""
    now = {c.topic for c in configs}
    return sorted(t for t in set(announced) if t not in now)
