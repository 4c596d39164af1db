"""A day of a real source's edits on the demo history: the next nightly runs of saas_mrr and saas_engagement give
exactly the tables a full refresh of the same source gives.

The edits are what billing syncs and event pipelines do: subscription periods inserted, corrected, ended after
the fact and deleted anywhere in history; rates corrected and removed; events that arrive 1-3 days late, are
corrected or deleted within those days (ENGAGEMENT_LATE_DAYS; older events need a rebuild_from, README)."""

from __future__ import annotations

import datetime as dt
import random

import psycopg

from dev import demo_data
from dev.demo_simulation import CORE_FEATURES
from tests.harness import builds

END = dt.date(2026, 3, 31)


def edit_the_source(dsn: str, seed: int) -> dict[str, int]:
    """Random edits across history (same seed, same edits); returns how many of each."""
    rng = random.Random(seed)
    done: dict[str, int] = {}
    with psycopg.connect(dsn) as conn:
        periods = conn.execute("SELECT subscription_id, customer_id, valid_from, valid_to, amount_cents "
                               "FROM app.subscription_periods ORDER BY subscription_id, valid_from").fetchall()
        picked = rng.sample(periods, 24)
        for sub, _, start, _, _ in picked[:6]:  # deleted
            conn.execute("DELETE FROM app.subscription_periods WHERE subscription_id = %s AND valid_from = %s",
                         (sub, start))
        for sub, _, start, _, amount in picked[6:12]:  # a price corrected
            conn.execute("UPDATE app.subscription_periods SET amount_cents = %s WHERE subscription_id = %s "
                         "AND valid_from = %s", (round(amount * 1.1) + 1, sub, start))
        for sub, _, start, end, _ in picked[12:18]:  # ended earlier than first said (or ended, if open)
            last = end or dt.datetime.combine(END, dt.time(), dt.UTC)
            new_end = start + (last - start) * rng.uniform(0.2, 0.9)
            if new_end > start:
                conn.execute("UPDATE app.subscription_periods SET valid_to = %s WHERE subscription_id = %s "
                             "AND valid_from = %s", (new_end, sub, start))
        for n, (_, customer, start, _, amount) in enumerate(picked[18:]):  # a late subscription anywhere
            begins = start + dt.timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 23))
            conn.execute("INSERT INTO app.subscription_periods (subscription_id, customer_id, plan_id, status, "
                         "currency, amount_cents, quantity, billing_interval, interval_count, valid_from, valid_to) "
                         "VALUES (%s, %s, 'late', %s, %s, %s, %s, 'month', 1, %s, %s)",
                         (f"late{n}", customer, rng.choice(["active", "active", "past_due", "trialing"]),
                          rng.choice(["USD", "EUR", "GBP"]), amount or 1000, rng.randint(1, 5), begins,
                          begins + dt.timedelta(days=rng.randint(10, 200)) if n % 2 else None))
        rates = conn.execute("SELECT rate_date, currency FROM app.fx_rates ORDER BY 1, 2").fetchall()
        for day, currency in rng.sample(rates, 4):  # corrected
            conn.execute("UPDATE app.fx_rates SET rate_to_reporting = rate_to_reporting * 1.05 WHERE rate_date = %s "
                         "AND currency = %s", (day, currency))
        for day, currency in rng.sample(rates, 3):  # withdrawn
            conn.execute("DELETE FROM app.fx_rates WHERE rate_date = %s AND currency = %s", (day, currency))
        late_from = dt.datetime.combine(END - dt.timedelta(days=3), dt.time(), dt.UTC)
        users = conn.execute("SELECT user_id, customer_id FROM app.users ORDER BY user_id").fetchall()
        for n in range(40):  # synced 1-3 days late
            user, customer = rng.choice(users)
            conn.execute("INSERT INTO app.events (event_id, user_id, customer_id, event_name, occurred_at) VALUES "
                         "(%s, %s, %s, %s, %s)", (f"late-{n}", user, customer, rng.choice(CORE_FEATURES),
                                                  late_from + dt.timedelta(minutes=rng.randint(0, 3 * 1440 - 1))))
        recent = [e for (e,) in conn.execute("SELECT event_id FROM app.events WHERE occurred_at >= %s "
                                             "AND occurred_at < %s ORDER BY event_id", (late_from, late_from
                                                                                      + dt.timedelta(days=3)))]
        for event in rng.sample(recent, 15):
            conn.execute("DELETE FROM app.events WHERE event_id = %s", (event,))
        for event in rng.sample(recent, 15):
            conn.execute("UPDATE app.events SET event_name = 'report_create' WHERE event_id = %s", (event,))
        done = {"periods deleted": 6, "prices corrected": 6, "periods ended": 6, "periods inserted": 6,
                "rates corrected": 4, "rates withdrawn": 3, "events late": 40}
    return done


def snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {**builds.revenue_snapshot(conn), **builds.engagement_snapshot(conn)}


def test_the_night_after_a_day_of_edits_equals_a_full_refresh(airflow_env, databases, warehouse):
    demo_data.load(databases["app"], customers=400, months=14, seed=11, end=END, verbose=False)
    builds.reset_revenue(warehouse)
    builds.reset_engagement(warehouse)
    yesterday = (END - dt.timedelta(days=1)).isoformat()
    builds.run_revenue(yesterday)
    builds.run_engagement(yesterday)
    edit_the_source(databases["app"], seed=3)

    summary = builds.run_revenue(END.isoformat())
    builds.run_engagement(END.isoformat())
    nightly = snapshot(warehouse)
    warehouse.commit()
    assert summary["restated"]["customers"] >= 12  # the edited customers, and those billed in an edited currency
    assert summary["rows_read"]["subscription_periods"] < 100  # the changed customers' rows only

    builds.reset_revenue(warehouse)
    builds.reset_engagement(warehouse)
    builds.run_revenue(END.isoformat(), full=True)
    builds.run_engagement(END.isoformat(), full=True)
    full = snapshot(warehouse)
    assert {table: len(rows) for table, rows in full.items()} == {table: len(rows) for table, rows in nightly.items()}
    assert full == nightly
