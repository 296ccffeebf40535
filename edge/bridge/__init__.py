"""MQTT -> time-series database bridge: telemetry, events and relay states, nothing lost (docs/bridge.md)."""
