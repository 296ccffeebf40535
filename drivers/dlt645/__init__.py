"""DL/T 645-2007 electricity meters on RS-485: a pure codec (codec.py) under a polling device (meter.py)."""
