"""saas_engagement: activity, lifecycle, retention cohorts, feature adoption and per-account signals (SPEC
"Active user", "Feature"), incremental by day like saas_mrr (incremental.py: the window [from_day, day]).

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
BULK_TABLES = (*STATE_TABLES, "account_engagement_daily")  # a row per account and day: indexed after a full refresh
# The build in run order, after ACTIVITY_STEP has written the window's activity state. A step with two files:
# the first for a window of up to FEW_DAYS days (aggregated day by day), the second for longer ones (running
# sums); the same figures either way.
ACTIVITY_STEP = "engagement/20_activity.sql"
BUILD_STEPS: tuple[str | tuple[str, str], ...] = (
    "engagement/30_engagement_daily.sql",
    ("engagement/40_account_engagement_few_days.sql", "engagement/40_account_engagement.sql"),
    ("engagement/50_feature_adoption_few_days.sql", "engagement/50_feature_adoption.sql"),
    "engagement/60_retention_cohorts.sql",
)
FEW_DAYS = 7
QUARANTINED = ("customers", "users")  # keyed tables the extracts read besides events


def plan_for(day: dt.date, full_refresh: bool, *, output_schema: str, source_schema: str,
             late_days: int = 0, rebuild_from: dt.date | None = None) -> Window:
    """The run's window: from the watermark, and also the `late_days` days before the run's day (their
    events are read again: late ones are counted), or from `rebuild_from`."""
    return incremental.plan_for(day, full_refresh, output_schema=output_schema, source_schema=source_schema,
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


def build(window: Window, *, run_id: str, output_schema: str, source_schema: str, features: list[str],
          now: dt.datetime | None = None) -> dict[str, Any]:
    """Rebuilds the window's rows of every output in one warehouse transaction; returns what it did. Events
    after `now` (the clock by default) are in the future: left out and reported."""
    from saas_ops import db, quality

    summary: dict[str, Any] = {"window": window.to_xcom()}
    with db.source() as src, db.warehouse() as wh:
        dropped_indexes = incremental.begin_build(wh, window.full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES),
                                                  bulk_tables=BULK_TABLES)
        if window.start is None:
            incremental.end_build(wh, window.full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES), dropped_indexes)
            summary.update(rows_read={}, bad_events=0, days=0)
            return summary
        summary["events_index"] = has_events_index(src, source_schema)
        incremental.prepare_session(src)  # the extract aggregates the window's events on saas_db
        db.run_sql_file(wh, "engagement/10_raw_tables.sql")
        params = window.params(run_id=run_id, dag_id=DAG_ID, features=features, now=now or dt.datetime.now(dt.UTC),
                               **quality.quarantine(src, wh, QUARANTINED, source_schema=source_schema,
                                                    output_schema=output_schema, run_id=run_id, dag_id=DAG_ID))
        summary["rows_read"] = copy_source_rows(src, wh, source_schema, params)
        if window.read_from is not None:  # days read again for late events: rebuilt from the first that changed
            changed = db.fetch_sql_file(wh, "engagement/first_changed_day.sql",
                                        {**params, "read_from": window.read_from}, schema=output_schema)[0][0]
            window = dataclasses.replace(window, start=min(changed or window.start, window.start), read_from=None)
            params["from_day"] = window.start
            summary["window"] = window.to_xcom()
        db.run_sql_file(wh, ACTIVITY_STEP, params, schema=output_schema)
        # the later steps look users up by index and plan by the tables' statistics: both from the loaded state
        incremental.end_build(wh, window.full_refresh, output_schema, STATE_TABLES, dropped_indexes)
        few_days = (window.day - window.start).days + 1 <= FEW_DAYS
        for step in BUILD_STEPS:
            if isinstance(step, tuple):
                step = step[0] if few_days else step[1]
            db.run_sql_file(wh, step, params, schema=output_schema)
        incremental.end_build(wh, window.full_refresh, output_schema, OUTPUTS, dropped_indexes)
        summary["bad_events"] = summary["rows_read"]["eng_bad_events"]
        summary["left_out"] = quality.new_issue_counts(wh, output_schema, run_id=run_id, dag_id=DAG_ID)
        summary["days"] = (window.day - window.start).days + 1
    return summary


def build_for(run: incremental.Run) -> dict[str, Any]:
    """The run's window (from the watermark, the ENGAGEMENT_LATE_DAYS before its day, or `rebuild_from`), built."""
    from saas_ops import config

    rebuild_from = run.params.get("rebuild_from")
    window = plan_for(run.day, run.full_refresh, output_schema=run.output_schema, source_schema=run.source_schema,
                      late_days=config.setting("ENGAGEMENT_LATE_DAYS"),
                      rebuild_from=dt.date.fromisoformat(rebuild_from) if rebuild_from else None)
    summary = build(window, run_id=run.run_id, output_schema=run.output_schema, source_schema=run.source_schema,
                    features=config.core_features())
    if summary.get("events_index") is False:
        print(f"WARNING: {run.source_schema}.events has no index starting with occurred_at; every run scans the "
              f"whole table. Create one: CREATE INDEX ON {run.source_schema}.events (occurred_at);")
    return summary


def build_alerts(summary: dict[str, Any], run: incremental.Run) -> list[Any]:
    """Events no earlier run reported as breaking the contract (late days are read again: announced once)."""
    from saas_ops import quality

    alert = quality.alert(summary.get("left_out", {}), dag_id=DAG_ID, run_id=run.run_id, schema=run.output_schema,
                          left_out_of="engagement")
    return [alert] if alert else []


def day_alerts(wh: psycopg.Connection, first: dt.date, day: dt.date, schema: str) -> list[Any]:
    """A day whose DAU fell below DAU_DROP_ALERT × the mean of the same weekday over the four weeks before."""
    from saas_ops import alerts, config, db

    threshold = config.setting("DAU_DROP_ALERT")
    days = db.fetch_sql_file(wh, "engagement/engagement_alerts.sql",
                             {"alert_from": first, "day": day, "drop_threshold": threshold}, schema=schema)
    return [alerts.Alert(
        kind="business", severity="P2", dag_id=DAG_ID, run_id=f"engagement:{alert_day}",
        title=f"{DAG_ID}: DAU {dau:,} on {alert_day} ({alert_day:%A}) is {dau / mean:.0%} of the same weekday's "
              f"4-week mean {mean:,.0f}",
        details=[f"• threshold: below {threshold:.0%} of that mean",
                 f"• see: SELECT * FROM {schema}.engagement_daily WHERE day >= '{alert_day - dt.timedelta(days=28)}'"])
        for alert_day, dau, mean in days]


ENGAGEMENT = incremental.Incremental(
    dag_id=DAG_ID, outputs=OUTPUTS, build=build_for, check_sql="engagement/check_engagement.sql",
    check_name="engagement check", build_alerts=build_alerts, day_alerts=day_alerts)


# --------------------------------------------------------------------------------------- tasks


@task
def build_engagement(**context: Any) -> dict[str, Any]:
    """Brings engagement_daily, account_engagement_daily, feature_adoption and retention_cohorts up to date
    through the run's day, reading only the window's events."""
    return incremental.build(ENGAGEMENT, context)


@task(retries=0, outlets=[assets.ENGAGEMENT])
def check_engagement(summary: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Fails the run when a written day is inconsistent (DAU > WAU > MAU, lifecycle ≠ DAU, ...); otherwise
    moves the watermark and publishes the asset."""
    return incremental.check_and_advance(ENGAGEMENT, summary, context)


@task
def engagement_alerts(summary: dict[str, Any]) -> list[str]:
    """Slack when a day's DAU fell below DAU_DROP_ALERT × the mean of the same weekday over the four weeks
    before. One message per day, however often the run repeats."""
    return incremental.alert_new_days(ENGAGEMENT, summary)
