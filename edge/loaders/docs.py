"""Render docs/config.md from the schemas themselves, so the reference cannot drift.

python -m edge.loaders.docs > docs/config.md
"""

from __future__ import annotations

import importlib

from drivers import catalog
from edge import processors
from edge.config.schema import Obj, describe
from edge.loaders.agent import AGENT, DEVICE_COMMON


def render() -> str:
    out = [
        "# Configuration reference",
        "",
        "Generated from the schemas (`edge/loaders/`, the bridge's and the hub's `config.py`) and each "
        "driver's `SPEC` by "
        "`python -m edge.loaders.docs > docs/config.md`; a test keeps it current.",
        "Unknown keys are errors. `campus-edge check-config FILE` reports every mistake with its place "
        "and exits 2.",
        "",
        "## Agent (`campus-edge agent -c FILE`)",
        "",
        *describe(AGENT),
        "",
        "## Device entries",
        "",
        "Every device has:",
        "",
        *describe(Obj(DEVICE_COMMON)),
        "",
        "and the keys of its driver:",
    ]
    for (kind, driver), module in sorted(catalog.CATALOG.items()):
        spec = processors.spec_for(kind, driver)
        out += ["", f"### `kind: {kind}`, `driver: {driver}` ({module})", ""]
        if spec.doc:
            out += [spec.doc, ""]
        out += describe(Obj(spec.fields))
    from edge.calendar import CALENDAR

    out += ["", "## School calendar (`calendar:` in an agent config: a file, or these keys inline)", "",
            "Holidays and terms given as a date or a range `{start, end, name}`; docs/operations.md explains "
            "the order in which a date is decided.", "", *describe(CALENDAR)]
    try:
        bridge = importlib.import_module("edge.bridge.config")
    except ModuleNotFoundError:
        bridge = None
    bridge_spec = getattr(bridge, "BRIDGE", None)
    if isinstance(bridge_spec, Obj):
        out += ["", "## Bridge (`campus-edge bridge -c FILE`)", "", *describe(bridge_spec)]
    out += _hub()
    return "\n".join(out) + "\n"


def _hub() -> list[str]:
    """The hub's keys (edge/hub/config.py), when the hub is installed."""
    try:
        hub = importlib.import_module("edge.hub.config")
    except ModuleNotFoundError:
        return []
    spec = getattr(hub, "HUB", None)
    if not isinstance(spec, Obj):
        return []
    return ["", "## Hub (`campus-edge hub -c FILE`)", "",
            "Any string may be written `${NAME}`: it is taken from the environment when the file loads "
            "(a missing variable is an error). See docs/hub.md.", "", *describe(spec),
            "", "### Channels (`channels:` entries)", "", *_channel_types()]


def _channel_types() -> list[str]:
    try:
        notify = importlib.import_module("edge.hub.notify.config")
    except ModuleNotFoundError:
        return []
    return list(notify.describe_types())


if __name__ == "__main__":
    print(render(), end="")
