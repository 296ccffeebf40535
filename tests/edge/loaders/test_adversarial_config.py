"""Issue #9: clumsy and hostile config files. Each is a config error naming its place, exit 2, no
traceback, from `campus-edge check-config` and from `campus-edge agent` alike (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.loaders.agent import RESERVED_DEVICE_IDS, TOPIC_WORDS

pytestmark = pytest.mark.adversarial

ROOT = Path(__file__).resolve().parents[3]
RELAY = "{id: r1, kind: relay, driver: gpio, pin: 17}"


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GPIOZERO_PIN_FACTORY": "mock"}
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)


def config(tmp_path: Path, body: str, storage: str | None = None) -> Path:
    f = tmp_path / "agent.yaml"
    path = storage or str(tmp_path / "agent.db")
    f.write_text("site: s1\n" + body + f"\nmqtt: {{host: 127.0.0.1, port: 9}}\nstorage: {{path: '{path}'}}\n")
    return f


def refused(f: Path, *expected: str) -> None:
    """check-config and the agent both exit 2, print every expected text, and no traceback."""
    for args in (["check-config", str(f)], ["agent", "-c", str(f)]):
        r = cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
        for text in expected:
            assert text in r.stderr, (text, r.stderr)


def test_a_binary_file_is_a_config_error():
    r = cli("check-config", "/bin/ls")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "not UTF-8 text" in r.stderr


def test_a_list_as_kind_and_a_5000_digit_site(tmp_path):
    refused(config(tmp_path, f"node: n1\ndevices:\n  - {{id: a, kind: [x], driver: gpio}}\n  - {RELAY}"),
            "devices[0].kind: expected a string, got a list")
    f = tmp_path / "huge.yaml"
    f.write_text("site: " + "9" * 5000 + "\nnode: n1\n")
    r = cli("check-config", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "line 1: cannot read this value" in r.stderr
    f.write_text("site: '" + "9" * 5000 + "'\nnode: n1\n")  # as text: a topic segment 5,000 long
    r = cli("check-config", str(f))
    assert r.returncode == 2 and "site: use 1 to 64 lower-case letters" in r.stderr and len(r.stderr) < 500


def test_node_group_would_obey_the_site_group_commands(tmp_path):
    refused(config(tmp_path, f"node: group\ndevices:\n  - {RELAY}"),
            "node: 'group' is reserved for the site-wide group commands")


@pytest.mark.parametrize("word", sorted(RESERVED_DEVICE_IDS))
def test_topic_words_are_not_device_ids(tmp_path, word):
    assert set(TOPIC_WORDS) <= set(RESERVED_DEVICE_IDS)
    f = config(tmp_path, f"node: n1\ndevices:\n  - {{id: {word}, kind: relay, driver: gpio, pin: 17}}")
    r = cli("check-config", str(f))
    assert r.returncode == 2 and f"devices[0].id: '{word}' is reserved for" in r.stderr


def test_the_same_meter_address_twice_on_one_port(tmp_path):
    meter = "{{id: {id}, kind: electricity_meter, driver: dlt645, port: /dev/ttyUSB0, address: '{a}'}}"
    body = "node: n1\ndevices:\n" + "\n".join(
        "  - " + meter.format(id=i, a=a) for i, a in (("m1", "000000000161"), ("m2", "000000000162"),
                                                       ("m3", "000000000161")))
    refused(config(tmp_path, body),
            "devices[2].address: '000000000161' is already used by devices[0] on the same port /dev/ttyUSB0")


def test_storage_path_that_cannot_be_written(tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    cases = {
        str(tmp_path / "a-dir"): "is a directory",
        str(tmp_path / "a-file" / "sub" / "agent.db"): "a-file is a file, so nothing can be created under it",
        # read-only for root too (a chmod 555 directory is not, when the suite runs as root)
        "/proc/sys/campus-edge/agent.db": "cannot create files in /proc/sys",
    }
    for path, text in cases.items():
        refused(config(tmp_path, f"node: n1\ndevices:\n  - {RELAY}", storage=path), f"storage.path: {path}",
                text)


@pytest.mark.parametrize("secret", ["change-me", "changeme", "", "  ", "CHANGE_ME"])
def test_placeholder_password_is_refused(tmp_path, secret):
    f = tmp_path / "agent.yaml"
    f.write_text(f"site: s1\nnode: n1\nmqtt: {{host: 127.0.0.1, username: s1.n1, password: '{secret}'}}\n"
                 f"storage: {{path: {tmp_path / 'a.db'}}}\n")
    refused(f, "mqtt.password: ", "is a placeholder, not a secret")


def test_shipped_bridge_configs_refuse_to_start_until_their_secrets_are_set():
    for name in ("bridge.yaml", "bridge.compose.yaml"):
        r = cli("bridge", "-c", str(ROOT / "deploy/bridge" / name))
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "mqtt.password: 'change-me' is a placeholder" in r.stderr
        assert "sink.token: 'change-me-token' is a placeholder" in r.stderr
