"""Alerts learned from meter readings: water leaks (leak.py), after-hours electricity waste (after_hours.py).

Detectors are pure: feed ``(ts_ms, values)`` in, get ``Alert`` objects out;
their whole memory is a JSON-able dict (``to_state`` / ``from_state``) that the
meter driver keeps in the agent's storage, so a restart does not reset what
they learned and tests can replay weeks of readings in milliseconds.
"""
