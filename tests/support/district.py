"""A district on this machine, from the shipped files in deploy/ (tests and benchmarks/bench_district.py).

- the district broker: deploy/district/district.conf, ACL from deploy/mosquitto/make-acl.py --school,
  certificates from make-certs.sh;
- a school broker: deploy/mosquitto/campus.conf plus one uplink per site made by
  deploy/district/make-uplink.py, reaching the district's TLS listener through a TcpProxy (the WAN);
- district bridges: deploy/district/district-bridge.yaml.
Only ports, paths, certificates and passwords are replaced (each replaced text is asserted present).
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from edge.broker import Mosquitto, free_port, wait_port
from edge.mqtt.session import stop_loop
from tests.support.tcpproxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def replace(text: str, values: dict[str, str], what: str) -> str:
    for old, new in values.items():
        assert old in text, f"{what} no longer has {old!r}: update tests/support/district.py"
        text = text.replace(old, new)
    return text


def make_passwd(path: Path, users: list[str]) -> None:
    for user in users:
        create = [] if path.exists() else ["-c"]
        subprocess.run(["mosquitto_passwd", "-b", *create, str(path), user, password(user)], check=True,
                       capture_output=True, timeout=30)


def cpu_share(pid: int, over: float = 0.5) -> float | None:
    """The share of one core a process used over `over` seconds (Linux /proc), None where unknown."""
    def ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks

    try:
        before = ticks()
        time.sleep(over)
        return (ticks() - before) / os.sysconf("SC_CLK_TCK") / over
    except (OSError, ValueError, IndexError):
        return None


def password(user: str) -> str:
    return f"pw-{user.replace('@', '-')}"


def shipped_broker_conf(template: Path, d: Path, acl: str, passwd: Path, certs: Path, plain: int,
                        tls: int) -> str:
    (d / "campus.acl").write_text(acl)
    conf = replace(template.read_text(), {
        "/etc/mosquitto/passwd": str(passwd), "/etc/mosquitto/campus.acl": str(d / "campus.acl"),
        "/etc/mosquitto/certs/": f"{certs}/", "listener 1883 127.0.0.1\n": f"listener {plain} 127.0.0.1\n",
        "listener 8883\n": f"listener {tls} 127.0.0.1\n"}, template.name)
    # what Debian's own mosquitto.conf adds (persistence and its place); run as ourselves
    return conf + (f"\npersistence true\npersistence_location {d}/\nuser {getpass.getuser()}\n"
                   "log_dest stderr\n")


def acl(*args: str) -> str:
    return subprocess.run([sys.executable, str(DEPLOY / "mosquitto" / "make-acl.py"), *args], check=True,
                          capture_output=True, text=True, timeout=30).stdout


class District:
    def __init__(self, d: Path, sites: list[str], nodes_per_site: int = 1) -> None:
        self.dir, self.sites = d, sites
        self.certs = d / "certs"
        subprocess.run(["sh", str(DEPLOY / "mosquitto" / "make-certs.sh"), str(self.certs), "127.0.0.1",
                        "localhost"], check=True, capture_output=True, timeout=60)
        # the district broker
        dd = d / "district"
        dd.mkdir(parents=True)
        self.district_port, self.district_tls = free_port(), free_port()
        passwd = dd / "passwd"
        make_passwd(passwd, ["bridge", *(f"uplink@{s}" for s in sites)])
        conf = shipped_broker_conf(DEPLOY / "district" / "district.conf", dd,
                                   acl(*(a for s in sites for a in ("--school", s))), passwd, self.certs,
                                   self.district_port, self.district_tls)
        self.district = Mosquitto(dd / "mq", port=self.district_port, conf=conf)
        self.wan = TcpProxy(self.district_tls)
        # the school broker, carrying every site (one uplink each)
        sd = d / "school"
        sd.mkdir(parents=True)
        self.school_port, self.school_tls = free_port(), free_port()
        self.nodes = [f"{s}/node-{n}" for s in sites for n in range(nodes_per_site)]
        passwd = sd / "passwd"
        make_passwd(passwd, ["bridge", "operator", *(n.replace("/", ".") for n in self.nodes)])
        conf = shipped_broker_conf(DEPLOY / "mosquitto" / "campus.conf", sd, acl(*self.nodes), passwd,
                                   self.certs, self.school_port, self.school_tls)
        for s in sites:
            pw = sd / f"uplink-{s}.pw"
            pw.write_text(password(f"uplink@{s}"))
            conf += "\n" + subprocess.run(
                [sys.executable, str(DEPLOY / "district" / "make-uplink.py"), s, f"127.0.0.1:{self.wan.port}",
                 "--cafile", str(self.certs / "ca.pem"), "--password-file", str(pw)],
                check=True, capture_output=True, text=True, timeout=30).stdout
        self.school = Mosquitto(sd / "mq", port=self.school_port, conf=conf)

    def start(self) -> District:
        self.district.start()
        wait_port("127.0.0.1", self.district_tls)
        self.school.start()
        return self

    def close(self) -> None:
        self.wan.close()
        self.school.kill()
        self.district.kill()

    def school_state(self, lines: int = 15) -> str:
        """The school's Mosquitto for a failing test's message: exited or running, how busy, the end of
        its log. One at a whole core whose log has stopped is most likely Mosquitto 2.0.11's hang after
        a TLS handshake closed at once (docs/district.md)."""
        proc = self.school.proc
        if proc is None:
            alive = "not started"
        elif proc.poll() is not None:
            alive = f"EXITED with {proc.returncode}"
        else:
            share = cpu_share(proc.pid)
            busy = "" if share is None else f", {share:.0%} of a core"
            hint = " (spinning? docs/district.md, 'Mosquitto 2.0.11')" if share and share > 0.5 else ""
            alive = f"running (pid {proc.pid}{busy}){hint}"
        log = self.school.dir / "mosquitto.log"
        tail = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
        return f"school broker {alive}; its log ends:\n" + "\n".join(tail)

    def bridge_config(self, name: str, sink_url: str, **batch: Any) -> dict[str, Any]:
        """deploy/district/district-bridge.yaml with this machine's ports, paths and secrets."""
        cfg = yaml.safe_load((DEPLOY / "district" / "district-bridge.yaml").read_text())
        cfg["mqtt"].update(host="127.0.0.1", port=self.district_port, password=password("bridge"),
                           client_id=f"ce-bridge-{name}")
        cfg["sink"].update(url=sink_url, token="test-token")
        cfg["storage"]["path"] = str(self.dir / f"{name}.db")
        cfg["batch"].update(batch)
        return cfg


T0 = 1_764_000_000_000  # readings' time base: ts = T0 + seq * 1000 (distinct per device and seq)


class Publisher:
    """A light stand-in for the agents of one school broker, speaking their contract: each node logs in as
    {site}.{node}, publishes its retained info, then telemetry {"ts", "seq", "values"} per device at QoS 1,
    one seq per device and reading. Waits for each PUBACK window, as the agent's outbox does."""

    def __init__(self, district: District, devices: int = 2, kind: str = "electricity_meter") -> None:
        import json

        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.json = json
        self.district = district
        self.devices = [f"m{i}" for i in range(devices)]
        self.clients = {}
        self.events: list[str] = []  # connects and disconnects, with paho's reason, for a failure's message
        for node in district.nodes:
            site, name = node.split("/")
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"agent-{site}-{name}",
                            protocol=mqtt.MQTTv5)
            c.username_pw_set(f"{site}.{name}", password(f"{site}.{name}"))
            c.max_inflight_messages_set(100)
            c.on_connect = lambda c, u, f, rc, p, node=node: self.event(f"{node} connected: {rc}")
            c.on_disconnect = lambda c, u, f, rc, p, node=node: self.event(
                f"{node} disconnected: {rc}")
            c.connect("127.0.0.1", district.school_port)
            c.loop_start()
            info = {"version": "sim", "session": 1, "started": T0,
                    "devices": [{"id": d, "kind": kind, "driver": "sim"} for d in self.devices]}
            self.clients[node] = c
            sent = c.publish(f"campus/{node}/info", json.dumps(info), qos=1, retain=True)
            sent.wait_for_publish(10)
            if not sent.is_published():
                raise AssertionError(f"no PUBACK in 10 s for {node}'s info: {self.state()}")
        self.sent = 0

    def reading(self, node: str, device: str, seq: int) -> Any:
        payload = {"ts": T0 + seq * 1000, "seq": seq, "values": {"energy_kwh": seq / 10}}
        topic = f"campus/{node}/{device}/telemetry"
        info = self.clients[node].publish(topic, self.json.dumps(payload), qos=1)
        self.sent += 1
        return info

    def send(self, seqs: range, pause: float = 0.0, ack_timeout: float = 30.0) -> None:
        """Publish one reading per device and seq; fail at once, saying why, if one is not acknowledged
        within ack_timeout (paho's wait_for_publish returns on its timeout without raising)."""
        for seq in seqs:
            last = [(n, dev, self.reading(n, dev, seq)) for n in self.clients for dev in self.devices]
            for node, dev, info in last:
                info.wait_for_publish(ack_timeout)
                if not info.is_published():
                    raise AssertionError(f"no PUBACK in {ack_timeout:g} s for {node}/{dev} seq {seq}: "
                                         f"{self.state()}")
            if pause:
                time.sleep(pause)

    def event(self, what: str) -> None:
        self.events.append(f"{time.time():.0f} {what}")  # seconds since the epoch, as Mosquitto logs

    def state(self) -> str:
        """The publishers' connections and the school broker's process, with the end of its log."""
        clients = ", ".join(f"{node} {'connected' if c.is_connected() else 'DISCONNECTED'}"
                            for node, c in self.clients.items())
        return f"clients: {clients} ({'; '.join(self.events)}); {self.district.school_state()}"

    def expected(self, seqs: range) -> set[tuple[str, str, str, int]]:
        return {(*node.split("/"), dev, s) for node in self.clients for dev in self.devices for s in seqs}

    def close(self) -> None:
        for c in self.clients.values():
            c.disconnect()
            stop_loop(c)


def readings_in(vm: Any, metric: str = "electricity_meter_energy_kwh") -> list[tuple[str, str, str, int]]:
    """Every stored sample as (site, node, device, seq), duplicates kept (a list, not a set)."""
    import json
    import urllib.parse
    import urllib.request

    vm.flush()
    url = f"{vm.url}/api/v1/export?" + urllib.parse.urlencode({"match[]": f'{{__name__="{metric}"}}'})
    with urllib.request.urlopen(url, timeout=30) as r:
        series = [json.loads(line) for line in r.read().decode().splitlines() if line.strip()]
    out = []
    for s in series:
        m = s["metric"]
        for ts, value in zip(s["timestamps"], s["values"], strict=True):
            seq = (ts - T0) // 1000
            assert value == seq / 10, f"{m} seq {seq}: stored {value}, sent {seq / 10}"
            out.append((m["site"], m["node"], m["device"], seq))
    return out
