"""Freshness checks for ops_watchdog: the alarm that still rings when a run died without a word.

Barman's idea (last_backup_maximum_age, minimum_size) applied to the whole pack: every output's
watermark, the newest good backup and the newest passed restore drill must be recent enough and big enough.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Problem:
    key: str      # stable across hours, so one problem alerts once a day, not every hour
    message: str


@dataclass(frozen=True)
class Limits:
    max_lag_hours: int
    backup_max_age_hours: int
    backup_min_bytes: int
    backup_max_shrink: float
    drill_max_age_days: int


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def stale_watermarks(rows: list[tuple[str, str, dt.date, int | None]], now: dt.datetime,
                     default_max_lag_hours: int) -> list[Problem]:
    """rows: (output, dag_id, watermark_day, max_lag_hours). Age counts from the end of the watermark day."""
    problems = []
    for output, dag_id, day, max_lag in rows:
        end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        allowed = dt.timedelta(hours=max_lag or default_max_lag_hours)
        if now - end_of_day > allowed:
            problems.append(Problem(f"stale:{output}", f"{output} (built by {dag_id}) is complete only through "
                                    f"{day}: {_hours(now - end_of_day)} old, {_hours(allowed)} allowed"))
    return problems


def backup_problems(backups: list[tuple[str, dt.datetime, int]], now: dt.datetime, limits: Limits) -> list[Problem]:
    """backups: the newest good backups first, as (backup_id, finished_at, bytes)."""
    if not backups:
        return [Problem("backup:none", "no successful backup is recorded in backups: the database is not "
                        "backed up (is db_backup enabled?)")]
    backup_id, finished_at, size = backups[0]
    problems = []
    allowed = dt.timedelta(hours=limits.backup_max_age_hours)
    if now - finished_at > allowed:
        problems.append(Problem("backup:old", f"newest good backup {backup_id} finished {_hours(now - finished_at)} "
                                f"ago, {_hours(allowed)} allowed"))
    if size < limits.backup_min_bytes:
        problems.append(Problem("backup:small", f"newest good backup {backup_id} is {size:,} bytes, under the "
                                f"{limits.backup_min_bytes:,} bytes minimum"))
    if len(backups) > 1 and size < backups[1][2] * limits.backup_max_shrink:
        problems.append(Problem("backup:shrank", f"newest good backup {backup_id} is {size:,} bytes, under "
                                f"{limits.backup_max_shrink:.0%} of the previous one ({backups[1][2]:,} bytes)"))
    return problems


def drill_problems(newest_passed: tuple[str, dt.datetime] | None, now: dt.datetime, limits: Limits) -> list[Problem]:
    if newest_passed is None:
        return [Problem("drill:none", "no passed restore drill is recorded: no backup is proven to restore "
                        "(is db_restore_drill enabled?)")]
    drill_id, finished_at = newest_passed
    allowed = dt.timedelta(days=limits.drill_max_age_days)
    if now - finished_at > allowed:
        return [Problem("drill:old", f"newest passed restore drill {drill_id} finished {_hours(now - finished_at)} "
                        f"ago, {_hours(allowed)} allowed")]
    return []


def find_problems(conn: psycopg.Connection, schema: str, now: dt.datetime, limits: Limits) -> list[Problem]:
    from saas_ops.db import fetch_sql_file

    watermarks = fetch_sql_file(conn, "ops/watermarks.sql", schema=schema)
    backups = fetch_sql_file(conn, "ops/newest_backups.sql", schema=schema)
    drills = fetch_sql_file(conn, "ops/newest_passed_drill.sql", schema=schema)
    return (stale_watermarks(watermarks, now, limits.max_lag_hours)
            + backup_problems(backups, now, limits)
            + drill_problems(drills[0] if drills else None, now, limits))


def limits_from_settings() -> Limits:
    from saas_ops.config import setting

    return Limits(max_lag_hours=setting("WATCHDOG_MAX_LAG_HOURS"),
                  backup_max_age_hours=setting("BACKUP_MAX_AGE_HOURS"),
                  backup_min_bytes=setting("BACKUP_MIN_BYTES"),
                  backup_max_shrink=setting("BACKUP_MAX_SHRINK"),
                  drill_max_age_days=setting("DRILL_MAX_AGE_DAYS"))


def alert_for(problems: list[Problem], now: dt.datetime) -> Any:
    """One watchdog message for a set of problems; the same set alerts at most once per UTC day."""
    import hashlib

    from saas_ops.alerts import Alert

    digest = hashlib.sha1("|".join(sorted(p.key for p in problems)).encode()).hexdigest()[:12]
    return Alert(kind="watchdog", severity="P1", dag_id="ops_watchdog", run_id=f"{now:%Y-%m-%d}/{digest}",
                 title=f"ops_watchdog: {len(problems)} freshness problem(s)",
                 details=[f"• {p.message}" for p in problems])


@task
def check_freshness(**context: Any) -> list[dict]:
    """Finds freshness problems and alerts once per day per set of problems; stays green itself."""
    from saas_ops import alerts, config, db, storage
    from saas_ops.backups import dump

    # "now" of the run: its logical date (an hourly trigger's time), or run_after for a run without one.
    now = context.get("logical_date") or context["dag_run"].run_after
    stale_hours = config.setting("BACKUP_STALE_HOURS")
    killed = dump.fail_stale_backups(storage.open_storage(), dt.timedelta(hours=stale_hours))
    with db.warehouse() as conn:
        problems = find_problems(conn, config.schema_name("OUTPUT_SCHEMA"), now, limits_from_settings())
    problems = [Problem(f"backup:killed:{backup_id}", f"backup {backup_id} was still running after {stale_hours} h: "
                        "its task was killed or lost; marked failed and its partial files removed")
                for backup_id in killed] + problems
    for problem in problems:
        print(f"PROBLEM {problem.key}: {problem.message}")
    print(f"{len(problems)} problem(s)")
    if problems:
        alerts.dispatch(alert_for(problems, now))
    return [{"key": p.key, "message": p.message} for p in problems]
