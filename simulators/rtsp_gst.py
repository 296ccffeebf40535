"""An RTSP server that plays over TCP (RTP interleaved in the RTSP connection), for the patrol's tests.

Run by Debian's /usr/bin/python3 (it needs python3-gi and gir1.2-gst-rtsp-server-1.0, the GStreamer RTSP
server library, which are not on PyPI), as a child process of the tests and the benchmark:

    /usr/bin/python3 simulators/rtsp_gst.py --port 8554 --tcp-only yard=/tmp/frames/yard slow:3=/tmp/f/gate

Each mount loops the JPEG pictures of its folder (``000.jpg``, ``001.jpg``, ...; rendered beforehand by
simulators/cameras.py, so this process draws and encodes nothing) at ``--fps`` as RTP/JPEG: a timer of
the main loop pushes them into the mount's pipeline (``appsrc``), which paces them like a camera. A mount
``NAME:RATE=FOLDER`` delivers only RATE pictures a second while its stream still announces ``--fps``: a
camera set up for 10 fps whose encoder falls behind (what the patrol's ``min_fps`` is for).
Every picture is a key frame (JPEG), so a client's stream starts with the first packet it gets.
``--tcp-only`` refuses RTP over UDP, as a camera behind a firewall that only lets its RTSP port through:
a client must ask for ``rtsp_transport=tcp``. ``--user``/``--password`` require digest authentication
(what IP cameras such as Hikvision ask for): a client without them, or with a wrong password, gets 401.
The password comes from the environment variable ``RTSP_GST_PASSWORD`` when ``--password`` is not given
(it is then not visible in the process list). Prints ``ready PORT`` when it listens; stops on SIGTERM or
when its stdin closes (so it never outlives the test that started it).

Stdlib and gi only: this file is not imported by the package (it runs with the system's Python).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

LAUNCH = ("( appsrc name=src is-live=true do-timestamp=true format=time max-bytes=4000000 "
          "leaky-type=downstream caps=image/jpeg,width={width},height={height},framerate={fps}/1 "
          "! rtpjpegpay name=pay0 pt=26 )")


class Mount:
    """One camera: its pictures pushed into the mount's pipeline at the frame rate (the main loop's timer
    is the camera's clock), from the moment a client made the server build it until it is torn down."""

    def __init__(self, folder: str, fps: float) -> None:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".jpg"))
        if not names:
            raise SystemExit(f"no .jpg pictures in {folder}")
        self.frames = []
        for n in names:
            with open(os.path.join(folder, n), "rb") as f:
                self.frames.append(f.read())
        self.fps = fps

    def configure(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        src = media.get_element().get_by_name_recurse_up("src")
        state: dict[str, Any] = {"live": True}

        def push() -> bool:
            # the picture by the clock, not from 0 for each new pipeline: a camera's stream goes on between
            # two patrol visits (starting over would show the same picture each visit: "frozen")
            data = self.frames[int(time.monotonic() * self.fps) % len(self.frames)]
            src.emit("push-buffer", Gst.Buffer.new_wrapped(data))
            return state["live"]

        media.connect("unprepared", lambda *_: state.update(live=False))
        GLib.timeout_add(max(1, round(1000 / self.fps)), push)


ROLE = "user"


def digest_auth(user: str, password: str) -> GstRtspServer.RTSPAuth:
    """Digest only (no Basic), one account whose token carries the role the factories grant."""
    auth = GstRtspServer.RTSPAuth()
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
    auth.add_digest(user, password, token)
    return auth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--size", default="640x360", help="the pictures' WIDTHxHEIGHT")
    ap.add_argument("--tcp-only", action="store_true", help="refuse RTP over UDP")
    ap.add_argument("--user", default="", help="require digest authentication as this user")
    ap.add_argument("--password", default=None, help="its password (default: $RTSP_GST_PASSWORD)")
    ap.add_argument("mounts", nargs="+", help="NAME=FOLDER of JPEG pictures 000.jpg, 001.jpg, ...; "
                    "NAME:RATE=FOLDER delivers RATE pictures a second instead of --fps")
    args = ap.parse_args(argv)
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    if args.user:
        server.set_auth(digest_auth(args.user, os.environ.get("RTSP_GST_PASSWORD", "")
                                    if args.password is None else args.password))
    for spec in args.mounts:
        name, _, folder = spec.partition("=")
        name, _, rate = name.partition(":")
        factory = GstRtspServer.RTSPMediaFactory()
        width, height = (int(v) for v in args.size.split("x"))
        factory.set_launch(LAUNCH.format(fps=args.fps, width=width, height=height))
        factory.set_shared(True)  # one pipeline per mount, like a camera's one encoder
        factory.connect("media-configure", Mount(folder, float(rate or args.fps)).configure)
        if args.user:  # only the authenticated role may see and build the mount
            factory.add_role_from_structure(Gst.Structure.new_from_string(
                f"{ROLE}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
        if args.tcp_only:
            factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
        mounts.add_factory(f"/{name}", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: GLib.idle_add(loop.quit))

    def watch_stdin() -> None:  # the parent went away: stop
        try:
            sys.stdin.read()
        finally:
            GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"ready {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
