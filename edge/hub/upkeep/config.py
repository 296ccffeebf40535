"""The hub config's ``maintenance:`` list and ``upkeep:`` settings (validated with the rest of the file).

    maintenance:
      - id: dispenser-3f-east
        name: 3F east water dispenser
        meter: {node: water-3f, device: dispenser-3f}      # its feed's meter (volume_m3), or relay: {...}
        tasks:
          - {id: filter, name: change the filter, every_litres: 2000, every_days: 90}
          - {id: uv-lamp, every_on_hours: 4000}
          - {id: water-test, per_term: true}
    upkeep:
      calendar: /etc/campus-edge/calendar.yaml              # its terms, for per_term tasks
      remind_hours: 24
"""

from __future__ import annotations

from typing import Any

from edge.calendar import CalendarRef
from edge.config.common import ID
from edge.config.schema import MISSING, Bool, Field, Float, Int, ListOf, Obj, Str

TIED = Obj(
    {
        "site": Field(ID, "the device's site (default: the hub's first site)"),
        "node": Field(ID, "the device's node", required=True),
        "device": Field(ID, "the device id", required=True),
    }
)


def _check_task(t: dict, path: str, errors: list[str]) -> None:
    if not any(t.get(k) for k in ("every_litres", "every_on_hours", "every_days", "per_term")):
        errors.append(f"{path}: give at least one of every_litres, every_on_hours, every_days, per_term")


TASK = Obj(
    {
        "id": Field(ID, "task id (unique within its item), used on the CLI", required=True),
        "name": Field(Str(min_len=1), "what is done, as people read it (default: the id)"),
        "every_litres": Field(Float(positive=True), "due after this many litres through the item's meter"),
        "every_on_hours": Field(Float(positive=True), "due after this many hours its relay was on"),
        "every_days": Field(Float(positive=True), "due this many days after the last service"),
        "per_term": Field(Bool(), "due once in every school term (needs `upkeep.calendar` with terms)",
                          default=False),
    },
    check_whole=_check_task,
)


def _check_item(item: dict, path: str, errors: list[str]) -> None:
    if item.get("meter") and item.get("relay"):
        errors.append(f"{path}: tie the item to a meter or a relay, not both")
    for i, t in enumerate(item.get("tasks") or []):
        if not isinstance(t, dict):
            continue
        if t.get("every_litres") and not item.get("meter"):
            errors.append(f"{path}.tasks[{i}].every_litres: the item has no `meter` to count litres")
        if t.get("every_on_hours") and not item.get("relay"):
            errors.append(f"{path}.tasks[{i}].every_on_hours: the item has no `relay` to count on-hours")
    ids = [t.get("id") for t in item.get("tasks") or [] if isinstance(t, dict)]
    for dup in sorted({str(i) for i in ids if i is not MISSING and ids.count(i) > 1}):
        errors.append(f"{path}.tasks: task id {dup!r} appears more than once")


ITEM = Obj(
    {
        "id": Field(ID, "item id, used on the CLI and as the device of its alerts", required=True),
        "name": Field(Str(min_len=1), "the item as people call it, e.g. 3F east water dispenser"),
        "meter": Field(TIED, "`{site?, node, device}` of the water/pulse meter on its feed: litres from "
                       "its `volume_m3` telemetry"),
        "relay": Field(TIED, "`{site?, node, device}` of the relay whose on-time counts"),
        "tasks": Field(ListOf(TASK, min_len=1), "what is done and how often (whichever comes first)",
                       required=True),
    },
    check_whole=_check_item,
)


def _check_items(items: list, path: str, errors: list[str]) -> None:
    ids = [i.get("id") for i in items if isinstance(i, dict)]
    for dup in sorted({i for i in ids if i is not MISSING and i is not None and ids.count(i) > 1}):
        errors.append(f"{path or 'maintenance'}: item id {dup!r} appears more than once")


class Items(ListOf):
    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        out = super().check(value, path, errors)
        if out is not MISSING:
            _check_items(out, path, errors)
        return out


MAINTENANCE = Items(ITEM)

AUTO_REPAIR = Obj(
    {
        "meter_offline_hours": Field(Float(min=0, max=24 * 365), "a meter offline this long opens a repair "
                                     "request", default=24.0),
        "camera_offline_minutes": Field(Float(min=0, max=525600), "a camera offline this long opens one",
                                        default=30.0),
        "camera_fault_minutes": Field(Float(min=0, max=525600), "a patrol fault (`camera_fault`) not "
                                      "cleared this long opens one", default=60.0),
        "relay_failures": Field(Int(min=1, max=1000), "switch commands to one relay that fail in a row "
                                "(an error driving it, or no reply while its node is online) before a "
                                "repair request opens", default=3),
        "enabled": Field(Bool(), "open requests for device faults automatically; a request still unanswered "
                         "when its device recovers is closed as recovered", default=True),
    }
)

UPKEEP = Obj(
    {
        "calendar": Field(CalendarRef(), "the school calendar (file or inline keys, as in the agent's "
                          "config); its `terms` drive `per_term` tasks and term reports"),
        "remind_hours": Field(Float(min=0.001, max=24 * 365), "a due task not serviced is raised again "
                              "as `maintenance_due` this often", default=24.0),
        "grace_days": Field(Float(min=0, max=365), "a service this many days after its due time still "
                            "counts as on time in the term report", default=7.0),
        "check_seconds": Field(Float(min=0.05, max=3600), "how often due tasks and pending faults are "
                               "checked", default=60.0),
        "auto_repair": Field(AUTO_REPAIR, "repair requests the system opens itself",
                             default=lambda: AUTO_REPAIR.check({}, "", [])),
    }
)


def check_upkeep(cfg: dict, errors: list[str]) -> None:
    """Cross-section checks: per_term tasks need a calendar with terms."""
    items, up = cfg.get("maintenance"), cfg.get("upkeep")
    if not isinstance(items, list) or not isinstance(up, dict):
        return
    cal = up.get("calendar")
    for i, item in enumerate(items):
        for j, t in enumerate((item or {}).get("tasks") or [] if isinstance(item, dict) else []):
            if isinstance(t, dict) and t.get("per_term") and not (isinstance(cal, dict) and cal.get("terms")):
                errors.append(f"maintenance[{i}].tasks[{j}].per_term: needs upkeep.calendar with `terms`")
