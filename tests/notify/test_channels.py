"""Each sender against a real receiver on loopback: what arrives, and which failures say a retry can help."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import pytest

from api.notify.channels import (
    DeliveryError,
    OutgoingNotice,
    absolute_link,
    dingtalk_sign,
    http_client,
    send,
    shown_target,
    validate,
)
from tests.notify.conftest import DING_SECRET, free_port, make_settings

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
NOTICE = OutgoingNotice(outbox_id=41, title="移送事项待接收", body="贵阳市生态环境局移送的问题请于3个工作日内接收。",
                        link="https://gongzhi.example.gov.cn/case/7", case_number="移送-2026-0001", notice_id=3,
                        case_id=7)


def _send(settings, kind, target, secret=None, notice=NOTICE):
    with http_client(settings) as client:
        return send(settings, client, kind=kind, target=target, secret=secret, notice=notice, now=NOW)


def test_an_email_is_chinese_utf8_with_an_absolute_link_and_a_message_id_stable_per_row(smtp):
    settings = make_settings(smtp)
    assert absolute_link(settings, "/case/7") == "https://gongzhi.example.gov.cn/case/7"
    detail = _send(settings, "email", "liaison@example.gov.cn")
    _send(settings, "email", "liaison@example.gov.cn")  # the same row again, as after a crash
    assert "liaison@example.gov.cn" in detail
    (to1, first), (_, again) = smtp.messages
    assert to1 == ["liaison@example.gov.cn"]
    assert first["Subject"] == "【共治】移送事项待接收"
    assert first["Message-ID"] == again["Message-ID"] == "<gongzhi.notice-41@gongzhi.example.gov.cn>"
    assert first.get_content_charset() == "utf-8"
    text = first.get_content()
    assert "请于3个工作日内接收" in text and "查看详情：https://gongzhi.example.gov.cn/case/7" in text
    assert "案件编号：移送-2026-0001" in text


def test_email_failures_say_whether_to_retry(smtp):
    with pytest.raises(DeliveryError) as refused:
        _send(make_settings(smtp), "email", "nobody@example.gov.cn")
    assert not refused.value.retry and "550" in refused.value.detail
    with pytest.raises(DeliveryError) as down:
        _send(make_settings(smtp_host="127.0.0.1", smtp_port=free_port()), "email", "liaison@example.gov.cn")
    assert down.value.retry and "拒绝连接" in down.value.detail
    with pytest.raises(DeliveryError) as unset:
        _send(make_settings(), "email", "liaison@example.gov.cn")
    assert not unset.value.retry and "GONGZHI_SMTP_HOST" in unset.value.detail
    assert smtp.messages == []


def test_wecom_gets_markdown_and_its_errcode_is_checked(receiver):
    settings = make_settings()
    assert "errcode 0" in _send(settings, "wecom", receiver.url("/wecom/a", "key=abc"))
    (got,) = receiver.of("/wecom/a")
    assert got["json"]["msgtype"] == "markdown"
    content = got["json"]["markdown"]["content"]
    assert "**移送事项待接收**" in content and "(https://gongzhi.example.gov.cn/case/7)" in content
    receiver.plan("/wecom/a", "errcode:93000", "errcode:45009")
    with pytest.raises(DeliveryError) as bad_key:
        _send(settings, "wecom", receiver.url("/wecom/a"))
    assert not bad_key.value.retry and "93000" in bad_key.value.detail
    with pytest.raises(DeliveryError) as too_fast:
        _send(settings, "wecom", receiver.url("/wecom/a"))
    assert too_fast.value.retry


def test_dingtalk_signs_timestamp_and_secret_and_a_bad_signature_is_not_retried(receiver):
    settings = make_settings()
    url = receiver.url("/dingtalk/a", "access_token=tok")
    assert "errcode 0" in _send(settings, "dingtalk", url, DING_SECRET)
    (got,) = receiver.of("/dingtalk/a")
    assert got["query"]["access_token"] == ["tok"] and got["json"]["markdown"]["title"] == "移送事项待接收"
    with pytest.raises(DeliveryError) as wrong:
        _send(settings, "dingtalk", url, "SECwrong")
    assert not wrong.value.retry and "310000" in wrong.value.detail
    # URL-encoded base64 of a 32-byte digest: no raw '+', '/' or '=' left in the query
    sign = dingtalk_sign("SEC000", 1577808000000)
    assert not set("+/=") & set(sign) and len(base64.b64decode(unquote_plus(sign))) == 32


def test_a_webhook_gets_the_notice_as_json_and_status_codes_decide(receiver):
    settings = make_settings()
    assert "HTTP 200" in _send(settings, "webhook", receiver.url("/webhook/a"), secret="k")
    (got,) = receiver.of("/webhook/a")
    body = got["json"]
    assert body["title"] == "移送事项待接收" and body["case_id"] == 7 and body["link"].startswith("https://")
    assert got["headers"]["X-Gongzhi-Delivery"] == "notice-41"
    import hashlib
    import hmac

    assert got["headers"]["X-Gongzhi-Signature"] == "sha256=" + hmac.new(b"k", got["raw"], hashlib.sha256).hexdigest()
    assert "HTTP 204" in _send(settings, "webhook", receiver.url("/webhook/nocontent"))
    receiver.plan("/webhook/a", "503", "404", "429")
    for retry in (True, False, True):
        with pytest.raises(DeliveryError) as failed:
            _send(settings, "webhook", receiver.url("/webhook/a"))
        assert failed.value.retry is retry
    with pytest.raises(DeliveryError) as refused:
        _send(settings, "webhook", f"http://127.0.0.1:{free_port()}/x")
    assert refused.value.retry
    receiver.plan("/webhook/slow", "hang")
    with pytest.raises(DeliveryError) as slow:
        _send(settings, "webhook", receiver.url("/webhook/slow"))
    assert slow.value.retry and "超时" in slow.value.detail


@pytest.mark.parametrize(("kind", "target", "secret", "field"), [
    ("email", "liaison@example.gov.cn", "", None),
    ("email", "not an address", "", "target"),
    ("email", "a@b", "", "target"),
    ("email", "liaison@example.gov.cn", "x", "secret"),
    ("wecom", "ftp://qyapi.weixin.qq.com/x", "", "target"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "", None),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "SEC" + "x" * 300, "secret"),
    ("webhook", "https://" + "a" * 600 + ".cn/", "", "target"),
    ("webhook", "", "", "target"),
    ("sms", "13800000000", "", "kind"),
])
def test_validation_names_the_field_in_chinese(kind, target, secret, field):
    errors = validate(kind, target, secret)
    assert list(errors) == ([field] if field else [])
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in errors.values())


def test_a_robot_key_is_shortened_when_shown():
    shown = shown_target("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
    assert shown.endswith("key=…5aaa") and "693a91f6" not in shown
    assert shown_target("email", "a@example.cn") == "a@example.cn"


@pytest.fixture
def smtp_auth():
    """An SMTP server that asks for a login (over plain loopback: the test has no certificate)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.notify.conftest import Mailbox

    def authenticator(server, session, envelope, mechanism, auth_data):
        # handled=False: aiosmtpd then answers 535 itself
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"gongzhi", b"s3cret"), handled=False)

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def test_email_signs_in_when_told_to_and_a_wrong_password_is_not_retried(smtp_auth):
    good = make_settings(smtp_auth, smtp_username="gongzhi", smtp_password="s3cret")
    _send(good, "email", "liaison@example.gov.cn")
    assert len(smtp_auth.messages) == 1
    with pytest.raises(DeliveryError) as wrong:
        _send(make_settings(smtp_auth, smtp_username="gongzhi", smtp_password="nope"), "email", "liaison@example.gov.cn")
    assert not wrong.value.retry and "登录失败" in wrong.value.detail
    assert len(smtp_auth.messages) == 1


@pytest.mark.parametrize("overrides", [{"notify_work_hours": "18:00-08:30"}, {"notify_work_hours": "8:30-18:00"},
                                       {"smtp_ssl": True, "smtp_starttls": True}, {"notify_daily_cap": -1}])
def test_settings_refuse_what_cannot_work(overrides):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_settings(**overrides)
    assert make_settings(notify_work_hours="09:00-17:30").work_hours()[1].hour == 17
