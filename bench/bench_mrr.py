"""saas_mrr at 100k and 1M customers with three years of history (demo generator, no events).

Measured on one database (saas_db and warehouse_db the same server, as in a small deployment), vacuumed
after loading as autovacuum keeps a database in use (and as the spine finds it):
- full build: the first run, every day and month of history (through the day before the last);
- one incremental day: the next run, which closes the last day. Nightly, that run comes a day after the
  previous one, when autovacuum has long processed what it wrote; here it comes seconds after a build that
  wrote ten million rows, so the benchmark first runs VACUUM ANALYZE (untimed) to measure the steady state
  and not autovacuum's catch-up beside it;
- a day with 1,000 customers restated: one period of each of 1,000 customers picked across history gets a price
  10% higher (a billing sync's correction), then the next day's run, which restates them;
- baseline: a straightforward month-spine query of the kind people write by hand (every customer × every
  month, joined to the periods in force at the month end and to that day's rate, then lag() for the
  movements), run in the same process on the same data.
It then checks the two agree where their definitions do: each customer's month-end MRR, and each month's
movement sums. MRR_BENCH_SIZES (comma-separated customers) overrides the sizes.
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

from dev import demo_data, devdb
from tests.harness.databases import point_airflow_at

END = dt.date(2026, 11, 22)
MONTHS = 36

SPINE_SQL = """
CREATE TEMP TABLE spine AS
WITH months AS (
    SELECT m::date AS month, least((m + interval '1 month - 1 day')::date, %(end)s::date) AS month_end
    FROM generate_series((SELECT date_trunc('month', min(valid_from)) FROM app.subscription_periods),
                         %(end)s::date, interval '1 month') m
), grid AS (
    SELECT c.customer_id, m.month, m.month_end FROM app.customers c CROSS JOIN months m
), values AS (
    SELECT g.customer_id, g.month,
           coalesce(sum(round(p.amount_cents * p.quantity * coalesce(fx.rate_to_reporting, 1)
                              * CASE p.billing_interval WHEN 'week' THEN 52 WHEN 'day' THEN 365 ELSE 1 END
                              / (p.interval_count * CASE p.billing_interval WHEN 'month' THEN 1 ELSE 12 END))),
                    0) AS mrr
    FROM grid g
    LEFT JOIN app.subscription_periods p
        ON p.customer_id = g.customer_id AND p.status IN ('active', 'past_due')
       AND p.valid_from < g.month_end + 1 AND (p.valid_to IS NULL OR p.valid_to >= g.month_end + 1)
    LEFT JOIN app.fx_rates fx ON fx.currency = p.currency AND fx.rate_date = g.month_end
    GROUP BY g.customer_id, g.month
), lagged AS (
    SELECT customer_id, month, mrr, lag(mrr, 1, 0) OVER w AS previous,
           max(mrr) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max
    FROM values WINDOW w AS (PARTITION BY customer_id ORDER BY month)
)
SELECT customer_id, month, mrr, previous,
       CASE WHEN previous = 0 AND mrr > 0 THEN CASE WHEN coalesce(earlier_max, 0) > 0 THEN 'reactivation'
                                                    ELSE 'new' END
            WHEN previous > 0 AND mrr = 0 THEN 'churn'
            WHEN mrr > previous THEN 'expansion' WHEN mrr < previous THEN 'contraction' END AS movement
FROM lagged WHERE mrr > 0 OR previous > 0
"""

# One period of each of 1,000 customers picked at random across history: its price corrected by 10%.
CORRECTION_SQL = """
UPDATE app.subscription_periods p SET amount_cents = round(p.amount_cents * 1.1) + 1
FROM (SELECT DISTINCT ON (customer_id) ctid AS row_id
      FROM app.subscription_periods
      WHERE status = 'active'
        AND customer_id IN (SELECT customer_id FROM app.customers ORDER BY md5(customer_id) LIMIT 1000)
      ORDER BY customer_id, md5(subscription_id || valid_from::text)) picked
WHERE p.ctid = picked.row_id
"""

COMPARE_SQL = """
SELECT
  (SELECT count(*) FROM (SELECT month, customer_id, mrr, movement FROM spine
                         EXCEPT SELECT month, customer_id, mrr_cents, movement FROM saas_ops.customer_mrr_monthly) a),
  (SELECT count(*) FROM (SELECT month, customer_id, mrr_cents, movement FROM saas_ops.customer_mrr_monthly
                         EXCEPT SELECT month, customer_id, mrr, movement FROM spine) b),
  (SELECT count(*) FROM saas_ops.customer_mrr_monthly)
"""


def main() -> None:
    sizes = [int(s) for s in os.environ.get("MRR_BENCH_SIZES", "100000,1000000").split(",")]
    folder = Path(tempfile.mkdtemp(prefix="saas_ops_bench_mrr_"))
    server = devdb.start(folder)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="saas_ops_bench_airflow_"))
    import saas_ops.revenue.mrr  # noqa: F401  Airflow's own import is not part of a build: a task has it done
    try:
        print(f"{'customers':>10} {'periods':>10} {'full build s':>13} {'1 day s':>8} {'restating day s':>16} "
              f"{'spine s':>8} {'full/spine':>11} {'day/spine':>10} {'restating/spine':>16} {'rows differing':>15}")
        for customers in sizes:
            dsn = server.create_database(f"bench_mrr_{customers}", drop_first=True)
            point_airflow_at(dsn)
            counts = demo_data.load(dsn, customers=customers, months=MONTHS, seed=7, end=END,
                                    events_per_active_day=0, verbose=False)
            with psycopg.connect(dsn, autocommit=True) as conn:  # as autovacuum leaves a database in use, and
                conn.execute("VACUUM ANALYZE")                    # as the spine below finds it
            full = _run(END - dt.timedelta(days=1))
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            day = _run(END)
            with psycopg.connect(dsn) as conn:
                t = time.perf_counter()
                with psycopg.ClientCursor(conn) as cur:
                    cur.execute(SPINE_SQL, {"end": END})
                spine = time.perf_counter() - t
                only_spine, only_ours, ours = conn.execute(COMPARE_SQL).fetchone()
                conn.execute(CORRECTION_SQL)
            restating = _run(END + dt.timedelta(days=1))
            print(f"{customers:>10,} {counts['subscription_periods']:>10,} {full:>13.1f} {day:>8.2f} "
                  f"{restating:>16.2f} {spine:>8.1f} {full / spine:>11.2f} {day / spine:>10.3f} "
                  f"{restating / spine:>16.3f} "
                  f"{only_spine + only_ours:>9,} of {ours:,}", flush=True)
    finally:
        devdb.discard(folder)


def _run(day: dt.date) -> float:
    """One saas_mrr run closing `day` (build and bridge check, as the DAG's tasks do); seconds."""
    from saas_ops import db, incremental
    from saas_ops.revenue import mrr

    t = time.perf_counter()
    with db.warehouse() as wh:
        db.migrate(wh)
    with contextlib.redirect_stdout(io.StringIO()):  # the task's log lines
        summary = mrr.build(day, full_refresh=False, run_id=f"bench:{day}", output_schema="saas_ops",
                            source_schema="app", reporting_currency="USD")
    window = incremental.Window.from_xcom(summary["window"])
    with db.warehouse() as wh:
        problems = mrr.REVENUE.problems(wh, "saas_ops", window)
        if problems:
            raise RuntimeError("bridge check failed: " + "; ".join(problems[:5]))
        mrr.REVENUE.advance(wh, "saas_ops", window.day, "bench")
    return time.perf_counter() - t
