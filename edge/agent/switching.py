"""Carrying out switch commands on relays: once per id, expiry, pulses, replies, relay faults.

Runs on the agent's main thread only. Returns what to publish instead of
publishing, so the rules here are testable without a broker.

A relay the agent cannot drive on its own initiative (a pulse's end, a schedule, the failsafe, a local
rule: nobody waits for a reply) is a fault: the outcome carries a ``relay_fault`` event, once per fault
(a pulse end retried every turn does not repeat it), kept on disk so that the ``relay_ok`` event follows
when the relay switches again (by any cause), also after a restart. A command's failure is its reply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from drivers.base import Switch
from edge.agent.throttle import throttled
from edge.mqtt import payloads
from edge.mqtt.payloads import Command, printable
from edge.store.commands import CommandLog
from edge.store.db import Database

log = throttled(logging.getLogger(__name__))


RELAY_FAULT, RELAY_OK = "relay_fault", "relay_ok"
FAULT_KEY = "relay_fault"  # the open fault of a relay, in the agent's database (scope: the device)


@dataclass(frozen=True)
class Outcome:
    device: str
    reply: dict[str, Any]
    state: dict[str, Any] | None  # new retained state, if it changed
    event: tuple[str, dict[str, Any]] | None = None  # relay_fault / relay_ok to emit on the device


class Switching:
    def __init__(
        self, db: Database, commands: CommandLog, switches: dict[str, Switch], now_ms: Callable[[], int]
    ) -> None:
        self.db = db
        self.commands = commands
        self.switches = switches
        self.now_ms = now_ms
        self.states: dict[str, dict[str, Any]] = {}
        # device -> time.monotonic() when its pulse ends: a wall-clock step (NTP at boot) must not
        # stretch or cut a pulse
        self.pulses: dict[str, float] = {}
        self.pulse_causes: dict[str, str] = {}  # the end of a pulse keeps the cause of its start
        # device -> its open fault {"since", "error", "action", "cause", "attempts"} (see the module doc)
        self.faults: dict[str, dict[str, Any]] = {}
        self.counters = {
            "commands_ok": 0,
            "commands_refused": 0,
            "commands_duplicate": 0,
            "storage_errors": 0,
        }

    def boot(self) -> dict[str, dict[str, Any]]:
        """Record each relay's start-up state (cause boot); take up the faults still open."""
        for dev_id, sw in self.switches.items():
            self._set_state(dev_id, sw.is_on(), "boot", persist=True)
            fault = self.db.get(dev_id, FAULT_KEY)
            if isinstance(fault, dict):
                self.faults[dev_id] = fault
        return dict(self.states)

    def execute(self, device: str, cmd: Command, cause: str = "command") -> Outcome:
        """Carry out a command once per id; ``cause`` goes into the state (`rule` for local rules)."""
        now = self.now_ms()
        if cmd.id is not None:
            earlier = self.commands.lookup(cmd.id, device)
            if earlier is not None:
                self.counters["commands_duplicate"] += 1
                return Outcome(device, {**earlier, "duplicate": True}, None)
        sw = self.switches.get(device)
        if sw is None:
            return self._refuse(device, cmd, f"device {device!r} takes no switch commands", now)
        if cmd.id is not None and self.commands.full():
            return self._refuse(
                device,
                cmd,
                "command log full of commands not yet expired; not executed (try again later)",
                now,
                record=False,
            )
        if cmd.expires_ms is not None and cmd.expires_ms < now:
            return self._refuse(
                device, cmd, f"command expired {now - cmd.expires_ms} ms ago; not executed", now
            )
        limit = getattr(sw, "config", {}).get("max_pulse_seconds", 3600.0)
        if cmd.action == "pulse" and cmd.seconds is not None and cmd.seconds > limit:
            return self._refuse(
                device, cmd, f"pulse of {cmd.seconds:g} s is longer than the limit of {limit:g} s", now
            )
        if cmd.action == "toggle":
            try:
                on = not sw.is_on()
            except Exception as exc:
                log.exception("reading %s failed", device)
                out = self._refuse(device, cmd, f"{payloads.RELAY_NOT_READ}: {exc}", now, record=False)
                if cause == "rule":
                    out = replace(out, event=self._fault(device, "toggle", cause, exc, now))
                return out
        else:
            on = cmd.action != "off"
        return self.switch(
            device, on, cause, cmd, pulse_seconds=cmd.seconds if cmd.action == "pulse" else None
        )

    def switch(
        self,
        device: str,
        on: bool,
        cause: str,
        cmd: Command | None = None,
        pulse_seconds: float | None = None,
        pulse_end: bool = False,
    ) -> Outcome:
        """Record the result (and the command's reply) in one transaction, then drive the relay.

        Written ahead: a command whose record cannot be written (disk full) is refused, not
        executed, so a replay can never find it missing after it ran. Switching without a
        command (pulse end, schedule, failsafe) and a local rule's action go ahead anyway: the
        relay's safety comes first. A relay that cannot be driven is a refusal; its entry is removed
        again, so the same id may be tried again once the relay works.
        """
        now = self.now_ms()
        sw = self.switches[device]
        state = payloads.relay_state(on, now, cause)
        # What a restart restores: after a pulse the relay is meant to be off again.
        persisted = payloads.relay_state(False, now, cause) if pulse_seconds else state
        reply = payloads.reply_ok(cmd.id if cmd else None, state, now)
        recorded = False
        try:
            with self.db.transaction() as conn:
                self.db.put(device, "state", persisted, conn=conn)
                if cmd is not None and cmd.id is not None:
                    self.commands.record(cmd.id, device, reply, conn, cmd.expires_ms)
                    recorded = True
        except Exception as exc:
            self.counters["storage_errors"] += 1
            if cmd is not None and cause != "rule":  # the refusal below says so in the log
                return self._refuse(
                    device, cmd, f"storage cannot record the command ({exc}); not executed", now, record=False
                )
            # A local rule is a safety action (a valve closed on a burst): it goes ahead like a schedule.
            # Its once-only record is the rule log's pending row, which the rules retry (edge/agent/rules.py).
            log.error("%s switched %s (%s), but storage cannot record it: %s", device, cause, on, exc)
            if cmd is not None:
                reply = {**reply, "warning": f"switched, but not recorded on disk: {exc}"}
        try:
            sw.set_on(on)
        except Exception as exc:  # a pin that cannot be driven is an answer, not a crash
            log.exception("switching %s failed", device)
            self._undo(device, cmd if recorded else None)
            out = self._refuse(device, cmd, f"{payloads.RELAY_NOT_SWITCHED}: {exc}", now, record=False)
            if cmd is None or cause == "rule":  # the agent's own initiative: nobody reads a reply
                action = "pulse" if pulse_seconds else ("on" if on else "off")
                out = replace(out, event=self._fault(device, action, "pulse_end" if pulse_end else cause,
                                                     exc, now))
            return out
        if pulse_seconds:
            self.pulses[device] = time.monotonic() + pulse_seconds
            self.pulse_causes[device] = cause
        else:
            self.pulses.pop(device, None)
            self.pulse_causes.pop(device, None)
        self.states[device] = state
        if cmd is not None:
            self.counters["commands_ok"] += 1
        back = self._recovered(device, "pulse_end" if pulse_end else cause, now)
        return Outcome(device, reply, state, back)

    def _fault(self, device: str, action: str, cause: str, exc: Exception, now: int
               ) -> tuple[str, dict[str, Any]] | None:
        """The ``relay_fault`` event of a new fault; None while the relay's fault is already told."""
        fault = self.faults.get(device)
        if fault is not None:
            fault["attempts"] = int(fault.get("attempts", 1)) + 1  # in memory: a retry is not news
            return None
        error = f"{type(exc).__name__}: {exc}"[:300]
        fault = {"since": now, "error": error, "action": action, "cause": cause, "attempts": 1}
        self.faults[device] = fault
        self._keep_fault(device, fault)
        log.error("relay %s is faulty: %s %s could not switch it (%s)", device, cause, action, error)
        return RELAY_FAULT, {"error": error, "action": action, "cause": cause}

    def _recovered(self, device: str, cause: str, now: int) -> tuple[str, dict[str, Any]] | None:
        """The ``relay_ok`` event when a faulty relay switched again."""
        fault = self.faults.pop(device, None)
        if fault is None:
            return None
        self._keep_fault(device, None)
        seconds = max(0.0, (now - int(fault.get("since", now))) / 1000)
        log.warning("relay %s switches again (%s), %.0f s after its fault: %s", device, cause, seconds,
                    fault.get("error"))
        return RELAY_OK, {"cause": cause, "previous": fault.get("error"), "fault_seconds": round(seconds, 1),
                          "attempts": fault.get("attempts", 1)}

    def _keep_fault(self, device: str, fault: dict[str, Any] | None) -> None:
        try:
            self.db.put(device, FAULT_KEY, fault)
        except Exception as exc:  # a full disk: the fault is still told now, a restart forgets it
            self.counters["storage_errors"] += 1
            log.error("could not store the fault state of %s (%s)", device, exc)

    def _undo(self, device: str, cmd: Command | None) -> None:
        """Take back what was written ahead of a switch that did not happen."""
        try:
            with self.db.transaction() as conn:
                if device in self.states:
                    self.db.put(device, "state", self.states[device], conn=conn)
            if cmd is not None and cmd.id is not None:
                self.commands.forget(cmd.id, device)
        except Exception:
            self.counters["storage_errors"] += 1
            log.exception("undoing the record of %s failed", device)

    def next_pulse_end(self) -> float | None:
        """time.monotonic() when the next pulse ends, if one is running."""
        return min(self.pulses.values(), default=None)

    def due_pulse_ends(self) -> list[Outcome]:
        now = time.monotonic()
        ended = [d for d, end in self.pulses.items() if end <= now]
        # a pulse end that fails stays due (tried again next turn), with the cause of the pulse's start
        return [self.switch(d, False, self.pulse_causes.get(d, "command"), pulse_end=True) for d in ended]

    def _refuse(self, device: str, cmd: Command | None, error: str, now: int, record: bool = True) -> Outcome:
        self.counters["commands_refused"] += 1
        cid = cmd.id if cmd else None
        reply = payloads.reply_error(cid, error, now)
        if record and cid is not None:
            try:
                with self.db.transaction() as conn:
                    self.commands.record(cid, device, reply, conn)
            except Exception as exc:
                self.counters["storage_errors"] += 1
                log.error("recording the refusal of %s failed: %s", printable(cid), exc)
        log.warning("command %s for %s refused: %s", printable(cid), device, printable(error))
        return Outcome(device, reply, None)

    def _set_state(self, device: str, on: bool, cause: str, persist: bool) -> None:
        state = payloads.relay_state(on, self.now_ms(), cause)
        self.states[device] = state
        if persist:
            try:
                self.db.put(device, "state", state)
            except Exception as exc:  # a full disk must not keep the relays from starting
                self.counters["storage_errors"] += 1
                log.error("could not store the start-up state of %s (%s)", device, exc)
