"""The demo data generator: counts, determinism, referential integrity, and a churn signal to learn."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from dev import demo_data
from saas_ops import contract

END = dt.date(2026, 6, 30)
TABLES = ["customers", "users", "subscription_periods", "invoices", "payment_attempts", "events",
          "support_tickets", "fx_rates"]


def _fingerprint(conn, schema: str) -> dict[str, str]:
    """md5 of each table's rows in a fixed order: equal fingerprints, equal data."""
    out = {}
    for table in TABLES:
        out[table] = conn.execute(
            f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {schema}.{table} t").fetchone()[0]
    return out


@pytest.fixture(scope="module")
def demo(databases):
    """300 customers over 12 months loaded twice with one seed (schemas a, b) and once with another (c)."""
    counts = demo_data.load(databases["app"], customers=300, months=12, seed=11, end=END, schema="demo_a",
                            verbose=False)
    demo_data.load(databases["app"], customers=300, months=12, seed=11, end=END, schema="demo_b", verbose=False)
    demo_data.load(databases["app"], customers=300, months=12, seed=12, end=END, schema="demo_c", verbose=False)
    with psycopg.connect(databases["app"]) as conn:
        yield conn, counts
        for schema in ("demo_a", "demo_b", "demo_c"):
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.commit()


def test_counts_are_believable_for_300_customers(demo):
    conn, counts = demo
    assert counts["customers"] == 300
    assert 300 <= counts["users"] <= 300 * 25
    assert counts["subscription_periods"] > 300  # trials, plan and seat changes add periods
    assert counts["invoices"] > 300 and counts["payment_attempts"] >= counts["invoices"]
    assert counts["events"] > 10_000 and counts["support_tickets"] > 0
    assert counts["fx_rates"] == 2 * 366  # EUR and GBP, each day of 12 months (END included)
    for table, n in counts.items():
        assert conn.execute(f"SELECT count(*) FROM demo_a.{table}").fetchone()[0] == n, table


def test_same_seed_same_rows_other_seed_other_rows(demo):
    conn, _ = demo
    a, b, c = (_fingerprint(conn, s) for s in ("demo_a", "demo_b", "demo_c"))
    assert a == b
    assert all(a[t] != c[t] for t in ("customers", "subscription_periods", "events"))


def test_the_generated_schema_meets_the_source_contract(demo):
    conn, _ = demo
    assert contract.check_source(conn, "demo_a")["absent_optional_columns"] == {}


@pytest.mark.parametrize("orphans_sql", [
    "SELECT count(*) FROM demo_a.users u LEFT JOIN demo_a.customers c USING (customer_id) WHERE c IS NULL",
    "SELECT count(*) FROM demo_a.subscription_periods p LEFT JOIN demo_a.customers c USING (customer_id) "
    "WHERE c IS NULL",
    "SELECT count(*) FROM demo_a.invoices i LEFT JOIN demo_a.customers c USING (customer_id) WHERE c IS NULL",
    "SELECT count(*) FROM demo_a.payment_attempts a LEFT JOIN demo_a.invoices i USING (invoice_id) "
    "WHERE i IS NULL OR i.customer_id <> a.customer_id",
    "SELECT count(*) FROM demo_a.events e LEFT JOIN demo_a.users u USING (user_id) "
    "WHERE u IS NULL OR u.customer_id <> e.customer_id",
    "SELECT count(*) FROM demo_a.support_tickets t LEFT JOIN demo_a.customers c USING (customer_id) WHERE c IS NULL",
    "SELECT count(*) FROM demo_a.events WHERE occurred_at >= %(end)s::date + 1",
    "SELECT count(*) FROM demo_a.events e JOIN demo_a.users u USING (user_id) WHERE e.occurred_at < u.created_at "
    "- interval '1 day'",
])
def test_referential_integrity(demo, orphans_sql):
    conn, _ = demo
    assert conn.execute(orphans_sql, {"end": END}).fetchone()[0] == 0


def test_subscription_periods_keep_the_contract(demo):
    conn, _ = demo
    bad = conn.execute("""
        SELECT count(*) FILTER (WHERE valid_to IS NOT NULL AND valid_to <= valid_from),
               count(*) FILTER (WHERE status NOT IN ('trialing', 'active', 'past_due', 'paused')),
               count(*) FILTER (WHERE billing_interval NOT IN ('day', 'week', 'month', 'year')),
               count(*) FILTER (WHERE quantity < 1 OR interval_count < 1 OR amount_cents < 0),
               count(*) FILTER (WHERE currency NOT IN ('USD', 'EUR', 'GBP'))
        FROM demo_a.subscription_periods""").fetchone()
    assert bad == (0, 0, 0, 0, 0)
    overlaps = conn.execute("""
        SELECT count(*) FROM demo_a.subscription_periods a JOIN demo_a.subscription_periods b
          ON a.subscription_id = b.subscription_id AND a.ctid < b.ctid
         AND tstzrange(a.valid_from, a.valid_to) && tstzrange(b.valid_from, b.valid_to)""").fetchone()[0]
    assert overlaps == 0


def test_the_history_has_every_kind_of_movement(demo):
    conn, _ = demo
    statuses = dict(conn.execute("SELECT status, count(*) FROM demo_a.subscription_periods GROUP BY 1").fetchall())
    assert {"trialing", "active", "past_due"} <= set(statuses)
    intervals = {tuple(r) for r in conn.execute(
        "SELECT DISTINCT billing_interval, interval_count FROM demo_a.subscription_periods")}
    assert {("month", 1), ("year", 1), ("month", 3)} <= intervals
    # upgrades/downgrades or seat changes: a subscription with more than one paid price
    changed = conn.execute("SELECT count(*) FROM (SELECT subscription_id FROM demo_a.subscription_periods "
                           "WHERE status = 'active' GROUP BY 1 HAVING count(DISTINCT (plan_id, quantity)) > 1) s"
                           ).fetchone()[0]
    assert changed > 10
    reactivated = conn.execute("SELECT count(*) FROM (SELECT customer_id FROM demo_a.subscription_periods "
                               "GROUP BY 1 HAVING count(DISTINCT subscription_id) > 1) s").fetchone()[0]
    assert reactivated > 0
    failed = conn.execute("SELECT count(*) FROM demo_a.payment_attempts WHERE status = 'failed'").fetchone()[0]
    assert failed > 0


def test_usage_falls_before_a_cancellation(demo):
    """Churn must be learnable: accounts' events in the 30 days before their subscription ends are fewer
    than in days 61-90 before, while accounts that stay show no such drop over the same kind of window."""
    conn, _ = demo
    churned, stayed = conn.execute("""
        WITH ends AS (
            SELECT customer_id, max(valid_to) AS ended FROM demo_a.subscription_periods GROUP BY 1
            HAVING bool_and(valid_to IS NOT NULL) AND max(valid_to) > %(end)s::date - 200
               AND min(valid_from) < max(valid_to) - interval '120 days'),
        ratio AS (
            SELECT e.customer_id,
                   count(*) FILTER (WHERE ev.occurred_at >= e.ended - interval '30 days')::float
                   / greatest(count(*) FILTER (WHERE ev.occurred_at >= e.ended - interval '90 days'
                                             AND ev.occurred_at < e.ended - interval '60 days'), 1) AS r
            FROM ends e JOIN demo_a.events ev ON ev.customer_id = e.customer_id
            WHERE ev.occurred_at < e.ended GROUP BY 1),
        steady AS (
            SELECT customer_id,
                   count(*) FILTER (WHERE occurred_at >= %(end)s::date - 29)::float
                   / greatest(count(*) FILTER (WHERE occurred_at >= %(end)s::date - 89
                                              AND occurred_at < %(end)s::date - 59), 1) AS r
            FROM demo_a.events WHERE customer_id IN (
                SELECT customer_id FROM demo_a.subscription_periods GROUP BY 1
                HAVING bool_or(valid_to IS NULL AND status = 'active')
                   AND min(valid_from) < %(end)s::date - 120)
            GROUP BY 1)
        SELECT (SELECT avg(r) FROM ratio), (SELECT avg(r) FROM steady)""", {"end": END}).fetchone()
    assert churned < 0.7 * stayed, (churned, stayed)
