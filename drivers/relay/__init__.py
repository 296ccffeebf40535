"""Relay drivers: things that switch an appliance on and off."""
