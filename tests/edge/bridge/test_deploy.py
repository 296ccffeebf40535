"""deploy/: every file parses, configs validate, dashboards are current, the Mosquitto policy really runs.

The compose file is not run here (no Docker on the build machine); its structure is checked instead.
"""

import getpass
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from edge.bridge.config import load_bridge_config
from edge.broker import free_port, wait_port
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


def test_every_yaml_and_json_file_parses():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.json"))
    assert len(files) >= 9
    for f in files:
        (json.loads if f.suffix == ".json" else yaml.safe_load)(f.read_text())


def test_compose_stack_is_complete_and_its_files_exist():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"mosquitto", "influxdb", "grafana", "bridge"}
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./") and not src.endswith("/passwd"):  # passwd: made by mosquitto_passwd
                assert (DEPLOY / src).exists(), f"{name}: {src} missing"
        assert "image" in svc or (ROOT / svc["build"]["dockerfile"]).exists()
    assert set(compose["volumes"]) >= {"influxdb-data", "bridge-data", "mosquitto-data"}
    env = dict(line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines()
               if line and not line.startswith("#"))
    used = set(re.findall(r"\$\{(\w+)", (DEPLOY / "compose.yaml").read_text()))
    assert used <= set(env)


@pytest.mark.parametrize("name", ["bridge.yaml", "bridge.compose.yaml"])
def test_bridge_configs_validate(name):
    cfg = load_bridge_config(DEPLOY / "bridge" / name)
    assert cfg["sink"]["type"] == "influxdb" and cfg["share_group"] == "bridges"


def test_grafana_provisioning_and_dashboards_are_current():
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/influxdb.yaml").read_text())
    source = ds["datasources"][0]
    assert source["type"] == "influxdb" and source["jsonData"]["version"] == "Flux"
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/campus.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/campus-edge"
    sys.path.insert(0, str(DEPLOY / "grafana"))
    try:
        import dashboards
    finally:
        sys.path.pop(0)
    for name, text in dashboards.render().items():
        assert (DEPLOY / "grafana/dashboards" / name).read_text() == text, \
            f"{name} is stale: run python deploy/grafana/dashboards.py"
        for panel in json.loads(text)["panels"]:
            assert panel["datasource"]["uid"] == source["uid"]
            query = panel["targets"][0]["query"]
            assert re.search(r'r\._measurement == "(electricity_meter|water_meter|event|agent)"', query)
            assert query.index("import") < query.index("from(") if "import" in query else True


def test_systemd_unit_runs_the_bridge():
    unit = (DEPLOY / "systemd/campus-edge-bridge@.service").read_text()
    assert "ExecStart=/opt/campus-edge/.venv/bin/campus-edge bridge -c /etc/campus-edge/%i.yaml" in unit
    assert "RestartPreventExitStatus=2" in unit


def test_mosquitto_policy_runs_and_lets_the_bridge_read_a_node(tmp_path):
    port = free_port()
    passwd = tmp_path / "passwd"
    for user in ("bridge", "node-1"):
        create = [] if passwd.exists() else ["-c"]
        subprocess.run(["mosquitto_passwd", "-b", *create, str(passwd), user, "pw"], check=True,
                       capture_output=True)
    conf = (DEPLOY / "mosquitto/campus.conf").read_text()
    conf = conf.replace("/etc/mosquitto/passwd", str(passwd))
    conf = conf.replace("/etc/mosquitto/campus.acl", str(DEPLOY / "mosquitto/campus.acl"))
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    # started as root, Mosquitto would drop to user `mosquitto`, which cannot read our temp directory
    (tmp_path / "m.conf").write_text(conf + f"persistence true\npersistence_location {tmp_path}/\n"
                                     f"user {getpass.getuser()}\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "m.conf")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        wait_port("127.0.0.1", port)
        got: list[tuple[str, bytes]] = []
        clients = {}
        for user in ("bridge", "node-1"):
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{user}", protocol=mqtt.MQTTv5)
            c.username_pw_set(user, "pw")
            c.on_message = lambda cl, u, m: got.append((m.topic, m.payload))
            c.connect("127.0.0.1", port)
            c.loop_start()
            clients[user] = c
        clients["bridge"].subscribe("$share/bridges/campus/+/+/+/telemetry", qos=1)
        time.sleep(0.3)
        clients["node-1"].publish("campus/s/node-1/m1/telemetry", b"{}", qos=1).wait_for_publish(5)
        # not its own node: the ACL drops it
        clients["node-1"].publish("campus/s/node-2/m1/telemetry", b"{}", qos=1).wait_for_publish(5)
        wait_for(lambda: got, 5, "the node's telemetry at the bridge")
        time.sleep(0.3)
        assert got == [("campus/s/node-1/m1/telemetry", b"{}")]
        for c in clients.values():
            c.disconnect()
            c.loop_stop()
    finally:
        proc.kill()
        proc.wait(5)
