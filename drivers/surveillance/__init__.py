"""Surveillance cameras' pictures for the patrol: ``snapshot`` (HTTP snapshot URL, digest auth) and ``rtsp``
(a stream read through OpenCV's FFmpeg backend). Both only grab pictures through a visit source
(``sources.py``); the patrol device is edge/processors/patrol.py, its checks are pure (edge/patrol/)."""
