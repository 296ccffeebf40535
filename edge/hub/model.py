"""What the hub's parts hand each other: a journalled alert.

The journal (edge/hub/journal.py) creates these; notifications, the report and the console read them.
Plain frozen data, no behaviour, so each part can be tested with hand-made values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The lifecycle of an alert (issue: acknowledgement and follow-up).
NEW, ACKNOWLEDGED, CLOSED = "new", "acknowledged", "closed"
STATES = (NEW, ACKNOWLEDGED, CLOSED)

# News that asks nothing of anyone (a device back, a local rule that did its job): journalled closed, so
# the lists of open alerts show only what a person must follow up. Rules may still notify on them.
INFORMATIONAL = frozenset({
    "rule_action", "meter_online", "camera_online", "node_online", "storage_ok", "screening_ready",
    "camera_ok", "repair_update", "relay_ok", "broker_online",
})


def initial_state(alert_type: str) -> str:
    return CLOSED if alert_type in INFORMATIONAL else NEW


@dataclass(frozen=True)
class Alert:
    """One journal entry: an event a device (or the hub, for node availability) reported."""

    id: int  # the journal's row id; stable, shown to people as the alert number
    site: str
    node: str
    device: str  # device id; "" for a node's own entries (node_offline / node_online)
    type: str  # event type: fever, recheck, leak, meter_offline, node_offline, ...
    ts_ms: int  # when it happened (the event's ts), ms since the epoch
    seq: int | None  # the event's seq on its node (None for hub-made entries)
    fields: dict[str, Any] = field(default_factory=dict)  # the event's payload minus ts/seq/type/snapshot
    place: str = ""  # the device's human name from the node's info (falls back to the device id)
    snapshot_path: str | None = None  # PNG file beside the journal, when the event carried a snapshot
    state: str = NEW
    received_ms: int = 0  # when the hub journalled it


# How an alert is closed (the follow-up the school records). Texts: "outcome.<name>" in edge/i18n/table.py.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "fever": ("cleared", "parents_called", "sent_home", "sent_to_clinic"),
    "recheck": ("cleared", "parents_called", "sent_home", "sent_to_clinic"),
    "unscreened": ("cleared", "parents_called", "sent_home", "sent_to_clinic"),
    "leak": ("valve_closed", "repaired", "false_alarm"),
}
GENERIC_OUTCOMES = ("resolved", "false_alarm")


def outcomes_for(alert_type: str) -> tuple[str, ...]:
    return OUTCOMES.get(alert_type, GENERIC_OUTCOMES)


@dataclass(frozen=True)
class Action:
    """One step of an alert's lifecycle, kept for the record: who did what, when."""

    alert_id: int
    ts_ms: int
    by: str
    action: str  # acknowledged | closed
    outcome: str | None = None
    reading_c: float | None = None  # the handheld / clinical thermometer reading (ISO/TR 13154)
    note: str = ""
