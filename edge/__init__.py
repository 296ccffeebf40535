"""campus-edge: the edge controller for smart school campuses."""

__version__ = "0.1.0"
