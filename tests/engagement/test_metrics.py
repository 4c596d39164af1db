"""saas_engagement's figures, worked out by hand on a small scenario (docstring of each test), bad events,
incremental runs and reruns against a full refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from saas_ops import config, incremental, quality
from saas_ops.engagement import metrics
from tests.harness import builds, scenarios
from tests.harness.scenarios import utc


def test_window_planning():
    d = dt.date.fromisoformat
    # First run and full refresh: from the earliest source day.
    assert incremental.plan_window(None, d("2024-05-03"), d("2026-03-31"), False) == \
        incremental.Window(d("2024-05-03"), d("2026-03-31"), d("2024-05-03"), True)
    # Daily run: the day after the watermark; the late days before the closing day are read again.
    assert incremental.plan_window(d("2026-03-30"), None, d("2026-03-31"), False) == \
        incremental.Window(d("2026-03-31"), d("2026-03-31"), d("2026-03-31"), False)
    assert incremental.plan_window(d("2026-03-30"), None, d("2026-03-31"), False, reread_days=3) == \
        incremental.Window(d("2026-03-31"), d("2026-03-31"), d("2026-03-31"), False, read_from=d("2026-03-28"))
    # ... but never before the first day built; rebuilt from rebuild_from when asked.
    assert incremental.plan_window(d("2026-03-30"), None, d("2026-03-31"), False, reread_days=3,
                               first_built_day=d("2026-03-29")).read_from == d("2026-03-29")
    assert incremental.plan_window(d("2026-03-30"), None, d("2026-03-31"), False, reread_days=3,
                               rebuild_from=d("2026-02-01")) == \
        incremental.Window(d("2026-02-01"), d("2026-03-31"), d("2026-03-31"), False)
    # Rerun of an older interval: from its day through the watermark, and no day is new.
    assert incremental.plan_window(d("2026-03-31"), None, d("2026-03-10"), False) == \
        incremental.Window(d("2026-03-10"), d("2026-03-31"), None, False)
    # No source rows yet (or none on or before the closing day): nothing to build.
    assert incremental.plan_window(None, None, d("2026-03-31"), False).start is None
    assert incremental.plan_window(None, d("2026-04-02"), d("2026-03-31"), True).start is None


# Accounts A and B. a1 (A, signed up 2025-12-15) is active on 01-01, 01-02 and 02-09; a2 (A, 2026-01-03)
# never; b1 (B, 2026-01-05) on 01-05, 01-20, 02-03 and 03-01; b2 (B, 2026-01-10) on 01-10 only.
USERS = [("a1", "A", "2025-12-15"), ("a2", "A", "2026-01-03"), ("b1", "B", "2026-01-05"), ("b2", "B", "2026-01-10")]
GOOD_EVENTS = [
    ("e1", "a1", "A", "login", utc("2026-01-01", 9)), ("e2", "a1", "A", "report_create", utc("2026-01-01", 10)),
    ("e3", "a1", "A", "report_create", utc("2026-01-01", 11)), ("e4", "a1", "A", "login", utc("2026-01-02", 8)),
    ("e5", "a1", "A", "login", utc("2026-02-09", 8)),
    ("e6", "b1", "B", "login", utc("2026-01-05", 9)), ("e7", "b1", "B", "api_call", utc("2026-01-05", 9)),
    ("e8", "b1", "B", "login", utc("2026-01-20", 9)),
    ("e9", "b1", "B", "login", utc("2026-02-03", 9)), ("e10", "b1", "B", "report_create", utc("2026-02-03", 10)),
    ("e11", "b1", "B", "report_create", utc("2026-02-03", 15)),
    ("e12", "b1", "B", "login", utc("2026-03-01", 9)),
    ("e13", "b2", "B", "login", utc("2026-01-10", 23)),
]
BAD_EVENTS = [  # each would change a figure if it were counted
    ("x1", "zz", "A", "login", utc("2026-01-15", 9)),
    ("x2", "b1", "B", None, utc("2026-01-16", 9)),
    ("x3", "b1", "Q", "login", utc("2026-01-17", 9)),
    ("x4", "a1", "A", "login", utc("2026-06-01", 9)),  # after every run's clock
]


@pytest.fixture
def scenario(airflow_env, databases, warehouse):
    scenarios.reset_source(databases["app"])
    scenarios.load_activity(databases["app"], ["A", "B"], USERS, GOOD_EVENTS + BAD_EVENTS)
    builds.reset_engagement(warehouse)
    return warehouse


def test_the_check_fails_a_day_written_wrong_and_the_watermark_stays(scenario):
    """check_engagement, the task that guards the watermark: a day whose DAU is above its WAU (written wrong)
    fails the run, naming the day; the watermark stays at the day before, so the next run writes it again.
    On 03-31 nobody is active, and b1's last event (03-01) is more than 30 days back: WAU and MAU are 0."""
    from airflow.sdk.exceptions import AirflowFailException

    builds.run_engagement("2026-03-30")
    window = metrics.plan_for(dt.date(2026, 3, 31), False, output_schema="saas_ops", source_schema="app")
    summary = metrics.build(window, run_id="test:wrong", output_schema="saas_ops", source_schema="app",
                            features=config.core_features(), now=utc("2026-04-01", 12))
    scenario.execute("UPDATE saas_ops.engagement_daily SET dau = 1 WHERE day = '2026-03-31'")
    scenario.commit()
    with pytest.raises(AirflowFailException) as failed:
        metrics.check_engagement.function(summary, run_id="test:wrong")
    assert str(failed.value) == (
        "engagement check does not hold on 1 day(s)/month(s); the watermark stays (the next run writes those days "
        "again); if it persists, trigger saas_engagement with full_refresh:\n"
        "engagement_daily 2026-03-31: DAU 1, WAU 0, MAU 0 are not in order")
    assert scenario.execute("SELECT watermark_day FROM saas_ops.watermarks WHERE output = 'engagement_daily'"
                            ).fetchone() == (dt.date(2026, 3, 30),)


def test_activity_and_lifecycle_by_hand(scenario):
    """DAU/WAU/MAU count users with an event on the day / in the 7 / 30 days to it. 01-10: b2 is new; WAU
    b1, b2; MAU a1, b1, b2. 02-03: b1 returns (last 01-20); MAU b1, b2; a1 (last seen 01-02) is dormant.
    02-09: a1 resurrects (last seen 01-02, more than 30 days before); b2 (01-10 only) dormant. 03-15:
    nobody active, MAU b1 (03-01), a1 dormant (02-09)."""
    builds.run_engagement("2026-03-31")
    rows = {r[0].isoformat(): r[1:] for r in scenario.execute(
        "SELECT day, dau, wau, mau, stickiness, new_users, returning_users, resurrected_users, dormant_users "
        "FROM saas_ops.engagement_daily").fetchall()}
    assert len(rows) == 90  # every day from the first event (01-01) to 03-31
    #                 dau wau mau stickiness          new ret res dormant
    assert rows["2026-01-01"] == (1, 1, 1, Decimal("1.000000"), 1, 0, 0, 0)
    assert rows["2026-01-02"] == (1, 1, 1, Decimal("1.000000"), 0, 1, 0, 0)
    assert rows["2026-01-10"] == (1, 2, 3, Decimal("0.333333"), 1, 0, 0, 0)
    assert rows["2026-01-16"] == (0, 1, 3, Decimal("0.000000"), 0, 0, 0, 0)  # x2 (no event name) not counted; WAU b2
    assert rows["2026-01-20"] == (1, 1, 3, Decimal("0.333333"), 0, 1, 0, 0)
    assert rows["2026-02-03"] == (1, 1, 2, Decimal("0.500000"), 0, 1, 0, 1)
    assert rows["2026-02-09"] == (1, 2, 2, Decimal("0.500000"), 0, 0, 1, 1)
    assert rows["2026-03-01"] == (1, 1, 2, Decimal("0.500000"), 0, 1, 0, 1)
    assert rows["2026-03-15"] == (0, 0, 1, Decimal("0.000000"), 0, 0, 0, 1)


def test_account_signals_feature_adoption_and_cohorts_by_hand(scenario):
    """B on 02-03: users b1, b2 in 30 days, b1 in 7; events 7 in 30 days (2+1+3+1), 3 in 7; features
    api_call and report_create; trend (3/7)/(7/30) = 90/49. A on 01-31: a1's one event of 01-02 only.
    A has no row on 02-03 (nothing in 30 days). Cohorts: December a1 (1 user), January a2, b1, b2 (3)."""
    builds.run_engagement("2026-03-31")
    signals = {(r[0].isoformat(), r[1]): r[2:] for r in scenario.execute(
        "SELECT day, customer_id, active_users_7d, active_users_30d, events_7d, events_30d, features_used_30d, "
        "last_active_at, events_trend, active_users_trend FROM saas_ops.account_engagement_daily").fetchall()}
    assert signals[("2026-02-03", "B")] == (1, 2, 3, 7, 2, utc("2026-02-03", 15), Decimal("1.836735"),
                                            Decimal("0.500000"))
    assert signals[("2026-01-31", "A")] == (0, 1, 0, 1, 0, utc("2026-01-02", 8), Decimal("0.000000"),
                                            Decimal("0.000000"))
    assert signals[("2026-01-02", "A")] == (1, 1, 4, 4, 1, utc("2026-01-02", 8), Decimal("4.285714"),
                                            Decimal("1.000000"))
    assert ("2026-01-31", "A") in signals and ("2026-02-01", "A") not in signals  # 30 days from 01-02

    adoption = {(r[0].isoformat(), r[1]): r[2:] for r in scenario.execute(
        "SELECT day, feature, accounts_30d, adoption_rate FROM saas_ops.feature_adoption").fetchall()}
    assert len(adoption) == 90 * len(config.core_features())
    assert adoption[("2026-01-10", "report_create")] == (1, Decimal("0.500000"))  # A (01-01) of A, B
    assert adoption[("2026-01-10", "api_call")] == (1, Decimal("0.500000"))      # B (01-05)
    assert adoption[("2026-01-10", "export_csv")] == (0, Decimal("0.000000"))
    assert adoption[("2026-02-03", "report_create")] == (1, Decimal("1.000000"))  # B only is active
    assert adoption[("2026-02-05", "api_call")] == (0, Decimal("0.000000"))       # 01-05 + 30 days

    cohorts = scenario.execute("SELECT cohort_month::text, months_since, cohort_size, retained, retention_rate "
                               "FROM saas_ops.retention_cohorts ORDER BY 1, 2").fetchall()
    assert cohorts == [
        ("2025-12-01", 0, 1, 0, Decimal("0.000000")), ("2025-12-01", 1, 1, 1, Decimal("1.000000")),
        ("2025-12-01", 2, 1, 1, Decimal("1.000000")), ("2025-12-01", 3, 1, 0, Decimal("0.000000")),
        ("2026-01-01", 0, 3, 2, Decimal("0.666667")), ("2026-01-01", 1, 3, 1, Decimal("0.333333")),
        ("2026-01-01", 2, 3, 1, Decimal("0.333333")),
    ]


def test_bad_events_are_reported_and_left_out(scenario):
    summary = builds.run_engagement("2026-03-31")
    assert summary["bad_events"] == 4
    issues = scenario.execute("SELECT row_key, reason FROM saas_ops.data_quality_issues "
                              "WHERE dag_id = 'saas_engagement' ORDER BY row_key").fetchall()
    assert issues == [("x1", "unknown user_id 'zz'"), ("x2", "event_name is null"),
                      ("x3", "unknown customer_id 'Q'"), ("x4", "occurred_at 2026-06-01T09:00:00Z is in the future")]


def test_incremental_runs_and_reruns_equal_a_full_refresh(scenario):
    """A full refresh builds the big tables' indexes after loading them: they must all be back, as the
    migrations made them."""
    index_sql = ("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'saas_ops' "
                 "AND tablename = ANY (%s) ORDER BY 1")
    indexes = scenario.execute(index_sql, (list(metrics.BULK_TABLES),)).fetchall()
    assert [name for name, _ in indexes] == ["account_engagement_daily_pkey", "account_feature_daily_pkey",
                                             "user_activity_daily_pkey", "user_activity_daily_user_idx"]
    builds.run_engagement("2026-03-31", full=True)
    assert scenario.execute(index_sql, (list(metrics.BULK_TABLES),)).fetchall() == indexes
    full = builds.engagement_snapshot(scenario)
    builds.reset_engagement(scenario)
    for day in ("2026-01-01", "2026-01-02", "2026-01-20", "2026-02-09", "2026-02-10", "2026-03-31"):
        builds.run_engagement(day)
    assert builds.engagement_snapshot(scenario) == full
    builds.run_engagement("2026-03-31")  # the same interval again
    builds.run_engagement("2026-02-01")  # an older interval: rebuilt from it through the watermark
    assert builds.engagement_snapshot(scenario) == full


def test_late_events_are_counted_by_the_next_run(scenario, databases):
    """Built through 02-05. Then events of 02-03, 02-04 and 02-05 arrive late (3, 2 and 1 days before the next
    run's day, 02-06), and one of 01-20 (17 days). The 02-06 run reads 02-03 .. 02-06 again:
    - 02-03: b2 is active too (last seen 01-10, within 30 days: returning): DAU 2, WAU 2 (b1, b2), MAU 2;
    - 02-04: a1 comes back (last seen 01-02, 33 days before: resurrected): DAU 1, WAU 3 (b1, b2, a1), MAU 3,
      and a1 is no longer dormant;
    - 02-05: b1 (seen 02-03: returning): DAU 1, WAU 3, MAU 3.
    The 01-20 event is older than ENGAGEMENT_LATE_DAYS: counted only once a run rebuilds from 01-20, which then
    equals a full refresh of the same events, row for row."""
    builds.run_engagement("2026-02-05")
    before = {r[0]: r[1:] for r in scenario.execute(
        "SELECT to_char(day, 'MM-DD'), dau, wau, mau FROM saas_ops.engagement_daily").fetchall()}
    assert (before["02-03"], before["02-04"], before["02-05"]) == ((1, 1, 2), (0, 1, 2), (0, 1, 2))
    scenarios.add_events(databases["app"], [
        ("l1", "b2", "B", "login", utc("2026-02-03", 12)), ("l2", "a1", "A", "report_create", utc("2026-02-04", 10)),
        ("l3", "b1", "B", "api_call", utc("2026-02-05", 9)), ("l4", "a2", "A", "login", utc("2026-01-20", 10))])

    builds.run_engagement("2026-02-06")
    rows = {r[0]: r[1:] for r in scenario.execute(
        "SELECT to_char(day, 'MM-DD'), dau, wau, mau, stickiness, new_users, returning_users, resurrected_users, "
        "dormant_users FROM saas_ops.engagement_daily").fetchall()}
    #                          dau wau mau stickiness          new ret res dormant
    assert rows["02-03"] == (2, 2, 2, Decimal("1.000000"), 0, 2, 0, 1)
    assert rows["02-04"] == (1, 3, 3, Decimal("0.333333"), 0, 0, 1, 0)
    assert rows["02-05"] == (1, 3, 3, Decimal("0.333333"), 0, 1, 0, 0)
    assert rows["01-20"][0] == 1  # b1 only: a2's event of 01-20 came too late
    a_signals = scenario.execute("SELECT active_users_7d, events_7d, features_used_30d FROM "
                                 "saas_ops.account_engagement_daily WHERE day = '2026-02-05' AND customer_id = 'A'")
    assert a_signals.fetchone() == (1, 1, 1)  # a1's report_create of 02-04

    builds.run_engagement("2026-02-06", rebuild_from="2026-01-20")
    assert scenario.execute("SELECT dau, new_users FROM saas_ops.engagement_daily WHERE day = '2026-01-20'"
                            ).fetchone() == (2, 1)
    incremental = builds.engagement_snapshot(scenario)
    builds.reset_engagement(scenario)
    builds.run_engagement("2026-02-06", full=True)
    assert builds.engagement_snapshot(scenario) == incremental


def test_duplicate_events_and_users_are_left_out_and_reported(airflow_env, databases, warehouse):
    """On 01-05: event `dup` twice (once from u1, once from u2: which one happened?), e1 from u1, e2 and e3 from u3,
    whose user_id two users rows hold. Only e1 counts: DAU 1 (u1), u2's only event and u3's are left out, each
    duplicated key listed with its reason; the January cohort is u1 and u2 (u3 left out)."""
    scenarios.reset_source(databases["app"])
    with psycopg.connect(databases["app"]) as conn:  # a user's view may hold duplicates: no key enforces them
        assert quality.key_is_unique(conn, "app", "events", "event_id")  # with its primary key: nothing to look for
        conn.execute("ALTER TABLE app.events DROP CONSTRAINT events_pkey; ALTER TABLE app.users DROP CONSTRAINT "
                     "users_pkey CASCADE")
        assert not quality.key_is_unique(conn, "app", "events", "event_id")
    scenarios.load_activity(databases["app"], ["A", "B"], [("u1", "A", "2026-01-01"), ("u2", "A", "2026-01-02"),
                                                            ("u3", "B", "2026-01-03"), ("u3", "B", "2026-01-04")],
                            [("dup", "u1", "A", "login", utc("2026-01-05", 9)), ("dup", "u2", "A", "login",
                                                                                   utc("2026-01-05", 10)),
                             ("e1", "u1", "A", "report_create", utc("2026-01-05", 11)),
                             ("e2", "u3", "B", "login", utc("2026-01-05", 12)),
                             ("e3", "u3", "B", "login", utc("2026-01-05", 13))])
    builds.reset_engagement(warehouse)
    summary = builds.run_engagement("2026-01-05")
    assert warehouse.execute("SELECT dau, new_users FROM saas_ops.engagement_daily WHERE day = '2026-01-05'"
                             ).fetchone() == (1, 1)
    assert warehouse.execute("SELECT customer_id, events_30d FROM saas_ops.account_engagement_daily "
                             "WHERE day = '2026-01-05'").fetchall() == [("A", 1)]
    issues = warehouse.execute("SELECT table_name, row_key, reason FROM saas_ops.data_quality_issues "
                               "WHERE dag_id = 'saas_engagement' ORDER BY 1, 2").fetchall()
    assert issues == [("events", "dup", "2 events hold this event_id: all are left out"),
                      ("users", "u3", "2 rows hold this user_id: all are left out")]
    assert summary["left_out"] == {"events": 1, "users": 1}
    assert warehouse.execute("SELECT cohort_month::text, cohort_size FROM saas_ops.retention_cohorts "
                             "WHERE months_since = 0").fetchall() == [("2026-01-01", 2)]
