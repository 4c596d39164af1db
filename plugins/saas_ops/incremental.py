"""The days a run rebuilds, the watermarks that remember how far each output is complete, and the frame of a
build (its session settings, a full refresh's truncation and index rebuild).

saas_engagement rebuilds the window [S, E] plan_window gives: S is the day after the watermark (the earliest
source day on the first run or with `full_refresh`), or earlier when late days are read again; E is D, or the
watermark when an older interval is rerun. saas_mrr decides its days itself (mrr.build) and reports them as a
Window for its bridge check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg


@dataclass(frozen=True)
class Window:
    """The days a run rebuilds: [start, end]; `start` is None when there is nothing to build. `read_from`: where
    it reads the source from, when it also reads earlier days again for late rows (their figures are rebuilt
    only if those rows changed them)."""

    start: dt.date | None
    end: dt.date
    first_new_day: dt.date | None  # first day no earlier run had verified (revenue alerts start there)
    full_refresh: bool
    read_from: dt.date | None = None

    def params(self, **extra: Any) -> dict[str, Any]:
        assert self.start is not None
        midnight = lambda day: dt.datetime.combine(day, dt.time(), dt.UTC)  # noqa: E731
        return {"s_day": self.start, "e_day": self.end, "s_start": midnight(self.read_from or self.start),
                "e_next": midnight(self.end + dt.timedelta(days=1)), "full_refresh": self.full_refresh, **extra}

    def to_xcom(self) -> dict[str, Any]:
        return {"start": self.start and self.start.isoformat(), "end": self.end.isoformat(),
                "first_new_day": self.first_new_day and self.first_new_day.isoformat(),
                "full_refresh": self.full_refresh}

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> Window:
        day = lambda v: dt.date.fromisoformat(v) if v else None  # noqa: E731
        return cls(day(data["start"]), dt.date.fromisoformat(data["end"]), day(data["first_new_day"]),
                   data["full_refresh"])


def plan_window(watermark: dt.date | None, earliest: dt.date | None, closing_day: dt.date,
                full_refresh: bool, *, reread_days: int = 0, rebuild_from: dt.date | None = None,
                first_built_day: dt.date | None = None) -> Window:
    """Which days a run for `closing_day` rebuilds (see the module docstring): an incremental run from the day
    after the watermark, or from `rebuild_from` when given; it also reads again the `reread_days` days before
    the closing day (late source rows). Never before the first day built (`first_built_day`): that takes a full
    refresh."""
    if full_refresh or watermark is None:
        start = earliest if earliest is not None and earliest <= closing_day else None
        return Window(start, closing_day, start, True)
    # A rerun of an older interval rebuilds from its day through the watermark: identical when the source
    # did not change, consistent when it did.
    start = min(watermark + dt.timedelta(days=1), closing_day, rebuild_from or closing_day)
    read_from = min(start, closing_day - dt.timedelta(days=reread_days))
    if first_built_day is not None:
        start, read_from = max(start, first_built_day), max(read_from, first_built_day)
    end = max(closing_day, watermark)
    first_new = watermark + dt.timedelta(days=1) if closing_day > watermark else None
    return Window(start, end, first_new, False, read_from if read_from < start else None)


def plan_for(closing_day: dt.date, full_refresh: bool, *, output_schema: str, source_schema: str,
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
    window = plan_window(watermark, earliest, closing_day, full_refresh, reread_days=reread_days,
                         rebuild_from=rebuild_from, first_built_day=first_built)
    print(f"watermark {watermark}; rebuilding {window.start} .. {window.end}"
          + (f", reading again from {window.read_from}" if window.read_from else "")
          + (" (full refresh)" if window.full_refresh else ""))
    return window


def begin_build(wh: psycopg.Connection, full_refresh: bool, schema: str, tables: tuple[str, ...], *,
                bulk_tables: tuple[str, ...] = ()) -> list[str]:
    """Prepares the warehouse transaction of a build (see prepare_session) and empties `tables` for a full
    refresh.

    A full refresh also drops the indexes of those of `tables` in `bulk_tables` (the ones it fills with
    millions of rows) and returns the statements that recreate them, for end_build: building an index once
    from the loaded table costs a fraction of updating it row by row. TRUNCATE already holds the tables
    exclusively until the transaction ends, and a failed build rolls the drop back with the rest."""
    from saas_ops.db import compose

    prepare_session(wh)
    if not full_refresh:
        return []
    for table in tables:
        wh.execute(compose("TRUNCATE {schema}.{table}", schema=schema, table=table))
    bulk_tables = [t for t in bulk_tables if t in tables]
    if not bulk_tables:
        return []
    indexes = wh.execute(INDEXES_SQL, ([compose("{schema}.{table}", schema=schema, table=t).as_string(wh)
                                        for t in bulk_tables],)).fetchall()
    for drop, _ in indexes:
        wh.execute(drop)
    return [create for _, create in indexes]


def prepare_session(conn: psycopg.Connection) -> None:
    """Settings for a session that builds outputs: memory for its sorts, and a bounded wait for locks (a
    reader holding the tables fails the run rather than hangs it)."""
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET lock_timeout = '10min'")


# Each index of the tables, as the statement that drops it and the one that recreates it (a primary key or
# unique constraint as such, so that its name and ON CONFLICT keep working). %% is format()'s %.
INDEXES_SQL = """
SELECT CASE WHEN c.conname IS NULL THEN format('DROP INDEX %%s', i.indexrelid::regclass)
            ELSE format('ALTER TABLE %%s DROP CONSTRAINT %%I', i.indrelid::regclass, c.conname) END,
       CASE WHEN c.conname IS NULL THEN pg_get_indexdef(i.indexrelid)
            ELSE format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', i.indrelid::regclass, c.conname,
                        pg_get_constraintdef(c.oid)) END
FROM pg_index i
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')
WHERE i.indrelid = ANY (%s::regclass[])
ORDER BY i.indexrelid
"""


def end_build(wh: psycopg.Connection, full_refresh: bool, schema: str, tables: tuple[str, ...],
              dropped_indexes: Sequence[str] = ()) -> None:
    """Closes a build: the indexes begin_build dropped, and after a full refresh, fresh planner statistics for
    the rebuilt tables (without them the next daily run plans against none until autovacuum gets there)."""
    from saas_ops.db import compose

    for create in dropped_indexes:
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
    from saas_ops.db import compose

    for output in outputs:
        conn.execute(compose(
            "INSERT INTO {schema}.watermarks (output, dag_id, watermark_day, run_id, updated_at) "
            "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (output) DO UPDATE SET dag_id = excluded.dag_id, "
            "watermark_day = excluded.watermark_day, run_id = excluded.run_id, updated_at = now()",
            schema=schema), (output, dag_id, day, run_id))
