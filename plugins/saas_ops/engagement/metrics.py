"""saas_engagement: activity, lifecycle, retention cohorts, feature adoption and per-account signals (SPEC
"Active user", "Feature"), incremental by day like saas_mrr (see windows.py for the window [S, E]).

`events` is the largest table a SaaS has, so a run reads only its window's events from saas_db, aggregated
per day, account, user and core feature, into two state tables in the warehouse (user_activity_daily,
account_feature_daily). Every 7-, 30- and 60-day figure is computed from those, in SQL in
include/sql/engagement/, in one warehouse transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from saas_ops import assets, incremental
from saas_ops.incremental import Window

if TYPE_CHECKING:
    import psycopg

DAG_ID = "saas_engagement"
OUTPUTS = ("engagement_daily", "account_engagement_daily", "retention_cohorts", "feature_adoption")
STATE_TABLES = ("user_activity_daily", "account_feature_daily")
BUILD_STEPS = ("engagement/20_activity.sql", "engagement/30_engagement_daily.sql",
               "engagement/40_account_engagement.sql", "engagement/50_feature_adoption.sql",
               "engagement/60_retention_cohorts.sql")
# Up to this many days, per-account figures are aggregated day by day rather than as running sums (the same
# figures; measured at 100k users, a one-day run takes 4 s this way against 26 s with running sums).
FEW_DAYS = 7
ALERT_LOOKBACK_DAYS = 7  # a first build alerts on its last week only
QUARANTINED = ("customers", "users")  # keyed tables the extracts read besides events


def core_features() -> list[str]:
    from saas_ops import config

    return [f.strip() for f in config.setting("CORE_FEATURES").split(",") if f.strip()]


def plan_for(closing_day: dt.date, full_refresh: bool, *, output_schema: str, source_schema: str,
             late_days: int = 0, rebuild_from: dt.date | None = None) -> Window:
    """The run's window: from the watermark, and also the `late_days` days before the closing day (their
    events are read again: late ones are counted), or from `rebuild_from`."""
    return incremental.plan_for(closing_day, full_refresh, output_schema=output_schema, source_schema=source_schema,
                            watermark_output="engagement_daily", earliest_day_sql="engagement/earliest_day.sql",
                            reread_days=late_days, rebuild_from=rebuild_from)


def has_events_index(src: psycopg.Connection, source_schema: str) -> bool:
    """Whether saas_db's events has an index led by occurred_at, which lets a run read only its window."""
    from saas_ops import db

    return db.fetch_sql_file(src, "engagement/events_index.sql", {"events_table": f"{source_schema}.events"})[0][0]


def copy_source_rows(src: psycopg.Connection, wh: psycopg.Connection, source_schema: str,
                     params: dict[str, Any]) -> dict[str, int]:
    """Streams the window's aggregated events, its bad events and every user's signup month from saas_db."""
    from saas_ops import quality
    from saas_ops.db import copy_query_rows, fetch_sql_file

    unique = quality.key_is_unique(src, source_schema, "events", "event_id")
    params = {**params, "duplicated_event_ids": [event_id for (event_id,) in fetch_sql_file(
        src, "engagement/duplicate_events.sql", {**params, "key_is_unique": unique}, schema=source_schema)]}
    return {target: copy_query_rows(src, wh, query_file, target, params, schema=source_schema)
            for query_file, target in (("engagement/extract_activity.sql", "eng_raw_activity"),
                                       ("engagement/extract_bad_events.sql", "eng_bad_events"),
                                       ("engagement/extract_users.sql", "eng_users"))}


def build(window: Window, *, run_id: str, output_schema: str, source_schema: str,
          features: list[str]) -> dict[str, Any]:
    """Rebuilds the window's rows of every output in one warehouse transaction; returns what it did."""
    from saas_ops import db, quality

    summary: dict[str, Any] = {"window": window.to_xcom()}
    with db.source() as src, db.warehouse() as wh:
        incremental.begin_build(wh, window.full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES))
        if window.start is None:
            summary.update(rows_read={}, bad_events=0, days=0)
            return summary
        summary["events_index"] = has_events_index(src, source_schema)
        db.run_sql_file(wh, "engagement/10_raw_tables.sql")
        params = window.params(run_id=run_id, dag_id=DAG_ID, features=features, now=dt.datetime.now(dt.UTC),
                               **quality.quarantine(src, wh, QUARANTINED, source_schema=source_schema,
                                                    output_schema=output_schema, run_id=run_id, dag_id=DAG_ID))
        summary["rows_read"] = copy_source_rows(src, wh, source_schema, params)
        if window.read_from is not None:  # days read again for late events: rebuilt from the first that changed
            changed = db.fetch_sql_file(wh, "engagement/first_changed_day.sql",
                                        {**params, "read_from": window.read_from}, schema=output_schema)[0][0]
            window = dataclasses.replace(window, start=min(changed or window.start, window.start), read_from=None)
            params["s_day"] = window.start
            summary["window"] = window.to_xcom()
        few_days = (window.end - window.start).days + 1 <= FEW_DAYS
        for step in BUILD_STEPS:
            if few_days and step in ("engagement/40_account_engagement.sql", "engagement/50_feature_adoption.sql"):
                step = step.replace(".sql", "_few_days.sql")
            db.run_sql_file(wh, step, params, schema=output_schema)
        incremental.end_build(wh, window.full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES))
        summary["bad_events"] = summary["rows_read"]["eng_bad_events"]
        summary["left_out"] = quality.new_issue_counts(wh, output_schema, run_id=run_id, dag_id=DAG_ID)
        summary["days"] = (window.end - window.start).days + 1
    return summary


def consistency_problems(conn: psycopg.Connection, schema: str, window: Window) -> list[str]:
    return incremental.problems(conn, "engagement/check_engagement.sql", schema, window)


# --------------------------------------------------------------------------------------- tasks


@task
def build_engagement(**context: Any) -> dict[str, Any]:
    """Brings engagement_daily, account_engagement_daily, feature_adoption and retention_cohorts up to date
    through the run's closing day, reading only the window's events."""
    from saas_ops import alerts, config, quality
    from saas_ops.dates import closing_day

    schema, source_schema = config.schema_name("OUTPUT_SCHEMA"), config.schema_name("SOURCE_SCHEMA")
    rebuild_from = context["params"].get("rebuild_from")
    window = plan_for(closing_day(context), bool(context["params"].get("full_refresh")), output_schema=schema,
                      source_schema=source_schema, late_days=config.setting("ENGAGEMENT_LATE_DAYS"),
                      rebuild_from=dt.date.fromisoformat(rebuild_from) if rebuild_from else None)
    summary = build(window, run_id=context["run_id"], output_schema=schema, source_schema=source_schema,
                    features=core_features())
    print(f"read {summary.get('rows_read')}; rebuilt {summary['days']} day(s)")
    if summary.get("events_index") is False:
        print(f"WARNING: {source_schema}.events has no index starting with occurred_at; every run scans the whole "
              f"table. Create one: CREATE INDEX ON {source_schema}.events (occurred_at);")
    alert = quality.alert(summary.get("left_out", {}), dag_id=DAG_ID, run_id=context["run_id"], schema=schema,
                          left_out_of="engagement")
    if alert:  # rows no earlier run reported: late days are read again, their bad events announced once
        print(alert.title)
        alerts.dispatch(alert)
    return summary


@task(retries=0, outlets=[assets.ENGAGEMENT])
def check_engagement(summary: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Fails the run when a written day is inconsistent (DAU > WAU > MAU, lifecycle ≠ DAU, ...); otherwise
    moves the watermark and publishes the asset."""
    from airflow.sdk.exceptions import AirflowFailException

    from saas_ops import config, db

    schema = config.schema_name("OUTPUT_SCHEMA")
    window = Window.from_xcom(summary["window"])
    with db.warehouse() as wh:
        problems = consistency_problems(wh, schema, window)
        if problems:
            raise AirflowFailException(f"engagement figures inconsistent on {len(problems)} day(s); the watermark "
                                       "stays, so the next run rebuilds them:\n" + "\n".join(problems))
        incremental.advance_watermark(wh, schema, OUTPUTS, DAG_ID, window.end, context["run_id"])
    print(f"figures consistent for {window.start} .. {window.end}; watermark {window.end}")
    return summary


@task
def engagement_alerts(summary: dict[str, Any]) -> list[str]:
    """Slack when a day's DAU fell below DAU_DROP_ALERT × the mean of the same weekday over the four weeks
    before. One message per day, however often the run repeats."""
    from saas_ops import alerts, config, db

    window = Window.from_xcom(summary["window"])
    if window.start is None:
        return []
    first = max(window.first_new_day or window.end, window.end - dt.timedelta(days=ALERT_LOOKBACK_DAYS - 1))
    schema, threshold = config.schema_name("OUTPUT_SCHEMA"), config.setting("DAU_DROP_ALERT")
    messages = []
    with db.warehouse() as wh:
        days = db.fetch_sql_file(wh, "engagement/engagement_alerts.sql",
                                 {"alert_from": first, "e_day": window.end, "drop_threshold": threshold}, schema=schema)
    for day, dau, mean in days:
        alert = alerts.Alert(
            kind="business", severity="P2", dag_id=DAG_ID, run_id=f"engagement:{day}",
            title=f"{DAG_ID}: DAU {dau:,} on {day} ({day:%A}) is {dau / mean:.0%} of the same weekday's "
                  f"4-week mean {mean:,.0f}",
            details=[f"• threshold: below {threshold:.0%} of that mean",
                     f"• see: SELECT * FROM {schema}.engagement_daily WHERE day >= '{day - dt.timedelta(days=28)}'"])
        alerts.dispatch(alert)
        messages.append(alert.title)
    print(f"{len(messages)} engagement alert(s) for {first} .. {window.end}")
    return messages
