"""MRR as SPEC "Metric definitions" says, checked against figures worked out by hand, a peer's published
results (dbt Labs' MRR playbook) and the demo data; incremental runs against a full refresh."""

from __future__ import annotations

import csv
import datetime as dt
import os

import psycopg
import pytest

from dev import demo_data
from saas_ops import db, incremental
from saas_ops.revenue import mrr
from tests.harness import builds, scenarios
from tests.harness.dag_runs import REPO
from tests.harness.revenue_by_hand import BAD_PERIODS, HAND_FX, HAND_MONTHS, HAND_MOVEMENTS, HAND_PERIODS
from tests.harness.scenarios import period

PLAYBOOK = REPO / "tests" / "fixtures" / "mrr_playbook"  # a copy of ../shared/fixtures/mrr_playbook
# --------------------------------------------------------------------------------------- by hand

@pytest.fixture
def hand_scenario(airflow_env, databases, warehouse):
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], HAND_PERIODS + BAD_PERIODS, HAND_FX)
    builds.reset_revenue(warehouse)
    return warehouse


def expected_daily(first: str, last: str) -> list[tuple]:
    rows, mrr_cents, paying = [], 0, 0
    day = dt.date.fromisoformat(first)
    while day <= dt.date.fromisoformat(last):
        new, exp, con, churn, react, paying_change = HAND_MOVEMENTS.get(day.isoformat(), (0, 0, 0, 0, 0, 0))
        mrr_cents += new + react + exp - con - churn
        paying += paying_change
        rows.append((day, mrr_cents, mrr_cents * 12, paying, new, exp, con, churn, react))
        day += dt.timedelta(days=1)
    return rows


def test_hand_worked_daily_and_monthly_figures(hand_scenario):
    summary = builds.run_revenue("2026-03-31")
    wh = hand_scenario

    daily = wh.execute("SELECT day, mrr_cents, arr_cents, paying_customers, new_cents, expansion_cents, "
                       "contraction_cents, churn_cents, reactivation_cents FROM saas_ops.mrr_daily ORDER BY day")
    assert daily.fetchall() == expected_daily("2026-01-01", "2026-03-31")

    monthly = wh.execute("SELECT month, mrr_cents, paying_customers, arpa_cents, new_cents, expansion_cents, "
                         "contraction_cents, churn_cents, reactivation_cents, net_new_cents, logo_churn_rate, "
                         "gross_mrr_churn_rate, nrr, grr FROM saas_ops.mrr_monthly ORDER BY month").fetchall()
    assert monthly == [(dt.date.fromisoformat(m), *rest) for m, *rest in HAND_MONTHS]
    assert wh.execute("SELECT arr_cents FROM saas_ops.mrr_monthly WHERE month = '2026-03-01'").fetchone() == (1044672,)

    customers = wh.execute("SELECT to_char(month, 'MM'), customer_id, previous_mrr_cents, mrr_cents, movement "
                           "FROM saas_ops.customer_mrr_monthly WHERE movement IS NOT NULL OR month = '2026-03-01' "
                           "ORDER BY month, customer_id").fetchall()
    january = [("01", c, 0, v, "new") for c, v in
               [("A", 10000), ("B", 8700), ("C", 6320), ("D", 4900), ("F", 5000), ("G", 3000), ("H", 10000),
                ("I", 8000), ("J", 2000), ("K", 11000)]]
    february = [("02", "B", 8700, 14500, "expansion"), ("02", "F", 5000, 0, "churn"),
                ("02", "H", 10000, 15000, "expansion"), ("02", "I", 8000, 0, "churn"),
                ("02", "J", 2000, 6333, "expansion"), ("02", "K", 11000, 12000, "expansion")]
    march = [("03", "A", 10000, 10000, None), ("03", "B", 14500, 14500, None), ("03", "C", 6320, 6320, None),
             ("03", "D", 4900, 4900, None), ("03", "F", 0, 5000, "reactivation"), ("03", "G", 3000, 3000, None),
             ("03", "H", 15000, 15000, None), ("03", "I", 0, 9000, "reactivation"), ("03", "J", 6333, 6333, None),
             ("03", "K", 12000, 12000, None), ("03", "L", 0, 3, "new"), ("03", "M", 0, 1000, "new")]
    assert customers == january + february + march

    # The accounts behind the days' movements (K's rate move is a change of its value, not of its periods).
    changes = wh.execute("SELECT to_char(day, 'MM-DD'), customer_id, previous_cents, mrr_cents, movement "
                         "FROM saas_ops.customer_mrr_changes WHERE day >= '2026-02-01' ORDER BY day, customer_id")
    assert changes.fetchall() == [
        ("02-01", "J", 2000, 6333, "expansion"), ("02-03", "I", 8000, 0, "churn"),
        ("02-08", "H", 10000, 20000, "expansion"), ("02-10", "F", 5000, 0, "churn"),
        ("02-15", "B", 8700, 14500, "expansion"), ("02-20", "H", 20000, 15000, "contraction"),
        ("03-01", "L", 0, 3, "new"), ("03-05", "M", 0, 1000, "reactivation"),
        ("03-10", "F", 0, 5000, "reactivation"), ("03-15", "I", 0, 9000, "reactivation")]
    assert summary["rows_read"] == {"subscription_periods": len(HAND_PERIODS + BAD_PERIODS), "fx_rates": 2}


def test_rows_that_break_the_contract_are_reported_and_left_out(hand_scenario):
    summary = builds.run_revenue("2026-03-31", run_id="dq-run")
    issues = hand_scenario.execute("SELECT table_name, row_key, reason FROM saas_ops.data_quality_issues "
                                   "WHERE run_id = 'dq-run' ORDER BY row_key").fetchall()
    assert issues == [
        ("subscription_periods", "x1 from 2026-01-03T00:00:00Z", "negative amount_cents -500"),
        ("subscription_periods", "x2 from 2026-01-03T00:00:00Z",
         "unknown billing_interval 'fortnight' (expected day, week, month or year)"),
        ("subscription_periods", "x3 from 2026-01-03T00:00:00Z",
         "unknown status 'canceled' (expected trialing, active, past_due or paused)"),
        ("subscription_periods", "x4 from 2026-01-15T00:00:00Z",
         "valid_to 2026-01-10T00:00:00Z is before valid_from"),
        ("subscription_periods", "x5 from 2026-01-01T00:00:00Z",
         "overlaps another period of subscription x5 (left out on the days both are in force)"),
        ("subscription_periods", "x5 from 2026-01-01T12:00:00Z",
         "overlaps another period of subscription x5 (left out on the days both are in force)"),
        ("subscription_periods", "x6 from 2026-01-03T00:00:00Z",
         "no fx_rates rate for JPY on or before 2026-01-03 (left out until JPY has one)"),
    ]
    assert summary["issues"] == {"subscription_periods": 7}
    assert hand_scenario.execute("SELECT count(*) FROM saas_ops.customer_mrr_monthly WHERE customer_id LIKE 'X%'"
                                 ).fetchone() == (0,)


def test_an_absurd_row_or_rate_is_left_out_and_the_run_goes_on(hand_scenario, databases):
    """9e18 cents x 1000 seats would overflow every sum (bigint out of range, naming no row); a rate of 10^9 would
    too. Both are listed with their key and reason and left out: every figure is the hand-worked one."""
    scenarios.load(databases["app"], [period("z", "Z", 9 * 10**18, "2026-01-03", quantity=1000)],
                   [("2026-03-01", "EUR", "1000000000")])
    summary = builds.run_revenue("2026-03-31", run_id="absurd")
    monthly = hand_scenario.execute("SELECT month, mrr_cents FROM saas_ops.mrr_monthly ORDER BY month").fetchall()
    assert monthly == [(dt.date.fromisoformat(m), mrr) for m, mrr, *_ in HAND_MONTHS]
    issues = hand_scenario.execute("SELECT table_name, row_key, reason FROM saas_ops.data_quality_issues "
                                   "WHERE run_id = 'absurd' AND (row_key LIKE 'z %%' OR table_name = 'fx_rates')"
                                   ).fetchall()
    assert sorted(issues) == [
        ("fx_rates", "EUR on 2026-03-01", "rate_to_reporting 1000000000 is beyond what the pack converts (at most "
                                          "100000)"),
        ("subscription_periods", "z from 2026-01-03T00:00:00Z", "amount_cents 9000000000000000000 x quantity 1000 is "
                                                                "beyond what the pack adds up (at most 10^13 cents a "
                                                                "month)")]
    assert summary["issues"] == {"fx_rates": 1, "subscription_periods": 8}


def test_overlaps_and_missing_rates_are_left_out_day_by_day(airflow_env, databases, warehouse):
    """Only the days that break the contract are left out, so any window reaches the same figures."""
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], [
        period("o", "O", 1000, "2026-01-01", "2026-02-01"),   # overlaps the next row on 01-15 .. 01-31
        period("o", "O", 2000, "2026-01-15", "2026-03-01"),
        period("y", "Y", 10000, "2026-01-01", currency="GBP"),  # GBP's first rate comes on 01-20
    ], [("2026-01-20", "GBP", "1.25")])
    builds.reset_revenue(warehouse)
    builds.run_revenue("2026-03-31", full=True)
    full = builds.revenue_snapshot(warehouse)
    daily = dict(warehouse.execute("SELECT to_char(day, 'MM-DD'), mrr_cents FROM saas_ops.mrr_daily").fetchall())
    assert [daily[d] for d in ("01-14", "01-15", "01-19", "01-20", "01-31", "02-01", "02-28", "03-01")] == \
        [1000, 0, 0, 12500, 12500, 14500, 14500, 12500]

    builds.reset_revenue(warehouse)
    for day in ("2026-01-10", "2026-01-16", "2026-01-21", "2026-02-05", "2026-03-31"):
        builds.run_revenue(day)
    assert builds.revenue_snapshot(warehouse) == full


def test_incremental_runs_and_reruns_equal_a_full_refresh(hand_scenario):
    builds.run_revenue("2026-03-31", full=True)
    full = builds.revenue_snapshot(hand_scenario)

    builds.reset_revenue(hand_scenario)
    # 01-26 is inside January: M, new on 01-05, left on 01-25, so its January row must go again
    for day in ("2026-01-04", "2026-01-05", "2026-01-26", "2026-02-09", "2026-02-10", "2026-02-11", "2026-03-01",
                "2026-03-31"):
        builds.run_revenue(day)
    assert builds.revenue_snapshot(hand_scenario) == full

    builds.run_revenue("2026-03-31")                       # the same interval again
    builds.run_revenue("2026-02-10")                       # an older interval: rebuilt from it through the watermark
    assert builds.revenue_snapshot(hand_scenario) == full
    assert hand_scenario.execute("SELECT watermark_day FROM saas_ops.watermarks WHERE output = 'mrr_daily'"
                                 ).fetchone() == (dt.date(2026, 3, 31),)


def test_a_full_refresh_keeps_every_index_and_one_database_can_be_both(hand_scenario, databases, monkeypatch):
    """A full refresh builds the big tables' indexes after loading them (incremental.begin_build): they must all
    be back, as the migrations made them. With saas_db and the warehouse one database, the rows are read
    inside the server instead of through COPY (db.copy_query_rows): the figures must not change."""
    index_sql = ("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'saas_ops' "
                 "AND tablename = ANY (%s) ORDER BY 1")
    tables = list(mrr.BULK_TABLES)
    before = hand_scenario.execute(index_sql, (tables,)).fetchall()
    assert [name for name, _ in before] == [
        "customer_mrr_changes_customer_idx", "customer_mrr_changes_pkey", "customer_mrr_monthly_pkey",
        "mrr_customer_first_paid_day_idx", "mrr_customer_first_paid_month_idx", "mrr_customer_first_paid_pkey",
        "mrr_paying_periods_customer_idx", "mrr_paying_periods_end_day_idx", "mrr_paying_periods_first_day_idx",
        "mrr_source_fingerprints_bucket_idx", "mrr_source_fingerprints_pkey"]
    builds.run_revenue("2026-03-31", full=True)
    assert hand_scenario.execute(index_sql, (tables,)).fetchall() == before
    two_databases = builds.revenue_snapshot(hand_scenario)
    assert len(two_databases["customer_mrr_monthly"]) > 10

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", os.environ["AIRFLOW_CONN_SAAS_DB"])
    with psycopg.connect(databases["app"]) as app:
        db.migrate(app, "saas_ops")
        with db.source() as src, db.warehouse() as wh:
            assert db.same_database(src, wh)
        builds.run_revenue("2026-03-31", full=True)
        assert builds.revenue_snapshot(app) == two_databases
        app.execute("DROP SCHEMA saas_ops CASCADE")
        app.commit()


STATE_TABLES = {"mrr_paying_periods": "customer_id, first_day, currency, mrr_num",
                "mrr_source_fingerprints": "customer_id", "mrr_fx_rates": "currency, rate_date",
                "mrr_customer_first_paid": "customer_id"}


def stored_state(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {t: conn.execute(f"SELECT * FROM saas_ops.{t} ORDER BY {order}").fetchall()
            for t, order in STATE_TABLES.items()}


@pytest.mark.parametrize("failing_step", ["revenue/50_restated_customers.sql", "revenue/70_source_state.sql",
                                          "revenue/83_mrr_daily.sql", "revenue/86_data_quality_issues.sql"])
def test_a_build_that_fails_changes_nothing(hand_scenario, databases, monkeypatch, failing_step):
    """mrr.build writes every output and its stored state in one transaction. A fault in any step (here a
    division by zero in place of that file), in a run that would restate history and add new days, leaves every
    output and the stored state as they were and reports nothing; the next run does it all."""
    builds.run_revenue("2026-02-28")
    before, state = builds.revenue_snapshot(hand_scenario), stored_state(hand_scenario)
    hand_scenario.commit()
    with psycopg.connect(databases["app"]) as app:  # a late price correction for B in January
        app.execute("UPDATE app.subscription_periods SET amount_cents = 3000 WHERE subscription_id = 'b' "
                    "AND valid_from < '2026-02-01'")
    real_read_sql = db.read_sql
    monkeypatch.setattr(db, "read_sql", lambda path: "SELECT 1 / 0;" if path == failing_step else real_read_sql(path))
    with pytest.raises(psycopg.errors.DivisionByZero):
        mrr.build(dt.date(2026, 3, 31), full_refresh=False, run_id="test:failing", output_schema="saas_ops",
                  source_schema="app", reporting_currency="USD")
    assert builds.revenue_snapshot(hand_scenario) == before and stored_state(hand_scenario) == state
    assert hand_scenario.execute("SELECT count(*) FROM saas_ops.data_quality_issues WHERE run_id = 'test:failing'"
                                 ).fetchone() == (0,)
    hand_scenario.commit()

    monkeypatch.undo()
    summary = builds.run_revenue("2026-03-31")
    assert summary["restated"]["customers"] == 1
    # B paid 3 x 30.00 in January instead of 3 x 29.00: 3.00 more from 01-01 through 02-15
    assert builds.revenue_snapshot(hand_scenario)["mrr_monthly"][0][:2] == (dt.date(2026, 1, 1), 68920 + 300)
    assert builds.revenue_snapshot(hand_scenario)["mrr_monthly"][2][:3] == (dt.date(2026, 3, 1), 87056, 87056 * 12)


def test_a_full_refresh_forgets_what_the_source_no_longer_says(airflow_env, databases, warehouse):
    """Q paid in January, then its billing history was rewritten to start in March. A full refresh takes
    the source as the whole truth: Q is new in March, not back (its stored first payment is forgotten, though
    the session computing the movements reads that table before the refresh empties it)."""
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], [period("q1", "Q", 1000, "2026-01-01", "2026-02-01")])
    builds.reset_revenue(warehouse)
    builds.run_revenue("2026-03-31", full=True)
    assert warehouse.execute("SELECT first_paid_day, first_paid_month FROM saas_ops.mrr_customer_first_paid "
                             "WHERE customer_id = 'Q'").fetchone() == (dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    warehouse.commit()

    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], [period("q2", "Q", 1000, "2026-03-01")])
    builds.run_revenue("2026-03-31", full=True)
    tables = builds.revenue_snapshot(warehouse)
    assert tables["customer_mrr_changes"] == [(dt.date(2026, 3, 1), "Q", 0, 1000, "new")]
    assert tables["customer_mrr_monthly"] == [(dt.date(2026, 3, 1), "Q", 1000, 0, "new", "plan", "month", "(none)",
                                              "(none)")]
    assert [(row[0], row[1], row[5], row[9]) for row in tables["mrr_monthly"]] == [(dt.date(2026, 3, 1), 1000, 1000, 0)]
    assert warehouse.execute("SELECT first_paid_day, first_paid_month FROM saas_ops.mrr_customer_first_paid "
                             "WHERE customer_id = 'Q'").fetchone() == (dt.date(2026, 3, 1), dt.date(2026, 3, 1))


def test_the_bridge_check_catches_a_table_that_no_longer_adds_up(hand_scenario):
    builds.run_revenue("2026-03-31")
    hand_scenario.execute("UPDATE saas_ops.mrr_daily SET expansion_cents = expansion_cents + 1 "
                          "WHERE day = '2026-02-15'")
    hand_scenario.execute("UPDATE saas_ops.customer_mrr_monthly SET mrr_cents = 14600 "
                          "WHERE month = '2026-02-01' AND customer_id = 'B'")
    hand_scenario.execute("UPDATE saas_ops.customer_mrr_monthly SET movement = 'expansion' "
                          "WHERE month = '2026-03-01' AND customer_id = 'A'")
    hand_scenario.commit()
    window = incremental.Window(dt.date(2026, 2, 1), dt.date(2026, 3, 31), None, False)
    with db.warehouse() as wh:
        problems = mrr.REVENUE.problems(wh, "saas_ops", window)
    assert problems == [
        "mrr_daily 2026-02-15: 77053 <> 71253 (day before) + 5801 (movements)",
        "mrr_monthly 2026-02-01: 72053 cents and 8 paying, but customer_mrr_monthly sums to 72153 and 8, "
        "with 0 inconsistent row(s)",
        "mrr_monthly 2026-03-01: 87056 cents and 12 paying, but customer_mrr_monthly sums to 87056 and 12, "
        "with 1 inconsistent row(s)",
    ]


# --------------------------------------------------------------------------------------- a peer's results


def test_dbt_mrr_playbook_month_for_month(airflow_env, databases, warehouse):
    """dbt Labs' MRR playbook: same month-end MRR and customers from 2018-01, same movements from 2018-02."""
    with (PLAYBOOK / "subscription_periods.csv").open() as fh:
        periods = [period(f"s{r['subscription_id']}", f"c{r['customer_id']}", int(r["monthly_amount"]) * 100,
                          r["start_date"], r["end_date"]) for r in csv.DictReader(fh)]
    with (PLAYBOOK / "expected_mrr_by_month.csv").open() as fh:
        expected = list(csv.DictReader(fh))
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], periods)
    builds.reset_revenue(warehouse)
    builds.run_revenue("2020-02-29")  # the end of the playbook's last month

    ours = {row[0].isoformat(): row[1:] for row in warehouse.execute(
        "SELECT month, mrr_cents, paying_customers, new_cents, reactivation_cents, expansion_cents, "
        "contraction_cents, churn_cents FROM saas_ops.mrr_monthly").fetchall()}
    assert len(expected) == 26
    for row in expected:
        month = row["date_month"]
        mrr_cents, paying, *movements = ours[month]
        assert (mrr_cents, paying) == (int(row["total_mrr"]) * 100, int(row["active_customers"])), month
        if month >= "2018-02-01":
            theirs = [int(row[k]) * 100 for k in ("new_mrr", "reactivation_mrr", "upgrade_mrr")]
            theirs += [-int(row["downgrade_mrr"]) * 100, -int(row["churn_mrr"]) * 100]
            assert list(movements) == theirs, month


# --------------------------------------------------------------------------------------- the demo data


def test_demo_history_bridges_and_builds_incrementally(airflow_env, databases, warehouse):
    """Three currencies with daily rates, trials, pauses, past_due, seats, plans and comebacks."""
    end = dt.date(2026, 3, 31)
    demo_data.load(databases["app"], customers=400, months=14, seed=11, end=end, events_per_active_day=0,
                   verbose=False)
    builds.reset_revenue(warehouse)
    builds.run_revenue(end.isoformat(), full=True)  # builds.run_revenue() asserts the bridge check finds nothing
    full = builds.revenue_snapshot(warehouse)
    month = warehouse.execute("SELECT paying_customers, new_cents, churn_cents, expansion_cents, contraction_cents "
                              "FROM saas_ops.mrr_monthly WHERE month = '2026-03-01'").fetchone()
    assert month[0] > 100 and all(v > 0 for v in month[1:]), month

    builds.reset_revenue(warehouse)
    builds.run_revenue("2026-01-20", full=True)
    read = {day: builds.run_revenue(day)["rows_read"]["subscription_periods"]
            for day in ("2026-01-21", "2026-02-01", "2026-02-28", "2026-03-15", "2026-03-31")}
    assert builds.revenue_snapshot(warehouse) == full
    # The source did not change after the first build: a nightly run reads no subscription_periods row again,
    # only each customer's fingerprint.
    assert read == {"2026-01-21": 0, "2026-02-01": 0, "2026-02-28": 0, "2026-03-15": 0, "2026-03-31": 0}


# --------------------------------------------------------------------------------------- late and corrected rows

# Three accounts, built through 2026-01-10 (USD unless said): P 100.00 a month from 2025-06-01; Q 50.00 from
# 2025-08-01; R 80.00 EUR from 2025-09-01, EUR 1.10 USD, then 1.20 from 2026-01-05 (R: 88.00, then 96.00).
# MRR on 2026-01-10: 100.00 + 50.00 + 96.00 = 246.00. Then the source changes, as a billing sync changes it,
# and the next run (closing 01-11) must restate exactly what it affects.
RESTATE_PERIODS = [period("p", "P", 10000, "2025-06-01"), period("q", "Q", 5000, "2025-08-01"),
                   period("r", "R", 8000, "2025-09-01", currency="EUR")]
RESTATE_FX = [("2025-09-01", "EUR", "1.10"), ("2026-01-05", "EUR", "1.20")]


def late_period(dsn: str) -> None:
    """S signed up on 01-08 at 30.00; the row arrives after the 01-10 run."""
    scenarios.load(dsn, [period("s", "S", 3000, "2026-01-08")])


def retroactive_cancellation(dsn: str) -> None:
    """Q's open period learns it ended on 2025-12-20."""
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE app.subscription_periods SET valid_to = '2025-12-20Z' WHERE subscription_id = 'q'")


def correction_six_months_back(dsn: str) -> None:
    """P's price was 120.00 from 2025-07-15: its history is rewritten as two periods."""
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE app.subscription_periods SET valid_to = '2025-07-15Z' WHERE subscription_id = 'p'")
        conn.execute("INSERT INTO app.subscription_periods (subscription_id, customer_id, plan_id, status, currency, "
                     "amount_cents, quantity, billing_interval, interval_count, valid_from) "
                     "SELECT subscription_id, customer_id, plan_id, status, currency, 12000, quantity, "
                     "billing_interval, interval_count, '2025-07-15Z' FROM app.subscription_periods "
                     "WHERE subscription_id = 'p'")


def late_fx_rate(dsn: str) -> None:
    """EUR's rate of 01-08, 1.25, arrives late: R is worth 100.00 from 01-08."""
    scenarios.load(dsn, [], [("2026-01-08", "EUR", "1.25")])


# change, the days whose row moves with (new, expansion, churn) on that day and MRR from it on, the months
# restated with their change of MRR, the customer's month rows after.
RESTATEMENTS = {
    # S is new on 01-08: +30.00 from then on. January: S new.
    late_period: ({"2026-01-08": (3000, 0, 0, 27600)}, [("2026-01-01", 3000)],
                  [("2026-01-01", "S", 3000, 0, "new")]),
    # Q churns on 12-20: -50.00 from then on. December: Q's churn (50.00 at the end of November); January: no row.
    retroactive_cancellation: ({"2025-12-20": (0, 0, 5000, 18800)}, [("2025-12-01", -5000), ("2026-01-01", -5000)],
                               [("2025-11-01", "Q", 5000, 5000, None), ("2025-12-01", "Q", 0, 5000, "churn")]),
    # P expands by 20.00 on 2025-07-15 (Q and R not there yet: MRR 120.00); every month end from July on is
    # 20.00 higher; July is P's expansion.
    correction_six_months_back: ({"2025-07-15": (0, 2000, 0, 12000)},
                                 [(m, 2000) for m in ("2025-07-01", "2025-08-01", "2025-09-01", "2025-10-01",
                                                      "2025-11-01", "2025-12-01", "2026-01-01")],
                                 [("2025-06-01", "P", 10000, 0, "new"), ("2025-07-01", "P", 12000, 10000, "expansion"),
                                  ("2025-08-01", "P", 12000, 12000, None)]),
    # R: 96.00 -> 100.00 on 01-08, a rate move: expansion in mrr_daily, and R's January row.
    late_fx_rate: ({"2026-01-08": (0, 400, 0, 25000)}, [("2026-01-01", 400)], [("2026-01-01", "R", 10000, 8800,
                                                                                "expansion")]),
}


@pytest.mark.parametrize("change", list(RESTATEMENTS), ids=lambda f: f.__name__)
def test_the_next_run_restates_a_late_or_corrected_source_row(airflow_env, databases, warehouse, change):
    """Each change is picked up by the next nightly run, with no full refresh: the days from the changed day
    on move by its amount (worked out above), the months it touches are restated and said so, and the tables
    equal a full refresh of the same source, row for row."""
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], RESTATE_PERIODS, RESTATE_FX)
    builds.reset_revenue(warehouse)
    builds.run_revenue("2026-01-10")
    before = dict(warehouse.execute("SELECT day::text, mrr_cents FROM saas_ops.mrr_daily").fetchall())
    assert before["2026-01-10"] == 24600
    warehouse.commit()
    change(databases["app"])

    summary = builds.run_revenue("2026-01-11")
    days, months, customer_rows = RESTATEMENTS[change]
    daily = {d.isoformat(): row for d, *row in warehouse.execute(
        "SELECT day, new_cents, expansion_cents, churn_cents, mrr_cents FROM saas_ops.mrr_daily").fetchall()}
    for day, (new, expansion, churn, mrr_after) in days.items():
        assert tuple(daily[day]) == (new, expansion, churn, mrr_after), day
        moved = mrr_after - before[day]
        assert all(daily[d][3] == before.get(d, before["2026-01-10"]) + moved for d in daily if d >= day)
        assert all(daily[d][3] == before[d] for d in daily if d < day)
    assert summary["restated"] == {"customers": 1, "from_day": min(days), "months": months}
    customer = customer_rows[0][1]
    rows = warehouse.execute("SELECT month::text, customer_id, mrr_cents, previous_mrr_cents, movement "
                             "FROM saas_ops.customer_mrr_monthly WHERE customer_id = %s AND month >= %s "
                             "ORDER BY month LIMIT %s", (customer, customer_rows[0][0], len(customer_rows))).fetchall()
    assert rows == customer_rows
    nightly = builds.revenue_snapshot(warehouse)
    warehouse.commit()

    builds.reset_revenue(warehouse)
    builds.run_revenue("2026-01-11", full=True)
    assert builds.revenue_snapshot(warehouse) == nightly


def test_a_restatement_says_what_changed_in_one_slack_line():
    """What build_mrr posts after the retroactive cancellation above (and the late rows it left out)."""
    summary = {"issues": {"subscription_periods": 2},
               "restated": {"customers": 3, "from_day": "2025-06-12",
                            "months": [("2025-06-01", 0), ("2025-07-01", -1606000), ("2025-11-01", -1606000)]}}
    run = incremental.Run(day=dt.date(2025, 11, 30), full_refresh=False, run_id="r1", output_schema="saas_ops",
                          source_schema="app", params={})
    slack = [a.title for a in mrr.build_alerts(summary, run)]
    assert slack == ["saas_mrr: 2 source row(s) broke the contract and were left out of MRR (subscription_periods 2)",
                     "saas_mrr: 3 customer(s) restated from 2025-06-12; 2025-06 … 2025-11 changed: MRR of 2025-11 "
                     "-16,060.00 USD"]
