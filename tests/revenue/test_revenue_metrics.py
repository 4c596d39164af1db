"""mrr_monthly's quick ratio, LTV, trial conversion and CAC (SPEC "Metric definitions") and MRR by plan, billing
interval, segment and country, on a small scenario worked out by hand, built at once and night by night, with
and without the optional acquisition_spend.

The scenario, USD, January to March 2026. Month ends: Jan 480.00 (P, T, U, V: 4 new), Feb 430.00 (Q and R new,
T churns 200.00, U expands 50.00), Mar 410.00 (V contracts 20.00). Trials: P's ends 01-19 and it pays that day,
Q's ends 01-25 and it pays 7 days later (150.00 a quarter), R's ends 01-24 and it pays 8 days later, S's ends
02-03 and it never pays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from tests.harness import builds, scenarios
from tests.harness.scenarios import period

PERIODS = [
    period("p0", "P", 10000, "2026-01-05", "2026-01-19", status="trialing"),
    period("p", "P", 10000, "2026-01-19", plan="starter"),
    period("q0", "Q", 5000, "2026-01-10", "2026-01-25", status="trialing"),
    period("q", "Q", 15000, "2026-02-01", plan="starter", interval_count=3),
    period("r0", "R", 5000, "2026-01-10", "2026-01-24", status="trialing"),
    period("r", "R", 5000, "2026-02-01", plan="growth"),
    period("s0", "S", 5000, "2026-01-20", "2026-02-03", status="trialing"),
    period("t", "T", 240000, "2026-01-01", "2026-02-15", plan="enterprise", interval="year"),
    period("u", "U", 10000, "2026-01-01", "2026-02-10", plan="starter"),
    period("u", "U", 15000, "2026-02-10", plan="growth"),
    period("v", "V", 8000, "2026-01-01", "2026-03-05", plan="growth"),
    period("v", "V", 6000, "2026-03-05", plan="growth"),
]
FX = [("2025-12-01", "EUR", "1.10")]
COLUMNS = ("month, new_customers, quick_ratio, ltv_cents, trials_ended, trials_converted, trial_conversion_rate, "
           "acquisition_spend_cents, cac_cents")
WITHOUT_SPEND = [
    (dt.date(2026, 1, 1), 4, None, None, 3, 2, Decimal("0.666667"), None, None),
    (dt.date(2026, 2, 1), 2, Decimal("0.750000"), 27520, 1, 0, Decimal("0.000000"), None, None),
    (dt.date(2026, 3, 1), 0, Decimal("0.000000"), 52480, 0, 0, None, None, None),
]


# Each customer's segment and country; None and blank count as none.
DIMENSIONS = {"P": ("smb", "US"), "Q": ("smb", "US"), "R": (None, "GB"), "S": ("smb", "FR"),
              "T": ("mid_market", "DE"), "U": ("mid_market", "US"), "V": ("smb", " ")}


@pytest.fixture
def scenario(airflow_env, databases, warehouse):
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], PERIODS, FX)
    with psycopg.connect(databases["app"]) as conn:
        for customer, (segment, country) in DIMENSIONS.items():
            conn.execute("UPDATE app.customers SET segment = %s, country = %s WHERE customer_id = %s",
                         (segment, country, customer))
    builds.reset_revenue(warehouse)
    return databases, warehouse


def figures(wh: psycopg.Connection) -> list[tuple]:
    wh.commit()
    return wh.execute(f"SELECT {COLUMNS} FROM saas_ops.mrr_monthly ORDER BY month").fetchall()


def add_spend(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE app.acquisition_spend (month date, channel text, amount_cents bigint, "
                     "currency text)")
        conn.execute("INSERT INTO app.acquisition_spend VALUES ('2026-01-01', 'ads', 60000, 'USD'), "
                     "('2026-01-01', 'events', 10000, 'EUR'), ('2026-02-01', 'ads', 30000, 'usd'), "
                     "('2026-02-01', 'refund', -5000, 'USD'), ('2026-02-01', 'ads\r\nx', 700, NULL), "
                     "('2026-03-01', 'ads', 5000, 'GBP'), (NULL, 'ads', 100, 'USD')")


def test_quick_ratio_ltv_and_trial_conversion_by_hand(scenario):
    """Quick ratio: Feb (100.00 new + 50.00 expansion) / 200.00 churn = 0.75; Mar 0 / 20.00 contraction = 0; Jan
    has no loss to divide by. Logo churn: Feb 1 of 4 = 0.25, Mar 0 of 5; ARPA 120.00, 86.00, 82.00. LTV at a gross
    margin of 0.8: Feb 86.00 x 0.8 / 0.25 = 275.20; Mar 82.00 x 0.8 / mean(0.25, 0) = 524.80; Jan has no churn
    rate. Trials: January's P (pays the day it ends), Q (7 days after: within TRIAL_CONVERSION_DAYS) and R (8
    days: not) = 2 of 3; February's S never pays = 0 of 1."""
    databases, wh = scenario
    builds.run_revenue("2026-03-31", gross_margin=0.8)
    assert figures(wh) == WITHOUT_SPEND


def test_cac_from_the_optional_spend_table_in_the_reporting_currency(scenario):
    """January: 600.00 USD + 100.00 EUR at 1.10 = 710.00 over 4 new customers = 177.50. February: 300.00 over 2
    = 150.00; its negative row and its row without a currency are reported and left out, as is a row without a
    month. March: its GBP spend has no rate, so no figure."""
    databases, wh = scenario
    add_spend(databases["app"])
    builds.run_revenue("2026-03-31", gross_margin=0.8)
    assert [(r[0], r[7], r[8]) for r in figures(wh)] == [(dt.date(2026, 1, 1), 71000, 17750),
                                                         (dt.date(2026, 2, 1), 30000, 15000),
                                                         (dt.date(2026, 3, 1), None, None)]
    issues = wh.execute("SELECT row_key, reason FROM saas_ops.data_quality_issues "
                        "WHERE table_name = 'acquisition_spend' ORDER BY row_key").fetchall()
    assert issues == [("2026-02-01 ads\r\nx", "currency is not a 3-letter code"),
                      ("2026-02-01 refund", "amount_cents is negative"), ("null ads", "month is null")]


def test_night_by_night_equals_one_build_and_a_month_never_filled_is_filled(scenario):
    """Built through 01-28, then each night to 03-31: Q's trial (ended 01-25) counts as converted once it pays
    on 02-01, a rerun of January is restated; a month whose figures are missing (as after the upgrade that
    added them) is filled by the next run."""
    databases, wh = scenario
    builds.run_revenue("2026-01-28", gross_margin=0.8)
    assert figures(wh)[0][4:7] == (3, 1, Decimal("0.333333"))  # Q and R have not paid yet
    day = dt.date(2026, 1, 29)
    while day <= dt.date(2026, 3, 31):
        builds.run_revenue(day.isoformat(), gross_margin=0.8)
        day += dt.timedelta(days=1)
    assert figures(wh) == WITHOUT_SPEND
    wh.execute("UPDATE saas_ops.mrr_monthly SET trials_ended = NULL, trials_converted = NULL, "
               "trial_conversion_rate = NULL, quick_ratio = NULL, ltv_cents = NULL WHERE month = '2026-01-01'")
    wh.commit()
    builds.run_revenue("2026-03-31", gross_margin=0.8)
    assert figures(wh) == WITHOUT_SPEND


def by_dimension(wh: psycopg.Connection, month: str) -> list[tuple]:
    wh.commit()
    return wh.execute("SELECT dimension, value, mrr_cents, paying_customers, new_cents, expansion_cents, "
                      "contraction_cents, churn_cents, reactivation_cents FROM saas_ops.mrr_by_dimension_monthly "
                      "WHERE month = %s ORDER BY 1, 2", (month,)).fetchall()


def test_mrr_by_plan_interval_segment_and_country_sums_to_mrr(scenario):
    """February's month end (430.00). By plan: starter = P 100 + Q 50 (new) = 150.00; growth = R 50 (new) + U 150
    (moved from starter on 02-10 with its expansion of 50) + V 80 = 280.00; enterprise only T's churn of 200 (T is
    placed by its plan at the month end before). By billing interval: month = P + R + U + V = 380.00; Q's
    quarter is "3 months"; T's year only its churn. By segment, smb = P 100 + Q 50 + V 80 = 230.00, 3 paying;
    mid_market = U 150 (expansion 50) with T's churn; R has no segment: (none) 50.00 new. By country, US = P + Q +
    U = 300.00 (Q new 50, U expansion 50); DE only T's churn; GB = R; V's blank country is (none). S never paid:
    in no row. The bridge check holds every dimension to mrr_monthly (it fails the run if not). U's growth plan
    renamed scale at the same price is restated from 02-10: February's 150.00 moves from growth to scale."""
    databases, wh = scenario
    builds.run_revenue("2026-03-31")
    assert by_dimension(wh, "2026-02-01") == [
        ("billing_interval", "3 months", 5000, 1, 5000, 0, 0, 0, 0),
        ("billing_interval", "month", 38000, 4, 5000, 5000, 0, 0, 0),
        ("billing_interval", "year", 0, 0, 0, 0, 0, 20000, 0),
        ("country", "(none)", 8000, 1, 0, 0, 0, 0, 0), ("country", "DE", 0, 0, 0, 0, 0, 20000, 0),
        ("country", "GB", 5000, 1, 5000, 0, 0, 0, 0), ("country", "US", 30000, 3, 5000, 5000, 0, 0, 0),
        ("plan", "enterprise", 0, 0, 0, 0, 0, 20000, 0), ("plan", "growth", 28000, 3, 5000, 5000, 0, 0, 0),
        ("plan", "starter", 15000, 2, 5000, 0, 0, 0, 0),
        ("segment", "(none)", 5000, 1, 5000, 0, 0, 0, 0),
        ("segment", "mid_market", 15000, 1, 0, 5000, 0, 20000, 0), ("segment", "smb", 23000, 3, 5000, 0, 0, 0, 0)]
    totals = wh.execute("SELECT dimension, sum(mrr_cents) FROM saas_ops.mrr_by_dimension_monthly "
                        "WHERE month = '2026-03-01' GROUP BY 1 ORDER BY 1").fetchall()
    assert totals == [("billing_interval", 41000), ("country", 41000), ("plan", 41000), ("segment", 41000)]
    with psycopg.connect(databases["app"]) as conn:  # a plan renamed: the fingerprint must see it
        conn.execute("UPDATE app.subscription_periods SET plan_id = 'scale' WHERE customer_id = 'U' "
                     "AND plan_id = 'growth'")
    builds.run_revenue("2026-03-31")
    assert {r[1]: r[2] for r in by_dimension(wh, "2026-02-01") if r[0] == "plan"} == {
        "enterprise": 0, "growth": 13000, "scale": 15000, "starter": 15000}
    at_once = {month: by_dimension(wh, month) for month in ("2026-01-01", "2026-02-01", "2026-03-01")}
    builds.reset_revenue(wh)
    wh.commit()
    day = dt.date(2026, 1, 15)
    while day <= dt.date(2026, 3, 31):
        builds.run_revenue(day.isoformat())
        day += dt.timedelta(days=1)
    assert {month: by_dimension(wh, month) for month in at_once} == at_once
