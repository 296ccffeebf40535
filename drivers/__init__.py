"""Hardware adapters. Each driver is one module exposing a ``SPEC`` (see drivers.base)."""
