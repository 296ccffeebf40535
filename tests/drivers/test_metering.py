"""What every meter driver shares: counters, alerts fed from readings, detector memory across restarts.

The publisher is the driver's; the detectors are attached by edge.processors.meters, as the agent does."""

from datetime import datetime

from tests.drivers.metering_support import RecordingContext, device_config

HOLIDAY = "2026-05-01"


class Publisher:
    """A meter's publisher with the alerts the agent attaches to it."""

    def __init__(self, cfg, ctx):
        from drivers.metering import MeterPublisher
        from edge.processors.meters import AlertingContext, MeterAlerts

        self.alerts = MeterAlerts(cfg, ctx)
        self.pub = MeterPublisher(cfg, AlertingContext(ctx, self.alerts))

    def publish(self, values, ts_ms=None):
        self.pub.publish(values, ts_ms)

    def save_alerts(self):
        self.alerts.save()


def publisher(store):
    cfg = device_config({"id": "m", "kind": "electricity_meter", "driver": "dlt645", "port": "/dev/null",
                         "address": "000000000161",
                         "after_hours": {"baseload_w": 500, "holidays": [HOLIDAY], "min_minutes": 10,
                                         "timezone": "UTC"}})
    ctx = RecordingContext("m", store=store)
    return Publisher(cfg, ctx), ctx


def test_after_hours_load_reaches_the_device_events_and_its_memory_survives():
    store: dict = {}
    pub, ctx = publisher(store)
    t0 = int(datetime.fromisoformat(f"{HOLIDAY}T10:00:00+00:00").timestamp() * 1000)
    for minute in range(0, 12):  # 3 kW all morning on a holiday: 0.05 kWh a minute
        pub.publish({"energy_kwh": 100 + 0.05 * minute, "power_w": 3000.0}, t0 + minute * 60_000)
    ev = [f for t, f in ctx.events if t == "after_hours_load"]
    assert len(ev) == 1 and ev[0]["power_w"] == 3000.0 and ev[0]["baseload_w"] == 500.0
    pub.save_alerts()
    again, ctx2 = publisher(store)  # a restart: the episode is remembered, no second alert
    again.publish({"energy_kwh": 100 + 0.05 * 12, "power_w": 3000.0}, t0 + 12 * 60_000)
    assert ctx2.events == []


def test_counter_backwards_is_one_event_and_remembered_across_restarts():
    store: dict = {}
    pub, ctx = publisher(store)
    pub.publish({"energy_kwh": 500.0})
    again, ctx2 = publisher(store)
    again.publish({"energy_kwh": 2.0})
    again.publish({"energy_kwh": 2.5})
    assert ctx2.events == [("counter_reset", {"counter": "energy_kwh", "previous": 500.0, "current": 2.0})]
    assert [t["energy_kwh"] for t in ctx2.telemetries] == [2.0, 2.5]


def test_alerts_follow_the_agents_time_zone_unless_they_name_their_own():
    from edge.processors.meters import MeterAlerts

    def hours_at(tz_agent, tz_alert):
        ah = {"baseload_w": 500, "min_minutes": 10, **({"timezone": tz_alert} if tz_alert else {})}
        cfg = device_config({"id": "m", "kind": "electricity_meter", "driver": "dlt645", "port": "/dev/null",
                             "address": "000000000161", "after_hours": ah})
        return MeterAlerts(cfg, RecordingContext("m", timezone=tz_agent)).detectors["after_hours"].tz

    assert str(hours_at("Asia/Shanghai", None)) == "Asia/Shanghai"
    assert str(hours_at("Asia/Shanghai", "UTC")) == "UTC"
    assert hours_at(None, None) is None  # the system's zone
