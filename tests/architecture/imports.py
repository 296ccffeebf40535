"""The import graph of the installed packages (edge, drivers, simulators), read with ast: every import,
at the top of a module or inside a function (a lazy import is still a dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("edge", "drivers", "simulators")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _target(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def graph() -> dict[str, dict[str, int]]:
    """module -> {imported module of ours: line of the first such import}."""
    out: dict[str, dict[str, int]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = module_name(path)
            deps: dict[str, int] = {}
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    target = _target(module, path.name == "__init__.py", node)
                    # `from edge import processors` imports the submodule when there is one
                    names = [f"{target}.{a.name}" if _exists(f"{target}.{a.name}") else target
                             for a in node.names]
                for name in names:
                    if name.split(".")[0] in (*PACKAGES, "tests", "benchmarks"):
                        deps.setdefault(name, node.lineno)
            out[module] = deps
    return out


def _exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")
