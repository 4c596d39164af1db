"""reengagement_campaigns' send step: every queued `email_sends` row, in batches of up to 100, through Resend
exactly once (campaigns/tasks.py's docstring tells how), or rendered to the outbox folder in dry run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saas_ops.campaigns.recipients import (
    SIGNING_CONN_ID,
    recipient_problem,
    signing_key,
    suppression_reasons,
    unsubscribe_token,
)
from saas_ops.campaigns.render import Rendered, render

if TYPE_CHECKING:
    import psycopg

MAX_ATTEMPTS = 3  # an email refused this many times stays failed
BATCH_SIZE = 100  # Resend's batch endpoint takes at most 100 emails
KEY_FORGOTTEN_AFTER = dt.timedelta(hours=23)  # Resend forgets an idempotency key after 24 hours
EXPIRES_AFTER_DAYS = 2  # a queued email not sent within 2 days of its day is no longer timely


@dataclass
class Outbox:
    """What a send run needs besides the rows: who sends, how fast, where links point, and the mode."""

    schema: str
    source_schema: str
    sender: str
    product: str
    app_url: str
    unsubscribe_url: str
    key: bytes
    dry_run: bool
    requests_per_second: float
    dry_run_folder: Path


class _Pacer:
    """Spaces requests so that no second holds more than `per_second` of them (Resend's limit is per second)."""

    def __init__(self, per_second: float):
        self.interval = 1.02 / per_second  # 2% under the limit: clocks on both ends differ a little
        self.next_at = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next_at:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval


def send_pending(day: dt.date, outbox: Outbox) -> dict[str, Any]:
    """Sends (or renders, in dry-run) every email waiting in the outbox: first the batches a killed run left
    in flight, then new batches of the queued rows and of the failed ones due for another try. Returns counts
    and the problems met; raises after sending everything else when a batch as a whole could not be sent or an
    email could not be rendered."""
    from saas_ops import db

    started = dt.datetime.now(dt.UTC)
    counts = {"sent": 0, "dry_run": 0, "failed": 0, "suppressed": 0, "unknown": 0, "batches": 0, "expired": 0}
    problems: list[str] = []
    pacer = _Pacer(outbox.requests_per_second)
    with db.warehouse(autocommit=True) as wh, db.source() as src:
        counts["expired"] = db.run_sql_file(wh, "campaigns/outbox_expired.sql", {
            "max": MAX_ATTEMPTS, "days": EXPIRES_AFTER_DAYS, "day": day}, schema=outbox.schema)
        for batch_key, first_attempt in db.fetch_sql_file(wh, "campaigns/outbox_batches_in_flight.sql",
                                                          schema=outbox.schema):
            rows = _rows(wh, outbox, "campaigns/outbox_batch.sql", {"batch_key": batch_key})
            if started - first_attempt > KEY_FORGOTTEN_AFTER:
                counts["unknown"] += _finish_unknown(wh, outbox, rows, f"first sent at {first_attempt:%Y-%m-%d %H:%M} "
                                                     "UTC and Resend has forgotten its key since")
                continue
            if not _send_batch(wh, src, outbox, rows, batch_key, pacer, counts, problems, resume=True):
                break
        else:
            while rows := _rows(wh, outbox, "campaigns/outbox_due.sql",
                                {"max": MAX_ATTEMPTS, "started": started, "limit": BATCH_SIZE}):
                if not _send_batch(wh, src, outbox, rows, None, pacer, counts, problems, resume=False):
                    break
    return {"day": day.isoformat(), "mode": "dry_run" if outbox.dry_run else "resend", **counts,
            "problems": problems}


@dataclass
class _Row:
    key: str
    campaign: str
    user_id: str
    variables: dict[str, Any]
    day: dt.date
    variant: str


def _rows(wh: psycopg.Connection, outbox: Outbox, sql_file: str, params: dict[str, Any]) -> list[_Row]:
    """Outbox rows in idempotency-key order: the order a batch's emails are sent in, every time."""
    from saas_ops.db import fetch_sql_file

    return [_Row(*row) for row in fetch_sql_file(wh, sql_file, params, schema=outbox.schema)]


def _recipients(src: psycopg.Connection, wh: psycopg.Connection, outbox: Outbox, rows: list[_Row]
                ) -> dict[str, tuple[str | None, str | None]]:
    """Idempotency key -> (address, why it must not be sent now or None), read when sending: an opt-out or a
    suppression since the email was queued still stops it, and so does a name frozen in the row's variables
    that may not go into an email (a row queued before the check existed)."""
    from saas_ops import untrusted
    from saas_ops.db import fetch_sql_file

    users = {uid: (email, opt_out) for uid, email, opt_out in fetch_sql_file(
        src, "campaigns/extract_recipients.sql", {"user_ids": [r.user_id for r in rows]},
        schema=outbox.source_schema)}
    addresses = {uid: untrusted.normal_address(email) for uid, (email, _) in users.items()}
    suppressed = suppression_reasons(wh, outbox.schema, [a for a, _ in addresses.values() if a])
    out: dict[str, tuple[str | None, str | None]] = {}
    for row in rows:
        if row.user_id not in users:
            out[row.key] = (None, "the user is no longer in saas_db (or more than one users row holds its user_id)")
            continue
        frozen = [untrusted.text_problem(row.variables.get(variable), f"the queued {variable}")
                  for variable in ("first_name", "account_name", "owner_name")]
        reason = ("opted out (users.email_opt_out)" if users[row.user_id][1]
                  else recipient_problem(addresses[row.user_id], None, suppressed) or next(filter(None, frozen), None))
        out[row.key] = (addresses[row.user_id][0], reason)
    return out


def _message(outbox: Outbox, row: _Row, address: str) -> tuple[dict[str, Any], Rendered]:
    """The Resend email of a row (the same dict, byte for byte, every time it is built)."""
    sender_name, sender_address = parseaddr(outbox.sender)
    link = f"{outbox.unsubscribe_url}?t={unsubscribe_token(row.user_id, outbox.key)}"
    owner = row.variables.get("owner_name") if row.campaign == "high_risk" else None
    rendered = render(row.campaign, {**row.variables, "product": outbox.product, "app_url": outbox.app_url,
                                     "sender_name": sender_name or outbox.product, "unsubscribe_url": link},
                      row.variant)
    email = {
        "from": formataddr((owner or sender_name, sender_address)),
        "to": [address],
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "headers": {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        "tags": [{"name": "campaign", "value": row.campaign}, {"name": "variant", "value": row.variant},
                 {"name": "email_sends_key", "value": hashlib.sha256(row.key.encode()).hexdigest()[:40]}],
    }
    return email, rendered


def _send_batch(wh: psycopg.Connection, src: psycopg.Connection, outbox: Outbox, rows: list[_Row],
                batch_key: str | None, pacer: _Pacer, counts: dict[str, int], problems: list[str], *, resume: bool
                ) -> bool:
    """One batch: check recipients (new batches only: a resumed one must be resent unchanged), render, record
    the batch key, send, record the outcome. False when the batch as a whole could not be sent: it stays
    queued under its key, and sending stops (the task fails; its retry resends that batch first)."""
    import jinja2

    from saas_ops.db import run_sql_file

    recipients = _recipients(src, wh, outbox, rows)
    emails: list[tuple[_Row, dict[str, Any], bytes | None]] = []
    for row in rows:
        address, reason = recipients[row.key]
        if reason and not resume:
            counts["suppressed"] += _mark(wh, outbox, [row.key], status="suppressed", error=reason)
            continue
        try:  # one email that cannot be built fails alone, never its batch
            email, rendered = _message(outbox, row, address or "")
            eml = _eml(row, email, rendered) if outbox.dry_run else None
        except (jinja2.TemplateError, KeyError, ValueError, TypeError) as exc:
            problems.append(f"render: {row.key}: {type(exc).__name__}")
            counts["failed"] += _mark(wh, outbox, [row.key], status="failed", error=f"could not render: {exc}",
                                      attempts=MAX_ATTEMPTS)
            continue
        emails.append((row, email, eml))
    if not emails:
        return True
    keys = [row.key for row, _, _ in emails]
    if batch_key is None:
        batch_key = "saas-ops-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:48]
        run_sql_file(wh, "campaigns/outbox_batch_started.sql", {"batch": batch_key, "keys": keys},
                     schema=outbox.schema)
    counts["batches"] += 1
    if outbox.dry_run:
        for row, email, eml in emails:
            _write_dry_run(outbox, row, email, eml)
        counts["dry_run"] += _mark(wh, outbox, keys, status="dry_run")
        return True
    outcome = _post(batch_key, [email for _, email, _ in emails], pacer)
    if isinstance(outcome, str):
        if outcome.startswith("409"):
            counts["unknown"] += _finish_unknown(wh, outbox, [row for row, _, _ in emails], outcome)
            return True
        problems.append(f"batch {batch_key} ({len(emails)} emails) not sent, left queued for the next try: "
                        f"{outcome}")
        return False
    ids, errors = outcome
    _record(wh, outbox, [(row.key, "sent", None, ids[i]) if i in ids else
                         (row.key, "failed", f"refused by Resend: {errors.get(i, 'no id returned')}", None)
                         for i, (row, _, _) in enumerate(emails)])
    counts["sent"] += len(ids)
    counts["failed"] += len(emails) - len(ids)
    return True


def _post(batch_key: str, emails: list[dict[str, Any]], pacer: _Pacer) -> tuple[dict[int, str], dict[int, str]] | str:
    """Resend's answer to one batch, waiting out 429s (retry-after) and retrying a failed request 3 times;
    a string says why the batch could not be sent ('409 …' when Resend has seen the key with another body)."""
    from resend.exceptions import ResendError

    from saas_ops import resend_api

    failures = 0
    while True:
        pacer.wait()
        try:
            return resend_api.send_batch(emails, batch_key)
        except resend_api.RateLimited as limited:
            time.sleep(limited.retry_after)
        except ResendError as exc:
            if str(exc.code) == "409":
                return f"409 {exc.error_type}: {exc.message}"
            failures += 1
            if failures >= 3 or str(exc.code) in ("401", "403", "422"):
                return f"{exc.code} {exc.error_type}: {exc.message}"
            time.sleep(2 ** failures)


def _mark(wh: psycopg.Connection, outbox: Outbox, keys: list[str], *, status: str, error: str | None = None,
          attempts: int | None = None) -> int:
    """Records one outcome for several rows."""
    return _record(wh, outbox, [(key, status, error, None) for key in keys], attempts=attempts)


def _record(wh: psycopg.Connection, outbox: Outbox, outcomes: list[tuple[str, str, str | None, str | None]], *,
            attempts: int | None = None) -> int:
    """Records (key, status, error, provider id) per row in one statement. A failed row leaves its batch (it
    is retried in a new batch, under a new key)."""
    from saas_ops.db import run_sql_file

    keys, statuses, errors, ids = (list(column) for column in zip(*outcomes, strict=True)) if outcomes else ([],) * 4
    return run_sql_file(wh, "campaigns/outbox_outcomes.sql", {
        "keys": keys, "statuses": statuses, "errors": errors, "ids": ids, "attempts": attempts}, schema=outbox.schema)


def _finish_unknown(wh: psycopg.Connection, outbox: Outbox, rows: list[_Row], why: str) -> int:
    """A batch whose first request may have been delivered, and that cannot be resent safely: failed, never
    retried, with the reason (check Resend's log for its emails before sending them by hand)."""
    return _mark(wh, outbox, [r.key for r in rows], status="failed", attempts=MAX_ATTEMPTS,
                 error=f"outcome unknown, not resent to avoid a second email: {why}")


def _eml(row: _Row, email: dict[str, Any], rendered: Rendered) -> bytes:
    """The email as an .eml file; the email package raises ValueError for a header holding CR/LF."""
    from email.message import EmailMessage
    from email.policy import default

    message = EmailMessage(policy=default.clone(max_line_length=998))  # RFC 5322 limit: links stay unfolded
    message["From"], message["To"], message["Subject"] = email["from"], ", ".join(email["to"]), rendered.subject
    for name, value in email["headers"].items():
        message[name] = value
    message["X-Idempotency-Key"] = row.key
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return bytes(message)


def _write_dry_run(outbox: Outbox, row: _Row, email: dict[str, Any], eml: bytes) -> None:
    from saas_ops import storage

    folder = outbox.dry_run_folder / row.day.isoformat() / row.campaign
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", row.key)
    storage.write_private(folder / f"{stem}.eml", eml)
    storage.write_private(folder / f"{stem}.html", email["html"].encode())


def outbox_from_settings() -> Outbox:
    from saas_ops import config, resend_api
    from saas_ops.db import optional_connection

    dry_run = config.setting("EMAIL_DRY_RUN") or not resend_api.has_api_key()
    if not dry_run and optional_connection(SIGNING_CONN_ID) is None:
        raise ValueError(f"Sending needs the connection {SIGNING_CONN_ID} (a long random password: it signs the "
                         "unsubscribe links, and the Airflow API server that serves them must see the same one)")
    return Outbox(schema=config.schema_name("OUTPUT_SCHEMA"), source_schema=config.schema_name("SOURCE_SCHEMA"),
                  sender=config.setting("EMAIL_FROM"), product=config.setting("PRODUCT_NAME"),
                  app_url=config.setting("APP_URL").rstrip("/"), unsubscribe_url=config.setting("UNSUBSCRIBE_URL"),
                  key=signing_key(), dry_run=dry_run,
                  requests_per_second=config.setting("RESEND_REQUESTS_PER_SECOND"),
                  dry_run_folder=config.local_dir() / "outbox" / "emails")
