"""reengagement_campaigns' send step against the Resend double limited to 2 requests per second, the
account limit Resend starts with: CAMPAIGN_BENCH_EMAILS queued emails (default 100000) to as many users.

It times the send step (render, recipient check, batch key written before each request, outcome after) and
prints its throughput as a fraction of the most the double's limit allows with batches of 100 (200
emails/s; target >= 90%), with the 429 answers and the duplicates the double counted.

First it times measure_outcomes on the same queued emails and a holdout of a tenth as many (their cohort's
14-day window closed, 40% of the recipients active again on a day of it), against a bare scan of those rows.
"""

import contextlib
import datetime as dt
import io
import os
import tempfile
import time
from pathlib import Path

from dev import devdb
from tests.harness.databases import point_airflow_at

EMAILS = int(os.environ.get("CAMPAIGN_BENCH_EMAILS", "100000"))
RATE = 2
DAY = dt.date(2026, 11, 22)


def _outcomes(warehouse: str) -> None:
    """Times campaigns.outcomes.measure over the queued emails' cohort once its window has closed."""
    import psycopg

    from saas_ops.campaigns import outcomes
    from saas_ops.db import compose

    with psycopg.connect(warehouse) as conn, psycopg.ClientCursor(conn) as cur:
        cur.execute(compose(
            "UPDATE {o}.email_sends SET arm = 'treatment', variant = 'default';"
            "INSERT INTO {o}.email_sends (idempotency_key, campaign, user_id, customer_id, period_key, status, day, "
            "arm, variant) SELECT 'inactive_30:h' || i || ':2026-10-23', 'inactive_30', 'h' || i, 'c' || (i / 3), "
            "'2026-10-23', 'holdout', %(day)s, 'holdout', 'default' FROM generate_series(1, %(held)s) i;"
            "INSERT INTO {o}.user_activity_daily (day, customer_id, user_id, events, last_event_at) "
            "SELECT %(day)s::date + 1 + i %% 20, 'c' || (i / 3), u || i, 1, now() "
            "FROM generate_series(1, %(emails)s) i, unnest(ARRAY['u', 'h']) u WHERE i %% 5 < 2;"
            "INSERT INTO {o}.watermarks (output, dag_id, watermark_day, run_id, updated_at) "
            "SELECT o, 'bench', %(day)s::date + 20, 'bench', now() "
            "FROM unnest(ARRAY['customer_mrr_monthly', 'account_engagement_daily']) o", o="saas_ops"),
            {"day": DAY, "held": EMAILS // 10, "emails": EMAILS})
        conn.commit()
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        t = time.perf_counter()
        conn.execute("SELECT count(*), count(DISTINCT user_id) FROM saas_ops.email_sends WHERE day = %s", (DAY,))
        scan = time.perf_counter() - t
    t = time.perf_counter()
    outcomes.measure(DAY + dt.timedelta(days=20), schema="saas_ops", source_schema="app", features=["report"])
    seconds = time.perf_counter() - t
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute("SELECT arm, eligible, converted FROM saas_ops.campaign_outcomes ORDER BY arm").fetchall()
    print(f"{'outcomes s':>12}{'scan s':>8}{'ratio':>7}  campaign_outcomes")
    print(f"{seconds:>12.2f}{scan:>8.2f}{seconds / scan:>7.1f}  " + ", ".join(f"{a}: {c:,} of {e:,} converted"
                                                                            for a, e, c in rows), flush=True)


def main() -> None:
    import json

    import psycopg

    from saas_ops import db
    from saas_ops.campaigns import send
    from saas_ops.db import compose
    from tests.harness.servers import ResendDouble

    folder = Path(tempfile.mkdtemp(prefix="saas_ops_bench_campaigns_"))
    server = devdb.start(folder)
    resend = ResendDouble(rate_per_second=RATE)
    try:
        source = server.create_database("bench_campaigns_app", drop_first=True)
        warehouse = server.create_database("bench_campaigns_warehouse", drop_first=True)
        with psycopg.connect(source) as conn:
            conn.execute(compose(db.read_sql("contract/app_schema.sql"), schema="app"))
            conn.execute("INSERT INTO app.users (user_id, customer_id, email, name, created_at) "
                         "SELECT 'u' || i, 'c' || (i / 3), 'user' || i || '@example.com', 'User ' || i, "
                         "timestamptz '2026-01-01' FROM generate_series(1, %s) i", (EMAILS,))
        with contextlib.redirect_stdout(io.StringIO()):
            point_airflow_at(source, warehouse, folder / "local")
        with db.warehouse() as wh:
            db.migrate(wh)
        os.environ.update({
            "AIRFLOW_CONN_RESEND_DEFAULT": json.dumps({"conn_type": "generic", "host": resend.url,
                                                       "password": resend.api_key}),
            "AIRFLOW_CONN_UNSUBSCRIBE_SIGNING": json.dumps({"conn_type": "generic", "password": "bench-key"}),
            "AIRFLOW_VAR_RESEND_REQUESTS_PER_SECOND": str(RATE)})
        with psycopg.connect(warehouse) as conn:
            conn.execute(compose(
                "INSERT INTO {o}.email_sends (idempotency_key, campaign, user_id, customer_id, period_key, status, "
                "day, variables) SELECT 'inactive_30:u' || i || ':2026-10-23', 'inactive_30', 'u' || i, "
                "'c' || (i / 3), '2026-10-23', 'queued', %s, jsonb_build_object('days_inactive', 30, "
                "'last_active_day', '2026-10-23', "
                "'events_last_month', i %% 97, 'teammates_active_7d', i %% 4, 'first_name', 'User', 'account_name', "
                "'Account ' || (i / 3), 'owner_name', NULL) FROM generate_series(1, %s) i", o="saas_ops"),
                (DAY, EMAILS))
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE saas_ops.email_sends")

        _outcomes(warehouse)
        t = time.perf_counter()
        result = send.send_pending(DAY, send.outbox_from_settings())
        ours_s = time.perf_counter() - t
        with psycopg.connect(warehouse) as conn:
            sent = conn.execute("SELECT count(*) FROM saas_ops.email_sends WHERE status = 'sent'").fetchone()[0]
        limit = RATE * send.BATCH_SIZE
        rate = sent / ours_s
        print(f"{'emails sent':>12}{'s':>8}{'emails/s':>10}{'limit/s':>9}{'of limit':>10}{'batches':>9}{'429s':>6}"
              f"{'duplicates':>12}{'failed':>8}")
        print(f"{sent:>12,}{ours_s:>8.1f}{rate:>10.1f}{limit:>9}{rate / limit:>10.1%}{result['batches']:>9,}"
              f"{resend.rate_limited:>6}{resend.duplicates():>12}{result['failed']:>8}")
        if result["problems"]:
            print(f"problems: {result['problems']}")
    finally:
        resend.stop()
        devdb.stop(folder)
        devdb.discard(folder)

