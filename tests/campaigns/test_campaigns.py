"""reengagement_campaigns: every campaign's audience on a hand-built history, suppression, the frequency cap,
priority and the per-run cap; sending through the Resend double exactly once (a killed run, 429s, a refused
address, a key Resend forgot); dry-run; the unsubscribe link; the DAG end to end.

The history (closing day D = 2026-11-22, so emails go out on S = 11-23), and what each account is for:
  a  paying; users a1..a9 with different last active days (the inactive campaigns, opt-out, suppression, cap)
  b  paying, signed up 11-01, uses 1 core feature: low_adoption
  c  paying, signed up 11-15 (8 days old on S): too young for low_adoption
  d  paying, invoice failed on 11-20 (day 3 on S); its only user was last active 10-23 (inactive_30 too)
  e  paying, invoice failed on 11-22 (day 0 on S); an invoice of `a` failed then was paid: nothing
  t1 trial from 11-16 ending 11-30 (week one on S); t2 ends 11-25 (the day before the last on S); t3 ends
     11-24 (its last day on S, and 14 days old: low_adoption too)
  w  paid until 10-23: win_back 30 days later
  h  entered the high churn-risk band on D (owner Dana Owner); `a` was high already the day before
  z  350 active users, who get nothing from the audiences (the crash and the 429 tests queue emails to them)
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import urllib.parse

import httpx
import psycopg
import pytest

from dev.demo_simulation import CORE_FEATURES
from saas_ops import db
from saas_ops.campaigns import audiences, recipients, render, send
from saas_ops.db import compose
from tests.harness.builds import build_metrics
from tests.harness.dag_runs import REPO, pack_dag

END = dt.date(2026, 11, 22)
SRC, OUT = "camp_app", "camp_out"
FEATURES = ["dashboard_view", "report_create", "integration_connect"]

# user: (customer, created, name, opt_out, first active day, last active day, event names)
USERS = {
    "a1": ("a", "2026-01-01", "Ada Lovelace", False, "2026-06-01", "2026-10-23", FEATURES),
    "a2": ("a", "2026-01-02", "Grace Hopper", False, "2026-06-01", "2026-09-23", FEATURES),
    "a3": ("a", "2026-01-03", None, False, "2026-06-01", "2026-11-22", FEATURES),
    "a4": ("a", "2026-01-04", "Opted Out", True, "2026-06-01", "2026-10-23", FEATURES),
    "a5": ("a", "2026-01-05", "Late Catch", False, "2026-06-01", "2026-10-22", FEATURES),
    "a6": ("a", "2026-01-06", "Between Windows", False, "2026-06-01", "2026-10-08", FEATURES),
    "a7": ("a", "2026-01-07", "Bounced Before", False, "2026-06-01", "2026-10-23", FEATURES),
    "a8": ("a", "2026-01-08", "Emailed Yesterday", False, "2026-06-01", "2026-10-23", FEATURES),
    "a9": ("a", "2026-01-09", "Emailed Three Days Ago", False, "2026-06-01", "2026-10-23", FEATURES),
    "b1": ("b", "2026-11-01", "Bea Basic", False, "2026-11-01", "2026-11-22", ["dashboard_view"]),
    "c1": ("c", "2026-11-15", "Cy Young", False, "2026-11-15", "2026-11-22", ["dashboard_view"]),
    "d1": ("d", "2026-01-01", "Dee Dunning", False, "2026-06-01", "2026-10-23", FEATURES),
    "e1": ("e", "2026-01-01", "Eve Echo", False, "2026-06-01", "2026-11-22", FEATURES),
    "t1u": ("t1", "2026-11-16", "Tom Trial", False, "2026-11-16", "2026-11-22", ["dashboard_view"]),
    "t2u": ("t2", "2026-11-10", "Tess Trial", False, "2026-11-10", "2026-11-22", ["dashboard_view"]),
    "t3u": ("t3", "2026-11-09", "Ted Trial", False, "2026-11-09", "2026-11-22", ["dashboard_view"]),
    "w1": ("w", "2026-01-01", "Walt Gone", False, "2026-06-01", "2026-10-22", FEATURES),
    "h1": ("h", "2026-01-01", "Hal Risky", False, "2026-06-01", "2026-11-22", FEATURES),
}
BULK = [f"z{i:03d}" for i in range(350)]
# customer: (created, owner, period status, valid_from, valid_to, trial_ends_at)
CUSTOMERS = {
    "a": ("2026-01-01", "Ann Owner", "active", "2026-01-01", None, None),
    "b": ("2026-11-01", None, "active", "2026-11-01", None, None),
    "c": ("2026-11-15", None, "active", "2026-11-15", None, None),
    "d": ("2026-01-01", None, "active", "2026-01-01", None, None),
    "e": ("2026-01-01", None, "active", "2026-01-01", None, None),
    "t1": ("2026-11-16", None, "trialing", "2026-11-16", None, "2026-11-30"),
    "t2": ("2026-11-10", None, "trialing", "2026-11-10", None, "2026-11-25"),
    "t3": ("2026-11-09", None, "trialing", "2026-11-09", None, "2026-11-24"),
    "w": ("2026-01-01", None, "active", "2026-01-01", "2026-10-23", None),
    "h": ("2026-01-01", "Dana Owner", "active", "2026-01-01", None, None),
    "z": ("2026-01-01", None, "active", "2026-01-01", None, None),
}
EMAIL = {"a7": "A7@Example.com"}  # on the suppression list as a7@example.com: matched without case

EXPECTED_QUEUED = {
    ("inactive_30", "a1", "2026-10-23"), ("inactive_30", "a5", "2026-10-22"), ("inactive_30", "a9", "2026-10-23"),
    ("inactive_60", "a2", "2026-09-23"),
    ("low_adoption", "b1", "2026-11"),
    ("failed_payment", "d1", "inv_d:day3"), ("failed_payment", "e1", "inv_e:day0"),
    ("trial_ending", "t1u", "s_t1:week_one"), ("trial_ending", "t2u", "s_t2:two_days_left"),
    ("trial_ending", "t3u", "s_t3:last_day"),
    ("win_back", "w1", "2026-10-23"),
    ("high_risk", "h1", "2026-11-22"),
}


def _ts(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), dt.UTC)


def load_history(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(compose("DROP SCHEMA IF EXISTS {s} CASCADE", s=SRC))
        conn.execute(compose(db.read_sql("contract/app_schema.sql"), schema=SRC))
        for cid, (created, owner, status, start, end, trial_end) in CUSTOMERS.items():
            conn.execute(compose("INSERT INTO {s}.customers (customer_id, name, created_at, account_owner_name) "
                                 "VALUES (%s, %s, %s, %s)", s=SRC),
                         (cid, f"Account {cid.upper()}", _ts(created), owner))
            conn.execute(compose(
                "INSERT INTO {s}.subscription_periods (subscription_id, customer_id, plan_id, status, currency, "
                "amount_cents, quantity, billing_interval, interval_count, valid_from, valid_to, trial_ends_at) "
                "VALUES (%s, %s, 'team', %s, 'USD', 4900, 1, 'month', 1, %s, %s, %s)", s=SRC),
                (f"s_{cid}", cid, status, _ts(start), end and _ts(end), trial_end and _ts(trial_end)))
        users = {**USERS, **{u: ("z", "2026-01-01", None, False, "2026-10-01", "2026-11-22", FEATURES) for u in BULK}}
        for uid, (cid, created, name, opt_out, first, last, names) in users.items():
            conn.execute(compose("INSERT INTO {s}.users (user_id, customer_id, email, name, created_at, email_opt_out) "
                                 "VALUES (%s, %s, %s, %s, %s, %s)", s=SRC),
                         (uid, cid, EMAIL.get(uid, f"{uid}@example.com"), name, _ts(created), opt_out))
            conn.execute(compose(
                "INSERT INTO {s}.events (event_id, user_id, customer_id, event_name, occurred_at) "
                "SELECT %(u)s || '-' || n || '-' || d::date, %(u)s, %(c)s, n, d + interval '10 hours' "
                "FROM generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 day') d, "
                "unnest(%(names)s::text[]) n", s=SRC),
                {"u": uid, "c": cid, "first": _ts(first), "last": _ts(last), "names": names})
        for inv, cid, issued, attempts in (
                ("inv_d", "d", "2026-11-18", [("2026-11-20", "failed", "card_declined")]),
                ("inv_e", "e", "2026-11-22", [("2026-11-22", "failed", "insufficient_funds")]),
                ("inv_a", "a", "2026-11-18", [("2026-11-19", "failed", "card_declined"),
                                              ("2026-11-21", "succeeded", None)])):
            conn.execute(compose("INSERT INTO {s}.invoices (invoice_id, customer_id, issued_at, due_at, currency, "
                                 "amount_due_cents, amount_paid_cents, status) "
                                 "VALUES (%s, %s, %s, %s, 'USD', 4900, 0, 'open')", s=SRC),
                         (inv, cid, _ts(issued), _ts(issued)))
            for n, (day, status, code) in enumerate(attempts):
                conn.execute(compose("INSERT INTO {s}.payment_attempts (attempt_id, invoice_id, customer_id, "
                                     "attempted_at, status, failure_code, amount_cents) VALUES (%s, %s, %s, %s, %s, "
                                     "%s, 4900)", s=SRC), (f"{inv}_{n}", inv, cid, _ts(day, 9), status, code))


def reset_outbox(warehouse_dsn: str) -> None:
    """The outbox as the scenario starts: a8 emailed yesterday, a9 three days ago; a7 bounced before."""
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(compose("TRUNCATE {o}.email_sends, {o}.email_suppressions", o=OUT))
        conn.execute(compose("DELETE FROM {o}.alert_claims WHERE dag_id = %s", o=OUT), (audiences.DAG_ID,))
        for uid, day in (("a8", "2026-11-21"), ("a9", "2026-11-19")):
            conn.execute(compose("INSERT INTO {o}.email_sends (idempotency_key, campaign, user_id, customer_id, "
                                 "period_key, status, day, sent_at) VALUES (%s, 'low_adoption', %s, 'a', 'earlier', "
                                 "'sent', %s, %s)", o=OUT), (f"earlier:{uid}", uid, day, _ts(day, 6)))
        conn.execute(compose("INSERT INTO {o}.email_suppressions (email, reason) VALUES ('a7@example.com', "
                             "'bounced')", o=OUT))


@pytest.fixture(scope="module")
def history(airflow_env, databases):
    load_history(databases["app"])
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        conn.execute(compose("DROP SCHEMA IF EXISTS {o} CASCADE", o=OUT))
        db.migrate(conn, OUT)
    build_metrics(END, CORE_FEATURES, output_schema=OUT, source_schema=SRC)
    with psycopg.connect(databases["warehouse"]) as conn:  # churn_score's output for two days (no model here)
        for day, customer, band in ((END - dt.timedelta(days=1), "h", "low"), (END, "h", "high"),
                                    (END - dt.timedelta(days=1), "a", "high"), (END, "a", "high")):
            conn.execute(compose("INSERT INTO {o}.churn_scores (day, customer_id, model_version, churn_probability, "
                                 "risk_band, top_drivers, health_score, mrr_cents) VALUES (%s, %s, 'test', %s, %s, "
                                 "'[]', 10, 4900)", o=OUT), (day, customer, 0.81 if band == "high" else 0.1, band))
    return databases


@pytest.fixture
def outbox(history, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_SOURCE_SCHEMA", SRC)
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", OUT)
    reset_outbox(history["warehouse"])
    return history


# No holdout here: these tests follow each candidate to its email (tests/campaigns/test_experiments.py holds out).
SETTINGS = {"core_features": FEATURES, "min_features": 3, "suspend_days": 14, "cap_days": 3, "run_cap": 500,
            "holdout_share": 0.0, "salt": "1", "variants": {}}


def plan(run_cap: int = 500, day: dt.date = END, run_id: str = "test") -> dict:
    return audiences.plan(day, run_id=run_id, schema=OUT, source_schema=SRC, campaigns=list(audiences.CAMPAIGNS),
                          settings={**SETTINGS, "run_cap": run_cap})


def rows(dsn: str, where: str = "true") -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(compose("SELECT campaign, user_id, period_key, status, error, provider_message_id, "
                                    "attempts FROM {o}.email_sends WHERE day = %s AND " + where
                                    + " ORDER BY idempotency_key", o=OUT), (END,)).fetchall()


def queued(dsn: str) -> set[tuple]:
    return {(c, u, p) for c, u, p, status, *_ in rows(dsn) if status == "queued"}


# --------------------------------------------------------------------------------------- audiences


def test_every_audience_suppression_cap_and_priority(outbox):
    result = plan()
    assert queued(outbox["warehouse"]) == EXPECTED_QUEUED
    suppressed = {(c, u, error) for c, u, _, status, error, *_ in rows(outbox["warehouse"]) if status == "suppressed"}
    assert suppressed == {("inactive_30", "a4", "opted out (users.email_opt_out)"),
                          ("inactive_30", "a7", "on the suppression list (bounced)")}
    # Found but not recorded: a8 (emailed yesterday), d1's inactive_30 and d's low_adoption (failed_payment
    # first), t3's low_adoption (trial_ending first).
    assert result["candidates"] == {"failed_payment": 2, "trial_ending": 3, "high_risk": 1, "win_back": 1,
                                    "inactive_90": 0, "inactive_60": 1, "inactive_30": 7, "low_adoption": 3}
    with psycopg.connect(outbox["warehouse"]) as conn:
        variables = dict(conn.execute(compose("SELECT user_id, variables FROM {o}.email_sends WHERE day = %s",
                                              o=OUT), (END,)).fetchall())
    assert variables["a1"] | {} == {"days_inactive": 30, "last_active_day": "2026-10-23", "events_last_month": 90,
                                    "teammates_active_7d": 1, "first_name": "Ada", "account_name": "Account A",
                                    "owner_name": "Ann Owner"}
    assert variables["d1"] == {"step": 3, "invoice_id": "inv_d", "amount_cents": 4900, "currency": "USD",
                               "failed_on": "2026-11-20", "failures": 1, "failure_code": "card_declined",
                               "suspend_on": "2026-12-04", "first_name": "Dee", "account_name": "Account D",
                               "owner_name": None}
    assert variables["b1"]["unused_features"] == ["report_create", "integration_connect"]
    assert (variables["b1"]["features_used"], variables["b1"]["account_age_days"]) == (1, 22)
    assert {k: variables["t2u"][k] for k in ("step", "trial_last_day", "days_left")} == {
        "step": "two_days_left", "trial_last_day": "2026-11-24", "days_left": 2}
    assert variables["w1"]["churned_on"] == "2026-10-23" and variables["w1"]["previous_mrr_cents"] == 4900
    assert variables["h1"]["owner_name"] == "Dana Owner" and variables["h1"]["mrr_cents"] == 4900


def test_a_rerun_adds_nothing_and_the_run_cap_follows_priority(outbox):
    plan(run_cap=3)
    first = rows(outbox["warehouse"])
    assert queued(outbox["warehouse"]) == {("failed_payment", "d1", "inv_d:day3"),
                                           ("failed_payment", "e1", "inv_e:day0"),
                                           ("trial_ending", "t1u", "s_t1:week_one")}
    plan(run_cap=3, run_id="rerun")
    assert rows(outbox["warehouse"]) == first
    plan(run_cap=500, run_id="cap raised")  # the rest of the day's audience, and nothing twice
    assert queued(outbox["warehouse"]) == EXPECTED_QUEUED


def test_views_that_leave_out_optional_columns(outbox):
    """A user's views without account_owner_name, users.name, trial_ends_at and failure_code (SPEC: such columns
    may be absent): the same audiences, except that a trial with no known end gets no trial_ending email, so
    t3's low_adoption is queued instead; names are null."""
    optional = {"customers": "account_owner_name", "users": "name", "subscription_periods": "trial_ends_at",
                "payment_attempts": "failure_code"}
    with psycopg.connect(outbox["app"]) as conn:
        conn.execute("DROP SCHEMA IF EXISTS camp_views CASCADE; CREATE SCHEMA camp_views")
        for table in ("customers", "users", "subscription_periods", "invoices", "payment_attempts", "events",
                      "support_tickets", "fx_rates"):
            columns = [c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "ORDER BY ordinal_position", (SRC, table)).fetchall() if c != optional.get(table)]
            conn.execute(compose(f"CREATE VIEW camp_views.{table} AS SELECT {', '.join(columns)} FROM {{s}}.{table}",
                                 s=SRC))
    audiences.plan(END, run_id="views", schema=OUT, source_schema="camp_views", campaigns=list(audiences.CAMPAIGNS),
                   settings=SETTINGS)
    expected = {row for row in EXPECTED_QUEUED if row[0] != "trial_ending"} | {("low_adoption", "t3u", "2026-11")}
    assert queued(outbox["warehouse"]) == expected
    with psycopg.connect(outbox["warehouse"]) as conn:
        names = conn.execute(compose("SELECT DISTINCT variables->>'first_name', variables->>'owner_name' FROM "
                                     "{o}.email_sends WHERE day = %s AND status = 'queued'", o=OUT), (END,)).fetchall()
        dunning = conn.execute(compose("SELECT variables->>'failure_code' FROM {o}.email_sends WHERE user_id = 'd1' "
                                       "AND day = %s", o=OUT), (END,)).fetchone()
    assert names == [(None, None)] and dunning == (None,)


def test_duplicate_keys_and_absurd_amounts_are_left_out_and_reported(outbox):
    """Through views over the same history: invoice inv_e twice (49.00 and 99.00 due: which is owed?), user d1 twice
    (two addresses), and an invoice inv_x of c with 10^19 cents due and a failed attempt. None of them gets an email;
    each is listed in data_quality_issues with its key and reason; everyone else's emails are as without them."""
    with psycopg.connect(outbox["app"]) as conn:
        conn.execute("DROP SCHEMA IF EXISTS camp_dups CASCADE; CREATE SCHEMA camp_dups")
        extra = {
            "invoices": "SELECT 'inv_e', 'e', NULL, issued_at, due_at, 'USD', 9900, 0, 'open' FROM {s}.invoices "
                        "WHERE invoice_id = 'inv_e' UNION ALL SELECT 'inv_x', 'c', NULL, '2026-11-20Z', '2026-11-20Z', "
                        "'USD', 1e19, 0, 'open'",
            "users": "SELECT user_id, customer_id, 'dee@elsewhere.example', name, created_at, email_opt_out "
                     "FROM {s}.users WHERE user_id = 'd1'",
            "payment_attempts": "SELECT 'inv_x_0', 'inv_x', 'c', '2026-11-21 09:00Z', 'failed', 'card_declined', 4900",
        }
        for table in ("customers", "users", "subscription_periods", "invoices", "payment_attempts", "events",
                      "support_tickets", "fx_rates"):
            union = f" UNION ALL {extra[table]}" if table in extra else ""
            conn.execute(compose(f"CREATE VIEW camp_dups.{table} AS SELECT * FROM {{s}}.{table}{union}", s=SRC))
    result = audiences.plan(END, run_id="dups", schema=OUT, source_schema="camp_dups",
                            campaigns=list(audiences.CAMPAIGNS), settings=SETTINGS)
    assert queued(outbox["warehouse"]) == EXPECTED_QUEUED - {("failed_payment", "d1", "inv_d:day3"),
                                                             ("failed_payment", "e1", "inv_e:day0")}
    with psycopg.connect(outbox["warehouse"]) as conn:
        issues = conn.execute(compose("SELECT table_name, row_key, reason FROM {o}.data_quality_issues "
                                      "WHERE run_id = 'dups' ORDER BY 1, 2", o=OUT)).fetchall()
    assert issues == [
        ("invoices", "inv_e", "2 rows hold this invoice_id: all are left out"),
        ("invoices", "inv_x", "amount_due_cents 10000000000000000000 or amount_paid_cents 0 is beyond what the pack "
                              "adds up (at most 10^13 cents)"),
        ("users", "d1", "2 rows hold this user_id: all are left out"),
    ]
    assert result["left_out"] == {"invoices": 2, "users": 1}


# --------------------------------------------------------------------------------------- hostile values

HOSTILE = {  # (table, key column, key, column, value)
    "h owner": ("customers", "customer_id", "h", "account_owner_name", "Dana Owner\r\nBcc: all@evil.example"),
    "a1 name": ("users", "user_id", "a1", "name", "Ada \u202eecalevoL"),
    "a5 address": ("users", "user_id", "a5", "email", "a5@example.com\r\nBcc: x@evil.example"),
    "a9 address": ("users", "user_id", "a9", "email", "ÜMIT@Example.com"),
    "a2 address": ("users", "user_id", "a2", "email", "öz@example.com"),
}


def _set_source(dsn: str, values: dict[str, tuple]) -> dict[str, tuple]:
    """Sets each value; returns the values as they were (to put back)."""
    before = {}
    with psycopg.connect(dsn) as conn:
        for name, (table, key_column, key, column, value) in values.items():
            old = conn.execute(compose(f"SELECT {column} FROM {{s}}.{table} WHERE {key_column} = %s", s=SRC),
                               (key,)).fetchone()[0]
            before[name] = (table, key_column, key, column, old)
            conn.execute(compose(f"UPDATE {{s}}.{table} SET {column} = %s WHERE {key_column} = %s", s=SRC),
                         (value, key))
    return before


def test_hostile_names_and_addresses_are_suppressed_alone_until_fixed(outbox, receivers):
    """A CR/LF in an account owner's name, a bidi override in a user's name, a CR/LF in an address: that
    recipient's email is suppressed with the reason, the others go in the same batch. Non-ASCII addresses are
    compared in one normal form: ÜMIT@Example.com unsubscribed stays suppressed, and a row a person added as
    ' ÖZ@EXAMPLE.COM' matches öz@example.com. Once the source is fixed, the next run queues them after all."""
    before = _set_source(outbox["app"], HOSTILE)
    try:
        assert recipients.unsubscribe("a9", schema=OUT, source_schema=SRC)
        with psycopg.connect(outbox["warehouse"]) as conn:
            conn.execute(compose("INSERT INTO {o}.email_suppressions (email, reason) VALUES (' ÖZ@EXAMPLE.COM', "
                                 "'manual')", o=OUT))
            stored = conn.execute(compose("SELECT email, reason FROM {o}.email_suppressions ORDER BY reason",
                                          o=OUT)).fetchall()
        assert stored == [("a7@example.com", "bounced"), (" ÖZ@EXAMPLE.COM", "manual"),
                          ("ümit@example.com", "unsubscribed")]
        plan()
        suppressed = {(c, u, error) for c, u, _, status, error, *_ in rows(outbox["warehouse"])
                      if status == "suppressed"}
        assert suppressed == {
            ("inactive_30", "a4", "opted out (users.email_opt_out)"),
            ("inactive_30", "a7", "on the suppression list (bounced)"),
            ("high_risk", "h1", "customers.account_owner_name holds a line break (CR/LF)"),
            ("inactive_30", "a1", "users.name holds a bidirectional control (U+202E)"),
            ("inactive_30", "a5", "no usable email address (it holds a line break (CR/LF))"),
            ("inactive_30", "a9", "on the suppression list (unsubscribed)"),
            ("inactive_60", "a2", "on the suppression list (manual)")}
        assert queued(outbox["warehouse"]) == EXPECTED_QUEUED - {
            ("high_risk", "h1", "2026-11-22"), ("inactive_30", "a1", "2026-10-23"), ("inactive_30", "a5", "2026-10-22"),
            ("inactive_30", "a9", "2026-10-23"), ("inactive_60", "a2", "2026-09-23")}
        result = send.send_pending(END, live_outbox())
        assert (result["sent"], result["failed"], result["problems"]) == (7, 0, [])
        assert all("\r" not in e["from"] and "\n" not in e["from"] for e in receivers["resend"].emails)
    finally:
        _set_source(outbox["app"], before)
    with psycopg.connect(outbox["warehouse"]) as conn:
        conn.execute(compose("DELETE FROM {o}.email_suppressions WHERE reason <> 'bounced'", o=OUT))
    plan(run_id="fixed")
    assert {(c, u) for c, u, _, status, *_ in rows(outbox["warehouse"]) if status == "queued"} == {
        ("high_risk", "h1"), ("inactive_30", "a1"), ("inactive_30", "a5"), ("inactive_30", "a9"), ("inactive_60", "a2")}


def test_a_bad_value_frozen_in_a_queued_email_fails_no_batch(outbox, tmp_path, monkeypatch):
    """Rows queued before the check existed keep their variables: a CR/LF frozen in owner_name (a header in the
    dry-run .eml, the `from` of Resend) suppresses that email at send time; the rest of the batch is written."""
    monkeypatch.setenv("AIRFLOW_VAR_LOCAL_DIR", str(tmp_path))
    plan()
    with psycopg.connect(outbox["warehouse"]) as conn:
        conn.execute(compose("UPDATE {o}.email_sends SET variables = variables || jsonb_build_object('owner_name', "
                             "'Dana\r\nBcc: all@evil.example') WHERE user_id = 'h1'", o=OUT))
    result = send.send_pending(END, live_outbox(dry_run=True, dry_run_folder=tmp_path / "outbox" / "emails"))
    assert (result["dry_run"], result["suppressed"], result["failed"], result["problems"]) == (11, 1, 0, [])
    assert rows(outbox["warehouse"], "user_id = 'h1'")[0][3:5] == (
        "suppressed", "the queued owner_name holds a line break (CR/LF)")
    folder = tmp_path / "outbox" / "emails"
    written = sorted(p for p in folder.rglob("*") if p.is_file())
    assert len(written) == 22 and not any("high_risk" in str(p) for p in written)
    assert {oct(p.stat().st_mode & 0o777) for p in written} == {"0o600"}
    assert {oct(p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_dir()} | {
        oct(folder.stat().st_mode & 0o777)} == {"0o700"}


def test_slack_lines_escape_a_hostile_account_name(outbox, receivers):
    """An account named with Slack markup (a mention of everyone, a disguised link) in the check-in line, the
    churn digest and the revenue alert: posted as text, never as markup."""
    from saas_ops import alerts
    from saas_ops.campaigns.tasks import campaign_alerts
    from saas_ops.churn.scoring import churn_risk_alerts
    from saas_ops.revenue import mrr

    hostile = "<!channel> <https://evil.example|Click me> & co"
    before = _set_source(outbox["app"], {"h name": ("customers", "customer_id", "h", "name", hostile)})
    try:
        plan()
        campaign_alerts.function(send.send_pending(END, live_outbox()))
        churn_risk_alerts.function({"day": END.isoformat()})
        alerts.dispatch(mrr.revenue_alert(END, 95_100, 100_000, 4_900, 1_000.0, True, True, [("h", "churn", 4_900, 0)],
                                          {"h": hostile}, currency="USD", drop=0.01, spike=3.0))
    finally:
        _set_source(outbox["app"], before)
    texts = receivers["slack"].texts()
    escaped = "&lt;!channel&gt; &lt;https://evil.example|Click me&gt; &amp; co"
    assert [t.split("\n")[0] for t in texts] == [
        ":chart_with_downwards_trend: [P3] reengagement_campaigns: 1 high-risk account(s) got a check-in from their "
        "account owner on 2026-11-22",
        ":chart_with_downwards_trend: [P3] churn_score: 1 account(s) entered the high churn-risk band on 2026-11-22, "
        "49.00 USD MRR at risk",
        ":chart_with_downwards_trend: [P2] saas_mrr: MRR fell 4.9% and churn 4.9× its 28-day mean on 2026-11-22"]
    assert f"• Dana Owner: {escaped} (h), 49.00 USD MRR, 81% churn risk: check-in sent in your name" in texts[0]
    assert f"• {escaped} (h): 49.00 USD MRR, 81% churn risk, health 10: " in texts[1]
    assert f"  – {escaped} (h): churn, -49.00 USD" in texts[2]
    assert not any("<" in t or ">" in t for t in texts)


# --------------------------------------------------------------------------------------- rendering


def test_every_template_renders_and_a_missing_variable_fails(outbox):
    plan()
    with psycopg.connect(outbox["warehouse"]) as conn:
        found = conn.execute(compose("SELECT campaign, variables FROM {o}.email_sends WHERE day = %s AND status = "
                                     "'queued' ORDER BY idempotency_key", o=OUT), (END,)).fetchall()
    common = {"product": "Acme", "app_url": "https://app.example.com", "sender_name": "Customer Success",
              "unsubscribe_url": "https://example.com/u?t=x"}
    subjects = {campaign: render.render(campaign, {**variables, **common}).subject
                for campaign, variables in found}
    assert subjects == {
        "failed_payment": "Your Acme payment did not go through",  # e1's day 0 (sorts after d1's day 3)
        "high_risk": "Checking in on Account H",
        "inactive_30": "Your Acme workspace misses you",
        "inactive_60": "We have missed you at Acme",
        "low_adoption": "Account B is using 1 of 3 Acme features",
        "trial_ending": "Last day of your Acme trial",
        "win_back": "Account W, Acme has changed since you left",
    }
    dunning = next(v for c, v in found if c == "failed_payment" and v["invoice_id"] == "inv_d")
    assert render.render("failed_payment", {**dunning, **common}).subject == "Reminder: your Acme invoice is unpaid"
    email = render.render("failed_payment", {**dunning, **common})
    assert ("We could not collect 49.00 USD for invoice inv_d on Friday 20 November 2026 (the bank said: card "
            "declined).") in email.text
    assert "Please update your payment method before Friday 4 December 2026" in email.text
    assert "Unsubscribe from these emails: https://example.com/u?t=x" in email.text
    assert '<a href="https://example.com/u?t=x"' in email.html
    import jinja2

    with pytest.raises(jinja2.UndefinedError, match="suspend_on"):
        render.render("failed_payment", {k: v for k, v in {**dunning, **common}.items() if k != "suspend_on"})


# --------------------------------------------------------------------------------------- sending


def live_outbox(**changes) -> send.Outbox:
    return send.Outbox(**{**send.outbox_from_settings().__dict__, **changes})


def test_sends_once_with_one_click_unsubscribe_headers(outbox, receivers):
    resend = receivers["resend"]
    plan()
    box = live_outbox()
    assert not box.dry_run and box.sender == "Customer Success <success@example.com>"
    result = send.send_pending(END, box)
    assert (result["sent"], result["failed"], result["batches"], result["problems"]) == (12, 0, 1, [])
    assert len(resend.emails) == 12 and resend.duplicates() == 0
    sent = {u: (status, provider) for _, u, _, status, _, provider, _ in rows(outbox["warehouse"], "status = 'sent'")}
    assert {e["id"] for e in resend.emails} == {provider for _, provider in sent.values()}
    by_address = {e["to"][0]: e for e in resend.emails}
    a1 = by_address["a1@example.com"]
    assert a1["subject"] == "Your Acme workspace misses you" and a1["from"] == "Customer Success <success@example.com>"
    assert "It has been 30 days since you last used Acme: your last visit was on Friday 23 October 2026." in a1["text"]
    link = a1["headers"]["List-Unsubscribe"].strip("<>")
    assert a1["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith("http://127.0.0.1:8080/saas-ops/unsubscribe?t=") and link in a1["text"]
    token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["t"][0]
    assert recipients.user_of_token(token, box.key) == "a1"
    assert recipients.user_of_token(token.replace(token[-2:], "AA"), box.key) is None
    assert by_address["h1@example.com"]["from"] == "Dana Owner <success@example.com>"
    # The request carried one Idempotency-Key, the batch key recorded on every row before it was sent.
    batch_requests = [r for r in resend.requests if r.path == "/emails/batch"]
    assert len(batch_requests) == 1 and batch_requests[0].headers["x-batch-validation"] == "permissive"
    with psycopg.connect(outbox["warehouse"]) as conn:
        keys = conn.execute(compose("SELECT DISTINCT batch_key FROM {o}.email_sends WHERE status = 'sent' AND day = %s",
                                    o=OUT), (END,)).fetchall()
    assert keys == [(batch_requests[0].headers["idempotency-key"],)]
    again = send.send_pending(END, box)
    assert (again["sent"], again["batches"], len(resend.emails)) == (0, 0, 12)


def queue_bulk(dsn: str, users: list[str], campaign: str = "inactive_30") -> None:
    """Emails to the bulk users, queued as the planner would (every variable the template needs)."""
    variables = {"days_inactive": 30, "last_active_day": "2026-10-23", "events_last_month": 12,
                 "teammates_active_7d": 3, "first_name": None, "account_name": "Account Z", "owner_name": None}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(compose("INSERT INTO {o}.email_sends (idempotency_key, campaign, user_id, customer_id, "
                                "period_key, status, day, variables) VALUES (%s, %s, %s, 'z', '2026-10-23', "
                                "'queued', %s, %s)", o=OUT),
                        [(f"{campaign}:{u}:2026-10-23", campaign, u, END, psycopg.types.json.Jsonb(variables))
                         for u in users])


def test_a_killed_run_rerun_sends_nothing_twice_and_loses_nothing(outbox, receivers):
    """The send step is killed (SIGKILL) while Resend holds its second batch and has not answered; the DAG is
    run again: every email is sent exactly once, the batch in flight resent under its key."""
    resend = receivers["resend"]
    queue_bulk(outbox["warehouse"], BULK)
    resend.hold_after(1)  # the first batch is answered; the second is delivered and held
    env = {**os.environ, "AIRFLOW_VAR_RESEND_REQUESTS_PER_SECOND": "20",
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    code = ("import datetime as dt; from saas_ops.campaigns import send; "
            f"send.send_pending(dt.date({END.year}, {END.month}, {END.day}), send.outbox_from_settings())")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO, start_new_session=True)
    try:
        assert resend.holding.wait(60), "the send never reached its second batch"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        resend.release()
    assert len(resend.emails) == 200  # two batches delivered; the first marked sent, the second in flight
    with psycopg.connect(outbox["warehouse"]) as conn:
        state = dict(conn.execute(compose(
            "SELECT CASE WHEN status = 'queued' AND batch_key IS NOT NULL THEN 'in flight' ELSE status END, count(*) "
            "FROM {o}.email_sends WHERE user_id LIKE 'z%%' GROUP BY 1", o=OUT)).fetchall())
    assert state == {"sent": 100, "in flight": 100, "queued": 150}

    run = pack_dag("reengagement_campaigns").test(
        logical_date=dt.datetime.combine(END + dt.timedelta(days=1), dt.time(6), dt.UTC))
    assert run.state == "success"
    assert resend.duplicates() == 0
    assert receivers["slack"].texts() == [
        ":chart_with_downwards_trend: [P3] reengagement_campaigns: 1 high-risk account(s) got a check-in from their "
        "account owner on 2026-11-22\nDAG reengagement_campaigns · run reengagement_campaigns:2026-11-22:high_risk\n"
        "• Dana Owner: Account H (h), 49.00 USD MRR, 81% churn risk: check-in sent in your name"]
    bulk_sent = rows(outbox["warehouse"], "user_id LIKE 'z%%' AND status = 'sent'")
    assert len(bulk_sent) == 350
    assert len(resend.emails) == 350 + 12  # the bulk once each, and the day's audience planned by the DAG
    # The outbox, not Resend, is what prevents a second email: with every key forgotten, nothing goes again.
    resend.forget_keys()
    assert send.send_pending(END, live_outbox())["sent"] == 0 and len(resend.emails) == 362


def test_429_is_waited_out_and_a_refused_address_fails_alone(outbox, receivers, monkeypatch):
    resend = receivers["resend"]
    resend.too_many_requests = 2  # the first two requests are answered 429, retry-after 1 s
    queue_bulk(outbox["warehouse"], BULK[:250])
    with psycopg.connect(outbox["app"]) as conn:
        conn.execute(compose("UPDATE {s}.users SET email = 'z007@localhost' WHERE user_id = 'z007'", s=SRC))
    box = live_outbox(requests_per_second=5)
    try:
        result = send.send_pending(END, box)
        after_first = rows(outbox["warehouse"], "status = 'failed'")
        later = [send.send_pending(END, box) for _ in range(3)]  # the next runs retry it, up to 3 tries
    finally:
        with psycopg.connect(outbox["app"]) as conn:
            conn.execute(compose("UPDATE {s}.users SET email = 'z007@example.com' WHERE user_id = 'z007'", s=SRC))
    assert resend.rate_limited == 2
    assert (result["sent"], result["failed"], result["batches"]) == (249, 1, 3)
    assert resend.duplicates() == 0
    assert [(u, error, attempts) for _, u, _, _, error, _, attempts in after_first] == [
        ("z007", "refused by Resend: Invalid `to` field: 'z007@localhost' is not a valid email address", 1)]
    assert [(r["sent"], r["failed"], r["batches"]) for r in later] == [(0, 1, 1), (0, 1, 1), (0, 0, 0)]
    assert [attempts for *_, attempts in rows(outbox["warehouse"], "status = 'failed'")] == [3]
    assert len(resend.emails) == 249


def test_a_batch_older_than_resends_memory_is_not_resent(outbox, receivers):
    queue_bulk(outbox["warehouse"], BULK[:5])
    with psycopg.connect(outbox["warehouse"]) as conn:
        conn.execute(compose("UPDATE {o}.email_sends SET batch_key = 'saas-ops-old', attempts = 1, "
                             "first_attempt_at = now() - interval '25 hours' WHERE user_id LIKE 'z%%'", o=OUT))
    result = send.send_pending(END, live_outbox())
    assert (result["unknown"], result["sent"], len(receivers["resend"].requests)) == (5, 0, 0)
    errors = {error for *_, error, _, _ in rows(outbox["warehouse"], "status = 'failed'")}
    assert len(errors) == 1 and errors.pop().startswith("outcome unknown, not resent to avoid a second email: first "
                                                        "sent at ")


def test_dry_run_renders_to_the_outbox_folder(outbox, receivers, monkeypatch, tmp_path):
    monkeypatch.delenv("AIRFLOW_CONN_RESEND_DEFAULT")
    monkeypatch.setenv("AIRFLOW_VAR_LOCAL_DIR", str(tmp_path))
    plan()
    box = send.outbox_from_settings()
    assert box.dry_run and box.dry_run_folder == tmp_path / "outbox" / "emails"
    result = send.send_pending(END, box)
    assert (result["mode"], result["dry_run"], result["sent"]) == ("dry_run", 12, 0)
    assert receivers["resend"].requests == []
    assert {status for *_, status, _, _, _ in rows(outbox["warehouse"], "status <> 'suppressed'")} == {"dry_run"}
    folder = tmp_path / "outbox" / "emails" / "2026-11-22"
    assert sorted(p.name for p in (folder / "trial_ending").iterdir()) == sorted(
        f"trial_ending_{u}_{p.replace(':', '_')}.{ext}" for u, p in (("t1u", "s_t1:week_one"),
                                                                     ("t2u", "s_t2:two_days_left"),
                                                                     ("t3u", "s_t3:last_day"))
        for ext in ("eml", "html"))
    import email
    import email.policy

    eml = folder / "trial_ending" / "trial_ending_t2u_s_t2_two_days_left.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Your Acme trial ends tomorrow" and message["To"] == "t2u@example.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw = eml.read_text()  # the link as a mail client shows it: one plain header line, not encoded words
    assert "\nList-Unsubscribe: <http://127.0.0.1:8080/saas-ops/unsubscribe?t=" in raw.replace("\r\n", "\n")
    text = message.get_body(("plain",)).get_content()
    assert "Your trial ends tomorrow, Tuesday 24 November 2026." in text
    assert "1 people at Account T2 did" in text
    assert send.send_pending(END, box)["dry_run"] == 0  # rendered once


# --------------------------------------------------------------------------------------- unsubscribe


def test_the_unsubscribe_link_suppresses_the_user(outbox, web_server):
    key = recipients.signing_key()
    url = f"{web_server}/unsubscribe?t={recipients.unsubscribe_token('a1', key)}"
    page = httpx.get(url)
    assert page.status_code == 200 and '<form method="post">' in page.text
    with psycopg.connect(outbox["warehouse"]) as conn:  # a GET (a link scanner) changes nothing
        assert conn.execute(compose("SELECT count(*) FROM {o}.email_suppressions", o=OUT)).fetchone() == (1,)
    forged = f"{web_server}/unsubscribe?t={recipients.unsubscribe_token('a1', b'another key')}"
    assert httpx.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    payload = recipients.unsubscribe_token('a1', key).partition(".")[0]
    for malformed in (f"{payload}.ÄÖÜ-signature", f"{payload}.", "not-a-token", "%FF%FE.x", f"{payload}.a.b"):
        for method in (httpx.get, httpx.post):
            answer = method(f"{web_server}/unsubscribe?t={malformed}")
            assert answer.status_code == 400 and "not valid" in answer.text, (malformed, answer.status_code)
    done = httpx.post(url, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, as a mail client sends it
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert httpx.post(url).status_code == 200  # twice is fine
    with psycopg.connect(outbox["warehouse"]) as conn:
        assert conn.execute(compose("SELECT email, reason FROM {o}.email_suppressions ORDER BY email",
                                    o=OUT)).fetchall() == [("a1@example.com", "unsubscribed"), ("a7@example.com",
                                                                                                  "bounced")]
    plan()
    assert [(c, u, status, error) for c, u, _, status, error, *_ in rows(outbox["warehouse"], "user_id = 'a1'")] == [
        ("inactive_30", "a1", "suppressed", "on the suppression list (unsubscribed)")]


def test_airflow_loads_the_plugin_that_serves_the_link(airflow_env):
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    out = subprocess.run([sys.executable, "-m", "airflow", "plugins", "--output", "json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert list(plugins) == ["saas_ops"]  # plugins/.airflowignore keeps the package's modules from loading as plugins
    assert [(a["name"], a["url_prefix"]) for a in plugins["saas_ops"]["fastapi_apps"]] == [("SaaS Ops", "/saas-ops")]


# --------------------------------------------------------------------------------------- holdouts


def test_a_holdout_is_assigned_stably_after_the_caps_and_never_emailed(outbox, receivers):
    """The scenario's 12 emails, now with half held out: each recipient's arm is its bucket (md5 of campaign,
    user and salt, below 0.5: held out); the 12 are the same recipients as without a holdout (suppressions and
    caps come first); a rerun keeps every arm; only the treatment arm reaches Resend."""
    import hashlib

    resend = receivers["resend"]
    plan_with_holdout = {**SETTINGS, "holdout_share": 0.5, "salt": "exp-1"}
    audiences.plan(END, run_id="holdout", schema=OUT, source_schema=SRC, campaigns=list(audiences.CAMPAIGNS),
                   settings=plan_with_holdout)
    with psycopg.connect(outbox["warehouse"]) as conn:
        assigned = conn.execute(compose("SELECT campaign, user_id, status, arm, variant FROM {o}.email_sends "
                                        "WHERE day = %s AND status <> 'suppressed' ORDER BY 1, 2", o=OUT),
                                (END,)).fetchall()
    assert len(assigned) == 12

    def bucket(campaign: str, user: str) -> float:
        return int(hashlib.md5(f"{campaign}:{user}:exp-1".encode()).hexdigest()[:8], 16) / 2**32

    for campaign, user, status, arm, variant in assigned:
        held = bucket(campaign, user) < 0.5
        assert (status, arm, variant) == (("holdout", "holdout") if held else ("queued", "treatment")) + ("default",)
    held_out = {user for _, user, status, _, _ in assigned if status == "holdout"}
    assert 0 < len(held_out) < 12
    audiences.plan(END, run_id="holdout-rerun", schema=OUT, source_schema=SRC, campaigns=list(audiences.CAMPAIGNS),
                   settings=plan_with_holdout)
    result = send.send_pending(END, live_outbox())
    with psycopg.connect(outbox["warehouse"]) as conn:
        after = conn.execute(compose("SELECT campaign, user_id, status, arm FROM {o}.email_sends WHERE day = %s "
                                     "AND status <> 'suppressed' ORDER BY 1, 2", o=OUT), (END,)).fetchall()
    assert [(c, u, a) for c, u, _, a in after] == [(c, u, a) for c, u, _, a, _ in assigned]
    assert {u for _, u, s, _ in after if s == "holdout"} == held_out
    assert result["sent"] == 12 - len(held_out) == len(resend.emails)
    assert not {e["to"][0].split("@")[0] for e in resend.emails} & held_out


def test_variants_split_the_emailed_arm_by_the_same_bucket_and_render_their_own_templates(outbox, receivers):
    """inactive_30 with a variant `short` on half of the emailed arm, 20% held out: a recipient with bucket b
    is held out below 0.2, else gets `short` when (b − 0.2) / 0.8 < 0.5; its email uses inactive.short.txt."""
    import hashlib

    variants = audiences.parse_variants("inactive_30:short=0.5")
    assert variants == {"inactive_30": [("short", 0.5)]}
    with pytest.raises(ValueError, match="no template inactive.long.txt"):
        audiences.parse_variants("inactive_30:long=0.5")
    with pytest.raises(ValueError, match="add up to more than 1"):
        audiences.parse_variants("inactive_30:short=0.7, inactive_30:short=0.7")
    audiences.plan(END, run_id="variants", schema=OUT, source_schema=SRC, campaigns=list(audiences.CAMPAIGNS),
                   settings={**SETTINGS, "holdout_share": 0.2, "salt": "ab", "variants": variants})
    with psycopg.connect(outbox["warehouse"]) as conn:
        assigned = conn.execute(compose("SELECT campaign, user_id, arm, variant FROM {o}.email_sends WHERE day = %s "
                                        "AND arm IS NOT NULL", o=OUT), (END,)).fetchall()
    for campaign, user, arm, name in assigned:
        b = int(hashlib.md5(f"{campaign}:{user}:ab".encode()).hexdigest()[:8], 16) / 2**32
        expected = ("holdout", "default") if b < 0.2 else \
            ("treatment", "short" if campaign == "inactive_30" and (b - 0.2) / 0.8 < 0.5 else "default")
        assert (arm, name) == expected, (campaign, user, b)
    send.send_pending(END, live_outbox())
    short = [u for c, u, a, v in assigned if v == "short"]
    assert short and any(v == "default" for c, _, a, v in assigned if c == "inactive_30" and a == "treatment")
    subjects = {e["to"][0].split("@")[0]: e["subject"] for e in receivers["resend"].emails}
    for user in short:
        assert subjects[user].endswith("one click back into Acme"), subjects[user]
