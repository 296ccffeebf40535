"""Each layer imports only downward (docs/architecture.md); a change that breaks it fails here, naming the
import and its line. Layers, lowest first:

kernel -> adapters -> domain -> processors -> wiring

A module belongs to the layer of its longest matching prefix below. What is not listed under edge/ is
wiring (apps, CLIs, the demo, the hub's services, the config loaders in edge/loaders/).

No import cycles either: neither between modules nor between packages (see NAMESPACES and FAMILIES)."""

from __future__ import annotations

import pytest

from tests.architecture.imports import graph, matches

KERNEL = (
    "edge.config", "edge.heartbeat", "edge.sdnotify", "edge.i18n",
    "edge.mqtt.topics", "edge.mqtt.payloads", "edge.mqtt.events", "edge.mqtt.connect_errors", "edge.store",
    "drivers.base",
    "edge.agent.throttle",  # a logging filter
)
PACKAGE_INITS = ("edge", "edge.mqtt", "drivers")  # their __init__ only: docstrings, version
ADAPTERS = ("drivers", "edge.mqtt.session")  # drivers.* (bytes, pins, frames -> readings); the MQTT owner
DOMAIN = (
    "edge.screening", "edge.alerts", "edge.calendar", "edge.agent.switching", "edge.agent.schedule",
    "edge.mqtt.discovery", "edge.bridge.decode", "edge.bridge.lineproto", "edge.bridge.history",
    "edge.hub.model", "edge.hub.ingest", "edge.hub.rules", "edge.hub.notify.texts", "edge.patrol",
)
PROCESSORS = ("edge.processors",)
LAYERS = ("kernel", "adapters", "domain", "processors", "wiring")

GRAPH = graph()


def layer(module: str) -> str:
    """The layer of ``module`` (simulators are outside the layers: see the contracts below)."""
    if module in PACKAGE_INITS:
        return "kernel"
    best, where = "", "wiring"
    for name, prefixes in (("kernel", KERNEL), ("adapters", ADAPTERS), ("domain", DOMAIN),
                           ("processors", PROCESSORS)):
        for prefix in prefixes:
            if matches(module, prefix) and len(prefix) > len(best):
                best, where = prefix, name
    if module.split(".")[0] == "drivers" and where == "wiring":
        return "adapters"
    return where


def edges(source_prefix: str):
    for module, deps in sorted(GRAPH.items()):
        if matches(module, source_prefix):
            for dep, line in deps.items():
                yield module, dep, line


def test_the_graph_was_read():
    assert len(GRAPH) > 100 and "edge.agent.app" in GRAPH and "drivers.base" in GRAPH["drivers.metering"]


@pytest.mark.parametrize("package", ["edge", "drivers"])
def test_each_layer_imports_only_downward(package):
    wrong = []
    for module, dep, line in edges(package):
        if dep.split(".")[0] == "simulators":
            continue  # its own contract below
        if LAYERS.index(layer(dep)) > LAYERS.index(layer(module)):
            wrong.append(f"{module}:{line} ({layer(module)}) imports {dep} ({layer(dep)})")
    assert wrong == [], "imports against the layers:\n" + "\n".join(wrong)


FORBIDDEN = [
    # (importer prefix, imported prefix, why)
    ("drivers", "simulators", "a driver is handed its port opener / pulse simulator (Resources), never "
                              "reaches for a simulator"),
    ("drivers", "edge.processors", "detectors and the screening pipeline are attached to a driver, not "
                                   "built by it"),
    ("edge.screening", "drivers", "the screening pipeline is pure: frames in, decisions out"),
    ("edge.alerts", "drivers", "the detectors are pure: readings in, alerts out"),
    ("edge.processors", "simulators", "processors work the same on real and simulated devices"),
    ("edge.screening", "simulators", "pure domain"),
    ("edge.alerts", "simulators", "pure domain"),
    ("simulators", "edge.processors", "a simulator replaces the lowest layer, never the logic above it"),
    ("simulators", "edge.agent", "a simulator replaces the lowest layer, never the logic above it"),
    ("edge.hub", "edge.agent", "the hub and the agent meet only over MQTT (docs/mqtt.md)"),
    ("edge.agent", "edge.hub", "the hub and the agent meet only over MQTT (docs/mqtt.md)"),
    ("edge.bridge", "edge.agent", "the bridge and the agent meet only over MQTT"),
    ("edge", "tests", "the installed package never imports the tests"),
    ("edge", "benchmarks", "the installed package never imports the benchmarks"),
    ("drivers", "tests", "the installed package never imports the tests"),
    ("simulators", "tests", "the installed package never imports the tests"),
]


@pytest.mark.parametrize("importer,imported,why", FORBIDDEN, ids=[f"{a}-/->{b}" for a, b, _ in FORBIDDEN])
def test_forbidden_imports(importer, imported, why):
    wrong = [f"{m}:{line} imports {dep}" for m, dep, line in edges(importer) if matches(dep, imported)]
    assert wrong == [], f"{importer} must not import {imported}: {why}\n" + "\n".join(wrong)


def test_only_the_wiring_imports_the_simulators():
    wrong = [f"{m}:{line} ({layer(m)}) imports {dep}" for m, dep, line in edges("edge")
             if matches(dep, "simulators") and layer(m) != "wiring"]
    assert wrong == [], "\n".join(wrong)


def test_simulators_speak_through_codecs_only():
    """A simulator may use the kernel and the drivers' codecs (to speak the protocol), nothing above."""
    wrong = [f"{m}:{line} imports {dep} ({layer(dep)})" for m, dep, line in edges("simulators")
             if dep.split(".")[0] != "simulators" and layer(dep) not in ("kernel", "adapters")]
    assert wrong == [], "\n".join(wrong)


def test_no_import_cycles_between_modules():
    """Strongly connected components of the module graph (package __init__ re-exports aside)."""
    nodes = {m: {d for d in deps if d in GRAPH and not _reexport(m, d)} for m, deps in GRAPH.items()}
    cycles = _cycles(nodes)
    assert cycles == [], f"import cycles: {cycles}"


def _reexport(module: str, dep: str) -> bool:
    """A package importing its own submodules (``__init__`` re-exports), or a module importing its package."""
    return matches(dep, module) or matches(module, dep)


# Packages are checked as units too: no two packages (or subpackages) may import each other, even when no
# module cycle closes, so that a package is either below or above another, as a whole. Two named exceptions:
NAMESPACES = {
    # The top-level modules of edge/ are units of their own: edge/ is the distribution's namespace, holding
    # single-module parts of every layer (edge.heartbeat: kernel, edge.calendar: domain, edge.cli: wiring).
    "edge",
}
FAMILIES = {
    # A subpackage here may import its parent's own modules: the hub's app, CLI and config compose its
    # features (notify, upkeep, web), which use the hub's journal, model and config. The features are parts
    # of the hub, not units beside it; cycles between modules, and between the features, still fail.
    "edge.hub",
}


def package_of(module: str, packages: set[str]) -> str:
    """The unit of ``module`` in the package graph: its package (a package's ``__init__`` is the package)."""
    package = module if module in packages else module.rpartition(".")[0]
    return module if package in NAMESPACES else package


def package_graph(modules: dict[str, dict[str, int]]) -> dict[str, dict[str, str]]:
    """package -> {imported package: one import that makes the edge, ``module:line -> module``}."""
    packages = {m.rpartition(".")[0] for m in modules if "." in m}
    out: dict[str, dict[str, str]] = {package_of(m, packages): {} for m in modules}
    for module, deps in sorted(modules.items()):
        source = package_of(module, packages)
        for dep, line in deps.items():
            if dep not in modules:
                continue
            target = package_of(dep, packages)
            if target == source or (target in FAMILIES and matches(source, target)):
                continue
            out[source].setdefault(target, f"{module}:{line} -> {dep}")
    return out


def package_cycles(modules: dict[str, dict[str, int]]) -> list[str]:
    edges = package_graph(modules)
    out = []
    for cycle in _cycles({p: set(deps) for p, deps in edges.items()}):
        why = [edges[a][b] for a in cycle for b in cycle if b in edges[a]]
        out.append(" <-> ".join(cycle) + "".join(f"\n  {line}" for line in why))
    return out


def test_no_import_cycles_between_packages():
    cycles = package_cycles(GRAPH)
    assert cycles == [], "packages that import each other:\n" + "\n".join(cycles)


def test_a_package_cycle_without_a_module_cycle_is_found():
    """The cycle this check was written for: the config loaders beside the kernel's schema in one package."""
    modules = {"edge.config.loader": {"drivers.catalog": 9}, "edge.config.schema": {},
               "drivers.catalog": {"drivers.base": 3}, "drivers.base": {"edge.config.schema": 5}}
    assert [c.splitlines()[0] for c in package_cycles(modules)] == ["drivers <-> edge.config"]


def _cycles(nodes: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    import sys

    sys.setrecursionlimit(10000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(nodes[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return cycles
