"""Local rules: an event of a device here switches a relay here, with no broker or hub in the loop.

Two halves:

- pure matching (``compile_rules``, ``match``): an event in, the actions it calls for out;
- ``LocalRules``, the agent's side. ``on_event`` runs on the device thread that emits an event and
  returns what to write *in the same transaction* as the event's outbox row: one pending row per
  action (edge/store/rule_log.py). ``run_pending`` runs on the main loop: each pending action goes
  through ``Switching.execute`` like a remote command (command id ``rule:{device}:{seq}:{rule}``,
  state cause ``rule``, recorded in the command log), then its ``rule_action`` event goes into the
  outbox in the same transaction that marks the row done. A restart finds what is still pending:
  a command already recorded is answered from the command log (the relay is not switched twice),
  so each triggering event (device, seq) leads to its action exactly once.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers import catalog
from edge import i18n
from edge.agent.switching import Outcome, Switching
from edge.loaders.rules import RULE_ACTION
from edge.mqtt import payloads
from edge.mqtt.payloads import Command
from edge.mqtt.topics import Topics
from edge.store.db import Database
from edge.store.outbox import Outbox
from edge.store.rule_log import PendingAction, RuleKey, RuleLog

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # a pending action that could not be recorded (disk full) is tried again this often
PRUNE_SECONDS = 86400.0


# -- pure matching -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # == != > >= < <=
    value: Any


@dataclass(frozen=True)
class Rule:
    index: int
    name: str
    device: str | None  # None: any device on the node
    event: str
    where: tuple[Condition, ...]
    targets: tuple[str, ...]  # relays, in config order
    action: str  # on | off | pulse
    seconds: float | None


@dataclass(frozen=True)
class Action:
    rule: int
    name: str
    device: str
    action: str
    seconds: float | None


def compile_rules(rules: list[dict[str, Any]], devices: list[dict[str, Any]]) -> list[Rule]:
    """Validated `rules:` entries (edge/loaders/rules.py) as matchable rules, groups resolved to relays."""
    relays = [d for d in devices if d["kind"] in catalog.SWITCH_KINDS]
    out: list[Rule] = []
    for i, r in enumerate(rules):
        then = r["then"]
        if then["device"]:
            targets = (then["device"],)
        else:
            targets = tuple(d["id"] for d in relays if then["group"] in d.get("groups", []))
        out.append(
            Rule(
                index=i,
                name=r.get("name") or f"rules[{i}]",
                device=r["when"]["device"],
                event=r["when"]["event"],
                where=tuple(Condition(c["field"], c["op"], c["value"]) for c in r["when"]["where"]),
                targets=targets,
                action=then["action"],
                seconds=then["seconds"],
            )
        )
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def holds(cond: Condition, fields: dict[str, Any]) -> bool:
    """Whether an event's fields meet one condition. A missing field, or a value of another type than
    the condition's (text against a number), never meets it, whatever the operator."""
    if cond.field not in fields:
        return False
    v, want = fields[cond.field], cond.value
    if _is_number(want):
        if not _is_number(v):
            return False
    elif type(v) is not type(want):
        return False
    if cond.op == "==":
        return bool(v == want)
    if cond.op == "!=":
        return bool(v != want)
    if cond.op == ">":
        return bool(v > want)
    if cond.op == ">=":
        return bool(v >= want)
    if cond.op == "<":
        return bool(v < want)
    if cond.op == "<=":
        return bool(v <= want)
    raise ValueError(f"unknown operator {cond.op!r}")


def match(rules: list[Rule], device: str, event: str, fields: dict[str, Any]) -> list[Action]:
    """The actions an event of ``device`` calls for, in rule order, one per target relay."""
    if event == RULE_ACTION:
        return []
    return [
        Action(r.index, r.name, target, r.action, r.seconds)
        for r in rules
        if r.event == event
        and (r.device is None or r.device == device)
        and all(holds(c, fields) for c in r.where)
        for target in r.targets
    ]


def command_id(key: RuleKey) -> str:
    """The command id of a rule's action: the command log keeps it once, like a remote command's."""
    return f"rule:{key.trigger_device}:{key.trigger_seq}:{key.rule}"


def rule_action_fields(key: RuleKey, action: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """The ``rule_action`` event's fields: which rule, what triggered it, what was done, and how it went."""
    fields: dict[str, Any] = {
        "rule": key.rule,
        "rule_name": action["name"],
        "trigger_device": key.trigger_device,
        "trigger_event": action["trigger_event"],
        "trigger_seq": key.trigger_seq,
        "trigger_ts": action["trigger_ts"],
        "action": action["action"],
    }
    if action.get("seconds") is not None:
        fields["seconds"] = action["seconds"]
    fields["ok"] = bool(reply.get("ok"))
    if not fields["ok"]:
        fields["error"] = str(reply.get("error") or "not carried out")
    if reply.get("warning"):
        fields["warning"] = reply["warning"]
    return fields


def describe(fields: dict[str, Any], names: dict[str, str], device: str, language: str) -> str:
    """The log line a person reads about a rule's action (edge/i18n/table.py, `agent.rule.*`)."""
    event = fields["trigger_event"]
    title = f"alert.title.{event}"
    seconds = f"{fields.get('seconds', 0):g}"
    action = i18n.text(f"agent.rule.action.{fields['action']}", language, seconds=seconds)
    common = {
        "rule": fields["rule_name"],
        "trigger": names.get(fields["trigger_device"], fields["trigger_device"]),
        "event": i18n.text(title, language) if i18n.has(title) else event,
        "target": names.get(device, device),
        "action": action,
    }
    if fields["ok"]:
        return i18n.text("agent.rule.done", language, **common)
    return i18n.text("agent.rule.failed", language, **common, error=fields["error"])


# -- the agent's side ----------------------------------------------------------------------------------------


class LocalRules:
    def __init__(
        self,
        cfg: dict[str, Any],
        db: Database,
        outbox: Outbox,
        switching: Switching,
        topics: Topics,
        now_ms: Callable[[], int],
        language: str = i18n.DEFAULT_LANGUAGE,
    ) -> None:
        self.rules = compile_rules(cfg.get("rules") or [], cfg["devices"])
        self.log = RuleLog(db)
        self.outbox = outbox
        self.switching = switching
        self.topics = topics
        self.now_ms = now_ms
        self.language = language
        self.names = {d["id"]: d.get("name") or d["id"] for d in cfg["devices"]}
        self.counters = {"rule_actions": 0, "rule_errors": 0}
        self._dirty = True  # pending rows may be on disk (from before a restart): look once
        self._retry_at = 0.0
        self._failing = False
        self._next_prune = 0.0
        # done but not yet recorded (storage failing): a retry in this process must not switch again
        self._executed: dict[RuleKey, Outcome] = {}

    def on_event(
        self, device: str, event: str, fields: dict[str, Any], ts_ms: int
    ) -> Callable[[sqlite3.Connection, int], None] | None:
        """Device thread: what to write with the event's outbox row, or None if no rule matches."""
        if not self.rules:
            return None
        try:
            actions = match(self.rules, device, event, fields)
        except Exception:  # a bug in matching must not cost the event itself
            self.counters["rule_errors"] += 1
            log.exception("matching rules against a %s event of %s failed", event, device)
            return None
        if not actions:
            return None

        def write(conn: sqlite3.Connection, seq: int) -> None:
            for a in actions:
                what = {
                    "name": a.name,
                    "trigger_event": event,
                    "trigger_ts": ts_ms,
                    "action": a.action,
                    "seconds": a.seconds,
                }
                self.log.add(conn, RuleKey(device, seq, a.rule, a.device), what)
            self._dirty = True

        return write

    def run_pending(self) -> list[Outcome]:
        """Main loop: carry out what is pending; returns the outcomes to publish (state, reply)."""
        now = time.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_SECONDS
            try:
                self.log.prune()
            except Exception:
                log.exception("pruning the rule log failed")
        if not self._dirty or now < self._retry_at:
            return []
        self._dirty = False  # before reading: an event stored meanwhile sets it again
        outcomes: list[Outcome] = []
        try:
            todo = self.log.pending()
            for pending in todo:
                outcome, failure = self._carry_out(pending)
                if outcome is not None:  # the relay did what it did: its state is published anyway
                    outcomes.append(outcome)
                if failure is not None:
                    raise failure
            if len(todo) == 100:
                self._dirty = True
            if self._failing:
                log.info("rule actions are recorded again")
            self._failing = False
        except Exception as exc:
            self._dirty = True
            self._retry_at = time.monotonic() + RETRY_SECONDS
            if not self._failing:
                log.error(
                    "a rule action could not be recorded (%s: %s); it stays pending and is tried again "
                    "every %.0f s",
                    type(exc).__name__,
                    exc,
                    RETRY_SECONDS,
                    exc_info=True,
                )
            self._failing = True
        return outcomes

    def _carry_out(self, pending: PendingAction) -> tuple[Outcome | None, Exception | None]:
        """The outcome to publish (None if it was published by an earlier try), and a storage failure."""
        key, what = pending.key, pending.action
        earlier = self._executed.get(key)
        if earlier is None:
            cmd = Command(action=what["action"], id=command_id(key), seconds=what.get("seconds"))
            outcome = self.switching.execute(key.device, cmd, cause="rule")
        else:
            outcome = earlier
        fields = rule_action_fields(key, what, outcome.reply)
        topic = self.topics.device(key.device, "event")
        ts = self.now_ms()
        try:
            self.outbox.append(
                key.device,
                "event",
                topic,
                lambda seq: payloads.dumps(payloads.event(ts, seq, RULE_ACTION, fields)),
                also=lambda conn, _seq: self.log.done(conn, key, fields),
            )
        except Exception as exc:  # still pending: the retry records it, without switching again
            self._executed[key] = outcome
            return (outcome if earlier is None else None), exc
        self._executed.pop(key, None)
        line = describe(fields, self.names, key.device, self.language)
        if fields["ok"]:
            self.counters["rule_actions"] += 1
            log.warning("%s", line)
        else:
            self.counters["rule_errors"] += 1
            log.error("%s", line)
        return (outcome if earlier is None else None), None
