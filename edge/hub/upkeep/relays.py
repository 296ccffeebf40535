"""When a relay is "not answering": a pure judgement of one switch command's outcome at the hub.

The hub sends switch commands (console, CLI) and waits for each reply (edge/hub/app.py). A relay is
judged failing when

- the agent answers that it could not drive or read it (``payloads.RELAY_NOT_SWITCHED`` / ``RELAY_NOT_READ``:
  gpiozero raised on the pin), or its reply reads back the other state than the one asked for;
- no reply came within the timeout although its node is not known to be offline.

Refusals that say nothing about the relay (expired, a pulse over the limit, the agent's command log full,
its disk full) and commands the hub could not send (no broker) are not judged at all, nor timeouts of a
node the hub knows is offline (its ``node_offline`` alert tells that story). ``Upkeep.on_command`` counts
the failures in a row per relay and opens one repair request when they reach ``relay_failures``.

An agent that cannot switch a relay on its own initiative (schedule, failsafe, pulse end, local rule) says
so itself with a ``relay_fault`` event (edge/agent/switching.py), in words by
edge.hub.notify.texts.relay_fault_text.
"""

from __future__ import annotations

from typing import Any

from edge.mqtt.payloads import RELAY_NOT_READ, RELAY_NOT_SWITCHED

EXPECTED_ON = {"on": True, "off": False, "pulse": True}


def judge(action: str, reply: dict[str, Any] | None, node_online: bool | None) -> tuple[bool, str] | None:
    """(failed, detail) for one command to one relay, or None when the outcome says nothing of the relay.

    ``reply`` is None when nothing came back in time."""
    if reply is None:
        if node_online is False:
            return None
        return True, "no reply (timeout)"
    if reply.get("ok") is True:
        state = reply.get("state")
        on = state.get("on") if isinstance(state, dict) else None
        want = EXPECTED_ON.get(action)
        if want is not None and isinstance(on, bool) and on != want and not reply.get("duplicate"):
            return True, f"asked {action}, the relay reads back {'on' if on else 'off'}"
        return False, ""
    error = str(reply.get("error") or "")
    if error.startswith((RELAY_NOT_SWITCHED, RELAY_NOT_READ)):
        return True, error[:300]
    return None
