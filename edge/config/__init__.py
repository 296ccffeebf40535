"""The config kernel: the schema language (schema.py) and what every config file shares (common.py).
Drivers, processors and the loaders (edge/loaders/) import it; it imports nothing of theirs."""

from edge.config.schema import ConfigError

__all__ = ["ConfigError"]
