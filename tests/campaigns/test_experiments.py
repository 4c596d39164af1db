"""Holdouts and outcomes with figures worked out by hand: the assignment's shares over 10,000 recipients and its
stability, the outcome window's edge (a conversion on day 15 does not count for a 14-day window), the MRR
retained, and the lift with its 95% interval for a small table."""

from __future__ import annotations

import datetime as dt
import hashlib

import psycopg
import pytest

from saas_ops import db
from saas_ops.campaigns import outcomes
from saas_ops.db import compose, read_sql

OUT, SRC = "exp_out", "exp_src"
COHORT = dt.date(2026, 11, 1)


@pytest.fixture
def schemas(airflow_env, databases, monkeypatch):
    with psycopg.connect(databases["app"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SRC} CASCADE")
        conn.execute(compose(read_sql("contract/app_schema.sql"), schema=SRC))
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {OUT} CASCADE")
        db.migrate(conn, OUT)
    return databases


def test_assignment_holds_its_share_over_10000_recipients_and_is_the_documented_hash(schemas):
    """10% held out: of 10,000 recipients 1,000 expected, binomial sd 30, so within ±100 (3.3 sd). The same
    recipient has the same bucket whatever the day or run (the hash has no day); another campaign and another
    salt assign independently (about 10% of one holdout is in the other)."""
    with psycopg.connect(schemas["warehouse"]) as conn:
        held, other_campaign, other_salt, one = conn.execute(f"""
            SELECT count(*) FILTER (WHERE a),
                   count(*) FILTER (WHERE a AND {OUT}.assignment_bucket('inactive_60', 'u' || i, '1') < 0.1),
                   count(*) FILTER (WHERE a AND {OUT}.assignment_bucket('inactive_30', 'u' || i, '2') < 0.1),
                   (SELECT {OUT}.assignment_bucket('inactive_30', 'u42', '1'))
            FROM (SELECT i, {OUT}.assignment_bucket('inactive_30', 'u' || i, '1') < 0.1 AS a
                  FROM generate_series(1, 10000) i) s""").fetchone()
    assert 900 <= held <= 1100, held
    assert 60 <= other_campaign <= 140 and 60 <= other_salt <= 140, (other_campaign, other_salt)
    assert one == int(hashlib.md5(b"inactive_30:u42:1").hexdigest()[:8], 16) / 2**32


def sends(conn: psycopg.Connection, rows: list[tuple[str, str, str, str]]) -> None:
    for user, customer, arm, campaign in rows:
        conn.execute(compose("INSERT INTO {o}.email_sends (idempotency_key, campaign, user_id, customer_id, "
                             "period_key, status, day, arm, variant, variables) VALUES (%s, %s, %s, %s, 'p', %s, %s, "
                             "%s, 'default', '{{}}')", o=OUT),
                     (f"{campaign}:{user}:p", campaign, user, customer, "holdout" if arm == "holdout" else "sent",
                      COHORT, arm))


def test_an_outcome_counts_only_inside_its_window_with_the_mrr_retained(schemas, receivers, monkeypatch):
    """inactive_30 on 11-01, window 14 days (11-02 .. 11-15). Treatment: t1 is active on 11-15 (day 14: counts),
    t2 on 11-16 (day 15: does not), t3 of the same account as t1 on 11-03 (counts). Holdout: h1 active on 11-02
    (counts), h2 never. Treatment: 3 eligible, 2 converted, MRR retained 4,900 (account A once, its MRR on
    11-15); holdout: 2 eligible, 1 converted, 9,900 (account C). high_risk on 11-01 (window 30, to 12-01): A
    churns on 11-20 and B on 12-01 (day 30: within; neither saved), held-out C on 12-02 (day 31: saved, and still
    paying 9,900 at the window's end).
    Each run measures the cohorts never measured and the last week's again: the run closing 12-02 takes
    high_risk's cohorts 10-27 .. 11-02 and inactive_30's 11-01 .. 11-18 (its 11-01 cohort, more than a week old,
    was never measured: a paused DAG loses nothing); after it, the run closing 11-21 takes 11-01 .. 11-07.
    The run closing Sunday 11-22 reports inactive_30: 2 of 3 (66.7%) against 1 of 2 (50%), lift 16.7 pts with
    standard error √(0.6667 × 0.3333 / 3 + 0.5 × 0.5 / 2) = 0.4462 (± 87.4 pts), and no MRR figure: a user
    active again is not revenue."""
    day = lambda d: dt.date(2026, 11, 1) + dt.timedelta(days=d)  # noqa: E731
    with psycopg.connect(schemas["warehouse"], autocommit=True) as conn:
        sends(conn, [("t1", "A", "treatment", "inactive_30"), ("t2", "B", "treatment", "inactive_30"),
                     ("t3", "A", "treatment", "inactive_30"), ("h1", "C", "holdout", "inactive_30"),
                     ("h2", "D", "holdout", "inactive_30"), ("a", "A", "treatment", "high_risk"),
                     ("b", "B", "treatment", "high_risk"), ("c", "C", "holdout", "high_risk")])
        for user, customer, d in (("t1", "A", 14), ("t2", "B", 15), ("t3", "A", 2), ("h1", "C", 1)):
            conn.execute(compose("INSERT INTO {o}.user_activity_daily (day, customer_id, user_id, events, "
                                 "last_event_at) VALUES (%s, %s, %s, 1, now())", o=OUT), (day(d), customer, user))
        for customer, d, before, after, movement in (
                ("A", -100, 0, 4900, "new"), ("B", -100, 0, 4900, "new"), ("C", -100, 0, 9900, "new"),
                ("A", 19, 4900, 0, "churn"), ("B", 30, 4900, 0, "churn"), ("C", 31, 9900, 0, "churn")):
            conn.execute(compose("INSERT INTO {o}.customer_mrr_changes (day, customer_id, previous_cents, mrr_cents, "
                                 "movement) VALUES (%s, %s, %s, %s, %s)", o=OUT), (day(d), customer, before, after,
                                                                                   movement))
        for output in ("customer_mrr_monthly", "account_engagement_daily"):
            conn.execute(compose("INSERT INTO {o}.watermarks (output, dag_id, watermark_day, run_id, updated_at) "
                                 "VALUES (%s, 'test', %s, 'test', now())", o=OUT), (output, day(40)))
    measured = outcomes.measure(day(31), schema=OUT, source_schema=SRC, features=["report_create"])
    assert measured["high_risk"] == ["2026-10-27", "2026-11-02"]
    assert measured["inactive_30"] == ["2026-11-01", "2026-11-18"]
    assert outcomes.measure(day(20), schema=OUT, source_schema=SRC, features=["report_create"])["inactive_30"] == [
        "2026-11-01", "2026-11-07"]
    with psycopg.connect(schemas["warehouse"]) as conn:
        found = conn.execute(compose("SELECT campaign, arm, cohort_day, eligible, converted, mrr_retained_cents, "
                                     "window_days FROM {o}.campaign_outcomes ORDER BY 1, 2", o=OUT)).fetchall()
    assert found == [("high_risk", "holdout", COHORT, 1, 1, 9900, 30),
                     ("high_risk", "treatment", COHORT, 2, 0, 0, 30),
                     ("inactive_30", "holdout", COHORT, 2, 1, 9900, 14),
                     ("inactive_30", "treatment", COHORT, 3, 2, 4900, 14)]
    # the run closing a Sunday logs the effects and sends them to Slack once
    from saas_ops.campaigns.tasks import measure_outcomes

    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", OUT)
    monkeypatch.setenv("AIRFLOW_VAR_SOURCE_SCHEMA", SRC)
    before = len(receivers["slack"].texts())
    for _ in range(2):
        result = measure_outcomes.function({"day": "2026-11-22"})
    assert result["effects"][0].startswith("high_risk/default: saved 0.0% of 2 emailed vs 100.0% of 1 held out")
    assert result["effects"][1] == (
        "inactive_30/default: converted 66.7% of 3 emailed vs 50.0% of 2 held out; lift +16.7 pts (95% -70.8 to "
        "+104.1); cost 0.00; too few to tell yet (3 treated, 2 held out; each arm needs 100 and both 10 "
        "conversions)")
    weekly = receivers["slack"].texts()[before:]
    assert len(weekly) == 1 and weekly[0].splitlines()[0] == (
        ":chart_with_downwards_trend: [P3] reengagement_campaigns: campaign results, the 90 days of cohorts to the "
        "week ending 2026-11-22")


def test_lift_and_its_interval_by_hand_and_a_verdict_only_when_the_sample_can_tell():
    """1,000 emailed, 120 converted (12%); 1,000 held out, 90 (9%). Lift 3 points; its standard error
    √(0.12 × 0.88 / 1000 + 0.09 × 0.91 / 1000) = √0.0001875 = 0.013693, so 3 ± 1.96 × 1.3693 = 0.32 to 5.68
    points: the emails help. Relative: 12 / 9 − 1 = 33.3%; the log ratio's error √(0.88/120 + 0.91/90) = 0.13208,
    so exp(ln(4/3) ± 1.96 × 0.13208) − 1 = 2.9% to 72.7%. 30 incremental conversions (3.2 to 56.8); MRR retained
    60,000.00 + 45,000.00 over 210 conversions = 500.00 per conversion, so 15,000.00 incremental (1,581.04 to
    28,418.96); 1,000 emails at 0.40 per 1,000 cost 0.40: ROI 37,500. The same figures for a campaign whose
    success is activity have no MRR or ROI. The same rates on 50 per arm cannot tell."""
    e = outcomes.Effect("failed_payment", "default", 1000, 120, 1000, 90, 6_000_000, 4_500_000, 0.40)
    lift, low, high = e.lift
    assert (round(lift, 4), round(low, 4), round(high, 4)) == (0.03, 0.0032, 0.0568)
    assert [round(v, 3) for v in e.relative_lift] == [0.333, 0.029, 0.727]
    assert round(e.incremental_conversions) == 30 and e.mrr_per_conversion_cents == 50_000
    assert [round(v) for v in e.incremental_mrr_cents] == [1_500_000, 158_104, 2_841_896]
    assert round(e.cost, 2) == 0.40 and round(e.roi) == 37_500
    assert e.verdict == "the emails help: the whole 95% interval is above zero"
    assert outcomes.describe(e, "USD") == (
        "failed_payment/default: converted 12.0% of 1,000 emailed vs 9.0% of 1,000 held out; lift +3.0 pts (95% "
        "+0.3 to +5.7); incremental MRR 15,000 USD (95% 1,581 to 28,419), cost 0.40; the emails help: the whole "
        "95% interval is above zero")
    activity = outcomes.Effect("inactive_30", "default", 1000, 120, 1000, 90, 6_000_000, 4_500_000, 0.40, False)
    assert activity.incremental_mrr_cents is None and activity.roi is None
    assert "; cost 0.40; the emails help" in outcomes.describe(activity, "USD")
    small = outcomes.Effect("inactive_30", "default", 50, 6, 50, 4, 0, 0, 0.40)
    assert small.verdict.startswith("too few to tell yet (50 treated, 50 held out")
    even = outcomes.Effect("inactive_30", "default", 1000, 100, 1000, 95, 0, 0, 0.40)
    assert even.verdict == "no effect that can be told from chance: the 95% interval includes zero"


def variant(name: str, treated: int, converted: int) -> outcomes.Effect:
    return outcomes.Effect("inactive_30", name, treated, converted, 1000, 90, 0, 0, 0.40)


def test_a_variant_wins_only_at_the_fixed_horizon_and_only_when_surely_better():
    """Three variants of 1,000: 15% against 10% and 11%. Two comparisons, so each at z(1 − 0.025/2) = 2.2414.
    15 − 10: √(0.15 × 0.85 + 0.10 × 0.90)/√1000 = 0.014748, lower end 5 − 3.31 = 1.7 pts; 15 − 11: 0.015013,
    lower end 4 − 3.37 = 0.6 pts: a winner. At 999 recipients the same figures name none (before the horizon);
    15% against 13% and 10%: 15 − 13 has a lower end below zero, no winner."""
    assert outcomes.winner([variant("default", 1000, 100), variant("short", 1000, 150), variant("long", 1000, 110)]) \
        == "winner: short (15.0%); beats default by at least 1.7 pts, long by at least 0.6 pts"
    assert outcomes.winner([variant("default", 999, 100), variant("short", 1000, 150)]) == (
        "still collecting, no comparison before the fixed horizon: default 999 of 1,000")
    assert outcomes.winner([variant("default", 1000, 100), variant("short", 1000, 150), variant("long", 1000, 130)]) \
        == "no winner: short converts most (15.0%) but not surely more than long"

