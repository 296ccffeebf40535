"""Every text the console shows comes from the message table, in both languages with the same fields."""

from __future__ import annotations

import re
import string
from pathlib import Path

from edge.i18n.table import MESSAGES

WEB = Path(__file__).resolve().parents[4] / "edge" / "hub" / "web"
KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']"""  # t("key") in templates
                 r"""|["']((?:console|state|outcome|alert)\.[a-z0-9_.]*[a-z0-9_])["']""")  # literals


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_console_texts_have_both_languages_with_the_same_fields():
    keys = [k for k in MESSAGES if k.startswith("console.")]
    assert len(keys) > 100
    for k in keys:
        entry = MESSAGES[k]
        assert set(entry) == {"zh-CN", "en"}, k
        assert fields(entry["zh-CN"]) == fields(entry["en"]), k
        assert entry["zh-CN"] != entry["en"] or k in ("console.alert.temp",), k


def test_every_key_the_templates_and_routes_use_exists():
    used = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        for a, b in KEY.findall(path.read_text(encoding="utf-8")):
            used.add(a or b)
    assert len(used) > 80
    missing = sorted(k for k in used if k not in MESSAGES)
    assert missing == []
