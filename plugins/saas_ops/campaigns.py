"""reengagement_campaigns: who gets which email, the outbox `email_sends`, and sending it through Resend
exactly once.

A run closing day D sends on D + 1, in two steps:
1. **plan** (one warehouse transaction): copies from saas_db what the audiences need, runs the audience SQL of
   every switched-on campaign (include/sql/campaigns/audience_*.sql) and turns the candidates into
   `email_sends` rows (30_queue.sql: recipient, suppression, frequency cap, priority, per-run cap). Each row
   has an idempotency key `campaign:user_id:period`, so a rerun adds nothing.
2. **send**: every queued row, in batches of up to 100. A batch's key (Resend's `Idempotency-Key`) is written
   on its rows *before* the request; the provider's ids *after*. A run killed in between finds the batch
   still queued and sends exactly the same emails under the same key, which Resend answers from its cache
   (for 24 hours; after 23 the outcome is recorded as unknown instead of risking a second email). The outbox,
   not Resend, is what keeps an email from going out twice.

Without a Resend key (or with EMAIL_DRY_RUN) the send step renders every email to
<LOCAL_DIR>/outbox/emails/<day>/ (`.eml` and `.html`) and marks its row `dry_run`.
Addresses and names are never logged: Airflow's secret masking does not hide them.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    import psycopg

DAG_ID = "reengagement_campaigns"
# Every campaign, in the default priority order: when several apply to one user, the first one wins.
CAMPAIGNS = ("failed_payment", "trial_ending", "high_risk", "win_back", "inactive_90", "inactive_60", "inactive_30",
             "low_adoption")
TEMPLATE_OF = {"inactive_30": "inactive", "inactive_60": "inactive", "inactive_90": "inactive"}
BATCH_SIZE = 100  # Resend's batch endpoint takes at most 100 emails
MAX_ATTEMPTS = 3  # an email refused this many times stays failed
KEY_FORGOTTEN_AFTER = dt.timedelta(hours=23)  # Resend forgets an idempotency key after 24 hours
EXPIRES_AFTER_DAYS = 2  # a queued email not sent within 2 days of its day is no longer timely
SIGNING_CONN_ID = "unsubscribe_signing"
QUARANTINED = ("customers", "users", "invoices", "payment_attempts")  # keyed tables the extracts read


class NotReady(RuntimeError):
    """An input the audiences read is not up to the closing day yet (the message says which to run)."""


# --------------------------------------------------------------------------------------- plan


def plan(day: dt.date, *, run_id: str, schema: str, source_schema: str, campaigns: list[str], settings: dict[str, Any]
         ) -> dict[str, Any]:
    """Queues the day's emails (see the module docstring). Returns per campaign the candidates found and
    the rows now in email_sends for the day, by status."""
    from saas_ops import contract, db, quality, windows

    unknown = sorted(set(campaigns) - set(CAMPAIGNS))
    if unknown:
        raise ValueError(f"CAMPAIGNS names unknown campaign(s) {', '.join(unknown)}; known: {', '.join(CAMPAIGNS)}")
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    params = {"day": day, "day_end": day_end, "send_day": day + dt.timedelta(days=1), "run_id": run_id,
              "features": settings["core_features"], "min_features": settings["min_features"],
              "suspend_days": settings["suspend_days"], "cap_days": settings["cap_days"],
              "run_cap": settings["run_cap"], "priority": list(campaigns)}
    notes: list[str] = []
    with db.source() as src, db.warehouse() as wh:
        for output, dag in (("customer_mrr_monthly", "saas_mrr"), ("account_engagement_daily", "saas_engagement")):
            have = windows.read_watermark(wh, schema, output)
            if have is None or have < day:
                raise NotReady(f"campaigns for {day} need {dag} through {day}; it is at {have}. Run {dag} first.")
        columns = contract.source_columns(src, source_schema)
        params.update(quality.quarantine(src, wh, QUARANTINED, source_schema=source_schema, output_schema=schema,
                                         run_id=run_id, dag_id=DAG_ID))
        db.run_sql_file(wh, "campaigns/10_raw_tables.sql")
        for query, target, table in (("extract_customers.sql", "camp_customers (customer_id, name, created_at, "
                                      "account_owner_name)", "customers"),
                                     ("extract_trials.sql", "camp_trials", "subscription_periods"),
                                     ("extract_dunning.sql", "camp_dunning", "payment_attempts")):
            db.copy_query_rows(src, wh, f"campaigns/{query}", target, params, schema=source_schema, **columns[table])
        db.run_sql_file(wh, "campaigns/20_live_accounts.sql", params, schema=schema)

        found: dict[str, int] = {}
        for campaign in campaigns:
            if campaign == "high_risk" and not _scored(wh, schema, day):
                notes.append(f"high_risk: no churn scores for {day} (churn_score has not scored it: no champion "
                             "model yet?), so no check-ins today")
                continue
            if campaign == "high_risk":
                db.run_sql(wh, db.compose("CREATE TEMP TABLE camp_entered_high ON COMMIT DROP AS\n"
                                          + db.read_sql("churn/entered_high_band.sql"), schema=schema), {"day": day})
            audience = "inactive" if campaign.startswith("inactive_") else campaign
            insert = db.compose("INSERT INTO camp_candidates (campaign, customer_id, user_id, period_key, facts)\n"
                                "SELECT %(campaign)s, a.* FROM (\n" + db.read_sql(f"campaigns/audience_{audience}.sql")
                                + "\n) a", schema=schema)
            days = int(campaign.rsplit("_", 1)[-1]) if audience == "inactive" else None
            found[campaign] = db.run_sql(wh, insert, {**params, "campaign": campaign, "days": days})

        user_ids, customer_ids = wh.execute(
            "SELECT coalesce(array_agg(DISTINCT user_id) FILTER (WHERE user_id IS NOT NULL), '{}'), "
            "coalesce(array_agg(DISTINCT customer_id) FILTER (WHERE user_id IS NULL), '{}') "
            "FROM camp_candidates").fetchone()
        db.copy_query_rows(src, wh, "campaigns/extract_users.sql", "camp_users (user_id, customer_id, email, name, "
                           "created_at, email_opt_out)", {**params, "user_ids": user_ids,
                                                          "customer_ids": customer_ids},
                           schema=source_schema, **columns["users"])
        check_recipients(wh, schema)
        wh.execute("ANALYZE camp_users; ANALYZE camp_candidates")
        db.run_sql_file(wh, "campaigns/30_queue.sql", params, schema=schema)
        rows = wh.execute(db.compose("SELECT campaign, status, count(*) FROM {schema}.email_sends WHERE day = %s "
                                     "GROUP BY 1, 2", schema=schema), (day,)).fetchall()
        left_out = quality.new_issue_counts(wh, schema, run_id=run_id, dag_id=DAG_ID)
    by_campaign: dict[str, dict[str, int]] = {}
    for campaign, status, n in rows:
        by_campaign.setdefault(campaign, {})[status] = n
    return {"day": day.isoformat(), "candidates": found, "rows": by_campaign, "notes": notes, "left_out": left_out}


def check_recipients(wh: psycopg.Connection, schema: str) -> None:
    """Sets camp_users.address (the normal form) and .unusable, and camp_customers.unusable for the candidates'
    accounts, by the rules of untrusted.py: an address or name that may not go into an email, or an address on
    the suppression list, is the reason that recipient's email is suppressed."""
    from saas_ops import untrusted

    users = wh.execute("SELECT user_id, email, name FROM camp_users").fetchall()
    addresses = {uid: untrusted.normal_address(email) for uid, email, _ in users}
    suppressed = suppression_reasons(wh, schema, [address for address, _ in addresses.values() if address])
    user_rows = [(uid, addresses[uid][0], recipient_problem(addresses[uid], name, suppressed))
                 for uid, _, name in users]
    wh.execute("UPDATE camp_users u SET address = v.address, unusable = v.unusable "
               "FROM unnest(%s::text[], %s::text[], %s::text[]) AS v(user_id, address, unusable) "
               "WHERE u.user_id = v.user_id", [list(column) for column in zip(*user_rows, strict=True)] or [[]] * 3)
    accounts = wh.execute("SELECT customer_id, name, account_owner_name FROM camp_customers "
                          "WHERE customer_id IN (SELECT customer_id FROM camp_candidates)").fetchall()
    bad = [(cid, untrusted.text_problem(name, "customers.name")
            or untrusted.text_problem(owner, "customers.account_owner_name")) for cid, name, owner in accounts]
    bad = [row for row in bad if row[1]]
    wh.execute("UPDATE camp_customers c SET unusable = v.unusable FROM unnest(%s::text[], %s::text[]) "
               "AS v(customer_id, unusable) WHERE c.customer_id = v.customer_id",
               [list(column) for column in zip(*bad, strict=True)] or [[]] * 2)


def recipient_problem(address: tuple[str | None, str | None], name: str | None, suppressed: dict[str, str]
                      ) -> str | None:
    """Why a user may not be emailed, from untrusted.normal_address's answer, the users.name and the suppression
    list (suppression_reasons), or None."""
    from saas_ops import untrusted

    normal, unusable = address
    if normal in suppressed:
        return f"on the suppression list ({suppressed[normal]})"
    return unusable or untrusted.text_problem(name, "users.name")


def suppression_reasons(wh: psycopg.Connection, schema: str, addresses: list[str]) -> dict[str, str]:
    """Normal address -> reason, for those of `addresses` (normal forms) on email_suppressions. Rows a person
    added in another form (a capital, a space) are read too and compared in the normal form."""
    from saas_ops import untrusted
    from saas_ops.db import compose

    rows = wh.execute(compose("SELECT email, reason FROM {schema}.email_suppressions WHERE email = ANY(%s) "
                              "OR email !~ '^[a-z0-9._%%+-]+@[a-z0-9.-]+$' ORDER BY email", schema=schema),
                      (addresses,)).fetchall()
    wanted, out = set(addresses), {}
    for email, reason in rows:
        normal, _ = untrusted.normal_address(email)
        if normal in wanted:
            out.setdefault(normal, reason)
    return out


def _scored(wh: psycopg.Connection, schema: str, day: dt.date) -> bool:
    from saas_ops.db import compose

    return wh.execute(compose("SELECT EXISTS (SELECT 1 FROM {schema}.churn_scores WHERE day = %s)", schema=schema),
                      (day,)).fetchone()[0]


# --------------------------------------------------------------------------------------- render


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _nice_date(value: Any) -> str:
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day:%A} {day.day} {day:%B %Y}"


def _money(cents: Any, currency: str) -> str:
    from saas_ops.alerts import money

    return money(int(cents), currency)


@functools.lru_cache(maxsize=4)
def _environment(folder: str) -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
                             autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)
    env.filters.update(money=_money, nice_date=_nice_date)
    return env


def render(campaign: str, variables: dict[str, Any]) -> Rendered:
    """The email's subject, plain text and HTML. A variable the template uses and `variables` lacks raises
    jinja2's UndefinedError (StrictUndefined): an email with a hole is never sent."""
    from saas_ops import config

    env = _environment(str(config.include_dir() / "templates" / "email"))
    name = TEMPLATE_OF.get(campaign, campaign)
    values = {"campaign": campaign, **variables}
    text = env.get_template(f"{name}.txt").make_module(values)
    subject = " ".join(str(text.subject).split())
    if not subject:
        raise ValueError(f"template {name}.txt sets no subject")
    return Rendered(subject, str(text).strip() + "\n", env.get_template(f"{name}.html").render(values))


# --------------------------------------------------------------------------------------- unsubscribe


def signing_key() -> bytes:
    """The key that signs unsubscribe links: the password of the `unsubscribe_signing` connection, else (local
    mode) a random key kept in <LOCAL_DIR>/unsubscribe_signing.key, made on first use."""
    import os
    import secrets

    from saas_ops import config, storage
    from saas_ops.db import optional_connection

    conn = optional_connection(SIGNING_CONN_ID)
    if conn is not None and conn.password:
        return conn.password.encode()
    path = config.local_dir() / "unsubscribe_signing.key"
    if not path.exists():
        storage.private_folder(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(user_id: str, key: bytes) -> str:
    return _b64(hmac.new(key, b"unsubscribe:" + user_id.encode(), hashlib.sha256).digest()[:16])


def unsubscribe_token(user_id: str, key: bytes) -> str:
    """`<user_id, base64url>.<HMAC-SHA256, 128 bits>`: names the user, not the address, and cannot be forged."""
    return f"{_b64(user_id.encode())}.{_mac(user_id, key)}"


def user_of_token(token: str, key: bytes) -> str | None:
    """The user a token was signed for, or None when it is malformed or its signature does not match."""
    payload, _, mac = token.strip().partition(".")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", payload) or not re.fullmatch(r"[A-Za-z0-9_-]+", mac):
        return None  # compare_digest raises on non-ASCII text: anything outside base64url is malformed
    try:
        user_id = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except ValueError:
        return None
    return user_id if user_id and hmac.compare_digest(mac, _mac(user_id, key)) else None


def unsubscribe(user_id: str, *, schema: str, source_schema: str) -> bool:
    """Puts the user's address on the suppression list (reason `unsubscribed`); False when saas_db does not
    know the user. Idempotent."""
    from saas_ops import db, untrusted
    from saas_ops.db import compose

    with db.source() as src:  # every address of the user: more than one row may hold its user_id
        emails = [email for (email,) in src.execute(compose(
            "SELECT email FROM {schema}.users WHERE user_id = %s AND email IS NOT NULL", schema=source_schema),
            (user_id,)).fetchall()]
    addresses = sorted({normal for normal, _ in map(untrusted.normal_address, emails) if normal})
    if not addresses:
        return False
    with db.warehouse() as wh:
        for address in addresses:
            wh.execute(compose("INSERT INTO {schema}.email_suppressions (email, reason) VALUES (%s, 'unsubscribed') "
                               "ON CONFLICT (email) DO NOTHING", schema=schema), (address,))
    return True


# --------------------------------------------------------------------------------------- send


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
        counts["expired"] = _execute(wh, outbox, """
            UPDATE {schema}.email_sends SET status = 'failed', attempts = greatest(attempts, %(max)s),
                   error = 'expired: not sent within ' || %(days)s || ' days of its day (' || day || ')'
            WHERE status IN ('queued', 'failed') AND batch_key IS NULL AND day < %(day)s::date - %(days)s""",
                                     {"max": MAX_ATTEMPTS, "days": EXPIRES_AFTER_DAYS, "day": day})
        for batch_key, first_attempt in _fetch(wh, outbox, """
                SELECT batch_key, min(first_attempt_at) FROM {schema}.email_sends
                WHERE status = 'queued' AND batch_key IS NOT NULL GROUP BY batch_key ORDER BY 2, 1""", {}):
            rows = _rows(wh, outbox, "batch_key = %(batch_key)s AND status = 'queued'", {"batch_key": batch_key})
            if started - first_attempt > KEY_FORGOTTEN_AFTER:
                counts["unknown"] += _finish_unknown(wh, outbox, rows, f"first sent at {first_attempt:%Y-%m-%d %H:%M} "
                                                     "UTC and Resend has forgotten its key since")
                continue
            if not _send_batch(wh, src, outbox, rows, batch_key, pacer, counts, problems, resume=True):
                break
        else:
            while rows := _rows(wh, outbox, "batch_key IS NULL AND (status = 'queued' OR (status = 'failed' AND "
                                "attempts < %(max)s AND last_attempt_at < %(started)s))",
                                {"max": MAX_ATTEMPTS, "started": started}, limit=BATCH_SIZE):
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


def _execute(wh: psycopg.Connection, outbox: Outbox, statement: str, params: dict[str, Any]) -> int:
    from saas_ops.db import compose

    with wh.cursor() as cur:
        cur.execute(compose(statement, schema=outbox.schema), params)
        return cur.rowcount


def _fetch(wh: psycopg.Connection, outbox: Outbox, statement: str, params: dict[str, Any]) -> list[tuple]:
    from saas_ops.db import compose

    return wh.execute(compose(statement, schema=outbox.schema), params).fetchall()


def _rows(wh: psycopg.Connection, outbox: Outbox, where: str, params: dict[str, Any], limit: int | None = None
          ) -> list[_Row]:
    """Outbox rows in idempotency-key order: the order a batch's emails are sent in, every time."""
    rows = _fetch(wh, outbox, f"""
        SELECT idempotency_key, campaign, user_id, variables, day FROM {{schema}}.email_sends
        WHERE {where} ORDER BY idempotency_key {'LIMIT %(limit)s' if limit else ''}""", {**params, "limit": limit})
    return [_Row(*row) for row in rows]


def _recipients(src: psycopg.Connection, wh: psycopg.Connection, outbox: Outbox, rows: list[_Row]
                ) -> dict[str, tuple[str | None, str | None]]:
    """Idempotency key -> (address, why it must not be sent now or None), read when sending: an opt-out or a
    suppression since the email was queued still stops it, and so does a name frozen in the row's variables
    that may not go into an email (a row queued before the check existed)."""
    from saas_ops import untrusted
    from saas_ops.db import compose

    users = dict((uid, (email, opt_out)) for uid, email, opt_out in src.execute(compose(
        "SELECT user_id, min(email), bool_or(coalesce(email_opt_out, false)) FROM {schema}.users "
        "WHERE user_id = ANY(%s) GROUP BY user_id HAVING count(*) = 1",  # several rows: which address is unknown
        schema=outbox.source_schema), ([r.user_id for r in rows],)).fetchall())
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
                                     "sender_name": sender_name or outbox.product, "unsubscribe_url": link})
    email = {
        "from": formataddr((owner or sender_name, sender_address)),
        "to": [address],
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "headers": {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        "tags": [{"name": "campaign", "value": row.campaign},
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
        _execute(wh, outbox, """UPDATE {schema}.email_sends SET batch_key = %(batch)s, attempts = attempts + 1,
                 first_attempt_at = now(), last_attempt_at = now() WHERE idempotency_key = ANY(%(keys)s)""",
                 {"batch": batch_key, "keys": keys})
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
    keys, statuses, errors, ids = (list(column) for column in zip(*outcomes, strict=True)) if outcomes else ([],) * 4
    return _execute(wh, outbox, """
        UPDATE {schema}.email_sends e SET status = o.status, error = o.error,
               provider_message_id = coalesce(o.provider_id, e.provider_message_id),
               sent_at = CASE WHEN o.status = 'sent' THEN now() ELSE e.sent_at END,
               batch_key = CASE WHEN o.status = 'failed' THEN NULL ELSE e.batch_key END,
               attempts = greatest(e.attempts, coalesce(%(attempts)s, e.attempts)), last_attempt_at = now()
        FROM unnest(%(keys)s::text[], %(statuses)s::text[], %(errors)s::text[], %(ids)s::text[])
             AS o(key, status, error, provider_id)
        WHERE e.idempotency_key = o.key""",
                    {"keys": keys, "statuses": statuses, "errors": errors, "ids": ids, "attempts": attempts})


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


# --------------------------------------------------------------------------------------- tasks


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


@task
def plan_emails(**context: Any) -> dict[str, Any]:
    """Finds each switched-on campaign's audience for the closing day and queues its emails."""
    from saas_ops import alerts, config, quality
    from saas_ops.dates import closing_day

    campaigns = [c.strip() for c in config.setting("CAMPAIGNS").split(",") if c.strip()]
    settings = {"core_features": [f.strip() for f in config.setting("CORE_FEATURES").split(",") if f.strip()],
                "min_features": config.setting("LOW_ADOPTION_MIN_FEATURES"),
                "suspend_days": config.setting("DUNNING_SUSPEND_DAYS"),
                "cap_days": config.setting("EMAIL_FREQUENCY_CAP_DAYS"), "run_cap": config.setting("EMAIL_MAX_PER_RUN")}
    result = plan(closing_day(context), run_id=context["run_id"], schema=config.schema_name("OUTPUT_SCHEMA"),
                  source_schema=config.schema_name("SOURCE_SCHEMA"), campaigns=campaigns, settings=settings)
    print(f"campaigns on, by priority: {', '.join(campaigns) or 'none (Variable CAMPAIGNS is empty)'}")
    for campaign in campaigns:
        rows = result["rows"].get(campaign, {})
        print(f"{campaign}: {result['candidates'].get(campaign, 0)} candidate(s); rows for {result['day']}: "
              + (", ".join(f"{n} {status}" for status, n in sorted(rows.items())) or "none"))
    for note in result["notes"]:
        print(f"note: {note}")
    alert = quality.alert(result["left_out"], dag_id=DAG_ID, run_id=context["run_id"],
                          schema=config.schema_name("OUTPUT_SCHEMA"), left_out_of="the campaigns' audiences")
    if alert:
        print(alert.title)
        alerts.dispatch(alert)
    return result


@task
def send_emails(planned: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Sends the queued emails through Resend (or renders them to the outbox folder in dry-run)."""
    from saas_ops import db, windows

    outbox = outbox_from_settings()
    day = dt.date.fromisoformat(planned["day"])
    if outbox.dry_run:
        print(f"DRY RUN: emails are rendered to {outbox.dry_run_folder / planned['day']} and marked dry_run, not "
              "sent (no resend_default connection with a key, or the Variable EMAIL_DRY_RUN is on)")
    result = send_pending(day, outbox)
    print(f"{result['mode']}: {result['sent']} sent, {result['dry_run']} rendered (dry run), {result['failed']} "
          f"failed, {result['suppressed']} suppressed when sending, {result['unknown']} of unknown outcome, "
          f"{result['expired']} expired, in {result['batches']} batch(es)")
    if result["problems"]:
        raise RuntimeError("; ".join(result["problems"][:5]) + (f" (and {len(result['problems']) - 5} more)"
                                                                 if len(result["problems"]) > 5 else ""))
    with db.warehouse() as wh:
        done_through = windows.read_watermark(wh, outbox.schema, "email_sends")
        if done_through is None or day >= done_through:
            windows.advance_watermark(wh, outbox.schema, ("email_sends",), DAG_ID, day, context["run_id"])
    return result


@task
def campaign_alerts(sent: dict[str, Any]) -> list[str]:
    """Slack: a line per account owner whose high-risk account got a check-in in their name, and a warning
    when emails failed (they are retried on the next run)."""
    from saas_ops import alerts, config, db
    from saas_ops.db import compose

    schema, currency = config.schema_name("OUTPUT_SCHEMA"), config.setting("REPORTING_CURRENCY")
    day = sent["day"]
    with db.warehouse() as wh:
        check_ins = wh.execute(compose(
            "SELECT coalesce(variables->>'owner_name', '(no account owner)'), variables->>'account_name', "
            "customer_id, (variables->>'mrr_cents')::bigint, (variables->>'churn_probability')::float, status "
            "FROM {schema}.email_sends WHERE campaign = 'high_risk' AND day = %s AND status IN ('sent', 'dry_run') "
            "ORDER BY 1, 4 DESC, 3", schema=schema), (day,)).fetchall()
        failed = wh.execute(compose("SELECT campaign, count(*), min(error) FROM {schema}.email_sends WHERE day = %s "
                                    "AND status = 'failed' GROUP BY 1 ORDER BY 1", schema=schema), (day,)).fetchall()
    titles = []
    if check_ins:
        lines = [f"• {owner}: {account} ({cid}), {alerts.money(mrr, currency)} MRR, {p:.0%} churn risk: check-in "
                 + ("sent in your name" if status == "sent" else "rendered in your name (dry run)")
                 for owner, account, cid, mrr, p, status in check_ins]
        alert = alerts.Alert(kind="business", severity="P3", dag_id=DAG_ID, run_id=f"{DAG_ID}:{day}:high_risk",
                             title=f"{DAG_ID}: {len(check_ins)} high-risk account(s) got a check-in from their "
                                   f"account owner on {day}", details=lines)
        alerts.dispatch(alert)
        titles.append(alert.title)
    if failed:
        total = sum(n for _, n, _ in failed)
        alert = alerts.Alert(kind="data_quality", severity="P3", dag_id=DAG_ID, run_id=f"{DAG_ID}:{day}:failed",
                             title=f"{DAG_ID}: {total} email(s) of {day} failed; each is retried on the next run, "
                                   f"up to {MAX_ATTEMPTS} tries",
                             details=[f"• {campaign}: {n}, e.g. {error}" for campaign, n, error in failed]
                             + [f"SELECT * FROM {schema}.email_sends WHERE day = '{day}' AND status = 'failed'"])
        alerts.dispatch(alert)
        titles.append(alert.title)
    return titles
