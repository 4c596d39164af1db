"""saas_support at 1M tickets over three years for 100k accounts.

PostgreSQL generates the tickets (a tenth urgent or high, nine in ten answered within the hour of their
priority's scale, 0.2% never resolved, a third rated) and each account's plan; customer_mrr_changes gets one row
per account, as saas_mrr would leave it. In one process on one database it measures:
- full build: a full refresh through the day before the last, reading every ticket;
- one day: the next run, whose day brings a day's new tickets and answers, resolutions and ratings of the
  tickets of the days before;
- a restating day: a run after 1,000 tickets across history were corrected (their first responses moved);
- baseline: one pass of every ticket, `SELECT created_at::date, priority, count(*) ... GROUP BY 1, 2`.
SUPPORT_BENCH_TICKETS overrides the number of tickets (accounts: a tenth of it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import tempfile
import time
from pathlib import Path

import psycopg

from dev import devdb
from saas_ops.db import compose, read_sql
from tests.harness.databases import point_airflow_at

END = dt.date(2026, 11, 22)
DAYS = 3 * 365
POLICIES = "urgent=15m,high=1h,normal=4h,low=24h,enterprise:urgent=10m,enterprise:high=30m"

ACCOUNTS = """
INSERT INTO app.customers (customer_id, name, created_at)
SELECT 'cus_' || a, 'Account ' || a, %(first)s::timestamptz - interval '30 days' FROM generate_series(0, %(n)s - 1) a;
INSERT INTO app.subscription_periods (subscription_id, customer_id, plan_id, status, currency, amount_cents, quantity,
                                      billing_interval, interval_count, valid_from)
SELECT 'sub_' || a, 'cus_' || a, (ARRAY['starter', 'growth', 'enterprise'])[1 + a %% 3], 'active', 'USD',
       (ARRAY[2900, 9900, 49900])[1 + a %% 3], 1, 'month', 1, %(first)s::timestamptz - interval '30 days'
FROM generate_series(0, %(n)s - 1) a;
"""

# Ticket i of n, spread evenly over the days before `last` (exclusive); its priority, response, resolution and
# rating are functions of i.
TICKETS = """
INSERT INTO app.support_tickets (ticket_id, customer_id, created_at, priority, first_response_at, resolved_at, csat)
SELECT 'tkt_' || i, 'cus_' || ((i * 7919) %% %(accounts)s), t.created,
       p.priority,
       CASE WHEN i %% 97 <> 0 THEN t.created + p.scale * ((i * 37) %% 100) / 90.0 END,
       CASE WHEN i %% 500 <> 0 THEN t.created + p.scale * ((i * 37) %% 100) / 90.0
                                   + interval '1 hour' * ((i * 13) %% 72) END,
       CASE WHEN i %% 3 = 0 AND i %% 500 <> 0 THEN 1 + (i * 7) %% 5 END
FROM generate_series(%(lo)s::bigint, %(hi)s - 1) i
CROSS JOIN LATERAL (SELECT %(first)s::timestamptz + (%(last)s::timestamptz - %(first)s::timestamptz) * i / %(n)s
                    AS created) t
CROSS JOIN LATERAL (SELECT (ARRAY['urgent', 'high', 'high', 'normal', 'normal', 'normal', 'normal', 'normal',
                                  'low', 'low'])[1 + i %% 10] AS priority) q
CROSS JOIN LATERAL (SELECT q.priority, CASE q.priority WHEN 'urgent' THEN interval '15 minutes'
                                                       WHEN 'high' THEN interval '1 hour'
                                                       WHEN 'normal' THEN interval '4 hours'
                                                       ELSE interval '24 hours' END AS scale) p
"""

BASELINE = "SELECT created_at::date, priority, count(*) FROM app.support_tickets GROUP BY 1, 2"


def _run(day: dt.date, full_refresh: bool) -> tuple[float, dict]:
    """One saas_support run closing `day` (build and check, as the DAG's tasks do); seconds and its summary."""
    from saas_ops import db, incremental
    from saas_ops.support import metrics
    from saas_ops.support.sla import parse_policies

    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the task's log lines
        window = incremental.plan_for(day, full_refresh, output_schema="saas_ops", source_schema="app",
                                      watermark_output="support_daily", earliest_day_sql="support/earliest_day.sql")
    summary = metrics.build(window, run_id=f"bench:{day}", output_schema="saas_ops", source_schema="app",
                            policies=parse_policies(POLICIES),
                            now=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(3), dt.UTC))
    window = incremental.Window.from_xcom(summary["window"])
    with db.warehouse() as wh:
        problems = metrics.SUPPORT.problems(wh, "saas_ops", window)
        if problems:
            raise RuntimeError("support check failed: " + "; ".join(problems[:5]))
        metrics.SUPPORT.advance(wh, "saas_ops", window.day, "bench")
    return time.perf_counter() - t, summary


def main() -> None:
    tickets = int(os.environ.get("SUPPORT_BENCH_TICKETS", "1000000"))
    accounts = max(tickets // 10, 1)
    first = dt.datetime.combine(END - dt.timedelta(days=DAYS), dt.time(), dt.UTC)
    last = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(), dt.UTC)
    day_before = tickets - tickets // DAYS  # the tickets of END come with the one-day run
    folder = Path(tempfile.mkdtemp(prefix="saas_ops_bench_support_"))
    server = devdb.start(folder)
    try:
        dsn = server.create_database("bench_support", drop_first=True)
        point_airflow_at(dsn)
        from saas_ops import db

        params = {"first": first, "last": last, "n": tickets, "accounts": accounts}
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(compose(read_sql("contract/app_schema.sql"), schema="app"))
            conn.execute(compose(read_sql("contract/app_indexes.sql"), schema="app"))
            with psycopg.ClientCursor(conn) as cur:
                cur.execute(ACCOUNTS, {"first": first, "n": accounts})
                cur.execute(TICKETS, {**params, "lo": 0, "hi": day_before})
            db.migrate(conn, "saas_ops")
            conn.execute("INSERT INTO saas_ops.customer_mrr_changes (day, customer_id, previous_cents, mrr_cents, "
                         "movement) SELECT %s, customer_id, 0, amount_cents, 'new' FROM app.subscription_periods",
                         (first.date() - dt.timedelta(days=30),))
            conn.execute("VACUUM ANALYZE")
            conn.execute(BASELINE).fetchall()  # the cache the runs see
            t = time.perf_counter()
            conn.execute(BASELINE).fetchall()
            baseline = time.perf_counter() - t

        full, summary = _run(END - dt.timedelta(days=1), full_refresh=True)
        with psycopg.connect(dsn, autocommit=True) as conn, psycopg.ClientCursor(conn) as cur:
            # The day's tickets, and the answers and resolutions of the last three days' tickets arriving now.
            cur.execute(TICKETS, {**params, "lo": day_before, "hi": tickets})
            conn.execute("UPDATE app.support_tickets SET first_response_at = created_at + interval '20 minutes' "
                         "WHERE first_response_at IS NULL AND created_at >= %s", (last - dt.timedelta(days=3),))
            conn.execute("VACUUM ANALYZE app.support_tickets")
        day, _ = _run(END, full_refresh=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE app.support_tickets SET first_response_at = first_response_at + interval '1 minute' "
                         "WHERE ticket_id IN (SELECT 'tkt_' || (i * 997) FROM generate_series(0, 999) i)")
        restating, restated = _run(END, full_refresh=False)
        with psycopg.connect(dsn) as conn:
            rows = conn.execute("SELECT (SELECT count(*) FROM saas_ops.support_daily), "
                                "(SELECT count(*) FROM saas_ops.support_sla_daily), "
                                "(SELECT count(*) FROM saas_ops.support_account_daily)").fetchone()
        print(f"{'tickets':>10} {'full build s':>13} {'1 day s':>8} {'restating day s':>16} {'one pass s':>11} "
              f"{'full/pass':>10} {'day/pass':>9} {'restating/pass':>15}")
        print(f"{tickets:>10,} {full:>13.1f} {day:>8.2f} {restating:>16.2f} {baseline:>11.2f} "
              f"{full / baseline:>10.1f} {day / baseline:>9.2f} {restating / baseline:>15.2f}")
        print(f"rows: support_daily {rows[0]:,}, support_sla_daily {rows[1]:,}, support_account_daily {rows[2]:,}; "
              f"the restating day rebuilt from {restated['window']['start']}; full build read "
              f"{summary['rows_read']:,} tickets")
    finally:
        devdb.discard(folder)
