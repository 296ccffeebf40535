"""Simulated water and electricity meters.

- ``profiles``: consumption as pure functions of (simulated) time: school day, night, weekend, slow leak,
  burst pipe, air conditioner left on overnight.
- ``model``: a meter's registers (energy, volume) integrated along a profile, plus its faults.
- ``dlt645`` / ``modbus``: protocol handlers (DL/T 645 via our codec, Modbus via pymodbus's framer).
- ``pty``: a pseudo-terminal pair that paces replies to the configured baud rate.
- ``sim_port``: ``sim:...`` port strings (what a config's ``port`` may name).
- ``pulse``: a reed-switch pulse generator on a gpiozero mock pin, bounce included.
"""
