"""The incremental runner of saas_mrr, saas_engagement and saas_support: the days a run rebuilds, the watermarks that
remember how far each output is complete, the frame of a build, and the three tasks every such DAG has:

1. **build** (`build`): the capability's build rebuilds its window of days in one warehouse transaction and
   returns a summary; the runner prints it and sends the build's own alerts (rows left out, restatements);
2. **check and advance** (`check_and_advance`): the capability's check SQL over the written days; any problem
   fails the run and the watermark stays, so the next run writes those days again; else the watermark moves;
3. **alert** (`alert_new_days`): the business alerts of the days no earlier run had verified (a first build
   alerts on its last ALERT_LOOKBACK_DAYS only, not on years of history).

A capability declares an `Incremental` (its outputs, build, check and alerts); its DAG's tasks call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    import psycopg

    from saas_ops.alerts import Alert

ALERT_LOOKBACK_DAYS = 7
# The outputs churn and campaigns read, and the DAG that builds each.
METRICS = {"customer_mrr_monthly": "saas_mrr", "account_engagement_daily": "saas_engagement"}


class NotReady(RuntimeError):
    """An input a run reads is not up to the run's day yet (the message says which DAG to run first)."""


@dataclass(frozen=True)
class Run:
    """What a run of an incremental DAG is asked for: the day it closes and its DAG params."""

    day: dt.date
    full_refresh: bool
    run_id: str
    output_schema: str
    source_schema: str
    params: dict[str, Any]

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> Run:
        from saas_ops import config
        from saas_ops.dates import day_closed

        return cls(day_closed(context), bool(context["params"].get("full_refresh")), context["run_id"],
                   config.schema_name("OUTPUT_SCHEMA"), config.schema_name("SOURCE_SCHEMA"), dict(context["params"]))


@dataclass(frozen=True)
class Incremental:
    """A capability's incremental outputs, as the runner needs them."""

    dag_id: str
    outputs: tuple[str, ...]  # their watermark moves together, after the check
    build: Callable[[Run], dict[str, Any]]  # returns a summary with "window" (Window.to_xcom) and "days"
    check_sql: str  # one row (a message) per inconsistent day of the window
    check_name: str  # what the check proves, e.g. "MRR bridge": it holds, or does not hold on N days
    build_alerts: Callable[[dict[str, Any], Run], list[Alert]]
    day_alerts: Callable[[psycopg.Connection, dt.date, dt.date, str], list[Alert]]  # (wh, first, day, schema)

    def problems(self, wh: psycopg.Connection, schema: str, window: Window) -> list[str]:
        return problems(wh, self.check_sql, schema, window)

    def advance(self, wh: psycopg.Connection, schema: str, day: dt.date, run_id: str) -> None:
        advance_watermark(wh, schema, self.outputs, self.dag_id, day, run_id)


@dataclass(frozen=True)
class Window:
    """The days a run rebuilds: [start, day]. `day` is the run's day, or the watermark when an older interval
    is rerun (the days after it are rebuilt too, so they stay consistent); `start` is None when there is nothing
    to build. `read_from`: where it reads the source from, when it also reads earlier days again for late rows
    (their figures are rebuilt only if those rows changed them)."""

    start: dt.date | None
    day: dt.date
    first_new_day: dt.date | None  # first day no earlier run had verified (revenue alerts start there)
    full_refresh: bool
    read_from: dt.date | None = None

    def params(self, **extra: Any) -> dict[str, Any]:
        assert self.start is not None
        midnight = lambda day: dt.datetime.combine(day, dt.time(), dt.UTC)  # noqa: E731
        return {"from_day": self.start, "day": self.day, "read_start": midnight(self.read_from or self.start),
                "day_end": midnight(self.day + dt.timedelta(days=1)), "full_refresh": self.full_refresh, **extra}

    def to_xcom(self) -> dict[str, Any]:
        return {"start": self.start and self.start.isoformat(), "day": self.day.isoformat(),
                "first_new_day": self.first_new_day and self.first_new_day.isoformat(),
                "full_refresh": self.full_refresh}

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> Window:
        date_or_none = lambda v: dt.date.fromisoformat(v) if v else None  # noqa: E731
        return cls(date_or_none(data["start"]), dt.date.fromisoformat(data["day"]),
                   date_or_none(data["first_new_day"]), data["full_refresh"])


def plan_window(watermark: dt.date | None, earliest: dt.date | None, day: dt.date,
                full_refresh: bool, *, reread_days: int = 0, rebuild_from: dt.date | None = None,
                first_built_day: dt.date | None = None) -> Window:
    """Which days a run for `day` rebuilds: an incremental run from the day after the watermark, or from
    `rebuild_from` when given; it also reads again the `reread_days` days before `day` (late source rows).
    Never before the first day built (`first_built_day`): that takes a full refresh."""
    if full_refresh or watermark is None:
        start = earliest if earliest is not None and earliest <= day else None
        return Window(start, day, start, True)
    # A rerun of an older interval rebuilds from its day through the watermark: identical when the source
    # did not change, consistent when it did.
    start = min(watermark + dt.timedelta(days=1), day, rebuild_from or day)
    read_from = min(start, day - dt.timedelta(days=reread_days))
    if first_built_day is not None:
        start, read_from = max(start, first_built_day), max(read_from, first_built_day)
    first_new = watermark + dt.timedelta(days=1) if day > watermark else None
    return Window(start, max(day, watermark), first_new, False, read_from if read_from < start else None)


def plan_for(day: dt.date, full_refresh: bool, *, output_schema: str, source_schema: str,
             watermark_output: str, earliest_day_sql: str, reread_days: int = 0,
             rebuild_from: dt.date | None = None) -> Window:
    """The window of a run: reads the watermark, the first day built (and the earliest source day when it
    builds from scratch)."""
    from saas_ops import db

    with db.warehouse() as wh:
        watermark = read_watermark(wh, output_schema, watermark_output)
        first_built = wh.execute(db.compose("SELECT min(day) FROM {schema}.{table}", schema=output_schema,
                                            table=watermark_output)).fetchone()[0]
    earliest = None
    if full_refresh or watermark is None:
        with db.source() as src:
            earliest = db.fetch_sql_file(src, earliest_day_sql, schema=source_schema)[0][0]
    window = plan_window(watermark, earliest, day, full_refresh, reread_days=reread_days,
                         rebuild_from=rebuild_from, first_built_day=first_built)
    print(f"watermark {watermark}; rebuilding {window.start} .. {window.day}"
          + (f", reading again from {window.read_from}" if window.read_from else "")
          + (" (full refresh)" if window.full_refresh else ""))
    return window


def begin_build(wh: psycopg.Connection, full_refresh: bool, schema: str, tables: tuple[str, ...], *,
                bulk_tables: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Prepares the warehouse transaction of a build (see prepare_session) and empties `tables` for a full
    refresh.

    A full refresh also drops the indexes of those of `tables` in `bulk_tables` (the ones it fills with
    millions of rows) and returns, per table, the statements that recreate them, for end_build: building an
    index once from the loaded table costs a fraction of updating it row by row. TRUNCATE already holds the
    tables exclusively until the transaction ends, and a failed build rolls the drop back with the rest."""
    from saas_ops.db import compose, fetch_sql_file

    prepare_session(wh)
    if not full_refresh:
        return {}
    for table in tables:
        wh.execute(compose("TRUNCATE {schema}.{table}", schema=schema, table=table))
    dropped: dict[str, list[str]] = {}
    for table, drop, create in fetch_sql_file(wh, "incremental/indexes_of_tables.sql", {
            "tables": [compose("{schema}.{table}", schema=schema, table=t).as_string(wh)
                       for t in bulk_tables if t in tables]}):
        wh.execute(drop)
        dropped.setdefault(table, []).append(create)
    return dropped


def prepare_session(conn: psycopg.Connection) -> None:
    """Settings for a session that builds outputs: memory for its sorts, and a bounded wait for locks (a
    reader holding the tables fails the run rather than hangs it)."""
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET lock_timeout = '10min'")


def end_build(wh: psycopg.Connection, full_refresh: bool, schema: str, tables: tuple[str, ...],
              dropped_indexes: Mapping[str, list[str]] | None = None) -> None:
    """Closes the build of `tables`: the indexes begin_build dropped from them, and after a full refresh, fresh
    planner statistics (without them the next daily run plans against none until autovacuum gets there)."""
    from saas_ops.db import compose

    dropped_indexes = dropped_indexes or {}
    for table in tables:
        for create in dropped_indexes.get(table, ()):
            wh.execute(create)
    if full_refresh:
        for table in tables:
            wh.execute(compose("ANALYZE {schema}.{table}", schema=schema, table=table))


def problems(conn: psycopg.Connection, check_sql: str, schema: str, window: Window) -> list[str]:
    """The rows of a check file (one message per problem) for the window; none when nothing was built."""
    from saas_ops.db import fetch_sql_file

    if window.start is None:
        return []
    return [row[0] for row in fetch_sql_file(conn, check_sql, window.params(), schema=schema)]


def read_watermark(conn: psycopg.Connection, schema: str, output: str) -> dt.date | None:
    from saas_ops.db import compose

    row = conn.execute(compose("SELECT watermark_day FROM {schema}.watermarks WHERE output = %s", schema=schema),
                       (output,)).fetchone()
    return row[0] if row else None


def advance_watermark(conn: psycopg.Connection, schema: str, outputs: tuple[str, ...], dag_id: str, day: dt.date,
                      run_id: str) -> None:
    from saas_ops.db import run_sql_file

    run_sql_file(conn, "incremental/watermarks_advanced.sql",
                 {"outputs": list(outputs), "dag_id": dag_id, "day": day, "run_id": run_id}, schema=schema)


# --------------------------------------------------------------------------------------- the runner's tasks


def build(spec: Incremental, context: dict[str, Any]) -> dict[str, Any]:
    """Task 1: the capability's build for the run's day, then its build alerts."""
    from saas_ops import alerts

    run = Run.from_context(context)
    summary = spec.build(run)
    window = Window.from_xcom(summary["window"])
    print(f"read {summary.get('rows_read')}; wrote {summary['days']} day(s): {window.start} .. {window.day}"
          + (" (full refresh)" if window.full_refresh else ""))
    for alert in spec.build_alerts(summary, run):
        print(alert.title)
        alerts.dispatch(alert)
    return summary


def check_and_advance(spec: Incremental, summary: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Task 2: fails the run when a written day breaks the check (the watermark stays, so the next run writes
    those days again); otherwise moves the watermark of every output to the window's day, and puts that day on
    the events of the assets the task publishes."""
    from airflow.sdk.exceptions import AirflowFailException

    from saas_ops import config, db
    from saas_ops.dates import carry_day

    schema = config.schema_name("OUTPUT_SCHEMA")
    window = Window.from_xcom(summary["window"])
    with db.warehouse() as wh:
        found = spec.problems(wh, schema, window)
        if found:
            raise AirflowFailException(
                f"{spec.check_name} does not hold on {len(found)} day(s)/month(s); the watermark stays (the next "
                f"run writes those days again); if it persists, trigger {spec.dag_id} with full_refresh:\n"
                + "\n".join(found))
        spec.advance(wh, schema, window.day, context["run_id"])
    print(f"{spec.check_name} holds for every day and month of {window.start} .. {window.day}; "
          f"watermark {window.day}")
    carry_day(context, window.day)
    return summary


def alert_new_days(spec: Incremental, summary: dict[str, Any]) -> list[str]:
    """Task 3: the capability's business alerts for the days no earlier run verified, each sent once."""
    from saas_ops import alerts, config, db

    window = Window.from_xcom(summary["window"])
    if window.start is None:
        return []
    first = max(window.first_new_day or window.day, window.day - dt.timedelta(days=ALERT_LOOKBACK_DAYS - 1))
    with db.warehouse() as wh:
        found = spec.day_alerts(wh, first, window.day, config.schema_name("OUTPUT_SCHEMA"))
    for alert in found:
        alerts.dispatch(alert)
    print(f"{len(found)} alert(s) for {first} .. {window.day}")
    return [alert.title for alert in found]


def metrics_watermarks(wh: psycopg.Connection, schema: str) -> dict[str, dt.date | None]:
    """How far saas_mrr and saas_engagement are complete: DAG -> the watermark of the output others read."""
    return {dag: read_watermark(wh, schema, output) for output, dag in METRICS.items()}


def require_metrics_through(wh: psycopg.Connection, schema: str, day: dt.date, what: str) -> None:
    """Raises NotReady unless saas_mrr and saas_engagement are complete through `day` (`what` needs them)."""
    for dag, have in metrics_watermarks(wh, schema).items():
        if have is None or have < day:
            raise NotReady(f"{what} for {day} need {dag} through {day}; it is at {have}. Run {dag} first.")
