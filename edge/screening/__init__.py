"""Fever screening: a pure, synchronous pipeline from thermal frames (degC) to decisions.

``Pipeline.process(celsius, ts)`` runs reference correction (reference.py), face
finding (faces.py), canthus measurement (measure.py) and tracking with decisions
(tracking.py) on one frame and returns what happened. No threads, no I/O: the
camera device (edge/processors/thermal.py), the tests and the benchmark drive it.
"""

from edge.screening.config import ScreeningConfig
from edge.screening.crowd import CalibrationDrift
from edge.screening.health import HealthChange, ScreeningBlind
from edge.screening.pipeline import FrameResult, Pipeline
from edge.screening.tracking import Fever, Recheck, Screened, TrackEnded, Unscreened

__all__ = ["CalibrationDrift", "Fever", "FrameResult", "HealthChange", "Pipeline", "Recheck",
           "ScreeningBlind", "ScreeningConfig", "Screened", "TrackEnded", "Unscreened"]
