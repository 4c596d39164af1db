"""The demo's modelled email effect: only treated recipients of the campaigns it names respond, at the stated
chance, within the week after their email and not after the demo's last day, the same every time."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import psycopg
import pytest

from dev import demo_history
from saas_ops import db
from saas_ops.db import compose

OUT = "history_out"
LAST_DAY = dt.date(2026, 11, 30)
COHORT = dt.date(2026, 11, 1)
FEATURES = ["report_create", "export_csv", "api_call"]


@pytest.fixture
def warehouse(databases):
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {OUT} CASCADE")
        db.migrate(conn, OUT)
        yield conn
        conn.execute(f"DROP SCHEMA {OUT} CASCADE")


def add_sends(conn: psycopg.Connection, campaign: str, variant: str, arm: str, day: dt.date, n: int) -> None:
    """n rows keyed campaign:variant:arm:i, for users u1..un of accounts c1..cn."""
    conn.execute(compose(
        "INSERT INTO {o}.email_sends (idempotency_key, campaign, user_id, customer_id, period_key, status, day, arm, "
        "variant) SELECT %(c)s || ':' || %(v)s || ':' || %(a)s || ':' || i, %(c)s, 'u' || i, 'c' || i, 'p', "
        "CASE WHEN %(a)s = 'holdout' THEN 'holdout' ELSE 'dry_run' END, %(d)s, %(a)s, %(v)s "
        "FROM generate_series(1, %(n)s) i", o=OUT), {"c": campaign, "v": variant, "a": arm, "d": day, "n": n})


def test_only_treated_recipients_respond_at_the_modelled_chance_within_a_week(warehouse):
    """4,000 treated inactive_30 emails of 11-01 per variant: 12% expected for default (480, binomial sd 20.6)
    and 20% for short (800, sd 25.3), so within ±80 (about 3 sd); 1,000 held out and 1,000 treated trial_ending
    (no modelled effect): none. Each response falls on 11-02 .. 11-08. 4,000 inactive_60 emails of 11-28 (8%):
    their responses would fall on 11-29 .. 12-05, only the two days to 11-30 are kept, so about 91 (sd 9.4).
    low_adoption responds with the account's first core feature unused in the 30 days to the cohort day: c1 used
    report_create on 10-20, so export_csv; the others report_create."""
    add_sends(warehouse, "inactive_30", "default", "treatment", COHORT, 4000)
    add_sends(warehouse, "inactive_30", "short", "treatment", COHORT, 4000)
    add_sends(warehouse, "inactive_30", "default", "holdout", COHORT, 1000)
    add_sends(warehouse, "trial_ending", "default", "treatment", COHORT, 1000)
    add_sends(warehouse, "inactive_60", "default", "treatment", dt.date(2026, 11, 28), 4000)
    add_sends(warehouse, "low_adoption", "default", "treatment", COHORT, 400)
    warehouse.execute(compose("INSERT INTO {o}.account_feature_daily (day, customer_id, feature, events) "
                              "VALUES ('2026-10-20', 'c1', 'report_create', 1)", o=OUT))

    found = demo_history.responses(warehouse, OUT, LAST_DAY, 7, FEATURES)
    assert found == demo_history.responses(warehouse, OUT, LAST_DAY, 7, FEATURES)
    by_arm = Counter(key.rsplit(":", 1)[0] for key in found)
    assert 400 <= by_arm["inactive_30:default:treatment"] <= 560, by_arm
    assert 720 <= by_arm["inactive_30:short:treatment"] <= 880, by_arm
    assert 60 <= by_arm["inactive_60:default:treatment"] <= 120, by_arm
    assert by_arm["inactive_30:default:holdout"] == 0 and by_arm["trial_ending:default:treatment"] == 0
    days = {key.split(":")[0]: set() for key in found}
    for key, (event_id, user, customer, _, at) in found.items():
        days[key.split(":")[0]].add(at.date())
        assert event_id.startswith("evt_email_") and (user, customer) == ("u" + key.rsplit(":", 1)[1],
                                                                          "c" + key.rsplit(":", 1)[1])
    assert days["inactive_30"] == {COHORT + dt.timedelta(days=d) for d in range(1, 8)}
    assert days["inactive_60"] == {dt.date(2026, 11, 29), LAST_DAY}
    adoption = {key: event[3] for key, event in found.items() if key.startswith("low_adoption")}
    assert adoption and all(name == ("export_csv" if key.endswith(":1") else "report_create")
                            for key, name in adoption.items())
    assert {event[3] for key, event in found.items() if not key.startswith("low_adoption")} == {"login"}
