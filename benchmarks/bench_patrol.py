"""Surveillance patrol benchmark: round time and CPU for 50 cameras, detection and false faults.

    .venv/bin/python benchmarks/bench_patrol.py [--cameras 50] [--quality-cameras 4] [--seed N]

1. Rounds: --cameras simulated cameras (simulators/cameras.py) served by a SEPARATE process (so their
   CPU is not ours), each on its own loopback port. A patrol round visits every camera through the real
   drivers with the agent's 4 parallel slots: snapshots (two digest-auth JPEGs 1.0 s apart + all checks)
   and streams (the rtsp driver reading the MJPEG stream for 1.0 s through OpenCV's FFmpeg backend +
   all checks), against a bare OpenCV grab of the same (one snapshot fetched and decoded / the stream
   opened and one frame read). Wall time and this process's CPU per round; medians of --rounds. A few
   cameras are switched to faults over the simulator's control URL: the round must name each.
2. Quality: --quality-cameras fresh seeded cameras patrolled every 10 simulated minutes for two simulated
   days (day-night cycle: dusk, infra-red night, dawn) in-process on the checks (the same frames the
   drivers would fetch), counting false faults per camera-day (after the device's one confirming
   re-visit, as the driver does); then every fault class injected at random hours, day and night:
   detection rate per class.
3. RTSP: --rtsp-cameras cameras pushed by ffmpeg to Debian's rtsp-server-perl (in a separate process),
   patrolled by the rtsp driver over RTP/UDP, against a bare OpenCV open + one frame; and
   --rtsp-tcp-cameras (50) over RTSP/TCP from GStreamer's RTSP server (simulators/rtsp_gst.py, one
   separate process refusing UDP, looping pre-rendered pictures), against the same bare grab over TCP.
   The bare grabs open with the driver's FFmpeg options (transport, bounded probing: rtsp.PROBE); over
   TCP, --default-probing-rounds rounds of the bare grab with FFmpeg's default probing show what the
   driver's opens cost before (OpenCV serialises FFmpeg opens within a process).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.surveillance.rtsp import OPTIONS, PROBE, StreamGrabber  # noqa: E402
from drivers.surveillance.snapshot import SnapshotGrabber  # noqa: E402
from edge.patrol.checks import Settings, Visit, evaluate  # noqa: E402
from edge.processors.patrol import SLOTS, look  # noqa: E402
from simulators.cameras import FAULTS, SimCamera  # noqa: E402

OVERLAY = (0.0, 0.0, 0.33, 0.07)
SETTINGS = Settings(width=640, height=360, overlay=OVERLAY, min_fps=4)
COMMON = {"grab_gap_seconds": 1.0, "timeout_seconds": 5.0, "auth": "digest", "user": "admin",
          "password": "admin123", "password_file": None, "sample_seconds": 1.0}


def serve(n: int, seed: int) -> tuple[subprocess.Popen, list[str]]:
    cmd = [sys.executable, "-m", "simulators.cameras", "--count", str(n), "--seed", str(seed), "--hour", "11"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    bases = []
    assert proc.stdout is not None
    for _ in range(n):
        line = proc.stdout.readline()
        bases.append(line.split("snapshot ")[1].split("/ISAPI")[0])
    return proc, bases


def control(base: str, **q: str) -> None:
    httpx.post(f"{base}/sim", params=q, timeout=5).raise_for_status()


def timed(fn, items: list) -> tuple[float, float, list]:
    c0, t0 = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(SLOTS) as pool:
        out = list(pool.map(fn, items))
    return time.perf_counter() - t0, time.process_time() - c0, out


def stream_visits(grabbers: list) -> tuple[Callable[[int], tuple[str, ...]], list[float]]:
    """visit(i): the patrol's visit of stream camera i, with its memory kept between rounds; and the list
    the frame rates the driver measured go into."""
    memories: dict[int, dict] = {}
    fps: list[float] = []

    def visit(i: int) -> tuple[str, ...]:
        r = evaluate(look(grabbers[i]), SETTINGS, memories.get(i))
        memories[i] = r.memory
        if r.metrics.get("fps") is not None:
            fps.append(r.metrics["fps"])
        return r.reasons

    return visit, fps


def against_bare(visit, bare, n: int, reps: int) -> tuple[float, float, float, float, dict, int]:
    """``reps`` patrol rounds, each followed by a bare grab of the same cameras: the medians of wall and CPU
    time of each, the faults the patrol named (reason -> count) and how many bare grabs failed."""
    pt, pc, bt, bc, flagged, bare_failed = [], [], [], [], {}, 0
    for _ in range(reps):
        t, c, out = timed(visit, list(range(n)))
        pt.append(t)
        pc.append(c)
        for o in out:
            if o:
                flagged[o] = flagged.get(o, 0) + 1
        t, c, bare_out = timed(bare, list(range(n)))
        bare_failed += sum(1 for o in bare_out if o)  # a failed open is no baseline
        bt.append(t)
        bc.append(c)
    mt, mc, b_t, b_c = (statistics.median(x) for x in (pt, pc, bt, bc))
    return mt, mc, b_t, b_c, flagged, bare_failed


def rounds(n: int, seed: int, reps: int) -> None:
    proc, bases = serve(n, seed)
    try:
        snaps = [SnapshotGrabber({**COMMON, "url": f"{b}/ISAPI/Streaming/channels/101/picture"})
                 for b in bases]
        streams = [StreamGrabber({**COMMON, "url": f"{b}/stream.mjpg", "user": ""}) for b in bases]
        memories: dict[tuple[str, int], dict] = {}
        fps: dict[str, list] = {}

        def patrol(kind: str):
            def visit(i: int) -> tuple[str, ...]:
                v = look(snaps[i] if kind == "snap" else streams[i])
                r = evaluate(v, SETTINGS, memories.get((kind, i)))
                memories[(kind, i)] = r.memory
                fps.setdefault(kind, []).append(r.metrics.get("fps"))
                return r.reasons
            return visit

        def bare_snap(i: int) -> tuple[str, ...]:
            r = snaps[i].client.get(snaps[i].config["url"])
            img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
            return () if img is not None else ("x",)

        def bare_stream(i: int) -> tuple[str, ...]:
            cap = cv2.VideoCapture(streams[i].url, cv2.CAP_FFMPEG)
            ok, _ = cap.read()
            cap.release()
            return () if ok else ("x",)

        print(f"rounds: {n} cameras, {SLOTS} in parallel, simulator in its own process (pid {proc.pid})")
        ids = list(range(n))
        for kind, full, bare in (("snapshot", patrol("snap"), bare_snap),
                                 ("stream", patrol("stream"), bare_stream)):
            patrol_t, patrol_c, bare_t, bare_c = [], [], [], []
            for _ in range(reps):
                t, c, out = timed(full, ids)
                flagged = [o for o in out if o]
                if flagged:  # e.g. one simulator process cannot feed 4 streams at 10 fps on a busy machine
                    print(f"    round flagged {len(flagged)} camera(s): {sorted(set(flagged))}")
                patrol_t.append(t)
                patrol_c.append(c)
                t, c, _ = timed(bare, ids)
                bare_t.append(t)
                bare_c.append(c)
            mt, mc, bt, bc = (statistics.median(x) for x in (patrol_t, patrol_c, bare_t, bare_c))
            print(f"  {kind:8s} patrol round {mt:6.2f} s wall, {mc:6.2f} s CPU "
                  f"({mc / n * 1000:5.1f} ms/camera) | "
                  f"bare OpenCV grab {bt:6.2f} s wall, {bc:5.2f} s CPU | ratio wall {mt / bt:4.1f}x, "
                  f"CPU {mc / max(bc, 1e-9):4.1f}x")
            measured = [f for f in fps.get("stream", []) if f is not None]
            if kind == "stream" and measured:
                med = statistics.median(measured)
                print(f"    stream frame rate measured by the driver: median {med:.1f} fps "
                      f"(served at 10 fps; min_fps {SETTINGS.min_fps})")
        # a few faults through the whole path: the round must name them (after the cameras learned their
        # focus baselines: five good visits)
        for _ in range(max(0, 5 - reps)):
            timed(patrol("snap"), ids)
        rng = random.Random(seed)
        picks = rng.sample(ids, 7)
        want = dict(zip(picks, ("offline", "dark", "frozen", "moved", "covered", "blur", "washed_out"),
                        strict=True))
        for i, f in want.items():
            control(bases[i], fault=f)
        _, _, out = timed(patrol("snap"), ids)
        named = {i: out[i] for i in ids if out[i]}
        expect = {i: ("blurred" if f == "blur" else f) for i, f in want.items()}
        hits = sum(1 for i, f in expect.items() if named.get(i) == (f,))
        print(f"  injected over the control URL: {hits}/{len(expect)} named exactly; "
              f"other cameras flagged: {len(set(named) - set(expect))}")
        for i, f in expect.items():
            if named.get(i) != (f,):
                print(f"    camera {i}: injected {f}, found {named.get(i) or 'nothing'}")
        for g in snaps:
            g.close()
    finally:
        proc.terminate()
        proc.wait(10)


def rtsp_round(n: int, seed: int, reps: int) -> None:
    """The rtsp driver over real RTSP (rtsp-server-perl, ffmpeg pushers in a separate process)."""
    from simulators.cameras import rtsp_available

    why = rtsp_available()
    if why:
        print(f"rtsp: not measured: {why}")
        return
    cmd = [sys.executable, "-m", "simulators.cameras", "--rtsp", "--count", str(n), "--seed", str(seed),
           "--hour", "11"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        urls = [proc.stdout.readline().split("rtsp ")[1].strip() for _ in range(n)]
        time.sleep(3)  # the pushers connect
        visit, fps = stream_visits([StreamGrabber({**COMMON, "url": u, "user": "", "transport": "udp"})
                                    for u in urls])

        def bare(i: int) -> tuple[str, ...]:
            with OPTIONS.using(f"rtsp_transport;udp|{PROBE}"):
                cap = cv2.VideoCapture(urls[i], cv2.CAP_FFMPEG)
            ok, _ = cap.read()
            cap.release()
            return () if ok else ("x",)

        mt, mc, b_t, b_c, flagged, bare_failed = against_bare(visit, bare, n, reps)
        print(f"  rtsp     patrol round {mt:6.2f} s wall, {mc:6.2f} s CPU ({mc / n * 1000:5.1f} ms/camera) | "
              f"bare OpenCV grab {b_t:6.2f} s wall, {b_c:5.2f} s CPU | ratio wall {mt / b_t:4.1f}x, "
              f"CPU {mc / max(b_c, 1e-9):4.1f}x ({n} cameras over RTSP/UDP)")
        print(f"    frame rate measured: median {statistics.median(fps) if fps else 0:.1f} fps; "
              f"visits flagged: {sum(flagged.values())}/{n * reps} {flagged or ''}; bare grabs that failed: "
              f"{bare_failed}")
    finally:
        proc.terminate()
        proc.wait(20)


def rtsp_tcp_round(n: int, seed: int, reps: int, default_reps: int) -> None:
    """The rtsp driver over RTSP/TCP (RTP interleaved) against GStreamer's RTSP server in a separate
    process that refuses UDP: n mounts, each looping pre-rendered JPEG pictures of a seeded camera."""
    import tempfile

    from simulators.cameras import GstRtspServer, gst_rtsp_available, write_frames

    why = gst_rtsp_available()
    if why:
        print(f"rtsp/tcp: not measured: {why}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for k in range(min(n, 10)):  # ten seeded scenes, shared by the mounts (each mount its own pipeline)
            cam = SimCamera(seed + k)
            cam.hour = 11.0
            # 97 pictures (a prime, 9.7 s): the server loops them, and a camera visited again after a whole
            # number of loops shows the very picture of its last visit, which the patrol rightly calls
            # frozen (with 47, a patrol round plus a bare round took 5 loops: half the visits "frozen")
            folders.append(write_frames(cam, f"{tmp}/scene{k}", count=97))
        server = GstRtspServer({f"cam{i}": folders[i % len(folders)] for i in range(n)}, tcp_only=True)
        try:
            urls = [server.url(f"cam{i}") for i in range(n)]
            visit, fps = stream_visits([StreamGrabber({**COMMON, "url": u, "user": "", "transport": "tcp"})
                                        for u in urls])

            def bare(i: int, options: str = f"rtsp_transport;tcp|{PROBE}") -> tuple[str, ...]:
                with OPTIONS.using(options):
                    cap = cv2.VideoCapture(urls[i], cv2.CAP_FFMPEG)
                ok, _ = cap.read()
                cap.release()
                return () if ok else ("x",)

            def bare_default(i: int) -> tuple[str, ...]:  # FFmpeg's probing: 20 frames to guess the rate
                return bare(i, "rtsp_transport;tcp")

            mt, mc, b_t, b_c, flagged, bare_failed = against_bare(visit, bare, n, reps)
            print(f"  rtsp/tcp patrol round {mt:6.2f} s wall, {mc:6.2f} s CPU "
                  f"({mc / n * 1000:5.1f} ms/camera) | bare OpenCV grab {b_t:6.2f} s wall, {b_c:5.2f} s CPU "
                  f"| ratio wall {mt / b_t:4.1f}x, CPU {mc / max(b_c, 1e-9):4.1f}x "
                  f"({n} cameras over RTSP/TCP, server refusing UDP)")
            med = statistics.median(fps) if fps else 0
            lo, hi = min(fps, default=0), max(fps, default=0)
            print(f"    frame rate measured: median {med:.1f} fps (served at 10; min {lo:.1f}, "
                  f"max {hi:.1f}); visits flagged: {sum(flagged.values())}/{n * reps} {flagged or ''}; bare "
                  f"grabs that failed: {bare_failed}")
            if default_reps:
                dt = statistics.median(timed(bare_default, list(range(n)))[0] for _ in range(default_reps))
                print(f"    bare OpenCV grab with FFmpeg's default probing: {dt:6.2f} s wall (median of "
                      f"{default_reps}): {dt / b_t:4.1f}x the bounded bare grab")
        finally:
            server.stop()


def quality(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = 1_780_000_000.0
    false, visits = 0, 0
    caught = {f: [0, 0] for f in FAULTS if f != "offline"}
    false_reasons: dict[str, int] = {}
    start = time.perf_counter()
    for _ in range(n):
        cam_seed = int(rng.integers(0, 1_000_000))
        cam, mem = SimCamera(cam_seed), {}
        start_hour = float(rng.uniform(7, 17))  # installed during the working day
        for step in range(2 * 144):  # two days, every 10 minutes
            hour = (start_hour + step / 6) % 24
            cam.hour = hour
            t = t0 + step * 600
            r = evaluate(Visit([cam.render(t), cam.render(t + 1.5)], 1.5), SETTINGS, mem)
            if r.reasons:  # the patrol looks again before it reports
                r2 = evaluate(Visit([cam.render(t + 3), cam.render(t + 4.5)], 1.5), SETTINGS, mem)
                if r2.reasons:
                    false += 1
                    for x in r2.reasons:
                        false_reasons[x] = false_reasons.get(x, 0) + 1
                r = r2
            mem = r.memory
            visits += 1
        for f in caught:
            for _ in range(6):
                cam.hour = float(rng.uniform(0, 24))
                cam.fault = f
                t = t0 + float(rng.uniform(1e6, 2e6))
                r = evaluate(Visit([cam.render(t), cam.render(t + 1.5)], 1.5), SETTINGS, mem)
                caught[f][1] += 1
                caught[f][0] += r.reasons == (("blurred",) if f == "blur" else (f,))
                cam.fault = None
    days = visits / 144
    print(f"quality: {n} cameras (seed {seed}), {visits} visits = {days:.0f} camera-days with day-night "
          f"cycles, {time.perf_counter() - start:.0f} s")
    print(f"  false faults: {false} = {false / days:.3f} per camera-day {false_reasons or ''}")
    for f, (hit, total) in caught.items():
        print(f"  {f:10s} detected {hit}/{total} = {hit / total:.0%} (random hours, day and night)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quality-cameras", type=int, default=4)
    ap.add_argument("--rtsp-cameras", type=int, default=10, help="cameras pushed over real RTSP (each an "
                    "ffmpeg process)")
    ap.add_argument("--rtsp-tcp-cameras", type=int, default=50, help="cameras over RTSP/TCP from one "
                    "GStreamer RTSP server process (0: skip)")
    ap.add_argument("--default-probing-rounds", type=int, default=1, help="rounds of the bare RTSP/TCP "
                    "grab with FFmpeg's default probing (the cost before rtsp.PROBE; 0: skip)")
    ap.add_argument("--skip", default="", help="comma-separated parts to leave out: snapshot, rtsp, quality")
    ap.add_argument("--seed", type=int, default=None, help="default: a fresh seed, printed")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    print(f"seed {seed}; OpenCV {cv2.__version__}; {cv2.getNumThreads()} OpenCV thread(s)")
    skip = set(filter(None, args.skip.split(",")))
    if "snapshot" not in skip and args.cameras:
        rounds(args.cameras, seed, args.rounds)
    if "rtsp" not in skip and args.rtsp_cameras:  # 0 cameras: nothing to measure
        rtsp_round(args.rtsp_cameras, seed, args.rounds)
    if args.rtsp_tcp_cameras:
        rtsp_tcp_round(args.rtsp_tcp_cameras, seed, args.rounds, args.default_probing_rounds)
    if "quality" not in skip and args.quality_cameras:
        quality(args.quality_cameras, seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
