"""saas_support's tables (SPEC support_daily, support_sla_daily, support_account_daily, "First response time") on
six tickets worked out by hand, built at once and night by night, restated when a ticket is corrected late,
with tickets that break the contract, and the Slack line naming waiting tickets of paying accounts.

The scenario (UTC, March 2026; policies urgent 15 min, high 1 h, normal 4 h, low 24 h, enterprise high 30 min).
A pays 1,000.00 a month on enterprise, B 100.00 on starter, C has no subscription.
- t1 A high,   opened 03-10 09:00, answered 09:29:59 (due 09:30: met, just inside), resolved 11:00, CSAT 5;
- t2 A high,   opened 03-10 10:00, answered 10:30:01 (due 10:30: breached, just outside), resolved 03-11 10:00,
  CSAT 3;
- t3 B high,   opened 03-10 09:00, answered 09:59:59 (starter: the 1 h default, met), never resolved;
- t4 B urgent, opened 03-10 23:50, never answered: due 03-11 00:05, breached on 03-11;
- t5 C low,    opened 03-10 12:00, answered 18:00 (due 03-11 12:00: met), resolved 03-11 09:00, no CSAT;
- t6 B normal, opened 03-11 08:00, answered 13:00 (due 12:00: breached), resolved 14:00, CSAT 4.
Percentiles interpolate: 03-10's high first responses 1799, 1801, 3599 s have p50 1801 and p90 1801 + 0.8 × 1798
= 3239.4.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from saas_ops import db, incremental
from saas_ops.support import metrics
from saas_ops.support.sla import parse_policies
from tests.harness import builds, scenarios
from tests.harness.scenarios import period

POLICIES = "urgent=15m,high=1h,normal=4h,low=24h,enterprise:high=30m"
PERIODS = [period("a", "A", 100000, "2026-01-01", plan="enterprise"),
           period("b", "B", 10000, "2026-01-01", plan="starter")]


def at(day: str, clock: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-{day}T{clock}+00:00")


TICKETS = [
    ("t1", "A", at("03-10", "09:00:00"), "high", at("03-10", "09:29:59"), at("03-10", "11:00:00"), 5),
    ("t2", "A", at("03-10", "10:00:00"), "high", at("03-10", "10:30:01"), at("03-11", "10:00:00"), 3),
    ("t3", "B", at("03-10", "09:00:00"), "high", at("03-10", "09:59:59"), None, None),
    ("t4", "B", at("03-10", "23:50:00"), "urgent", None, None, None),
    ("t5", "C", at("03-10", "12:00:00"), "low", at("03-10", "18:00:00"), at("03-11", "09:00:00"), None),
    ("t6", "B", at("03-11", "08:00:00"), "normal", at("03-11", "13:00:00"), at("03-11", "14:00:00"), 4),
]
D1, D2 = dt.date(2026, 3, 10), dt.date(2026, 3, 11)

# (day, priority): opened, first_responded, resolved, backlog, first response p50 / p90 s, resolution p50 / p90 s,
# CSAT mean, responses, response rate; percentiles interpolate, as the module docstring works out.
DAILY = {
    (D1, "high"): (3, 3, 1, 2, 1801.0, 3239.4, 7200.0, 7200.0, Decimal("5"), 1, Decimal("1")),
    (D1, "urgent"): (1, 0, 0, 1, None, None, None, None, None, 0, None),
    (D1, "normal"): (0, 0, 0, 0, None, None, None, None, None, 0, None),
    (D1, "low"): (1, 1, 0, 1, 21600.0, 21600.0, None, None, None, 0, None),
    (D1, "all"): (5, 4, 1, 4, 2700.0, 16199.7, 7200.0, 7200.0, Decimal("5"), 1, Decimal("1")),
    (D2, "high"): (0, 0, 1, 1, None, None, 86400.0, 86400.0, Decimal("3"), 1, Decimal("1")),
    (D2, "urgent"): (0, 0, 0, 1, None, None, None, None, None, 0, None),
    (D2, "normal"): (1, 1, 1, 0, 18000.0, 18000.0, 21600.0, 21600.0, Decimal("4"), 1, Decimal("1")),
    (D2, "low"): (0, 0, 1, 0, None, None, 75600.0, 75600.0, None, 0, Decimal("0")),
    (D2, "all"): (1, 1, 3, 2, 18000.0, 18000.0, 75600.0, 84240.0, Decimal("3.5"), 2, Decimal("0.6667")),
}
# (day, priority, plan): due, met, breached, attainment
SLA = [
    (D1, "high", "enterprise", 2, 1, 1, Decimal("0.5")),
    (D1, "high", "starter", 1, 1, 0, Decimal("1")),
    (D2, "low", "(none)", 1, 1, 0, Decimal("1")),
    (D2, "normal", "starter", 1, 0, 1, Decimal("0")),
    (D2, "urgent", "starter", 1, 0, 1, Decimal("0")),
]
# (day, customer): opened, open at the day's end, breaches in 30 days, last CSAT, MRR
ACCOUNTS = [
    (D1, "A", 2, 1, 1, 5, 100000),
    (D1, "B", 2, 2, 0, None, 10000),
    (D1, "C", 1, 1, 0, None, 0),
    (D2, "A", 0, 0, 1, 3, 100000),
    (D2, "B", 1, 2, 2, 4, 10000),
]


def load_tickets(dsn: str, tickets: list[tuple]) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE app.support_tickets")
        for ticket in tickets:
            conn.execute("INSERT INTO app.support_tickets (ticket_id, customer_id, created_at, priority, "
                         "first_response_at, resolved_at, csat) VALUES (%s, %s, %s, %s, %s, %s, %s)", ticket)


def reset_support(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE " + ", ".join(f"saas_ops.{t}" for t in (*metrics.OUTPUTS, *metrics.STATE_TABLES,
                                                                    "support_sla_alerts")))
    conn.execute("DELETE FROM saas_ops.watermarks WHERE dag_id = 'saas_support'")
    conn.execute("DELETE FROM saas_ops.data_quality_issues WHERE dag_id = 'saas_support'")
    conn.commit()


def run_support(day: dt.date, *, full: bool = False, run_id: str | None = None) -> dict:
    """What saas_support's build and check tasks do for a run closing `day`, the clock at noon the day after."""
    window = incremental.plan_for(day, full, output_schema="saas_ops", source_schema="app",
                                  watermark_output="support_daily", earliest_day_sql="support/earliest_day.sql")
    summary = metrics.build(window, run_id=run_id or f"test:{day}", output_schema="saas_ops", source_schema="app",
                            policies=parse_policies(POLICIES),
                            now=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(12), dt.UTC))
    window = incremental.Window.from_xcom(summary["window"])
    with db.warehouse() as wh:
        assert metrics.SUPPORT.problems(wh, "saas_ops", window) == []
        metrics.SUPPORT.advance(wh, "saas_ops", window.day, "test")
    return summary


def tables(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    conn.commit()
    found = {
        "daily": conn.execute("SELECT day, priority, opened, first_responded, resolved, backlog, first_response_p50_s, "
                              "first_response_p90_s, resolution_p50_s, resolution_p90_s, csat_mean, csat_responses, "
                              "csat_response_rate FROM saas_ops.support_daily ORDER BY 1, 2").fetchall(),
        "sla": conn.execute("SELECT day, priority, plan_id, due, met, breached, attainment "
                            "FROM saas_ops.support_sla_daily ORDER BY 1, 2, 3").fetchall(),
        "accounts": conn.execute("SELECT day, customer_id, opened, open_tickets, breaches_30d, last_csat, mrr_cents "
                                 "FROM saas_ops.support_account_daily ORDER BY 1, 2").fetchall()}
    conn.commit()  # a full refresh's TRUNCATE waits for no reader
    return found


def rounded(rows: list[tuple]) -> dict[tuple, tuple]:
    return {row[:2]: tuple(round(v, 1) if isinstance(v, float) else v for v in row[2:]) for row in rows}


@pytest.fixture
def scenario(airflow_env, databases, warehouse):
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], PERIODS)
    load_tickets(databases["app"], TICKETS)
    builds.reset_revenue(warehouse)
    builds.run_revenue("2026-03-13")
    reset_support(warehouse)
    return databases, warehouse


def test_the_tables_worked_by_hand_at_once_and_night_by_night(scenario):
    _, warehouse = scenario
    run_support(D2, full=True)
    at_once = tables(warehouse)
    assert rounded(at_once["daily"]) == DAILY
    assert at_once["sla"] == SLA
    assert at_once["accounts"] == ACCOUNTS

    reset_support(warehouse)
    run_support(D1)
    first_night = tables(warehouse)
    assert first_night["sla"] == SLA[:2]
    assert first_night["accounts"] == ACCOUNTS[:3]
    run_support(D2)
    assert tables(warehouse) == at_once
    run_support(D2)  # a rerun of the same interval
    assert tables(warehouse) == at_once


def test_a_ticket_corrected_late_restates_the_days_it_moves(scenario):
    """t2's first response is corrected a day later to 10:20 (inside its 30 minutes): 03-10's enterprise high
    attainment becomes 2 of 2 and A's breach disappears (on 03-11 A has nothing left to show); a ticket deleted
    takes its counts with it."""
    databases, warehouse = scenario
    run_support(D2, full=True)
    with psycopg.connect(databases["app"]) as conn:
        conn.execute("UPDATE app.support_tickets SET first_response_at = %s WHERE ticket_id = 't2'",
                     (at("03-10", "10:20:00"),))
        conn.execute("DELETE FROM app.support_tickets WHERE ticket_id = 't5'")
    summary = run_support(dt.date(2026, 3, 12))
    assert summary["restated_from"] == "2026-03-10"
    after = tables(warehouse)
    assert after["sla"][0] == (D1, "high", "enterprise", 2, 2, 0, Decimal("1"))
    assert (D2, "low", "(none)", 1, 1, 0, Decimal("1")) not in after["sla"]
    assert [r for r in after["accounts"] if r[1] == "A"] == [(D1, "A", 2, 1, 0, 5, 100000)]  # nothing left on 03-11
    assert rounded(after["daily"])[(D1, "all")][:4] == (4, 3, 1, 3)  # t5 gone: opened 4, answered 3, backlog 3

    run_support(dt.date(2026, 3, 12), full=True)
    assert tables(warehouse) == after


def test_tickets_that_break_the_contract_are_listed_and_left_out(scenario):
    databases, warehouse = scenario
    hostile = [("bad_priority", "A", at("03-10", "09:00:00"), "P1\r\n<b>", None, None, None),
               ("bad_csat", "B", at("03-10", "09:00:00"), "low", at("03-10", "09:10:00"),
                at("03-10", "09:20:00"), 7),
               ("answered_before_opened", "B", at("03-10", "09:00:00"), "low", at("03-10", "08:00:00"), None, None),
               ("in_the_future", "B", at("03-20", "09:00:00"), "low", None, None, None)]
    load_tickets(databases["app"], TICKETS + hostile)
    run_support(D2, full=True)
    assert rounded(tables(warehouse)["daily"]) == DAILY
    issues = warehouse.execute("SELECT row_key, reason FROM saas_ops.data_quality_issues "
                               "WHERE dag_id = 'saas_support' ORDER BY 1").fetchall()
    assert issues == [("answered_before_opened", "first_response_at is before created_at"),
                      ("bad_csat", "csat 7 is not a rating from 1 to 5"),
                      ("bad_priority", 'priority "P1\\r\\n<b>" is not low, normal, high or urgent'),
                      ("in_the_future", "a time after the run: 2026-03-20 09:00:00+00")]


def test_policies_parse_with_clear_errors():
    policies = parse_policies(POLICIES)
    assert policies.target_s("high", "enterprise") == 1800
    assert policies.target_s("high", "starter") == 3600
    assert policies.target_s("low", "(none)") == 86400
    with pytest.raises(ValueError, match="no target for low"):
        parse_policies("urgent=15m,high=1h,normal=4h")
    with pytest.raises(ValueError, match="'critical=5m' is not priority=duration"):
        parse_policies("urgent=15m,high=1h,normal=4h,low=1d,critical=5m")


def test_waiting_tickets_of_paying_accounts_are_named_once_highest_mrr_first(scenario, slack_receiver, monkeypatch):
    """At 03-12 12:00 t4 (B, urgent) is 35 h 55 min past its target; t7 (A, urgent, opened 11:55) breaches in
    10 min; t8 (C, urgent) waits too, but C pays nothing; t3 was answered. A (1,000.00) comes before B."""
    from saas_ops.support.sla import alert_waiting_tickets

    databases, _ = scenario
    monkeypatch.setenv("AIRFLOW_VAR_SLA_POLICIES", POLICIES)
    with psycopg.connect(databases["app"]) as conn:
        conn.execute("INSERT INTO app.support_tickets (ticket_id, customer_id, created_at, priority) VALUES "
                     "('t7', 'A', '2026-03-12 11:55Z', 'urgent'), ('t8', 'C', '2026-03-12 11:55Z', 'urgent'), "
                     "('t9', 'B', '2026-03-12 06:00Z', 'low')")
    slack_receiver.reset()
    now = at("03-12", "12:00:00")
    assert alert_waiting_tickets(now, dag_id="saas_support", run_id="r1") == ["t7", "t4"]
    [text] = slack_receiver.texts()
    lines = text.splitlines()
    assert "2 ticket(s) of paying accounts waiting for a first response (1 past the target, 1 about to be)" in lines[0]
    assert lines[2] == ("• Account A (1,000.00 USD MRR, plan enterprise): urgent ticket t7 opened 2026-03-12 11:55 "
                        "UTC, breaches in 10 min")
    assert lines[3] == ("• Account B (100.00 USD MRR, plan starter): urgent ticket t4 opened 2026-03-10 23:50 UTC, "
                        "breached 35 h 55 min ago")
    assert alert_waiting_tickets(now + dt.timedelta(minutes=15), dag_id="saas_support", run_id="r2") == []
    assert len(slack_receiver.texts()) == 1


def test_the_dag_end_to_end_alerts_low_attainment_once(scenario, slack_receiver, monkeypatch):
    """saas_support under dag.test() for 03-11 with SLA_ATTAINMENT_MIN_DUE 1: the tables as worked out above, and
    one Slack alert per day whose attainment fell below 90% (03-10: high 2 of 3; 03-11: urgent 0 of 1, normal 0
    of 1, low 1 of 1 in time); a rerun alerts nothing again."""
    from tests.harness.dag_runs import pack_dag

    _, warehouse = scenario
    monkeypatch.setenv("AIRFLOW_VAR_SLA_POLICIES", POLICIES)
    monkeypatch.setenv("AIRFLOW_VAR_SLA_ATTAINMENT_MIN_DUE", "1")
    slack_receiver.reset()
    night = dt.datetime(2026, 3, 12, 2, tzinfo=dt.UTC)
    assert pack_dag("saas_support").test(logical_date=night).state == "success"
    built = tables(warehouse)
    assert rounded(built["daily"]) == DAILY and built["sla"] == SLA and built["accounts"] == ACCOUNTS
    alerts = [t for t in slack_receiver.texts() if "SLA attainment" in t]
    assert len(alerts) == 2, slack_receiver.texts()
    assert "first-response SLA attainment on 2026-03-10 fell below 90%" in alerts[0]
    assert "• high: 2 of 3 first responses in time (67%)" in alerts[0]
    assert alerts[1].splitlines()[2:4] == ["• urgent: 0 of 1 first responses in time (0%)",
                                           "• normal: 0 of 1 first responses in time (0%)"]
    assert pack_dag("saas_support").test(logical_date=night).state == "success"
    assert len([t for t in slack_receiver.texts() if "SLA attainment" in t]) == 2


def test_a_full_refresh_without_tickets_writes_nothing_and_keeps_the_indexes(scenario):
    """A helpdesk not synced yet: no day to build, the watermark moves, and the indexes a full refresh drops while it
    loads support_account_daily are back."""
    databases, warehouse = scenario
    load_tickets(databases["app"], [])
    assert run_support(D2, full=True)["days"] == 0
    warehouse.commit()
    assert warehouse.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'saas_ops' AND "
                             "tablename = 'support_account_daily' ORDER BY 1").fetchall() == [
        ("support_account_daily_customer_idx",), ("support_account_daily_pkey",)]
    assert warehouse.execute("SELECT watermark_day FROM saas_ops.watermarks WHERE output = 'support_daily'"
                             ).fetchone() == (D2,)
    warehouse.commit()
