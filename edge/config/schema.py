"""A small declarative schema: validates loaded YAML and documents it.

Every spec walks a value and appends ``"place: what is wrong"`` strings to a
shared error list instead of stopping at the first mistake, so a user fixes a
config file in one pass. The same specs render the reference in docs/config.md.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MISSING: Any = object()


class ConfigError(Exception):
    """Raised with every mistake found in a config, each with its place."""

    def __init__(self, errors: list[str], source: str = "") -> None:
        self.errors = errors
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + f"{len(errors)} error(s)\n" + "\n".join(f"  {e}" for e in errors))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:60]) + f"... ({len(value)} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**60:
        return f"a number of {len(str(abs(value))) if abs(value) < 10**4000 else 'over 4000'} digits"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def yaml_pitfall(value: Any) -> str | None:
    """What YAML made of an unquoted time or date, and the fix; None when it is not such a case.

    YAML 1.1 (PyYAML) reads ``18:00`` as the base-60 number 1080 (but ``08:00`` as text: a leading
    zero is not base 60) and ``2026-12-31`` as a date object, so a config that looks right fails.
    """
    if isinstance(value, datetime.date):
        text = value.isoformat()
        return f"YAML read {text} as a date, not text: write it in quotes: \"{text}\""
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value < 24 * 60:
        h, m = divmod(value, 60)
        return (f"got the number {value}: YAML reads an unquoted {h}:{m:02d} as a base-60 number; "
                f"write it in quotes: \"{h:02d}:{m:02d}\"")
    return None


def _place(path: str) -> str:
    return path or "(top level)"


class Spec:
    """Base class: ``check`` returns the normalised value or MISSING on error."""

    doc_type = "value"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        raise NotImplementedError

    def fail(self, path: str, errors: list[str], message: str) -> Any:
        errors.append(f"{_place(path)}: {message}")
        return MISSING


@dataclass
class Int(Spec):
    min: int | None = None
    max: int | None = None
    doc_type = "integer"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return self.fail(path, errors, f"expected an integer, got {_show(value)}")
        if self.min is not None and value < self.min:
            return self.fail(path, errors, f"must be at least {self.min}, got {value}")
        if self.max is not None and value > self.max:
            return self.fail(path, errors, f"must be at most {self.max}, got {value}")
        return value


@dataclass
class Float(Spec):
    min: float | None = None
    max: float | None = None
    positive: bool = False
    doc_type = "number"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self.fail(path, errors, f"expected a number, got {_show(value)}")
        value = float(value)
        if not math.isfinite(value):
            return self.fail(path, errors, f"expected a finite number, got {value}")
        if self.positive and value <= 0:
            return self.fail(path, errors, f"must be greater than 0, got {value:g}")
        if self.min is not None and value < self.min:
            return self.fail(path, errors, f"must be at least {self.min:g}, got {value:g}")
        if self.max is not None and value > self.max:
            return self.fail(path, errors, f"must be at most {self.max:g}, got {value:g}")
        return value


@dataclass
class Bool(Spec):
    doc_type = "boolean"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(value, bool):
            return self.fail(path, errors, f"expected true or false, got {_show(value)}")
        return value


@dataclass
class Str(Spec):
    pattern: str | None = None
    hint: str = ""
    min_len: int = 0
    doc_type = "string"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool) and self.pattern is None:
            if isinstance(value, int) and abs(value) > 10**60:
                return self.fail(path, errors, f"expected a string, got {_show(value)}")
            value = str(value)  # a bare port number or password in YAML is still a string to us
        if not isinstance(value, str):
            pitfall = yaml_pitfall(value) if self.pattern is not None else None
            if pitfall is not None:
                return self.fail(path, errors, f"{self.hint or 'expected a string'}; {pitfall}")
            return self.fail(path, errors, f"expected a string, got {_show(value)}")
        if len(value) < self.min_len:
            return self.fail(path, errors, "must not be empty")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            hint = self.hint or f"must match {self.pattern}"
            return self.fail(path, errors, f"{hint}, got {_show(value)}")
        return value


@dataclass
class Date(Str):
    """A calendar date written YYYY-MM-DD that exists (2026-13-01 and 2026-02-30 do not)."""

    pattern: str | None = r"\d{4}-\d{2}-\d{2}"
    hint: str = "expected a date YYYY-MM-DD"
    doc_type = "date YYYY-MM-DD"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        out = super().check(value, path, errors)
        if out is MISSING:
            return out
        try:
            datetime.date.fromisoformat(out)
        except ValueError as exc:
            return self.fail(path, errors, f"not a real date: {out!r} ({exc})")
        return out


@dataclass
class Enum(Spec):
    choices: tuple[str, ...] = ()
    doc_type = "one of"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, bool):  # YAML reads a bare `off` / `on` as a boolean
            value = "on" if value else "off"
        if value not in self.choices:
            return self.fail(path, errors, f"expected one of {', '.join(self.choices)}, got {_show(value)}")
        return value


@dataclass
class ListOf(Spec):
    item: Spec = field(default_factory=Spec)
    min_len: int = 0
    max_len: int | None = None
    doc_type = "list"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(value, list):
            return self.fail(path, errors, f"expected a list, got {_show(value)}")
        if len(value) < self.min_len:
            return self.fail(path, errors, f"needs at least {self.min_len} item(s)")
        if self.max_len is not None and len(value) > self.max_len:
            return self.fail(path, errors, f"takes at most {self.max_len} item(s), got {len(value)}")
        out = [self.item.check(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]
        return out


@dataclass
class Field:
    spec: Spec
    doc: str = ""
    required: bool = False
    default: Any = MISSING


@dataclass
class Obj(Spec):
    """A mapping with known keys; unknown keys are errors, never ignored."""

    fields: dict[str, Field] = field(default_factory=dict)
    doc: str = ""
    check_whole: Callable[[dict, str, list[str]], None] | None = None
    check_partial: bool = False  # run check_whole even when some keys were wrong
    doc_type = "mapping"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if value is None and not any(f.required for f in self.fields.values()):
            value = {}
        if not isinstance(value, Mapping):
            return self.fail(path, errors, f"expected a mapping, got {_show(value)}")
        out: dict[str, Any] = {}
        ok = True
        for key in value:
            if key not in self.fields:
                known = ", ".join(self.fields) or "none"
                self.fail(_join(path, str(key)), errors, f"unknown key (known keys: {known})")
                ok = False
        for name, f in self.fields.items():
            sub = _join(path, name)
            if name in value:
                v = f.spec.check(value[name], sub, errors)
                ok = ok and v is not MISSING
                out[name] = v
            elif f.required:
                self.fail(sub, errors, "is required")
                ok = False
            elif f.default is not MISSING:
                out[name] = f.default() if callable(f.default) else f.default
            else:
                out[name] = None
        if (ok or self.check_partial) and self.check_whole is not None:
            self.check_whole(out, path, errors)
        return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(spec: Spec, data: Any, source: str = "") -> Any:
    errors: list[str] = []
    out = spec.check(data, "", errors)
    if errors:
        raise ConfigError(errors, source)
    return out


def describe(spec: Spec, indent: int = 0) -> list[str]:
    """Markdown lines documenting an Obj spec, one bullet per key."""
    lines: list[str] = []
    if not isinstance(spec, Obj):
        return lines
    pad = "  " * indent
    for name, f in spec.fields.items():
        s = f.spec
        kind = s.doc_type
        if isinstance(s, Enum):
            kind = "one of " + " | ".join(f"`{c}`" for c in s.choices)
        elif isinstance(s, ListOf) and isinstance(s.item, Enum):
            kind = "list of " + " | ".join(f"`{c}`" for c in s.item.choices)
        elif isinstance(s, ListOf):
            kind = f"list of {s.item.doc_type}"
        elif isinstance(s, Int | Float) and (s.min is not None or s.max is not None):
            kind += f" in [{'' if s.min is None else s.min}, {'' if s.max is None else s.max}]"
        if f.required:
            req = "required"
        elif f.default is MISSING or callable(f.default):
            req = "optional"
        else:
            req = f"default `{_show(f.default) if isinstance(f.default, bool) else f.default}`"
        lines.append(f"{pad}- `{name}` ({kind}, {req}): {f.doc}".rstrip(": "))
        inner = s.item if isinstance(s, ListOf) else s
        if isinstance(inner, Obj):
            lines.extend(describe(inner, indent + 1))
    return lines
