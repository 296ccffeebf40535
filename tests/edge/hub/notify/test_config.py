"""The `channels:` list: each type's keys, defaults, secrets from files and the environment, errors."""

from __future__ import annotations

import pytest

from edge.config.schema import ConfigError, validate
from edge.hub.notify import make_channel
from edge.hub.notify.config import CHANNELS, Secret

WECOM = {"id": "gate-group", "type": "wecom",
         "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-secret-key"}


def errors_of(raw: list) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate(CHANNELS, raw, "hub.yaml")
    return info.value.errors


def test_defaults_per_type():
    (cfg,) = validate(CHANNELS, [WECOM])
    assert cfg["timeout_seconds"] == 10.0
    assert cfg["rate_limit"] == {"messages": 20, "per_seconds": 60.0}
    assert isinstance(cfg["url"], Secret) and cfg["url"].value == WECOM["url"]
    feishu, mail, hook = validate(CHANNELS, [
        {"id": "f", "type": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/abc"},
        {"id": "m", "type": "email", "host": "smtp.school.cn", "security": "ssl", "from": "a@school.cn",
         "to": ["b@school.cn"]},
        {"id": "w", "type": "webhook", "url": "http://10.0.0.5/hooks/campus"},
    ])
    assert make_channel(feishu).rate_limit == (5, 3.0)  # Feishu's 100/min and 5/s, in one window
    assert mail["port"] == 465 and mail["rate_limit"] is None and mail["timeout"] == 30.0
    assert make_channel(hook).rate_limit is None


def test_rate_limit_override():
    (cfg,) = validate(CHANNELS, [{**WECOM, "rate_limit": {"messages": 10, "per_seconds": 60}}])
    ch = make_channel(cfg)
    assert ch.rate_limit == (10, 60.0)
    ch.close()


def test_secrets_never_shown():
    (cfg,) = validate(CHANNELS, [{**WECOM, "mentioned_mobile_list": ["13800001111"]}])
    ch = make_channel(cfg)
    for shown in (repr(cfg), str(cfg), repr(ch)):
        assert "secret-key" not in shown
    ch.close()
    errs = errors_of([{**WECOM, "url": "ftp://x/cgi-bin/webhook/send?key=secret-key"}])
    assert errs == ["[0].url: expected an http:// or https:// URL (not shown: it is secret)"]
    errs = errors_of([{**WECOM, "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?token=secret-key"}])
    assert "no key= parameter" in errs[0] and "secret-key" not in errs[0]


def test_secret_from_environment(monkeypatch):
    monkeypatch.setenv("WECOM_KEY", "k-from-env")
    (cfg,) = validate(CHANNELS, [{**WECOM, "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}"}])
    assert cfg["url"].value.endswith("key=k-from-env")
    monkeypatch.delenv("WECOM_KEY")
    errs = errors_of([{**WECOM, "url": "https://x/cgi-bin/webhook/send?key=${WECOM_KEY}"}])
    assert errs == ["[0].url: environment variable WECOM_KEY is not set"]


def test_secret_and_password_files(tmp_path):
    (tmp_path / "ding.secret").write_text("SECabc\n")
    (tmp_path / "smtp.pw").write_text("pw 123\n")
    ding, mail = validate(CHANNELS, [
        {"id": "office", "type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t",
         "secret_file": str(tmp_path / "ding.secret")},
        {"id": "head", "type": "email", "host": "smtp.school.cn", "port": 465, "security": "ssl",
         "username": "alerts", "password_file": str(tmp_path / "smtp.pw"), "from": "alerts@school.cn",
         "to": ["head@school.cn"]},
    ])
    assert ding["secret"].value == "SECabc" and "secret_file" not in ding
    assert mail["password"].value == "pw 123" and "pw 123" not in repr(mail)
    errs = errors_of([{"id": "office", "type": "dingtalk", "url": "https://o/robot/send?access_token=t",
                       "secret_file": str(tmp_path / "missing.secret")}])
    assert errs == [f"[0].secret_file: cannot read {tmp_path / 'missing.secret'}: No such file or directory"]
    errs = errors_of([{"id": "office", "type": "dingtalk", "url": "https://o/robot/send?access_token=t",
                       "secret": "a", "secret_file": str(tmp_path / "ding.secret")}])
    assert errs == ["[0]: give secret or secret_file, not both"]


def test_every_mistake_with_its_place():
    errs = errors_of([
        {"id": "a", "type": "sms", "url": "x"},
        {"id": "b", "type": "email", "host": "h", "from": "not-an-address", "to": [], "username": "u"},
        {"id": "b", "type": "webhook", "url": "http://h/x", "colour": "red"},
        {"type": "feishu", "url": "https://h/open-apis/bot/v2/hook/t", "timeout_seconds": 0},
    ])
    assert "[0].type: expected one of wecom, dingtalk, feishu, email, webhook, got 'sms'" in errs
    assert "[1].from: expected an e-mail address, got 'not-an-address'" in errs
    assert "[1].to: needs at least 1 item(s)" in errs
    assert any(e.startswith("[2].colour: unknown key") for e in errs)
    assert "[3].id: is required" in errs
    assert "[3].timeout_seconds: must be at least 1, got 0" in errs


def test_email_login_needs_password_and_ids_are_unique():
    errs = errors_of([
        {"id": "m", "type": "email", "host": "h", "from": "a@b.cn", "to": ["c@d.cn"], "username": "u"},
    ])
    assert errs == ["[0]: username needs a password or password_file"]
    errs = errors_of([
        {"id": "m", "type": "email", "host": "h", "from": "a@b.cn", "to": ["c@d.cn"], "username": "u",
         "password": "p", "security": "none"},
    ])
    assert len(errs) == 1 and errs[0].startswith("[0].security: a login over `none`")
    errs = errors_of([WECOM, {**WECOM}])
    assert errs == ["[1].id: 'gate-group' is already used by [0]"]


def test_empty_or_missing_list_is_no_channels():
    assert validate(CHANNELS, None) == []
    assert validate(CHANNELS, []) == []


def test_docs_channel_keys_are_current():
    from pathlib import Path

    from edge.hub.notify.config import describe_types

    doc = (Path(__file__).parents[4] / "docs" / "notifications.md").read_text(encoding="utf-8")
    section = doc.split("<!-- channel-keys:begin -->\n", 1)[1].split("\n<!-- channel-keys:end -->", 1)[0]
    hint = "regenerate with: python -m edge.hub.notify.config"
    assert section == "\n".join(describe_types()), hint
