"""churn_model_health with figures worked out by hand: the population stability of a shifted signal, the
realised AUC, lift and calibration of a small set of past scores, and a drift alert that fires once (on the
day a problem appears, not again while it lasts or on a rerun, and again when it comes back)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import psycopg
import pytest

from saas_ops import db
from saas_ops.churn import drift, health

SCHEMA = "health_out"
SCORED = dt.date(2026, 10, 1)  # the day the scores judged were made
CHECKED = SCORED + dt.timedelta(days=30)  # the day their 30-day horizon has closed


def test_psi_of_a_category_and_of_a_number_moved_by_hand():
    """Plans half and half, then 80/20: PSI = 0.3 × ln(0.8/0.5) + (−0.3) × ln(0.2/0.5) = 0.1410 + 0.2749 = 0.4159.
    Days since last activity 0..99 (deciles at 9.9, 19.8, … 89.1: 10% in each bin), then every account 20 days
    quieter (20..119): the two lowest bins empty (each counts as 0.0001), the top bin 30%:
    2 × (0.0001 − 0.1) × ln(0.0001 / 0.1) + (0.3 − 0.1) × ln(3) = 1.3802 + 0.2197 = 1.5999; the same days again: 0."""
    plans = pd.Series(["team"] * 50 + ["starter"] * 50)
    ref = drift.category_reference(plans)
    moved = drift.category_shares(pd.Series(["team"] * 80 + ["starter"] * 20), ref["categories"])
    assert round(drift.psi(ref["shares"], moved), 4) == round(0.3 * math.log(1.6) + 0.3 * math.log(2.5), 4) == 0.4159

    days = np.arange(100, dtype=float)
    ref = drift.number_reference(days)
    assert ref["shares"] == [0.1] * 10 + [0.0]  # ten deciles and no missing value
    shifted = drift.number_shares(days + 20, ref["edges"])
    assert shifted == [0.0, 0.0] + [0.1] * 7 + [0.3, 0.0]
    assert round(drift.psi(ref["shares"], shifted), 4) == 1.5999
    assert drift.psi(ref["shares"], drift.number_shares(days, ref["edges"])) == 0.0


def test_stability_covers_every_signal_and_the_score_and_new_categories():
    """A plan never seen in training lands in its own bin: all accounts on 'enterprise' against a reference
    of half team, half starter: the two known bins empty (0.0001 each), the new one full against an expected
    0.0001: 2 × (0.5 − 0.0001) × ln(0.5 / 0.0001) + (1 − 0.0001) × ln(1 / 0.0001) = 8.5155 + 9.2094 = 17.7249."""
    x = pd.DataFrame({"plan_id": ["team", "starter"] * 50, "seats": np.arange(100, dtype=float)})
    ref = drift.reference(x, ["plan_id"], np.linspace(0, 1, 100))
    today = pd.DataFrame({"plan_id": ["enterprise"] * 100, "seats": np.arange(100, dtype=float)})
    psi = drift.stability(ref, today, np.linspace(0, 1, 100))
    assert psi == {"plan_id": 17.7249, "seats": 0.0, drift.SCORE: 0.0}


@pytest.fixture
def health_schema(airflow_env, databases):
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        db.migrate(conn, SCHEMA)
    return databases


def scores(conn: psycopg.Connection, day: dt.date, rows: list[tuple[str, float]], churn_on: dict[str, dt.date]):
    for customer_id, p in rows:
        conn.execute(f"INSERT INTO {SCHEMA}.churn_scores (day, customer_id, model_version, churn_probability, "
                     "risk_band, top_drivers, health_score, mrr_cents) VALUES (%s, %s, 'm1', %s, 'low', '[]', 50, "
                     "4900)", (day, customer_id, p))
    for customer_id, when in churn_on.items():
        conn.execute(f"INSERT INTO {SCHEMA}.customer_mrr_changes (day, customer_id, previous_cents, mrr_cents, "
                     "movement) VALUES (%s, %s, 4900, 0, 'churn') ON CONFLICT DO NOTHING", (when, customer_id))


def summary(day: dt.date, psi: dict[str, float] | None = None) -> dict:
    return {"day": day.isoformat(), "model_version": "m1", "psi": psi or {},
            "importance": {"days_since_last_activity": 0.4, "events_30d": 0.3, "tenure_days": 0.2, "seats": 0.1}}


def check(day: dt.date, psi: dict[str, float] | None = None) -> dict:
    return health.check_health(summary(day, psi), schema=SCHEMA, horizon=30, min_auc=0.65, psi_limit=0.25, top=3)


def test_realised_auc_lift_and_calibration_of_past_scores_by_hand(health_schema):
    """Six accounts scored on 10-01. a, c and e churn within the 30 days after (10-02 .. 10-31); f churns on
    10-32 = 11-01, one day too late, so it counts as kept, like b and d.
    AUC: of the 9 (churned, kept) pairs the churned one is riskier in a>b, a>d, a>f, c>d, c>f, e>f, and e ties d
    (half): 6.5 / 9 = 0.7222. Top decile: max(1, 6 // 10) = 1 account, a, churned: lift 1 / (3/6) = 2.0.
    Calibration: bins 0.9 (a: 0.9 vs 1), 0.8 (b: 0.8 vs 0), 0.6 (c: 0.6 vs 1), 0.4 (d, e: 0.4 vs 0.5),
    0.1 (f: 0.1 vs 0): (0.1 + 0.8 + 0.4 + 2 × 0.1 + 0.1) / 6 = 0.2667."""
    with psycopg.connect(health_schema["warehouse"], autocommit=True) as conn:
        scores(conn, SCORED, [("a", 0.9), ("b", 0.8), ("c", 0.6), ("d", 0.4), ("e", 0.4), ("f", 0.1)],
               {"a": dt.date(2026, 10, 2), "c": dt.date(2026, 10, 15), "e": dt.date(2026, 10, 31),
                "f": dt.date(2026, 11, 1)})
    result = check(CHECKED)
    assert result["realised_day"] == "2026-10-01"
    assert (result["accounts"], result["churned"]) == (6, 3)
    assert (result["auc"], result["lift_top_decile"], result["calibration_error"]) == (0.7222, 2.0, 0.2667)
    assert result["auc_7d"] == result["auc_30d"] == 0.7222
    assert result["problems"] == []  # 3 churned accounts are too few to judge the AUC by
    with psycopg.connect(health_schema["warehouse"]) as conn:
        row = conn.execute(f"SELECT realised_model_versions, calibration, alerts FROM {SCHEMA}.churn_model_health "
                           "WHERE day = %s", (CHECKED,)).fetchone()
    assert row[0] == ["m1"] and row[2] == []
    assert [(b["bin"], b["accounts"], float(b["observed_rate"])) for b in row[1]] == [
        ("0.1-0.2", 1, 0.0), ("0.4-0.5", 2, 0.5), ("0.6-0.7", 1, 1.0), ("0.8-0.9", 1, 0.0), ("0.9-1.0", 1, 1.0)]


def test_a_model_that_stopped_ranking_is_reported_with_its_seven_day_trend(health_schema):
    """Twenty accounts on each of two days, scored backwards: the ten that churn have the lowest probabilities
    (AUC 0.0 both days). The first check has 10 churned accounts behind its 7-day mean (enough): an alert. The
    second has both days (20 churned), the same problem, and announces nothing new."""
    with psycopg.connect(health_schema["warehouse"], autocommit=True) as conn:
        for k in range(2):
            day = SCORED + dt.timedelta(days=k)
            scores(conn, day, [(f"a{k}-{i}", i / 20) for i in range(20)],
                   {f"a{k}-{i}": day + dt.timedelta(days=10) for i in range(10)})
    first = check(CHECKED)
    assert (first["auc"], first["auc_7d"], first["churned_7d"]) == (0.0, 0.0, 10)
    assert [p["key"] for p in first["new_alerts"]] == ["realised_auc"]
    second = check(CHECKED + dt.timedelta(days=1))
    assert (second["auc"], second["auc_7d"], second["churned_7d"]) == (0.0, 0.0, 20)
    assert [p["key"] for p in second["problems"]] == ["realised_auc"] and second["new_alerts"] == []
    assert second["problems"][0]["text"] == (
        "realised AUC 0.000 over the scored days closed in the 7 days to 2026-10-02 (20 churned accounts) is below "
        "CHURN_MIN_REALISED_AUC 0.65: the model no longer ranks who leaves")


def test_a_drift_alert_fires_once_while_it_lasts_and_again_when_it_returns(health_schema, receivers, monkeypatch):
    """days_since_last_activity (a top signal) shifts on day 1 and stays shifted on day 2: one Slack alert, on
    day 1, and none on a rerun of day 1. On day 2 seats drifts too but is not one of the 3 top signals, and
    tenure_days is one but drifts by design (every account ages). Day 3 is
    back to normal; day 4 shifts again: a second alert."""
    from saas_ops.churn.health import check_model_health

    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", SCHEMA)
    monkeypatch.setenv("AIRFLOW_VAR_CHURN_PSI_TOP_SIGNALS", "3")
    shifted = {"days_since_last_activity": 0.41, "events_30d": 0.05, drift.SCORE: 0.12}
    days = [CHECKED + dt.timedelta(days=k) for k in range(4)]
    sent_before = len(receivers["slack"].texts())
    check_model_health.function(summary(days[0], shifted))
    check_model_health.function(summary(days[0], shifted))  # a rerun of the day
    check_model_health.function(summary(days[1], {**shifted, "seats": 0.9, "tenure_days": 0.6}))
    check_model_health.function(summary(days[2], {"days_since_last_activity": 0.02}))
    result = check_model_health.function(summary(days[3], shifted))
    texts = receivers["slack"].texts()[sent_before:]
    assert len(texts) == 2, texts
    for text, day in zip(texts, (days[0], days[3]), strict=True):
        lines = text.splitlines()
        assert lines[0] == f":chart_with_downwards_trend: [P2] churn_score: churn model m1 needs attention on {day}"
        assert lines[2] == (f"• signal days_since_last_activity has shifted since m1 was trained: PSI 0.41 on {day} "
                            "(over 0.25; under 0.1 stable, 0.1-0.25 moving, over 0.25 shifted)")
        assert lines[3] == "retrain: trigger churn_train (Airflow UI: churn_train → Trigger)"
    assert result == {"retrain": False, "day": days[3].isoformat(), "problems": ["psi:days_since_last_activity"]}
    with psycopg.connect(health_schema["warehouse"]) as conn:
        kept = conn.execute(f"SELECT day, jsonb_path_query_array(alerts, '$[*].key') FROM {SCHEMA}.churn_model_health "
                            "ORDER BY day").fetchall()
    assert [(d, keys) for d, keys in kept] == [(days[0], ["psi:days_since_last_activity"]),
                                               (days[1], ["psi:days_since_last_activity"]),
                                               (days[2], []), (days[3], ["psi:days_since_last_activity"])]


def test_with_auto_retrain_on_a_new_problem_asks_for_churn_train(health_schema, receivers, monkeypatch):
    from saas_ops.churn.health import check_model_health

    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", SCHEMA)
    monkeypatch.setenv("AIRFLOW_VAR_CHURN_AUTO_RETRAIN", "true")
    first = check_model_health.function(summary(CHECKED, {drift.SCORE: 0.6}))
    again = check_model_health.function(summary(CHECKED + dt.timedelta(days=1), {drift.SCORE: 0.6}))
    assert (first["retrain"], again["retrain"]) == (True, False)  # asked once, not every day the drift lasts
    assert receivers["slack"].texts()[-1].splitlines()[-1] == "churn_train requested (CHURN_AUTO_RETRAIN is on)"
