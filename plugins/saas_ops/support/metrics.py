"""saas_support: the support queue by day (support_daily), first-response SLA attainment (support_sla_daily) and
the accounts behind the queue with their MRR (support_account_daily), incremental by day like saas_mrr
(incremental.py: the window [from_day, day]), in SQL in include/sql/support/.

Tickets change after they are opened (answered, resolved, rated) and syncs correct them late, so every run
reads all tickets (a few columns each) and compares them with what the last build read
(support_ticket_state): the window starts at the first day a new, changed or deleted ticket moves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from saas_ops import incremental
from saas_ops.incremental import Window

if TYPE_CHECKING:
    import psycopg

    from saas_ops.support.sla import Policies

DAG_ID = "saas_support"
OUTPUTS = ("support_daily", "support_sla_daily", "support_account_daily")
STATE_TABLES = ("support_ticket_state",)
BUILD_STEPS = ("support/30_support_daily.sql", "support/40_support_sla_daily.sql",
               "support/50_support_account_daily.sql", "support/60_ticket_state.sql")
BULK_TABLES = ("support_account_daily",)  # a full refresh builds its indexes after loading it
MRR_OUTPUT = "customer_mrr_monthly"  # support_account_daily's MRR comes from saas_mrr


def build(window: Window, *, run_id: str, output_schema: str, source_schema: str, policies: Policies,
          now: dt.datetime | None = None) -> dict[str, Any]:
    """Rebuilds the window's rows, from the first day a changed ticket moves if that is earlier, in one warehouse
    transaction; returns what it did. Times after `now` (the clock by default) are left out and reported."""
    from saas_ops import contract, db, quality

    summary: dict[str, Any] = {"window": window.to_xcom()}
    with db.source() as src, db.warehouse() as wh:
        dropped_indexes = incremental.begin_build(wh, window.full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES),
                                                  bulk_tables=BULK_TABLES)
        absent = contract.check_source(src, source_schema)["absent_optional_columns"].get("support_tickets", [])
        db.run_sql_file(wh, "support/10_raw_tables.sql")
        params = {"run_id": run_id, "dag_id": DAG_ID, "now": now or dt.datetime.now(dt.UTC), "waiting_since": None,
                  "responses_known": "first_response_at" not in absent, **policies.params(),
                  **quality.quarantine(src, wh, ("support_tickets",), source_schema=source_schema,
                                       output_schema=output_schema, run_id=run_id, dag_id=DAG_ID)}
        columns = contract.optional_columns({"support_tickets": absent})["support_tickets"]
        summary["rows_read"] = db.copy_query_rows(src, wh, "support/extract_tickets.sql", "sup_src_tickets", params,
                                                  schema=source_schema, **columns)
        db.run_sql_file(wh, "support/20_checked_tickets.sql", params, schema=output_schema)
        changed_from = db.fetch_sql_file(wh, "support/first_changed_day.sql")[0][0]
        params["all_from"] = window.start or changed_from  # every account from here; before, the changed ones
        if changed_from is not None and changed_from <= window.day and (window.start is None
                                                                         or changed_from < window.start):
            summary["restated_from"] = changed_from.isoformat()
            window = dataclasses.replace(window, start=changed_from)
            summary["window"] = window.to_xcom()
        summary["absent_columns"] = absent
        if window.start is not None:
            for step in BUILD_STEPS:
                db.run_sql_file(wh, step, window.params(**params), schema=output_schema)
        incremental.end_build(wh, window.full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES), dropped_indexes)
        if window.start is None:
            summary.update(days=0, left_out={})
            return summary
        summary["left_out"] = quality.new_issue_counts(wh, output_schema, run_id=run_id, dag_id=DAG_ID)
        summary["days"] = (window.day - window.start).days + 1
    return summary


def build_for(run: incremental.Run) -> dict[str, Any]:
    """The run's window (from the watermark, or from the first day a changed ticket moves), built once saas_mrr
    is complete through the run's day (the accounts' MRR)."""
    from saas_ops import db
    from saas_ops.support.sla import policies_from_settings

    with db.warehouse() as wh:
        mrr_through = incremental.read_watermark(wh, run.output_schema, MRR_OUTPUT)
    if mrr_through is None or mrr_through < run.day:
        raise incremental.NotReady(f"support_account_daily for {run.day} needs saas_mrr through {run.day}; it is at "
                                   f"{mrr_through}. Run saas_mrr first.")
    window = incremental.plan_for(run.day, run.full_refresh, output_schema=run.output_schema,
                                  source_schema=run.source_schema, watermark_output="support_daily",
                                  earliest_day_sql="support/earliest_day.sql")
    summary = build(window, run_id=run.run_id, output_schema=run.output_schema, source_schema=run.source_schema,
                    policies=policies_from_settings())
    if "first_response_at" in summary["absent_columns"]:
        print(f"WARNING: {run.source_schema}.support_tickets has no first_response_at column: support_sla_daily is "
              "not written and first-response times are empty (no response is known)")
    if "restated_from" in summary:
        print(f"tickets new, changed or deleted since the last build: restated from {summary['restated_from']}")
    return summary


def build_alerts(summary: dict[str, Any], run: incremental.Run) -> list[Any]:
    """Tickets no earlier run reported as breaking the contract."""
    from saas_ops import quality

    alert = quality.alert(summary.get("left_out", {}), dag_id=DAG_ID, run_id=run.run_id, schema=run.output_schema,
                          left_out_of="the support figures")
    return [alert] if alert else []


def day_alerts(wh: psycopg.Connection, first: dt.date, day: dt.date, schema: str) -> list[Any]:
    """A day on which a priority's SLA attainment fell below SLA_ATTAINMENT_ALERT (with at least
    SLA_ATTAINMENT_MIN_DUE tickets due)."""
    from saas_ops import alerts, config, db

    threshold = config.setting("SLA_ATTAINMENT_ALERT")
    rows = db.fetch_sql_file(wh, "support/attainment_alerts.sql", {
        "alert_from": first, "day": day, "threshold": threshold,
        "min_due": config.setting("SLA_ATTAINMENT_MIN_DUE")}, schema=schema)
    by_day: dict[dt.date, list[str]] = {}
    for alert_day, priority, due, met in rows:
        by_day.setdefault(alert_day, []).append(f"• {priority}: {met} of {due} first responses in time "
                                                f"({met / due:.0%})")
    return [alerts.Alert(
        kind="business", severity="P2", dag_id=DAG_ID, run_id=f"support:{alert_day}",
        title=f"{DAG_ID}: first-response SLA attainment on {alert_day} fell below {threshold:.0%}",
        details=[*lines, f"• see: SELECT * FROM {schema}.support_sla_daily WHERE day = '{alert_day}'"])
        for alert_day, lines in by_day.items()]


SUPPORT = incremental.Incremental(
    dag_id=DAG_ID, outputs=OUTPUTS, build=build_for, check_sql="support/check_support.sql",
    check_name="support check", build_alerts=build_alerts, day_alerts=day_alerts)


# --------------------------------------------------------------------------------------- tasks


@task
def build_support(**context: Any) -> dict[str, Any]:
    """Brings support_daily, support_sla_daily and support_account_daily up to date through the run's day."""
    return incremental.build(SUPPORT, context)


@task(retries=0)
def check_support(summary: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Fails the run when a written day is inconsistent (a priority missing, 'all' not their sum, due not met +
    breached); otherwise moves the watermark."""
    return incremental.check_and_advance(SUPPORT, summary, context)


@task
def attainment_alerts(summary: dict[str, Any]) -> list[str]:
    """Slack when a priority's attainment on a new day fell below SLA_ATTAINMENT_ALERT; once per day."""
    return incremental.alert_new_days(SUPPORT, summary)


@task
def waiting_ticket_alerts(**context: Any) -> list[str]:
    """Slack: the tickets of paying accounts past or near their first-response target now, each named once,
    highest MRR first."""
    from saas_ops.support.sla import alert_waiting_tickets

    return alert_waiting_tickets(dt.datetime.now(dt.UTC), dag_id=context["dag"].dag_id, run_id=context["run_id"])
