"""Simulated IP cameras: an HTTP snapshot camera (Hikvision ISAPI / Dahua CGI paths, digest auth) and an
MJPEG stream, each able to go dark, freeze, blur, turn away, be covered, wash out or drop offline, with a
day-night cycle.

    cam = SimCamera(seed=3)                        # a seeded street/yard scene, 640x360
    server = CameraServer(cam, user="admin", password="pw").start()
    server.snapshot_url   # http://127.0.0.1:PORT/ISAPI/Streaming/channels/101/picture  (digest auth)
    server.dahua_url      # http://127.0.0.1:PORT/cgi-bin/snapshot.cgi?channel=1         (digest auth)
    server.stream_url     # http://127.0.0.1:PORT/stream.mjpg  (multipart MJPEG, no auth: OpenCV/FFmpeg)
    cam.fault = "blur"    # dark | frozen | blur | moved | covered | washed_out | offline | None
                          # (from another process: POST http://127.0.0.1:PORT/sim?fault=blur&hour=22)
    cam.hour = 22.5       # the simulated local hour (None: the real clock): night is dim, grey and noisy

Real sockets and HTTP on loopback, nothing mocked: the patrol's drivers talk to it exactly as to a
camera. RTSP: ``RtspServer()`` runs Debian's ``rtsp-server-perl`` on free loopback ports and
``RtspFeed(cam, server, "cam1").start()`` pushes a camera to it with ``ffmpeg`` (``feed.url`` is
``rtsp://127.0.0.1:PORT/cam1``); both binaries come from apt (``./campus test`` installs them).

    python -m simulators.cameras --count 3        # serve three cameras until Ctrl-C, print their URLs
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import socket
import subprocess
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

FAULTS = ("dark", "frozen", "blur", "moved", "covered", "washed_out", "offline")
REALM = "IP Camera(simulated)"


def scene(seed: int, width: int, height: int) -> np.ndarray:
    """A panorama twice as wide as the view: ground, walls, windows, trees, signs: plenty of structure."""
    rng = np.random.default_rng(seed)
    w, h = width * 2, height
    img = np.zeros((h, w, 3), np.uint8)
    sky = rng.integers(150, 210)
    img[: h // 3] = (sky, sky - 10, sky - 40)
    img[h // 3:] = (rng.integers(70, 110),) * 3
    for _ in range(14):  # buildings with windows
        x, bw = int(rng.integers(0, w)), int(rng.integers(60, 200))
        top = int(rng.integers(h // 8, h // 2))
        col = tuple(int(c) for c in rng.integers(60, 200, 3))
        cv2.rectangle(img, (x, top), (x + bw, h * 3 // 4), col, -1)
        for wx in range(x + 8, x + bw - 14, 22):
            for wy in range(top + 8, h * 3 // 4 - 14, 26):
                shade = int(rng.integers(20, 240))
                cv2.rectangle(img, (wx, wy), (wx + 12, wy + 14), (shade, shade, shade), -1)
    for _ in range(20):  # trees, poles, signs
        x = int(rng.integers(0, w))
        cv2.line(img, (x, h), (x, int(rng.integers(h // 3, h))), (40, 50, 60), int(rng.integers(2, 6)))
        cv2.circle(img, (x, int(rng.integers(h // 4, h // 2))), int(rng.integers(12, 40)),
                   (int(rng.integers(20, 80)), int(rng.integers(90, 160)), int(rng.integers(20, 80))), -1)
    for _ in range(8):
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(h // 2, h - 30))
        cv2.rectangle(img, (x, y), (x + 50, y + 24), (20, 20, 200), -1)
        cv2.putText(img, f"{int(rng.integers(100, 999))}", (x + 4, y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    (255, 255, 255), 2)
    return img


def daylight(hour: float) -> float:
    """1 at noon, 0 at night, smooth twilight around 6:00 and 18:30."""
    up = 1 / (1 + math.exp(-(hour - 6.3) * 3))
    down = 1 / (1 + math.exp((hour - 18.5) * 3))
    return up * down



def _terminate(proc: subprocess.Popen) -> None:
    """Stop a server process: politely, then for good."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

class SimCamera:
    def __init__(self, seed: int = 0, width: int = 640, height: int = 360, noise: float = 2.0) -> None:
        self.seed, self.width, self.height, self.noise = seed, width, height, noise
        self.panorama = scene(seed, width, height)
        self.fault: str | None = None
        self.hour: float | None = None
        self.offset = int(np.random.default_rng(seed + 7).integers(0, width // 2))
        self._rng = np.random.default_rng(seed + 1000)
        self._lock = threading.Lock()
        self._frozen: np.ndarray | None = None
        self.frames = 0

    def _hour(self, now: float) -> float:
        if self.hour is not None:
            return self.hour
        t = datetime.fromtimestamp(now)
        return t.hour + t.minute / 60

    def render(self, now: float | None = None) -> np.ndarray:
        now = time.time() if now is None else now
        with self._lock:
            self.frames += 1
            if self.fault != "frozen":
                self._frozen = None
            elif self._frozen is not None:
                return self._frozen
            frame = self._render(now)
            if self.fault == "frozen":
                self._frozen = frame
            return frame

    def _render(self, now: float) -> np.ndarray:
        w, h = self.width, self.height
        off = self.offset
        view = self.panorama[:, off:off + w].copy()
        if self.fault == "moved":  # turned away: another part of the yard, tilted
            off2 = (off + w // 2) % w
            view = self.panorama[:, off2:off2 + w].copy()
            rot = cv2.getRotationMatrix2D((w / 2, h / 2), 12, 1.15)
            view = cv2.warpAffine(view, rot, (w, h), borderMode=cv2.BORDER_REFLECT)
        light = daylight(self._hour(now))
        img = view.astype(np.float32)
        noise = self.noise
        if light < 0.5:  # infra-red night mode: grey, dimmer, noisier
            grey = cv2.cvtColor(view, cv2.COLOR_BGR2GRAY).astype(np.float32)
            img = np.repeat(grey[:, :, None], 3, axis=2)
            noise = self.noise * 2.5
        img *= 0.35 + 0.65 * light
        if self.fault == "blur":
            img = np.asarray(cv2.GaussianBlur(img, (0, 0), 6), dtype=np.float32)
        if self.fault == "covered":  # a hand or a bag over the lens: dim, almost uniform
            tint = float(img.mean()) * 0.25 + 10
            grad = np.linspace(0.8, 1.2, w, dtype=np.float32)[None, :, None]
            img = np.full_like(img, tint) * grad
        if self.fault == "dark":
            img = np.zeros_like(img)
        if self.fault == "washed_out":
            img = np.full_like(img, 252.0)
        img += self._rng.normal(0, noise, img.shape).astype(np.float32)
        out = np.clip(img, 0, 255).astype(np.uint8)
        if self.fault not in ("dark", "washed_out"):  # the encoder's timestamp overlay, top left
            stamp = datetime.fromtimestamp(now).strftime("%Y-%m-%d %H:%M:%S")
            cv2.rectangle(out, (4, 4), (200, 24), (0, 0, 0), -1)
            cv2.putText(out, stamp, (8, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        return out

    def jpeg(self, now: float | None = None, quality: int = 85) -> bytes:
        ok, buf = cv2.imencode(".jpg", self.render(now), [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return buf.tobytes()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RFC 2617 digest is MD5


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _authorised(self) -> bool:
        srv = self.server
        header = self.headers.get("Authorization", "")
        if header.startswith("Digest "):
            fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))
            if fields.get("username") == srv.user and fields.get("nonce") in srv.nonces:
                ha1 = _md5(f"{srv.user}:{REALM}:{srv.password}")
                ha2 = _md5(f"{self.command}:{fields.get('uri', '')}")
                want = _md5(f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                            f"{fields.get('qop', '')}:{ha2}")
                if fields.get("response") == want and fields.get("uri") == self.path:
                    return True
        nonce = os.urandom(12).hex()
        srv.nonces.add(nonce)
        body = b"401 Unauthorized"
        self.send_response(401)
        self.send_header("WWW-Authenticate", f'Digest realm="{REALM}", qop="auth", nonce="{nonce}", '
                         'algorithm=MD5')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        srv.refused += 1
        return False

    def do_GET(self) -> None:
        srv = self.server
        cam = srv.camera
        if cam.fault == "offline":
            return self._drop()
        path = self.path.split("?")[0]
        if path == "/stream.mjpg":
            return self._stream()
        if path not in ("/ISAPI/Streaming/channels/101/picture", "/cgi-bin/snapshot.cgi"):
            self.send_error(404)
            return
        if not self._authorised():
            return
        body = cam.jpeg()
        srv.snapshots += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        """``POST /sim?fault=blur&hour=22`` (``fault=`` clears it): how a benchmark or a demo in another
        process changes the camera. A simulator's control, not a camera API."""
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        cam = self.server.camera
        if urlsplit(self.path).path != "/sim" or (q.get("fault", [""])[0] or None) not in (None, *FAULTS):
            self.send_error(400)
            return
        if "fault" in q:
            cam.fault = q["fault"][0] or None
        if "hour" in q:
            cam.hour = float(q["hour"][0]) if q["hour"][0] else None
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _stream(self) -> None:
        srv, cam = self.server, self.server.camera
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        period = 1.0 / srv.fps
        nxt = time.monotonic()
        try:
            while not srv.closing.is_set() and cam.fault != "offline":
                body = cam.jpeg()
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body + b"\r\n")
                self.wfile.flush()
                nxt += period
                time.sleep(max(0.0, nxt - time.monotonic()))
        except OSError:
            return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, camera: SimCamera, user: str, password: str, fps: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.camera, self.user, self.password, self.fps = camera, user, password, fps
        self.nonces: set[str] = set()
        self.closing = threading.Event()
        self.snapshots = self.refused = 0


class CameraServer:
    """One simulated camera on its own loopback port (as each real camera has its own address)."""

    def __init__(self, camera: SimCamera, user: str = "admin", password: str = "admin123",
                 fps: float = 10.0) -> None:
        self.camera = camera
        self.httpd = _Server(camera, user, password, fps)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"simcam-{self.port}", daemon=True)

    @property
    def snapshot_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ISAPI/Streaming/channels/101/picture"

    @property
    def dahua_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/snapshot.cgi?channel=1"

    @property
    def stream_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> CameraServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rtsp_available() -> str | None:
    """None when a real RTSP server can run here, else why not (for a printed skip reason)."""
    import shutil

    missing = [b for b in ("ffmpeg", "rtsp-server-perl") if shutil.which(b) is None]
    if not missing:
        return None
    return f"not installed: {', '.join(missing)} (apt-get install ffmpeg rtsp-server-perl)"


class RtspServer:
    """A real RTSP server: Debian's ``rtsp-server-perl`` on free ports. Sources push to it (RTSP ANNOUNCE/
    RECORD, as ``ffmpeg -f rtsp`` does), clients play from it (RTP over UDP)."""

    def __init__(self) -> None:
        import subprocess

        self.client_port, self.source_port = free_port(), free_port()
        rtp = 20000 + 2 * (os.getpid() % 10000)
        self.proc = subprocess.Popen(
            ["rtsp-server-perl", "--clientport", str(self.client_port), "--serverport", str(self.source_port),
             "--rtp_start_port", str(rtp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 30  # perl and Moose take a few seconds to start
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.source_port), 0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("rtsp-server-perl did not start")

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.client_port}/{mount}"

    def stop(self) -> None:
        _terminate(self.proc)


GST_PYTHON = "/usr/bin/python3"  # Debian's: python3-gi and the GStreamer RTSP server's introspection data


def gst_rtsp_available() -> str | None:
    """None when the GStreamer RTSP server (RTP over TCP) can run here, else why not."""
    import subprocess

    probe = ("import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst; "
             "Gst.init(None); assert all(Gst.ElementFactory.find(e) for e in ('rtpjpegpay', 'appsrc'))")
    try:
        ok = subprocess.run([GST_PYTHON, "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return None if ok else ("not installed: apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
                            "gstreamer1.0-plugins-base gstreamer1.0-plugins-good")


def write_frames(camera: SimCamera, folder: str, count: int = 47, fps: float = 10.0, t0: float = 1.78e9,
                 quality: int = 80) -> str:
    """``count`` pictures of ``camera`` 1/fps apart as 000.jpg... (the GStreamer server loops them): more
    than one visit reads (a 1 s sample plus the burst buffered while the stream opens), so a visit's first
    and last pictures are not the same file, which the patrol would rightly call frozen."""
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        cv2.imwrite(os.path.join(folder, f"{i:03d}.jpg"), camera.render(t0 + i / fps),
                    [cv2.IMWRITE_JPEG_QUALITY, quality])
    return folder


class GstRtspServer:
    """A real RTSP server that plays over TCP: simulators/rtsp_gst.py (GStreamer's RTSP server library)
    under Debian's Python, on a free loopback port. ``mounts``: name -> folder of JPEG pictures (see
    ``write_frames``), looped at ``fps`` as RTP/JPEG. ``tcp_only`` refuses RTP over UDP (461). ``rates``:
    mount -> pictures a second it really delivers (a camera that falls behind its announced ``fps``).
    ``user``/``password``: the server asks for them with digest authentication (401 otherwise)."""

    def __init__(self, mounts: dict[str, str], fps: int = 10, tcp_only: bool = True,
                 size: tuple[int, int] = (640, 360), rates: dict[str, float] | None = None,
                 user: str = "", password: str = "") -> None:
        import subprocess

        self.port = free_port()
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rtsp_gst.py")
        args = [GST_PYTHON, script, "--port", str(self.port), "--fps", str(fps), "--size",
                f"{size[0]}x{size[1]}"]
        args += ["--tcp-only"] if tcp_only else []
        args += ["--user", user] if user else []
        # stdin stays open: the server stops when it closes, so it never outlives its parent
        rates = rates or {}
        specs = [f"{k}:{rates[k]:g}={v}" if k in rates else f"{k}={v}" for k, v in mounts.items()]
        env = {**os.environ, "RTSP_GST_PASSWORD": password}  # not on the command line
        self.proc = subprocess.Popen(args + specs, stdin=subprocess.PIPE, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError(f"the GStreamer RTSP server did not start ({line.strip() or 'no output'})")

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def stop(self) -> None:
        _terminate(self.proc)
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()


class RtspFeed:
    """One SimCamera pushed to an RtspServer by ffmpeg (raw BGR frames on its stdin, MPEG-4 Part 2, a
    key frame every second). ``offline`` stops the push (the mount goes away), clearing it starts again."""

    def __init__(self, camera: SimCamera, server: RtspServer, mount: str, fps: float = 10.0) -> None:
        self.camera, self.server, self.mount, self.fps = camera, server, mount, fps
        self.url = server.url(mount)
        self._stop = threading.Event()
        self._proc: Any = None
        self._thread = threading.Thread(target=self._run, name=f"rtsp-{mount}", daemon=True)

    def start(self) -> RtspFeed:
        self._thread.start()
        return self

    def _spawn(self) -> Any:
        import subprocess

        c = self.camera
        return subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s",
             f"{c.width}x{c.height}", "-r", str(self.fps), "-i", "-", "-c:v", "mpeg4", "-q:v", "5", "-g",
             str(int(self.fps)), "-f", "rtsp", f"rtsp://127.0.0.1:{self.server.source_port}/{self.mount}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)

    def _end(self) -> None:
        if self._proc is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None

    def _run(self) -> None:
        period = 1.0 / self.fps
        nxt = time.monotonic()
        while not self._stop.is_set():
            if self.camera.fault == "offline":
                self._end()
                self._stop.wait(0.2)
                nxt = time.monotonic()
                continue
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._spawn()
            try:
                self._proc.stdin.write(self.camera.render().tobytes())
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._proc = None
                self._stop.wait(0.5)
            nxt += period
            self._stop.wait(max(0.0, nxt - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._end()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default="admin123")
    ap.add_argument("--hour", type=float, help="fixed simulated hour (default: the real clock)")
    ap.add_argument("--rtsp", action="store_true", help="push the cameras to a local RTSP server instead "
                    "(needs ffmpeg and rtsp-server-perl)")
    args = ap.parse_args(argv)
    import signal

    def _interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)  # stop the ffmpeg pushers and the server on terminate too
    if args.rtsp:
        server = RtspServer()
        feeds = []
        for i in range(args.count):
            cam = SimCamera(args.seed + i)
            cam.hour = args.hour
            feeds.append(RtspFeed(cam, server, f"cam{i}").start())
            print(f"camera {i}: rtsp {feeds[-1].url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            for f in feeds:
                f.stop()
            server.stop()
        return 0
    servers = [CameraServer(SimCamera(args.seed + i), args.user, args.password).start()
               for i in range(args.count)]
    for i, s in enumerate(servers):
        s.camera.hour = args.hour
        print(f"camera {i}: snapshot {s.snapshot_url}  stream {s.stream_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    for s in servers:
        s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
