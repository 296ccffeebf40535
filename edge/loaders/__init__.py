"""The config files' loaders (wiring): the agent's file (agent.py, its `rules:` in rules.py) checked against
the driver catalog and the processors' keys, and docs/config.md rendered from the same schemas (docs.py).
They stand above drivers and processors; the schema language they use is the kernel's edge/config/."""
