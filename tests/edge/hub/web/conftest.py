from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.broker import Mosquitto
from tests.edge.hub.web.support import RunningConsole


@pytest.fixture
def run_console(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., RunningConsole]]:
    started: list[RunningConsole] = []

    def start(**kw: Any) -> RunningConsole:
        rc = RunningConsole(broker, tmp_path, **kw)
        started.append(rc)
        return rc

    yield start
    for rc in started:
        rc.stop()
