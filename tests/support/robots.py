"""The local robot server now lives in the package (simulators/robots.py: the demo and the benchmarks use
it too); the tests keep importing it from here."""

from simulators.robots import (  # noqa: F401 (re-exported)
    CHECKS,
    OK_REPLY,
    RATE_LIMIT_REPLY,
    SERVICES,
    Received,
    RobotServer,
    check_dingtalk,
    check_feishu,
    check_webhook,
    check_wecom,
    service_of,
)
