"""reengagement_campaigns: who gets which email, the outbox `email_sends`, and sending it through Resend
exactly once.

A run closing a day sends on the day after, in two steps:
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
from typing import Any

from airflow.sdk import task

from saas_ops.campaigns.audiences import DAG_ID, plan, settings_from_config
from saas_ops.campaigns.send import MAX_ATTEMPTS

# --------------------------------------------------------------------------------------- tasks


@task
def plan_emails(**context: Any) -> dict[str, Any]:
    """Finds each switched-on campaign's audience for the run's day and queues its emails."""
    from saas_ops import alerts, config, quality
    from saas_ops.dates import day_closed

    campaigns, settings = settings_from_config()
    result = plan(day_closed(context), run_id=context["run_id"], schema=config.schema_name("OUTPUT_SCHEMA"),
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
    from saas_ops import db, incremental
    from saas_ops.campaigns import send

    outbox = send.outbox_from_settings()
    day = dt.date.fromisoformat(planned["day"])
    if outbox.dry_run:
        print(f"DRY RUN: emails are rendered to {outbox.dry_run_folder / planned['day']} and marked dry_run, not "
              "sent (no resend_default connection with a key, or the Variable EMAIL_DRY_RUN is on)")
    result = send.send_pending(day, outbox)
    print(f"{result['mode']}: {result['sent']} sent, {result['dry_run']} rendered (dry run), {result['failed']} "
          f"failed, {result['suppressed']} suppressed when sending, {result['unknown']} of unknown outcome, "
          f"{result['expired']} expired, in {result['batches']} batch(es)")
    if result["problems"]:
        raise RuntimeError("; ".join(result["problems"][:5]) + (f" (and {len(result['problems']) - 5} more)"
                                                                 if len(result["problems"]) > 5 else ""))
    with db.warehouse() as wh:
        done_through = incremental.read_watermark(wh, outbox.schema, "email_sends")
        if done_through is None or day >= done_through:
            incremental.advance_watermark(wh, outbox.schema, ("email_sends",), DAG_ID, day, context["run_id"])
    return result


@task
def measure_outcomes(sent: dict[str, Any]) -> dict[str, Any]:
    """campaign_outcomes for the cohorts whose window has closed, and each campaign's effect over 90 days (in
    the log, and on Slack once a week)."""
    from saas_ops import alerts, config, db
    from saas_ops.campaigns import outcomes

    schema, day = config.schema_name("OUTPUT_SCHEMA"), dt.date.fromisoformat(sent["day"])
    measured = outcomes.measure(day, schema=schema, source_schema=config.schema_name("SOURCE_SCHEMA"),
                                features=config.core_features())
    with db.warehouse() as wh:
        recent = outcomes.recent_effects(wh, schema, config.setting("EMAIL_COST_PER_1000"))
    found = recent[2] if recent else []
    lines = outcomes.summary_lines(found, config.setting("REPORTING_CURRENCY"))
    print(f"outcomes measured for the cohorts {', '.join(f'{c} {a}..{b}' for c, (a, b) in measured.items())}")
    for line in lines or ["no campaign has a cohort whose window has closed yet"]:
        print(line)
    if day.weekday() == 6 and lines:  # the run closing a Sunday sends the week's summary, once
        alerts.dispatch(alerts.Alert(
            kind="business", severity="P3", dag_id=DAG_ID, run_id=f"{DAG_ID}:{day}:weekly_results",
            title=f"{DAG_ID}: campaign results, the {outcomes.RESULTS_DAYS} days of cohorts to the week ending {day}",
            details=[f"• {line}" for line in lines]))
    return {"day": sent["day"], "measured": measured, "effects": lines}


@task
def campaign_alerts(sent: dict[str, Any]) -> list[str]:
    """Slack: a line per account owner whose high-risk account got a check-in in their name, and a warning
    when emails failed (they are retried on the next run)."""
    from saas_ops import alerts, config, db

    schema, currency = config.schema_name("OUTPUT_SCHEMA"), config.setting("REPORTING_CURRENCY")
    day = sent["day"]
    with db.warehouse() as wh:
        check_ins = db.fetch_sql_file(wh, "campaigns/check_ins_sent.sql", {"day": day}, schema=schema)
        failed = db.fetch_sql_file(wh, "campaigns/failed_emails.sql", {"day": day}, schema=schema)
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
