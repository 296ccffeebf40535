"""Thermal cameras: pure frame decoders (codec), frame sources (sources), the camera device, drivers."""
