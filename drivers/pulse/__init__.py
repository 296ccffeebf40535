"""Pulse water meters: a reed switch closes once per so many litres (meter.py), with our own debounce."""
