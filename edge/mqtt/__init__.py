"""The MQTT contract (topics, payloads) and the one adapter that owns the paho client."""
