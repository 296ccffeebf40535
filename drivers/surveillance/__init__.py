"""Surveillance cameras on patrol: ``snapshot`` (HTTP snapshot URL, digest auth) and ``rtsp`` (a stream
read through OpenCV's FFmpeg backend). Both share the patrol device in ``patrol.py``; the checks are
pure (edge/patrol/checks.py)."""
