"""Modbus RTU meters: register maps as data (registers.py), pymodbus's framer and PDUs (rtu.py),
polling (meter.py)."""
