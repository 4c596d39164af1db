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

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    import psycopg

DAG_ID = "reengagement_campaigns"
# Every campaign, in the default priority order: when several apply to one user, the first one wins.
CAMPAIGNS = ("failed_payment", "trial_ending", "high_risk", "win_back", "inactive_90", "inactive_60", "inactive_30",
             "low_adoption")
TEMPLATE_OF = {"inactive_30": "inactive", "inactive_60": "inactive", "inactive_90": "inactive"}
MAX_ATTEMPTS = 3  # an email refused this many times stays failed
QUARANTINED = ("customers", "users", "invoices", "payment_attempts")  # keyed tables the extracts read


class NotReady(RuntimeError):
    """An input the audiences read is not up to the closing day yet (the message says which to run)."""


# --------------------------------------------------------------------------------------- plan


def plan(day: dt.date, *, run_id: str, schema: str, source_schema: str, campaigns: list[str], settings: dict[str, Any]
         ) -> dict[str, Any]:
    """Queues the day's emails (see the module docstring). Returns per campaign the candidates found and
    the rows now in email_sends for the day, by status."""
    from saas_ops import contract, db, quality, recipients, windows

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
        recipients.check_recipients(wh, schema)
        wh.execute("ANALYZE camp_users; ANALYZE camp_candidates")
        db.run_sql_file(wh, "campaigns/30_queue.sql", params, schema=schema)
        rows = wh.execute(db.compose("SELECT campaign, status, count(*) FROM {schema}.email_sends WHERE day = %s "
                                     "GROUP BY 1, 2", schema=schema), (day,)).fetchall()
        left_out = quality.new_issue_counts(wh, schema, run_id=run_id, dag_id=DAG_ID)
    by_campaign: dict[str, dict[str, int]] = {}
    for campaign, status, n in rows:
        by_campaign.setdefault(campaign, {})[status] = n
    return {"day": day.isoformat(), "candidates": found, "rows": by_campaign, "notes": notes, "left_out": left_out}


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


# --------------------------------------------------------------------------------------- tasks


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
    from saas_ops import campaign_send, db, windows

    outbox = campaign_send.outbox_from_settings()
    day = dt.date.fromisoformat(planned["day"])
    if outbox.dry_run:
        print(f"DRY RUN: emails are rendered to {outbox.dry_run_folder / planned['day']} and marked dry_run, not "
              "sent (no resend_default connection with a key, or the Variable EMAIL_DRY_RUN is on)")
    result = campaign_send.send_pending(day, outbox)
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
