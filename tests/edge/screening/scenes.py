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


def queue_people(seed: int, ids: list[int], width: int = 256, height: int = 192,
                 hfov_deg: float = 56.0) -> tuple[gs.SceneSpec, list[gs.Person]]:
    """Some pupils of the benchmark's queue scene (30 % pairs, 5 % running), on their own, the first one
    starting at 1 s: the vectors of a queue hand-over, without the 80-pupil scene around them."""
    spec = gs.SceneSpec(people=80, seed=seed, width=width, height=height, hfov_deg=hfov_deg, pair_share=0.3,
                        fast_share=0.05)
    chosen = [gs.plan(spec)[i] for i in ids]
    t0 = min(p.start_s for p in chosen)
    return spec, [replace(p, id=k, start_s=p.start_s - t0 + 1.0) for k, p in enumerate(chosen)]


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


__all__ = ["fevers", "screened", "ended", "run", "people_with", "queue_people", "scene_spec", "np"]
