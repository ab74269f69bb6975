"""Senders: one notice out over e-mail (SMTP), a 企业微信 or 钉钉 group robot, or a JSON webhook.

Each sender either returns a line saying what the other side accepted, or raises DeliveryError saying
whether trying again later can help: a refused connection, a timeout, a 5xx or a "busy" errcode can;
a 4xx, a malformed address or an errcode for a bad token or signature cannot, and retrying only spams
the log. Details are written for the people who read the deliveries list (Chinese), and never carry
a robot's key or a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote_plus, urljoin, urlsplit

import httpx

from db.settings import Settings

KINDS = {"email": "电子邮件", "wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人", "webhook": "通用 Webhook"}
# Robot errcodes that say "not now" rather than "never": system busy, sending too fast.
RETRYABLE_ERRCODES = {-1, 45009, 130101}
# A robot's markdown message holds 4096 bytes (企业微信) / about 5000 characters (钉钉); a notice
# body longer than this is cut, and the link still reaches the whole case.
BODY_CHARS = 1500


class DeliveryError(Exception):
    """A send that did not go through; `retry` says whether a later attempt can succeed."""

    def __init__(self, detail: str, *, retry: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry = retry


@dataclass(frozen=True)
class OutgoingNotice:
    """What goes out: the notice's words, its absolute link, and the outbox row it came from (which
    names the message, so a resend after a crash can be recognised by the receiver)."""

    outbox_id: int
    title: str
    body: str
    link: str
    case_number: str = ""
    notice_id: int | None = None
    case_id: int | None = None
    test: bool = False

    @property
    def reference(self) -> str:
        return f"{'test' if self.test else 'notice'}-{self.outbox_id}"


def absolute_link(settings: Settings, link: str) -> str:
    """'/case/12' on the configured public address; an empty link is the site itself."""
    base = settings.public_base_url.rstrip("/") + "/"
    return urljoin(base, link.lstrip("/")) if link else base


def message_id(settings: Settings, notice: OutgoingNotice) -> str:
    """Stable per outbox row: a resend of the same row carries the same Message-ID."""
    host = urlsplit(settings.public_base_url).hostname or "gongzhi.localhost"
    return f"<gongzhi.{notice.reference}@{host}>"


def _short_body(notice: OutgoingNotice) -> str:
    body = notice.body.strip()
    return body if len(body) <= BODY_CHARS else body[:BODY_CHARS] + "……"


# ---- e-mail


def email_message(settings: Settings, to: str, notice: OutgoingNotice, now: datetime) -> EmailMessage:
    """The e-mail: a Chinese subject and body in UTF-8, the absolute link, a stable Message-ID."""
    msg = EmailMessage()
    msg["Subject"] = f"【共治】{notice.title}"
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(settings, notice)
    msg["X-Gongzhi-Delivery"] = notice.reference
    lines = [notice.title, ""]
    if notice.body.strip():
        lines += [notice.body.strip(), ""]
    if notice.case_number:
        lines.append(f"案件编号：{notice.case_number}")
    lines += [f"查看详情：{notice.link}", "", "——", "本邮件由共治系统自动发送，请勿直接回复。"]
    msg.set_content("\n".join(lines), charset="utf-8")
    return msg


def _smtp_code_error(code: int, what: str) -> DeliveryError:
    # SMTP's own rule: 4xx is transient, 5xx permanent.
    return DeliveryError(f"邮件服务器{what}（{code}）", retry=400 <= code < 500)


def send_email(settings: Settings, to: str, notice: OutgoingNotice, now: datetime) -> str:
    if not settings.smtp_host:
        raise DeliveryError("未配置邮件服务器（GONGZHI_SMTP_HOST）", retry=False)
    if not settings.smtp_from:
        raise DeliveryError("未配置发件人地址（GONGZHI_SMTP_FROM）", retry=False)
    msg = email_message(settings, to, notice, now)
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    try:
        with smtp_class(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(msg, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        code = next(iter(exc.recipients.values()))[0] if exc.recipients else 550
        raise _smtp_code_error(code, "拒收该收件人") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"邮件服务器登录失败（{exc.smtp_code}），请检查用户名和密码", retry=False) from exc
    except smtplib.SMTPSenderRefused as exc:
        raise _smtp_code_error(exc.smtp_code, "拒绝发件人") from exc
    except smtplib.SMTPResponseException as exc:
        raise _smtp_code_error(exc.smtp_code, "拒绝发送") from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise DeliveryError("邮件服务器中途断开连接", retry=True) from exc
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(f"邮件服务器证书校验失败：{exc.verify_message}", retry=False) from exc
    except (UnicodeEncodeError, smtplib.SMTPNotSupportedError) as exc:
        raise DeliveryError(f"邮件服务器不支持：{exc}", retry=False) from exc
    except TimeoutError as exc:
        raise DeliveryError(f"连接邮件服务器超时（{settings.smtp_timeout:g}秒）", retry=True) from exc
    except ConnectionRefusedError as exc:
        raise DeliveryError("邮件服务器拒绝连接", retry=True) from exc
    except OSError as exc:
        raise DeliveryError(f"无法连接邮件服务器：{exc.strerror or exc}", retry=True) from exc
    return f"已发送至 {to}（Message-ID {msg['Message-ID']}）"


# ---- HTTP robots and webhooks


def _post(client: httpx.Client, url: str, body: dict, headers: dict[str, str] | None = None) -> httpx.Response:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    try:
        response = client.post(url, content=data,
                               headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    except httpx.TimeoutException as exc:
        raise DeliveryError("对方服务器响应超时", retry=True) from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise DeliveryError("地址无效", retry=False) from exc
    except httpx.ConnectError as exc:
        raise DeliveryError("无法连接对方服务器（连接被拒绝或域名无法解析）", retry=True) from exc
    except httpx.TransportError as exc:
        raise DeliveryError(f"网络错误：{type(exc).__name__}", retry=True) from exc
    status = response.status_code
    if status >= 500 or status in (408, 429):
        raise DeliveryError(f"对方服务器暂时无法处理（HTTP {status}）", retry=True)
    if not 200 <= status < 300:
        raise DeliveryError(f"对方服务器拒绝（HTTP {status}）", retry=False)
    return response


def _robot_reply(response: httpx.Response, name: str) -> str:
    try:
        reply = response.json()
        errcode = int(reply.get("errcode", -999))
    except (ValueError, AttributeError, TypeError) as exc:
        raise DeliveryError(f"{name}返回的不是预期的应答，请检查地址", retry=False) from exc
    if errcode != 0:
        errmsg = str(reply.get("errmsg", ""))[:200]
        raise DeliveryError(f"{name}返回错误 errcode {errcode}：{errmsg}", retry=errcode in RETRYABLE_ERRCODES)
    return f"{name}已接收（HTTP {response.status_code}，errcode 0）"


def wecom_body(notice: OutgoingNotice) -> dict:
    lines = [f"**{notice.title}**"]
    if notice.body.strip():
        lines.append(_short_body(notice))
    if notice.case_number:
        lines.append(f"> 案件编号：{notice.case_number}")
    lines.append(f"[查看详情]({notice.link})")
    return {"msgtype": "markdown", "markdown": {"content": "\n".join(lines)}}


def send_wecom(client: httpx.Client, url: str, notice: OutgoingNotice) -> str:
    return _robot_reply(_post(client, url, wecom_body(notice)), "企业微信")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉's signature: base64 of HMAC-SHA256 over "timestamp\\nsecret" keyed by the secret, URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_body(notice: OutgoingNotice) -> dict:
    parts = [f"#### {notice.title}"]
    if notice.body.strip():
        parts.append(_short_body(notice))
    if notice.case_number:
        parts.append(f"> 案件编号：{notice.case_number}")
    parts.append(f"[查看详情]({notice.link})")
    return {"msgtype": "markdown", "markdown": {"title": notice.title, "text": "\n\n".join(parts)}}


def send_dingtalk(client: httpx.Client, url: str, secret: str | None, notice: OutgoingNotice,
                  wall_ms: Callable[[], int] | None = None) -> str:
    if secret:
        # 钉钉 refuses a timestamp more than an hour from its own clock, so this is the wall clock,
        # not the injected one a simulation may have moved.
        ts = wall_ms() if wall_ms else int(time.time() * 1000)
        url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
    return _robot_reply(_post(client, url, dingtalk_body(notice)), "钉钉")


def webhook_body(notice: OutgoingNotice) -> dict:
    return {"type": "test" if notice.test else "notice", "delivery": notice.reference,
            "notice_id": notice.notice_id, "case_id": notice.case_id, "case_number": notice.case_number,
            "title": notice.title, "body": notice.body, "link": notice.link}


def send_webhook(client: httpx.Client, url: str, secret: str | None, notice: OutgoingNotice) -> str:
    body = webhook_body(notice)
    headers = {"X-Gongzhi-Delivery": notice.reference}
    if secret:
        # Optional: the receiver may check the body came from us (HMAC-SHA256 of the exact bytes).
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers["X-Gongzhi-Signature"] = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    response = _post(client, url, body, headers)
    return f"对方已接收（HTTP {response.status_code}）"


def http_client(settings: Settings) -> httpx.Client:
    """One client per worker round: short timeouts (a send must stay far inside its lease), no redirects
    (a robot that redirects is misconfigured)."""
    timeout = httpx.Timeout(settings.notify_http_timeout, connect=min(3.0, settings.notify_http_timeout))
    return httpx.Client(timeout=timeout, follow_redirects=False)


def send(settings: Settings, client: httpx.Client, *, kind: str, target: str, secret: str | None,
         notice: OutgoingNotice, now: datetime) -> str:
    """Send one notice over one channel; what the other side said, or DeliveryError."""
    if kind == "email":
        return send_email(settings, target, notice, now)
    if kind == "wecom":
        return send_wecom(client, target, notice)
    if kind == "dingtalk":
        return send_dingtalk(client, target, secret, notice)
    if kind == "webhook":
        return send_webhook(client, target, secret, notice)
    raise DeliveryError(f"未知的渠道类型 {kind!r}", retry=False)


# ---- what a person may configure

EMAIL_SHAPE = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
TARGET_MAX = 500
SECRET_MAX = 200


def validate(kind: str, target: str, secret: str | None) -> dict[str, str]:
    """field -> a Chinese message, for each field that cannot be saved as typed (empty when all is well)."""
    errors: dict[str, str] = {}
    target, secret = (target or "").strip(), (secret or "").strip()
    if kind not in KINDS:
        errors["kind"] = "请选择渠道类型：电子邮件、企业微信、钉钉或通用 Webhook"
        return errors
    if not target:
        errors["target"] = "请填写邮箱地址" if kind == "email" else "请填写机器人或 Webhook 的地址"
    elif len(target) > TARGET_MAX:
        errors["target"] = f"地址过长（不超过{TARGET_MAX}个字符）"
    elif kind == "email":
        if len(target) > 254 or not EMAIL_SHAPE.match(target):
            errors["target"] = "邮箱地址格式不正确，例如 liaison@example.gov.cn"
    else:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors["target"] = "地址须以 http:// 或 https:// 开头，例如 https://oapi.dingtalk.com/robot/send?access_token=…"
        elif any(c.isspace() for c in target):
            errors["target"] = "地址中不能有空格"
    if secret:
        if kind in ("email", "wecom"):
            errors["secret"] = "电子邮件和企业微信渠道不使用密钥，请留空"
        elif len(secret) > SECRET_MAX:
            errors["secret"] = f"密钥过长（不超过{SECRET_MAX}个字符）"
    return errors


def shown_target(kind: str, target: str) -> str:
    """The target as a page shows it: a robot's key or token in the URL is cut to its last 4 characters."""
    if kind == "email":
        return target
    parts = urlsplit(target)
    if not parts.query:
        return target
    shown = []
    for pair in parts.query.split("&"):
        name, sep, value = pair.partition("=")
        shown.append(f"{name}{sep}…{value[-4:]}" if sep and len(value) > 8 else pair)
    return parts._replace(query="&".join(shown)).geturl()
