"""Debian's chromium driven by Playwright (no browser download), and where screenshots go."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.edge.bridge.support import ROOT

SCREENSHOTS = ROOT / "var" / "screenshots"  # gitignored (var/); look at them after a run
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    assert exe, "Debian's chromium is not installed (./campus test installs it with fonts-noto-cjk)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, url: str, name: str, password: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda u: "/login" not in u)
