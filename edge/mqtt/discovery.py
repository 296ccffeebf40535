"""Home Assistant MQTT discovery configs, built from the device list (pure).

With ``homeassistant: {discovery: true}`` the agent publishes, retained, one
config per entity under ``{prefix}/{component}/{node}/{object}/config``:
a ``switch`` per relay (HA sends plain ON / OFF, which the agent accepts) and a
``sensor`` per meter value, read from the device's retained ``state``. Home
Assistant then lists every classroom's appliances and meters without any YAML
on its side. The entity descriptions are data (``SENSORS``), not branches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
                **common,
            }
            if device_class:
                payload["device_class"] = device_class
            out.append(DiscoveryConfig(f"{prefix}/sensor/{node_id}/{dev_id}_{value}/config", payload))
    return out
