"""Config loading and validation (one schema that also documents the files)."""

from edge.config.schema import ConfigError

__all__ = ["ConfigError"]
