"""Deliver alerts: a Slack-compatible webhook (HTTP POST of JSON) and SMTP email, with retries.

Failures are recorded, never raised: a broken alert channel must not fail the pipeline run.
Every delivery (ok or failed) is appended to `_meta/alerts` (catalog `meta.alerts`) with its
channel, event, attempts and the error class or HTTP/SMTP code — and the target's host only,
never a URL path or query (webhook secrets live there) nor a password.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal

import orjson
import pyarrow as pa

from medlake.lake import delta

if TYPE_CHECKING:
    from medlake.config import AlertsConfig, EmailAlertConfig, WebhookAlertConfig
    from medlake.lake.paths import TenantLake
    from medlake.observability.alerts import Alert

Channel = Literal["webhook", "email"]
BACKOFF_S = 0.5  # first wait between attempts; doubled each retry, capped at the attempt timeout

ALERTS_SCHEMA = pa.schema(
    [
        ("tenant", pa.string()),
        ("run_id", pa.string()),
        ("event", pa.string()),
        ("channel", pa.string()),
        ("target", pa.string()),  # host[:port] only
        ("ok", pa.bool_()),
        ("attempts", pa.int64()),
        ("error", pa.string()),  # `HTTP 500`, `SMTP 550`, an error class; null when ok
        ("title", pa.string()),
        ("sent_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class Delivery:
    """One alert sent (or not) on one channel."""

    channel: Channel
    event: str
    tenant: str
    run_id: str
    target: str
    ok: bool
    attempts: int
    error: str | None
    title: str
    sent_at: datetime


class _Retry(Exception):
    """A failure worth another attempt (5xx, 429, a dropped connection, a timeout)."""


def send_alerts(cfg: AlertsConfig, alerts: Sequence[Alert], *, env: Mapping[str, str] = os.environ,
                sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Send each alert whose event `cfg.events` lists to every configured channel; never raises."""
    out: list[Delivery] = []
    for alert in alerts:
        if alert.event not in cfg.events:
            continue
        if cfg.webhook is not None:
            out.append(_webhook(cfg, cfg.webhook, alert, env, sleep))
        if cfg.email is not None:
            out.append(_email(cfg, cfg.email, alert, env, sleep))
    return out


def record_deliveries(lake: TenantLake, deliveries: Sequence[Delivery]) -> None:
    """Append the deliveries to `_meta/alerts`."""
    rows = [{"tenant": d.tenant, "run_id": d.run_id, "event": d.event, "channel": d.channel, "target": d.target,
             "ok": d.ok, "attempts": d.attempts, "error": d.error, "title": d.title, "sent_at": d.sent_at}
            for d in deliveries]
    if rows:
        delta.append(lake.meta("alerts"), pa.Table.from_pylist(rows, schema=ALERTS_SCHEMA), lake.delta_options())


def _attempts(cfg: AlertsConfig, once: Callable[[], None], sleep: Callable[[float], None]) -> tuple[int, str | None]:
    """Call `once` until it succeeds, raises a non-retryable error, or `1 + cfg.retries` attempts."""
    error: str | None = None
    for attempt in range(1, cfg.retries + 2):
        try:
            once()
            return attempt, None
        except _Retry as e:
            error = str(e)
        except Exception as e:  # a terminal failure (4xx, refused login): no retry
            return attempt, _describe(e)
        if attempt <= cfg.retries:
            sleep(min(cfg.timeout_s, BACKOFF_S * 2 ** (attempt - 1)))
    return cfg.retries + 1, error


def _describe(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code}"
    code = getattr(e, "smtp_code", None)
    return f"SMTP {code}" if isinstance(code, int) else type(e).__name__


def _delivery(channel: Channel, alert: Alert, target: str, attempts: int, error: str | None) -> Delivery:
    return Delivery(channel, alert.event, alert.tenant, alert.run_id, target, error is None, attempts, error,
                    alert.title, datetime.now(UTC))


def _webhook(cfg: AlertsConfig, hook: WebhookAlertConfig, alert: Alert, env: Mapping[str, str],
             sleep: Callable[[float], None]) -> Delivery:
    url = hook.url if hook.url is not None else env.get(hook.url_env or "")
    if not url:
        return _delivery("webhook", alert, "", 0, f"environment variable `{hook.url_env}` is not set")
    parts = urllib.parse.urlsplit(url)
    target = parts.hostname or ""
    if parts.port:
        target += f":{parts.port}"
    body = orjson.dumps(alert.slack_payload())

    def once() -> None:
        req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=cfg.timeout_s) as resp:
                resp.read()
        except urllib.error.HTTPError as e:
            if e.code >= 500 or e.code == 429:
                raise _Retry(f"HTTP {e.code}") from None
            raise
        except (urllib.error.URLError, OSError) as e:
            raise _Retry(type(getattr(e, "reason", e)).__name__) from None

    attempts, error = _attempts(cfg, once, sleep)
    return _delivery("webhook", alert, target, attempts, error)


def _email(cfg: AlertsConfig, mail: EmailAlertConfig, alert: Alert, env: Mapping[str, str],
           sleep: Callable[[float], None]) -> Delivery:
    target = f"{mail.host}:{mail.port}"
    password = env.get(mail.password_env) if mail.password_env else None
    if mail.password_env and password is None:
        return _delivery("email", alert, target, 0, f"environment variable `{mail.password_env}` is not set")
    msg = alert.email(mail.sender, mail.to)

    def once() -> None:
        try:
            with smtplib.SMTP(mail.host, mail.port, timeout=cfg.timeout_s) as smtp:
                if mail.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if mail.username:
                    smtp.login(mail.username, password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused):
            raise
        except smtplib.SMTPResponseException as e:
            if 400 <= e.smtp_code < 500:  # a transient SMTP reply
                raise _Retry(f"SMTP {e.smtp_code}") from None
            raise
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            raise _Retry(type(e).__name__) from None

    attempts, error = _attempts(cfg, once, sleep)
    return _delivery("email", alert, target, attempts, error)


def email_message(alert: Alert, sender: str, to: Sequence[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = alert.title
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg.set_content(alert.text() + "\n")
    return msg
