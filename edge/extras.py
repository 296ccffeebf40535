"""Optional parts of the install (pyproject's extras) and how to tell that one is missing.

A classroom Pi driving three relays needs neither OpenCV nor numpy: those come
with the `thermal` extra. A config that needs an extra which is not installed
fails when it loads, naming the key and the pip command that fixes it (exit 2),
instead of an ImportError at start-up or, worse, when the first frame arrives.
"""

from __future__ import annotations

import importlib.util

# extra -> (what it is for, modules that must import)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "thermal": ("thermal cameras and fever screening (OpenCV, numpy)", ("numpy", "cv2")),
    "bridge": ("the bridge's InfluxDB sink (influxdb-client)", ("influxdb_client",)),
    "surveillance": ("the camera patrol (OpenCV, numpy, httpx)", ("numpy", "cv2", "httpx")),
    "hub": ("the hub: notifications and the web console", ("httpx", "starlette", "jinja2", "uvicorn",
                                                          "argon2", "python_multipart", "itsdangerous",
                                                          "openpyxl", "numpy", "cv2")),
}


def pip_command(extra: str) -> str:
    return f"pip install 'campus-edge[{extra}]'"


def missing(extra: str | None) -> str | None:
    """None when ``extra`` is installed; otherwise what is missing and the command that installs it."""
    if extra is None:
        return None
    what, modules = EXTRAS[extra]
    for module in modules:
        if not _installed(module):
            return (f"needs the `{extra}` extra for {what} ({module} is not installed): "
                    f"{pip_command(extra)}")
    return None


def _installed(module: str) -> bool:
    """Found, without importing it: checking the hub's web stack must not load it into every command."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: set to None in sys.modules (the tests' way to hide it)
        return False
