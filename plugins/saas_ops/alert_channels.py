"""Where alerts go (alerts.dispatch picks the channels): Slack's webhook, email (Resend or SMTP) and PagerDuty, or
without their connections the local outbox folder, which is the local mode and says so.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import threading
from typing import Any

from saas_ops.alert_message import Alert
from saas_ops.db import optional_connection
from saas_ops.resend_api import RESEND_CONN_ID

log = logging.getLogger(__name__)

SLACK_CONN_ID = "slack_alerts"
SMTP_CONN_ID = "smtp_default"
PAGERDUTY_CONN_ID = "pagerduty_default"

_outbox_lock = threading.Lock()


def write_outbox(channel: str, payload: dict[str, Any]) -> str:
    """Local mode: appends the message to <LOCAL_DIR>/outbox/<channel>.jsonl; returns the file."""
    from saas_ops import config
    from saas_ops.storage import open_private

    path = config.local_dir() / "outbox" / f"{channel}.jsonl"
    with _outbox_lock, open_private(path, "a") as fh:
        fh.write(json.dumps({"at": dt.datetime.now(dt.UTC).isoformat(), **payload}) + "\n")
    return str(path)


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities, so no value becomes a mention (`<!channel>`) or a link:
    every message goes through here (send_slack)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_slack(text: str) -> str:
    """Posts `text` to the slack_alerts webhook, or to the local outbox without it. The pack's messages use no
    Slack markup, so the whole text is escaped."""
    text = slack_escape(text)
    if optional_connection(SLACK_CONN_ID) is None:
        where = write_outbox("slack", {"text": text})
        log.info("saas_ops: no %s connection (local mode): Slack message written to %s", SLACK_CONN_ID, where)
        return where
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    # The Slack SDK logs the webhook URL, the token in it, at DEBUG and on every retry at INFO: its own logger
    # keeps warnings and errors only (neither names the URL).
    sdk_log = logging.getLogger("saas_ops.slack_sdk")
    sdk_log.setLevel(logging.WARNING)
    response = SlackWebhookHook(slack_webhook_conn_id=SLACK_CONN_ID, timeout=10, logger=sdk_log).send(text=text)
    if response.status_code >= 300:
        raise RuntimeError(f"Slack webhook answered {response.status_code}: {response.body[:200]}")
    return "Slack"


def _slack(alert: Alert) -> str:
    return send_slack(alert.text())


def _email(alert: Alert) -> str:
    from saas_ops import config

    recipients = [a.strip() for a in config.setting("ALERT_EMAILS").split(",") if a.strip()]
    if not recipients:
        return "nowhere (the ALERT_EMAILS setting is empty)"
    from saas_ops.untrusted import one_line

    subject = one_line(f"[{alert.severity}] {alert.title}", 250)  # a header: never a line break
    return send_email(config.setting("ALERT_EMAIL_FROM"), recipients, subject, alert.text(),
                      idempotency_key=f"alert/{alert.kind}/{alert.dag_id}/{alert.run_id}/{alert.task_id}/"
                                      f"{alert.try_number}")


def send_email(sender: str, recipients: list[str], subject: str, text: str, *, html_body: str | None = None,
               idempotency_key: str | None = None, outbox_folder: str = "alert_emails") -> str:
    """Sends an email through Resend (resend_default), else SMTP (smtp_default), else writes it to the local
    outbox (<LOCAL_DIR>/outbox/<outbox_folder>/); `subject` must be one line. Returns where it went."""
    if optional_connection(RESEND_CONN_ID) is not None:
        from saas_ops import resend_api

        resend_api.send_email(sender=sender, to=recipients, subject=subject, text=text, html=html_body,
                              idempotency_key=idempotency_key)
        return "Resend"
    if optional_connection(SMTP_CONN_ID) is not None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=SMTP_CONN_ID) as smtp:
            smtp.send_email_smtp(to=recipients, subject=subject, from_email=sender,
                                 html_content=html_body or f"<pre>{html.escape(text)}</pre>")
        return "SMTP"
    where = _write_eml(outbox_folder, sender, recipients, subject, text, html_body)
    log.info("saas_ops: no %s or %s connection (local mode): email written to %s", RESEND_CONN_ID, SMTP_CONN_ID,
             where)
    return where


def _write_eml(folder: str, sender: str, recipients: list[str], subject: str, body: str,
               html_body: str | None = None) -> str:
    from email.message import EmailMessage

    from saas_ops import config

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(recipients), subject
    message.set_content(body)
    if html_body:
        message.add_alternative(html_body, subtype="html")
    from saas_ops.storage import write_private

    path = config.local_dir() / "outbox" / folder / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}.eml"
    write_private(path, bytes(message))
    return str(path)


def _pagerduty(alert: Alert) -> str:
    """PagerDuty Events API v2 through the provider's events hook (its async one: the only one whose address can
    be set, from the connection's host, e.g. a proxy); dedup_key per DAG run, so repeats fold into one incident."""
    from airflow.providers.pagerduty.hooks.pagerduty_events import PagerdutyEventsAsyncHook, prepare_event_data

    event = {"summary": f"[{alert.severity}] {alert.title}"[:1024], "source": alert.dag_id,
             "severity": "critical" if alert.severity == "P0" else "error",
             "dedup_key": f"saas_ops/{alert.dag_id}/{alert.run_id}", "custom_details": {"text": alert.text()},
             "links": [{"href": alert.log_url, "text": "task log"}] if alert.log_url else None}
    conn = optional_connection(PAGERDUTY_CONN_ID)
    if conn is None:
        where = write_outbox("pagerduty", prepare_event_data(**event, action_key_name="event_action"))
        log.info("saas_ops: no %s connection (local mode): page written to %s", PAGERDUTY_CONN_ID, where)
        return where
    import asyncio

    hook = PagerdutyEventsAsyncHook(integration_key=conn.password)
    if conn.host and "://" in conn.host:
        hook.base_url = conn.host.rstrip("/")
    asyncio.run(hook.send_event(**event))  # callbacks run without an event loop; the deadline one in a thread
    return "PagerDuty"


SENDERS = {"slack": _slack, "email": _email, "pagerduty": _pagerduty}
