"""Issue #15: a school bridged to the district, with the shipped files (tests/support/district.py), two real
Mosquittos, the district's bridges as processes and VictoriaMetrics. Readings are counted by
(site, node, device, seq): every one arrives, and none is stored twice."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from edge.mqtt.session import stop_loop
from tests.conftest import wait_for
from tests.support.district import District, Publisher, readings_in
from tests.support.victoria import VictoriaMetrics

WAN_OUTAGE_S = 60


class DedupVictoria(VictoriaMetrics):
    """VictoriaMetrics keeping one sample per series and time, as InfluxDB does (a rewrite overwrites)."""

    def command(self) -> list[str]:
        return [*super().command(), "-dedup.minScrapeInterval=1ms"]


@pytest.fixture
def district(tmp_path: Path):
    d = District(tmp_path / "lab", ["s1", "s2"]).start()
    yield d
    d.close()


def all_arrived(vm, expected: set, timeout: float) -> list:
    got = wait_for(lambda: (r := readings_in(vm)) and set(r) >= expected and r, timeout,
                   f"all {len(expected)} readings in the database")
    return got


def subscribed(*bridges) -> None:
    for b in bridges:
        wait_for(lambda b=b: "connected to 127.0.0.1" in b.log.read_text(), 30, "the bridge to connect")
    time.sleep(0.5)  # and its SUBSCRIBE answered (a reading published before that has no subscriber yet)


def doubles(readings: list) -> dict:
    return {k: n for k, n in Counter(readings).items() if n > 1}


@pytest.mark.timeout(300)
def test_wan_cut_and_school_broker_restart_lose_nothing(district, victoria, bridge_process):
    """The WAN is down for a minute; the school broker restarts in the middle of it (persistence on).
    Every reading reaches the district database once."""
    bridge = bridge_process(district.bridge_config("d1", victoria.url)).start()
    subscribed(bridge)
    pub = Publisher(district)
    pub.send(range(0, 20), pause=0.05)  # 4 nodes... 2 sites x 1 node x 2 devices x 20
    all_arrived(victoria, pub.expected(range(0, 20)), 30)

    district.wan.cut()
    t_cut = time.monotonic()
    pub.send(range(20, 120), pause=0.1)  # ~10 s of readings into the school's queue for the district
    pub.close()
    district.school.restart()  # graceful: the queue for the uplink is saved and loaded again
    pub = Publisher(district)
    pub.send(range(120, 220), pause=0.1)
    time.sleep(max(0.0, WAN_OUTAGE_S - (time.monotonic() - t_cut)))
    assert not set(readings_in(victoria)) & pub.expected(range(20, 220)), "the WAN was cut: nothing passed"
    district.wan.restore()
    pub.send(range(220, 240), pause=0.05)

    got = all_arrived(victoria, pub.expected(range(0, 240)), 90)
    assert set(got) == pub.expected(range(0, 240))
    assert not doubles(got), "a reading stored twice"
    pub.close()
    assert bridge.alive()


@pytest.mark.timeout(300)
def test_a_killed_bridge_in_the_group_withholds_nothing(district, tmp_path, bridge_process):
    """Two bridges share the stream; one is killed with SIGKILL mid-stream and stays dead. Its peer takes
    over its session: every reading arrives, none twice, without waiting for the dead one."""
    vm = DedupVictoria(tmp_path / "vm").start()
    try:
        a = bridge_process(district.bridge_config("a", vm.url)).start()
        b = bridge_process(district.bridge_config("b", vm.url)).start()
        subscribed(a, b)
        pub = Publisher(district, devices=5)
        pub.send(range(0, 5), pause=0.05)
        all_arrived(vm, pub.expected(range(0, 5)), 30)
        wait_for(lambda: "bridge ce-bridge-b of group district: online" in a.log.read_text(), 20,
                 "bridge a to see b online")

        sender = threading.Thread(target=pub.send, args=(range(5, 305), 0.01))
        sender.start()
        time.sleep(2)
        b.kill()  # no flush, no goodbye: its unacknowledged messages and its share wait in its session
        sender.join(120)
        got = all_arrived(vm, pub.expected(range(0, 305)), 60)
        assert set(got) == pub.expected(range(0, 305)) and not doubles(got)
        log = a.log.read_text()
        assert "bridge ce-bridge-b of group district is gone: taking over its session" in log
        wait_for(lambda: "took over bridge ce-bridge-b's session" in a.log.read_text(), 20, "the takeover")

        # after the takeover the survivor gets the whole stream at once
        pub.send(range(305, 325), pause=0.01)
        got = all_arrived(vm, pub.expected(range(0, 325)), 30)
        assert not doubles(got) and not b.alive() and a.alive()
        # the dead bridge comes back: it joins the group again with a fresh session
        b.start()
        wait_for(lambda: "bridge ce-bridge-b of group district: online" in a.log.read_text().split(
            "took over bridge ce-bridge-b")[-1], 20, "b back online")
        pub.send(range(325, 345), pause=0.01)
        got = all_arrived(vm, pub.expected(range(0, 345)), 30)
        assert set(got) == pub.expected(range(0, 345)) and not doubles(got)
        # a restart (a clean stop says `offline`, then back at once) is not a death: no takeover
        assert b.terminate() == 0
        b.start()
        wait_for(lambda: a.log.read_text().count("bridge ce-bridge-b of group district: online") >= 3, 20,
                 "b online after its restart")
        pub.send(range(345, 365), pause=0.01)
        got = all_arrived(vm, pub.expected(range(0, 365)), 30)
        assert set(got) == pub.expected(range(0, 365)) and not doubles(got)
        assert a.log.read_text().count("is gone: taking over its session") == 1
        pub.close()
    finally:
        vm.kill()


# -- the WAN stand-in ------------------------------------------------------------------------------------
def test_a_cut_wan_refuses_every_connection_until_restored():
    """cut() must refuse, not accept and close: a listener closed while its thread waits in accept() took
    one more connection and closed it, the TLS-handshake failure that hangs Mosquitto 2.0.11
    (docs/district.md). The forwarding works again after restore()."""
    import socket

    from tests.support.tcpproxy import TcpProxy

    with socket.create_server(("127.0.0.1", 0)) as far:
        wan = TcpProxy(far.getsockname()[1])
        try:
            time.sleep(0.2)  # the accept thread waits in accept()
            wan.cut()
            for _ in range(3):
                with pytest.raises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", wan.port), timeout=5).close()
            assert wan.accepted == 0
            wan.restore()
            with socket.create_connection(("127.0.0.1", wan.port), timeout=5) as c:
                end, _ = far.accept()
                with end:
                    c.sendall(b"ping")
                    assert end.recv(4) == b"ping"
        finally:
            wan.close()


# -- the shipped scripts, without brokers ----------------------------------------------------------------
UPLINK = Path(__file__).resolve().parents[3] / "deploy" / "district" / "make-uplink.py"


def make_uplink(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(UPLINK), *args], capture_output=True, text=True, timeout=30)


def test_make_uplink_fills_every_value_and_sends_no_command_down_by_default():
    out = make_uplink("mh-primary", "district.edu.example:8883", "--password", "s3cret").stdout
    lines = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
    assert "topic campus/mh-primary/# out 1" in lines
    assert not [ln for ln in lines if " in " in ln or ln.endswith(" both 1")]
    for line in ("address district.edu.example:8883", "remote_username uplink@mh-primary",
                 "bridge_protocol_version mqttv50", "cleansession false", "bridge_insecure false",
                 "max_queued_messages 2000000", "max_queued_bytes 536870912"):
        assert line in lines
    assert not [ln for ln in lines if re.search(r"@[A-Z_]+@", ln)]  # no placeholder left
    with_commands = make_uplink("mh-primary", "d:8883", "--password", "x", "--commands").stdout
    assert "\ntopic campus/mh-primary/+/+/set in 1\n" in with_commands
    assert "\ntopic campus/mh-primary/group/+/set in 1\n" in with_commands


@pytest.mark.parametrize("args, error", [
    (["Mh Primary", "d:8883", "--password", "x"], "site 'Mh Primary'"),
    (["mh", "district.edu.example", "--password", "x"], "expected host:port"),
    (["mh", "d:8883"], "password must be non-empty"),
    (["mh", "d:8883", "--password", "two words"], "password must be non-empty"),
])
def test_make_uplink_refuses_bad_values(args, error):
    r = make_uplink(*args)
    assert r.returncode == 2 and error in r.stderr and not r.stdout


def test_district_acl_keeps_each_school_to_its_own_site(district):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from tests.support.district import password

    seen: list[str] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="watcher", protocol=mqtt.MQTTv5)
    watcher.username_pw_set("bridge", password("bridge"))
    watcher.on_message = lambda c, u, m: seen.append(m.topic)
    watcher.connect("127.0.0.1", district.district_port)
    watcher.loop_start()
    watcher.subscribe("campus/#", qos=1)
    school = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rogue", protocol=mqtt.MQTTv5)
    school.username_pw_set("uplink@s1", password("uplink@s1"))
    school.connect("127.0.0.1", district.district_port)
    school.loop_start()
    time.sleep(0.5)
    for topic in ("campus/s2/node-0/m0/telemetry", "campus/s2/node-0/info", "campus/s1/node-0/m0/telemetry"):
        school.publish(topic, b'{"ts": 1764000000000, "seq": 1, "values": {"energy_kwh": 1}}', qos=1)
    wait_for(lambda: "campus/s1/node-0/m0/telemetry" in seen, 10, "the school's own reading")
    time.sleep(0.5)
    assert [t for t in seen if not t.startswith("campus-edge")] == ["campus/s1/node-0/m0/telemetry"]
    for c in (school, watcher):
        c.disconnect()
        stop_loop(c)
