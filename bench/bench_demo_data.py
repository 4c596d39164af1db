"""Demo data generator throughput, beside the server's own bulk-write rate measured in the same run.

Baseline: PostgreSQL generating the same number of event rows itself (INSERT ... SELECT generate_series,
same columns, keys and indexes), which is about the fastest these rows can land on this machine. The
ratio says how far the generator (simulation + COPY) is from that floor.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import psycopg

from dev import demo_data, devdb

BASELINE_SQL = """
DROP TABLE IF EXISTS baseline_events;
CREATE TABLE baseline_events (event_id text, user_id text, customer_id text, event_name text,
                              occurred_at timestamptz, properties jsonb);
INSERT INTO baseline_events
SELECT 'evt_' || lpad(g::text, 10, '0'), 'usr_' || lpad((g %% 650000)::text, 8, '0'),
       'cus_' || lpad((g %% 100000)::text, 7, '0'), 'page_view', now() - (g %% 730) * interval '1 day', NULL
FROM generate_series(1, %(n)s) g;
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 2;
ALTER TABLE baseline_events ADD PRIMARY KEY (event_id);
CREATE INDEX ON baseline_events (occurred_at);
CREATE INDEX ON baseline_events (customer_id, occurred_at);
DROP TABLE baseline_events;
"""


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
    dsn = os.environ.get("SAAS_OPS_BENCH_DSN")
    folder = None
    if not dsn:
        folder = Path(tempfile.mkdtemp(prefix="saas_ops_bench_pg_"))
        dsn = devdb.start(folder).create_database("bench")
    try:
        print(f"{'customers':>10} {'events':>12} {'generator s':>12} {'rows/s':>12} {'baseline s':>11} {'ratio':>6}")
        for customers in sizes:
            t = time.perf_counter()
            counts = demo_data.load(dsn, customers=customers, months=24, seed=7, verbose=False)
            generator = time.perf_counter() - t
            rows = sum(counts.values())
            with psycopg.connect(dsn, autocommit=True) as conn:
                t = time.perf_counter()
                from psycopg import ClientCursor

                with ClientCursor(conn) as cur:
                    cur.execute(BASELINE_SQL, {"n": rows})
                baseline = time.perf_counter() - t
            print(f"{customers:>10,} {counts['events']:>12,} {generator:>12.1f} {rows / generator:>12,.0f} "
                  f"{baseline:>11.1f} {generator / baseline:>6.2f}")
    finally:
        if folder:
            devdb.discard(folder)
