"""Small simulated gate scenes for the screening tests (each renders in well under a second; no fixtures here:
fixtures live in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from edge.screening import Fever, Pipeline, Screened, ScreeningConfig, TrackEnded
from edge.screening.config import Blackbody
from simulators import gate_scene as gs


def scene_spec(**kw) -> gs.SceneSpec:
    base = dict(people=1, seed=5, pair_share=0.0, glasses_share=0.0, cup_carry_share=0.0, offset_c=0.8)
    return gs.SceneSpec(**{**base, **kw})


def people_with(spec: gs.SceneSpec, cores: list[float], **changes) -> list[gs.Person]:
    people = gs.plan(replace(spec, people=len(cores)))
    return [replace(gs.with_core(p, c), **changes) for p, c in zip(people, cores, strict=True)]


def run(spec: gs.SceneSpec, people: list[gs.Person], cfg: ScreeningConfig | None = None,
        blackbody: bool | None = None):
    cfg = cfg or ScreeningConfig()
    if (spec.blackbody if blackbody is None else blackbody) and cfg.blackbody is None:
        cfg = replace(cfg, blackbody=Blackbody(tuple(gs.blackbody_roi(spec)), spec.blackbody_c))
    pipe = Pipeline(cfg)
    results = [pipe.process(f, i / spec.fps) for i, f in enumerate(gs.iter_frames(spec, people))]
    events = [e for r in results for e in r.events] + pipe.flush()
    return results, events


def fevers(events) -> list[Fever]:
    return [e for e in events if isinstance(e, Fever)]


def screened(events) -> list[Screened]:
    return [e for e in events if isinstance(e, Screened)]


def ended(events) -> list[TrackEnded]:
    return [e for e in events if isinstance(e, TrackEnded)]


__all__ = ["fevers", "screened", "ended", "run", "people_with", "scene_spec", "np"]
