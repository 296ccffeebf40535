"""`campus-edge screening calibrate` and the blackbody probe of `campus-edge check-config --probe`.

    campus-edge screening calibrate --recording walk.npy --fps 9 --truth walk.csv \\
        [--blackbody 242,6,8,8,35] [--device gate-cam -c agent.yaml [--write]]

fits this camera's canthus_offset_c and blur_table_c (edge/screening/calibrate.py) and prints them as YAML
with per-pass residuals and warnings; --write puts them into the device's entry of the config (ruamel.yaml
keeps the file's comments; the old file is kept as FILE.bak). Wiring: reads files, prints, writes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
PROBE_FRAMES = 9  # about a second at 9 fps: enough for a median that no passing head moves


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("screening", help="fever screening tools (on-site calibration)",
                       description="Fever screening tools.")
    ssub = s.add_subparsers(dest="screening_command", required=True, metavar="COMMAND")
    c = ssub.add_parser(
        "calibrate", help="fit canthus_offset_c and blur_table_c from staff walking through the gate",
        description="Fit this camera's canthus_offset_c and blur_table_c from a recording of a few staff "
        "walking through the gate several times each, with their thermometer readings. Prints YAML with "
        "the residual of each pass and warnings; --write updates the device's entry in the config.")
    c.add_argument("--recording", required=True, metavar="FILE.npy",
                   help="(N, H, W) float32 degC, as `replay` plays")
    c.add_argument("--fps", required=True, type=float, help="frames per second of the recording")
    c.add_argument("--truth", required=True, metavar="TRUTH.csv",
                   help="one row per pass: start_s,end_s,core_c (seconds of the recording, thermometer degC)")
    c.add_argument("--blackbody", metavar="X,Y,W,H,TEMP", help="blackbody ROI and set temperature "
                   "(default: the device's, with --device)")
    c.add_argument("--device", metavar="ID",
                   help="the thermal camera's id in the config (its settings are used)")
    c.add_argument("-c", "--config", metavar="FILE", help="agent config (YAML), with --device")
    c.add_argument("--write", action="store_true", help="write the fitted values into the device's entry")
    c.add_argument("--force", action="store_true", help="--write even when the fit has warnings")
    c.set_defaults(func=cmd_calibrate)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _blackbody(text: str) -> tuple[tuple[int, int, int, int], float]:
    parts = text.split(",")
    if len(parts) != 5:
        raise ValueError(f"--blackbody {text!r}: expected X,Y,W,H,TEMP")
    x, y, w, h = (int(v) for v in parts[:4])
    if w < 1 or h < 1 or x < 0 or y < 0:
        raise ValueError(f"--blackbody {text!r}: X, Y >= 0 and W, H >= 1")
    return (x, y, w, h), float(parts[4])


def cmd_calibrate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    import numpy as np  # the thermal extra: imported only when the command runs

    from edge.loaders.agent import load_agent_config
    from edge.screening.calibrate import TruthError, calibrate, read_truth, to_yaml
    from edge.screening.config import Blackbody, ScreeningConfig

    if bool(args.device) != bool(args.config):
        return _fail("--device and -c/--config go together")
    if args.write and not args.device:
        return _fail("--write needs --device ID and -c CONFIG")
    if not args.fps > 0:
        return _fail("--fps must be above 0")
    cfg = ScreeningConfig()
    if args.device:
        config = load_agent_config(args.config)  # a bad config: every mistake with its place, exit 2
        entry = _device(config, args.device)
        if entry is None:
            return _fail(f"{args.config}: no thermal_camera device with id {args.device!r}")
        cfg = ScreeningConfig.from_device(entry)
    try:
        if args.blackbody:
            roi, temp = _blackbody(args.blackbody)
            cfg = replace(cfg, blackbody=Blackbody(roi, temp))
        frames = np.load(args.recording, mmap_mode="r", allow_pickle=False)
        truth = read_truth(Path(args.truth).read_text(encoding="utf-8"))
    except (OSError, ValueError, TruthError) as exc:
        return _fail(str(exc))
    if frames.ndim != 3 or frames.dtype.kind != "f":
        return _fail(f"{args.recording}: expected an (N, H, W) float array of degC, got {frames.dtype} "
                     f"{frames.shape}")
    if cfg.blackbody is None:
        print("warning: no blackbody: the fitted offset includes this camera's own error today, which drifts",
              file=sys.stderr)
    fit = calibrate(np.asarray(frames, dtype=np.float32), args.fps, truth, cfg)
    print(to_yaml(fit), end="")
    if not args.write:
        return 0
    if fit.warnings and not args.force:
        return _fail("not written: the fit has warnings (see above); fix the recording or pass --force")
    note = write_device(Path(args.config), args.device, fit.canthus_offset_c, fit.blur_table_c,
                        fit.fallback_offset_c)
    load_agent_config(args.config)  # what was written must load
    print(f"# written to {args.config} (device {args.device}); {note}", file=sys.stderr)
    return 0


def _device(config: dict[str, Any], device_id: str) -> dict[str, Any] | None:
    return next((d for d in config["devices"]
                 if d["id"] == device_id and d["kind"] == "thermal_camera"), None)


def write_device(path: Path, device_id: str, offset_c: float, table: tuple[tuple[int, float], ...],
                 fallback_offset_c: float | None = None) -> str:
    """Put the fitted keys into the device's entry; the previous file is kept as FILE.bak."""
    text = path.read_text(encoding="utf-8")
    YAML: Any = None  # noqa: N806 (the library's name)
    CommentedSeq: Any = None  # noqa: N806
    try:
        from ruamel.yaml import YAML
        from ruamel.yaml.comments import CommentedSeq
    except ModuleNotFoundError:
        pass
    if YAML is not None:
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.indent(mapping=2, sequence=4, offset=2)  # the layout of our example configs
        yaml.width = 4096  # a blur table stays on one line
        data = yaml.load(text)
        entry = _find(data, device_id)
        rows = CommentedSeq()
        for w, c in table:
            row = CommentedSeq([w, round(c, 3)])
            row.fa.set_flow_style()
            rows.append(row)
        rows.fa.set_flow_style()
        entry["canthus_offset_c"] = round(offset_c, 3)
        entry["blur_table_c"] = rows
        if fallback_offset_c is not None:
            entry["fallback_offset_c"] = round(fallback_offset_c, 3)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            yaml.dump(data, f)
        note = "comments kept"
    else:
        import yaml as pyyaml

        data = pyyaml.safe_load(text)
        entry = _find(data, device_id)
        entry["canthus_offset_c"] = round(offset_c, 3)
        entry["blur_table_c"] = [[w, round(c, 3)] for w, c in table]
        if fallback_offset_c is not None:
            entry["fallback_offset_c"] = round(fallback_offset_c, 3)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(pyyaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        note = "comments were lost (install ruamel.yaml to keep them)"
    shutil.copy2(path, path.with_name(path.name + ".bak"))
    os.replace(tmp, path)
    return note + f"; the previous file is {path.name}.bak"


def _find(data: Any, device_id: str) -> Any:
    for d in (data or {}).get("devices") or []:
        if isinstance(d, dict) and d.get("id") == device_id:
            return d
    raise ValueError(f"no device {device_id!r} in the file")


# -- check-config --probe -------------------------------------------------------------------------------
def probe(config: dict[str, Any], frames: int = PROBE_FRAMES) -> list[str]:
    """Open each thermal camera, read its first frames and check its blackbody ROI: problems, by device."""
    import numpy as np

    from drivers.base import Resources
    from drivers.catalog import spec_for
    from edge.screening.roi import check_roi

    problems = []
    for entry in config["devices"]:
        if entry["kind"] != "thermal_camera" or not entry.get("blackbody"):
            continue
        where = f"devices[{entry['id']}].blackbody.roi"
        try:
            spec = spec_for(entry["kind"], entry["driver"])  # the driver alone: only its frames are needed
            if spec.frames is None:
                continue
            source = spec.frames(entry, Resources())()
            try:
                got = []
                for _ in range(frames * 20):
                    f = source.read()
                    if f is not None:
                        got.append(np.asarray(f.celsius, dtype=np.float32))
                    if len(got) >= frames:
                        break
            finally:
                source.close()
        except Exception as exc:  # the camera's problem, named; not a traceback
            problems.append(f"{entry['id']}: cannot read frames to probe: {exc}")
            continue
        if not got:
            problems.append(f"{entry['id']}: no frames to probe")
            continue
        bb = entry["blackbody"]
        problem = check_roi(got, bb["roi"], bb["temp_c"], entry.get("blackbody_max_offset_c", 3.0))
        if problem:
            problems.append(f"{where}: {problem}")
    return problems
