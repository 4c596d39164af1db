"""churn_train and churn_score: a scenario whose answer is known, the quality bars on the demo data,
champion/challenger, the artifact's hash check, scoring, the DAGs end to end, and features that cannot see
the future (the last test: it edits the demo data)."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import psycopg
import pytest
import sklearn

from dev import demo_data, demo_simulation
from saas_ops import db, storage
from saas_ops.churn import features, model, scoring, training
from saas_ops.churn.scoring import churn_risk_alerts
from saas_ops.db import compose
from tests.harness.builds import build_metrics
from tests.harness.dag_runs import pack_dag

END = dt.date(2026, 11, 22)


def features_at(t: dt.date, schema: str = "saas_ops", source_schema: str = "app") -> pd.DataFrame:
    with db.source() as src, db.warehouse() as wh:
        features.build_features(src, wh, [t], schema=schema, source_schema=source_schema, horizon=30, label_until=END,
                             run_id="test:features", dag_id=scoring.SCORE_DAG_ID)
        return features.read_features(wh).sort_values("customer_id").reset_index(drop=True)


# --------------------------------------------------------------------------------------- a known answer

# 200 accounts paying 49.00 a month, one user each, active every day. Every fifth account cancels, at dates
# spread from 2025-09-01 to 2026-12-13, and its user goes silent 28 days before. Every seventh healthy one
# (i % 7 == 3) is also quiet for the first 10 days of each month, so silence alone is not the whole answer.
KNOWN_SCENARIO = """
INSERT INTO {schema}.customers (customer_id, name, created_at)
SELECT 'k' || i, 'Known ' || i, timestamptz '2025-01-01' + (i %% 50) * interval '1 day'
FROM generate_series(0, 199) i;
INSERT INTO {schema}.users (user_id, customer_id, email, created_at)
SELECT 'ku' || i, 'k' || i, 'ku' || i || '@example.com', timestamptz '2025-01-01' + (i %% 50) * interval '1 day'
FROM generate_series(0, 199) i;
CREATE TEMP TABLE known_churn AS
SELECT i, CASE WHEN i %% 5 = 0 THEN date '2025-09-01' + (i / 5) * 12 END AS churn_day FROM generate_series(0, 199) i;
INSERT INTO {schema}.subscription_periods (subscription_id, customer_id, plan_id, status, currency, amount_cents,
                                           quantity, billing_interval, interval_count, valid_from, valid_to)
SELECT 'ks' || i, 'k' || i, 'team', 'active', 'USD', 4900, 1, 'month', 1,
       timestamptz '2025-01-01' + (i %% 50) * interval '1 day', churn_day::timestamptz
FROM known_churn;
INSERT INTO {schema}.events (event_id, user_id, customer_id, event_name, occurred_at)
SELECT 'ke' || i || '-' || d::date, 'ku' || i, 'k' || i, CASE WHEN i %% 3 = 0 THEN 'report_create' ELSE 'login' END,
       d + interval '10 hours'
FROM known_churn
CROSS JOIN generate_series(timestamptz '2025-01-01' + (i %% 50) * interval '1 day', timestamptz '2026-11-22',
                           interval '1 day') d
WHERE (churn_day IS NULL OR d < churn_day - 28)
  AND NOT (i %% 7 = 3 AND extract(day FROM d) <= 10);
"""


def test_a_known_answer_is_learned_and_ranked(airflow_env, databases, receivers, monkeypatch):
    """The silent accounts are the ones that churn: the model must find that, rank the two accounts that are
    silent but still paying on 11-22 (k190 cancels on 12-01, k195 on 12-13) above every other, say that
    their activity stopped, and open the day's Slack digest with them (Known 190, Known 195)."""
    with psycopg.connect(databases["app"], autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS churn_known CASCADE")
        conn.execute(compose(db.read_sql("contract/app_schema.sql"), schema="churn_known"))
        with psycopg.ClientCursor(conn) as cur:
            cur.execute(compose(KNOWN_SCENARIO, schema="churn_known"), {})
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS churn_known_out CASCADE")
        db.migrate(conn, "churn_known_out")
    build_metrics(END, demo_simulation.CORE_FEATURES, output_schema="churn_known_out", source_schema="churn_known")

    result = training.train_model(END, run_id="test", schema="churn_known_out", source_schema="churn_known")
    assert result["status"] == "champion", result
    assert result["metrics"]["auc"] >= 0.95, result
    summary = scoring.score_accounts(END, schema="churn_known_out", source_schema="churn_known",
                                   reporting_currency="USD")
    assert summary["accounts"] == 160 + 2  # 160 healthy, and the two churners not yet gone
    with psycopg.connect(databases["warehouse"]) as conn:
        top = conn.execute("SELECT customer_id, risk_band, top_drivers FROM churn_known_out.churn_scores "
                           "WHERE day = %s ORDER BY churn_probability DESC, customer_id LIMIT 2", (END,)).fetchall()
    assert sorted(c for c, _, _ in top) == ["k190", "k195"], top
    assert all(band == "high" for _, band, _ in top)
    for _, _, drivers in top:
        assert any(d["signal"] in ("events_7d", "events_30d", "days_since_last_activity", "active_users_7d",
                                   "active_users_trend", "events_trend") and d["action"] == "book a check-in"
                   for d in drivers), drivers
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", "churn_known_out")
    monkeypatch.setenv("AIRFLOW_VAR_SOURCE_SCHEMA", "churn_known")
    churn_risk_alerts.function({"day": END.isoformat()})
    digest = receivers["slack"].texts()[-1].splitlines()
    assert digest[0].startswith(":chart_with_downwards_trend: [P3] churn_score: ") and "entered the high churn-risk " \
        "band on 2026-11-22" in digest[0]
    assert [line.split(":")[0] for line in digest[2:4]] == ["• Known 190 (k190)", "• Known 195 (k195)"]


# --------------------------------------------------------------------------------------- the demo data


@pytest.fixture(scope="module")
def demo(airflow_env, databases):
    """1,500 demo customers over 20 months, with MRR and engagement built through 2026-11-22."""
    demo_data.load(databases["app"], customers=1500, months=20, seed=11, end=END, verbose=False)
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        db.migrate(conn, "saas_ops")
        conn.execute("TRUNCATE saas_ops.churn_models, saas_ops.churn_scores")
    build_metrics(END, demo_simulation.CORE_FEATURES)
    return databases


def stored(version: str, name: str = "model.pkl") -> bytes:
    """An object of the model in backup_storage (moto's S3 in the tests)."""
    return storage.open_storage().get_bytes(training.artifact_key("saas_ops", version, name))


@pytest.fixture(scope="module")
def first_training(demo):
    """The first churn_train on the demo (no model before it): its result; what it left in churn_models (kept in
    a table of the test's) and in backup_storage, for `champion` to put back before each test."""
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        conn.execute("TRUNCATE saas_ops.churn_models, saas_ops.churn_scores")
        result = training.train_model(END, run_id="test", schema="saas_ops", source_schema="app")
        conn.execute("CREATE SCHEMA IF NOT EXISTS churn_test; DROP TABLE IF EXISTS churn_test.first_models; "
                     "CREATE TABLE churn_test.first_models AS TABLE saas_ops.churn_models")
    files = {name: stored(result["model_version"], name) for name in ("model.pkl", "model_card.md")}
    return {"result": result, "files": files}


@pytest.fixture
def champion(demo, first_training):
    """The demo with the first model as champion and no scores, whatever an earlier test did to them."""
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        conn.execute("TRUNCATE saas_ops.churn_models, saas_ops.churn_scores")
        conn.execute("DELETE FROM saas_ops.watermarks WHERE output = 'churn_scores'")
        conn.execute("INSERT INTO saas_ops.churn_models SELECT * FROM churn_test.first_models")
    version = first_training["result"]["model_version"]
    for name, data in first_training["files"].items():
        storage.open_storage().put_bytes(training.artifact_key("saas_ops", version, name), data)
    return first_training["result"]


def test_bands_go_by_rank_and_equal_probabilities_by_customer_id():
    """Ten accounts, shares 20% / 30%: the two riskiest are high, the next three medium. c and d tie at 0.5 for
    the last high place: c wins by customer_id; d opens medium. e and f tie at 0.3 across the medium/low line."""
    from saas_ops.churn.model import bands_by_rank

    ids = np.array(list("abcdefghij"), dtype=object)
    p = np.array([0.9, 0.1, 0.5, 0.5, 0.3, 0.3, 0.05, 0.2, 0.4, 0.01])
    bands = dict(zip(ids, bands_by_rank(p, ids, high_share=0.2, medium_share=0.3), strict=True))
    assert [k for k, v in bands.items() if v == "high"] == ["a", "c"]
    assert [k for k, v in bands.items() if v == "medium"] == ["d", "e", "i"]
    assert [k for k, v in bands.items() if v == "low"] == ["b", "f", "g", "h", "j"]


def test_a_driver_says_what_to_do_and_a_missing_value_changes_it():
    from saas_ops.churn.model import ACTIONS, PROFILE, SIGNALS, action_for, driver_line

    assert set(PROFILE) | set(ACTIONS) == set(SIGNALS) and not set(PROFILE) & set(ACTIONS)  # every signal is one
    assert action_for("days_since_last_activity", 12.0) == "book a check-in"
    assert action_for("mrr_change_30d", -0.25) == "ask why they moved down a plan"
    assert action_for("mrr_change_30d", float("nan")) == "check that their onboarding is complete"  # a new payer
    assert driver_line({"text": "no activity for 12 days", "action": "book a check-in"}) == \
        "no activity for 12 days → book a check-in"
    assert driver_line({"text": "no activity for 12 days"}) == "no activity for 12 days"  # scored before actions


def test_no_champion_yet_skips_scoring(demo):
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        conn.execute("TRUNCATE saas_ops.churn_models, saas_ops.churn_scores")
    summary = scoring.score_accounts(END, schema="saas_ops", source_schema="app", reporting_currency="USD")
    assert summary == {"day": "2026-11-22", "skipped": "no champion churn model yet: trigger churn_train first"}


def test_the_demo_champion_meets_the_quality_bars(demo, champion):
    result = champion
    m = result["metrics"]
    assert result["status"] == "champion" and result["decision"].startswith("promoted: first model"), result
    assert m["auc"] >= 0.80, m
    assert m["auc"] >= result["single_signal_auc"] + 0.05, result
    assert m["calibration_error"] < 0.05, m
    tuning = m["tuning_auc"]  # the kind is chosen on the tuning dates, the figures are the evaluation dates'
    assert tuning[m["chosen"]] == max(tuning.values()), result
    if m["chosen"] == "gradient_boosting":
        assert result["note"] is None, result
    else:
        assert result["note"] == (
            f"the {m['chosen'].replace('_', ' ')} (tuning AUC {tuning[m['chosen']]}) beat gradient boosting "
            f"(tuning AUC {tuning['gradient_boosting']}) on the tuning dates, so it is the candidate"), result
    assert m["auc"] >= result["logistic_auc"] - 0.01, result
    with psycopg.connect(demo["warehouse"]) as conn:
        row = conn.execute("SELECT is_champion, artifact_sha256, training_window, evaluation_window, metrics "
                           "FROM saas_ops.churn_models WHERE model_version = 'churn-20261122'").fetchone()
    assert row[0] and row[1] == hashlib.sha256(stored("churn-20261122")).hexdigest()
    assert row[4]["gradient_boosting"]["rows"] == row[4]["logistic"]["rows"] > 1000
    # weekly dates: the last labelled one is 10-24 (+29 days = 11-22); 8 evaluation weeks from 09-05,
    # training up to 30 days before them
    assert (row[3].lower, row[3].upper) == (dt.date(2026, 9, 5), dt.date(2026, 10, 25))
    assert row[2].upper == dt.date(2026, 8, 2)  # the last training date is 08-01
    card = stored("churn-20261122", "model_card.md").decode()
    assert "## Calibration (evaluation dates)" in card
    assert f"| {m['chosen'].replace('_', ' ')} (chosen) | {m['auc']} |" in card


def test_scores_every_paying_account_with_bands_health_and_drivers(demo, champion):
    summary = scoring.score_accounts(END, schema="saas_ops", source_schema="app", reporting_currency="USD")
    with psycopg.connect(demo["warehouse"]) as conn:
        paying = conn.execute("SELECT paying_customers FROM saas_ops.mrr_daily WHERE day = %s", (END,)).fetchone()[0]
        assert summary["accounts"] == paying
        bands = dict(conn.execute("SELECT risk_band, count(*) FROM saas_ops.churn_scores GROUP BY 1").fetchall())
        # by rank, at CHURN_HIGH_BAND_SHARE's and CHURN_MEDIUM_BAND_SHARE's defaults
        assert bands == {"high": round(0.1 * paying), "medium": round(0.3 * paying) - round(0.1 * paying),
                         "low": paying - round(0.3 * paying)}, bands
        distinct = conn.execute("SELECT count(DISTINCT churn_probability) FROM saas_ops.churn_scores").fetchone()[0]
        assert distinct >= 0.9 * paying, (distinct, paying)  # a ranking, not a few steps
        health = dict(conn.execute("SELECT risk_band, avg(health_score) FROM saas_ops.churn_scores GROUP BY 1"
                                   ).fetchall())
        assert health["high"] < health["medium"] < health["low"], health
        drivers = conn.execute("SELECT top_drivers FROM saas_ops.churn_scores WHERE risk_band = 'high'").fetchall()
        assert all(1 <= len(d) <= 3 and all(x["text"] and x["impact"] > 0 for x in d) for (d,) in drivers)
        # drivers a customer-success person can act on: never the account's profile, always with what to do
        profile = {"plan_id", "billing_interval", "tenure_days", "mrr_cents", "seats"}
        assert not {x["signal"] for (d,) in drivers for x in d} & profile
        assert all(x["action"] for (d,) in drivers for x in d)
        assert conn.execute("SELECT watermark_day, dag_id FROM saas_ops.watermarks WHERE output = 'churn_scores'"
                            ).fetchone() == (END, "churn_score")
        mrr_match = conn.execute("SELECT count(*) FROM saas_ops.churn_scores s JOIN saas_ops.customer_mrr_changes c "
                                 "ON c.customer_id = s.customer_id AND c.day = (SELECT max(day) FROM "
                                 "saas_ops.customer_mrr_changes WHERE customer_id = s.customer_id AND day <= s.day) "
                                 "WHERE s.mrr_cents = c.mrr_cents").fetchone()[0]
        assert mrr_match == paying
        before = conn.execute("SELECT * FROM saas_ops.churn_scores ORDER BY customer_id").fetchall()
    scoring.score_accounts(END, schema="saas_ops", source_schema="app", reporting_currency="USD")
    with psycopg.connect(demo["warehouse"]) as conn:
        assert conn.execute("SELECT * FROM saas_ops.churn_scores ORDER BY customer_id").fetchall() == before


def test_retraining_on_the_same_data_keeps_the_champion(demo, champion):
    again = training.train_model(END + dt.timedelta(days=7), run_id="test", schema="saas_ops", source_schema="app")
    auc = again["metrics"]["auc"]
    assert again["status"] == "challenger", again
    assert again["decision"] == (f"kept as challenger: AUC {auc:.4f} vs the champion's {auc:.4f} on the same "
                                 "evaluation dates; promotion needs +0.005")
    with psycopg.connect(demo["warehouse"]) as conn:
        assert conn.execute("SELECT model_version FROM saas_ops.churn_models WHERE is_champion").fetchone() == \
            ("churn-20261122",)
    rerun = training.train_model(END + dt.timedelta(days=7), run_id="test", schema="saas_ops", source_schema="app")
    assert rerun["retrained"] is False and rerun["status"] == "challenger"


def test_an_altered_artifact_is_refused_and_replaced(demo, champion):
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        conn.execute("UPDATE saas_ops.churn_models SET sklearn_version = '1.0.2' WHERE is_champion")
        with pytest.raises(ValueError, match=r"churn model churn-20261122 was trained with scikit-learn 1\.0\.2, this "
                                             r"worker has 1\.\d+\.\d+; retrain it"):
            scoring.score_accounts(END, schema="saas_ops", source_schema="app", reporting_currency="USD")
        conn.execute("UPDATE saas_ops.churn_models SET sklearn_version = %s WHERE is_champion",
                     (sklearn.__version__,))
    data = bytearray(stored("churn-20261122"))
    data[len(data) // 2] ^= 0x01
    storage.open_storage().put_bytes(training.artifact_key("saas_ops", "churn-20261122"), bytes(data))
    with pytest.raises(ValueError, match="has SHA-256 .* but .* was recorded when it was trained"):
        scoring.score_accounts(END, schema="saas_ops", source_schema="app", reporting_currency="USD")
    result = training.train_model(END + dt.timedelta(days=14), run_id="test", schema="saas_ops", source_schema="app")
    assert result["status"] == "champion"
    assert result["decision"].startswith(
        "promoted: the current champion cannot be used (churn model churn-20261122: artifact "
        "s3://saas-ops/saas-ops/models/churn/saas_ops/churn-20261122/model.pkl has SHA-256")


def test_the_dags_train_score_and_send_one_digest(demo, champion, receivers):
    """churn_train for the week (a new version, kept as challenger: same data), then churn_score: the
    digest of accounts entering the high band, sent once across a rerun."""
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        conn.execute("DELETE FROM saas_ops.churn_scores")
        conn.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id = 'churn_score'")
    logical = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(4), dt.UTC)
    train = pack_dag("churn_train")
    assert train.test(logical_date=logical + dt.timedelta(days=21)).state == "success"
    with psycopg.connect(demo["warehouse"]) as conn:
        assert conn.execute("SELECT status FROM saas_ops.churn_models WHERE model_version = 'churn-20261213'"
                            ).fetchone() == ("challenger",)
    for _ in range(2):
        score = pack_dag("churn_score")
        assert score.test(logical_date=logical).state == "success"
    texts = receivers["slack"].texts()
    with psycopg.connect(demo["warehouse"]) as conn:
        high, at_risk = conn.execute("SELECT count(*), sum(mrr_cents) FROM saas_ops.churn_scores WHERE day = %s "
                                     "AND risk_band = 'high'", (END,)).fetchone()
        top = conn.execute("SELECT customer_id FROM saas_ops.churn_scores WHERE day = %s AND risk_band = 'high' "
                           "ORDER BY mrr_cents * churn_probability DESC, customer_id LIMIT 1", (END,)).fetchone()[0]
    digests = [t for t in texts if "entered the high churn-risk band" in t]
    assert len(digests) == 1, texts
    assert (f"churn_score: {high} account(s) entered the high churn-risk band on 2026-11-22, "
            f"{at_risk / 100:,.2f} USD MRR at risk") in digests[0]
    assert f"({top}):" in digests[0].splitlines()[2]
    with psycopg.connect(demo["warehouse"]) as conn:
        health = conn.execute("SELECT model_version, realised_day, psi, top_signals, alerts FROM "
                              "saas_ops.churn_model_health WHERE day = %s", (END,)).fetchall()
    assert len(health) == 1, health
    version, realised_day, psi, top_signals, problems = health[0]
    assert version == "churn-20261122" and realised_day == dt.date(2026, 10, 23)
    assert set(psi) == {*model.SIGNALS, "churn_probability"} and len(top_signals) == 5
    # The same day the model was trained on: its accounts are those it learned from, the score barely moves.
    assert psi["churn_probability"] < 0.25, psi
    assert len([t for t in texts if "needs attention" in t]) == (1 if problems else 0), texts


def test_with_auto_retrain_a_drift_runs_churn_train_through_its_asset(demo, champion, receivers, monkeypatch):
    """CHURN_PSI_ALERT set so low that any drift counts: the check alerts, and with CHURN_AUTO_RETRAIN the run
    publishes saas_ops.churn_retrain_requested (churn_train's schedule); without it the request task is skipped."""
    from tests.harness.dag_runs import asset_events

    monkeypatch.setenv("AIRFLOW_VAR_CHURN_PSI_ALERT", "0.000001")
    logical = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(4), dt.UTC)
    before = asset_events("saas_ops.churn_retrain_requested")
    assert pack_dag("churn_score").test(logical_date=logical).state == "success"
    assert asset_events("saas_ops.churn_retrain_requested") == before
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        conn.execute("DELETE FROM saas_ops.churn_model_health")  # the problems are new again
        conn.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id = 'churn_score'")  # and so is their alert
    monkeypatch.setenv("AIRFLOW_VAR_CHURN_AUTO_RETRAIN", "true")
    assert pack_dag("churn_score").test(logical_date=logical).state == "success"
    assert asset_events("saas_ops.churn_retrain_requested") == before + 1
    attention = [t for t in receivers["slack"].texts() if "needs attention" in t]
    assert attention[-1].splitlines()[-1] == "churn_train requested (CHURN_AUTO_RETRAIN is on)"


def test_duplicated_tickets_and_attempts_are_left_out_of_the_signals(demo):
    """Through views over the demo data that repeat one ticket and one failed payment attempt of an account (same
    ticket_id, same attempt_id: which row is right?): both copies are left out, so that account has one ticket
    and one failed payment fewer in 90 days than on the tables themselves; every other account is unchanged; both
    keys are listed in data_quality_issues with the reason."""
    t = END - dt.timedelta(days=30)
    with psycopg.connect(demo["app"]) as conn:
        ticket, customer = conn.execute(
            "SELECT k.ticket_id, k.customer_id FROM app.support_tickets k JOIN app.payment_attempts a USING "
            "(customer_id) WHERE k.created_at >= %s::date - 25 AND k.created_at < %s AND a.status = 'failed' "
            "AND a.attempted_at >= %s::date - 25 AND a.attempted_at < %s ORDER BY 1 LIMIT 1", (t, t, t, t)).fetchone()
        attempt = conn.execute("SELECT attempt_id FROM app.payment_attempts WHERE customer_id = %s AND status = "
                               "'failed' AND attempted_at >= %s::date - 25 AND attempted_at < %s ORDER BY 1 LIMIT 1",
                               (customer, t, t)).fetchone()[0]
        conn.execute("DROP SCHEMA IF EXISTS churn_dups CASCADE; CREATE SCHEMA churn_dups")
        for table in ("customers", "users", "subscription_periods", "invoices", "payment_attempts", "events",
                      "support_tickets", "fx_rates"):
            key = {"support_tickets": ("ticket_id", ticket), "payment_attempts": ("attempt_id", attempt)}.get(table)
            repeat = f" UNION ALL SELECT * FROM app.{table} WHERE {key[0]} = '{key[1]}'" if key else ""
            conn.execute(f"CREATE VIEW churn_dups.{table} AS SELECT * FROM app.{table}{repeat}")
    plain = features_at(t).set_index("customer_id")
    with db.source() as src, db.warehouse() as wh:
        features.build_features(src, wh, [t], schema="saas_ops", source_schema="churn_dups", horizon=30,
                                label_until=END, run_id="test:dups", dag_id=scoring.SCORE_DAG_ID)
        dups = features.read_features(wh).set_index("customer_id")
        issues = wh.execute("SELECT table_name, row_key, reason FROM saas_ops.data_quality_issues "
                            "WHERE run_id = 'test:dups' ORDER BY 1").fetchall()
    assert issues == [("payment_attempts", attempt, "2 rows hold this attempt_id: all are left out"),
                      ("support_tickets", ticket, "2 rows hold this ticket_id: all are left out")]
    for signal in ("tickets_30d", "tickets_90d", "failed_payments_30d", "failed_payments_90d"):
        assert dups.loc[customer, signal] == plain.loc[customer, signal] - 1, signal
    others = [c for c in plain.index if c != customer]
    pd.testing.assert_frame_equal(dups.loc[others], plain.loc[others])


def test_features_do_not_see_the_future(demo):
    """Everything that happens from t on (activity, tickets, payments, a cancellation, an invoice paid,
    a ticket answered) leaves the features at t unchanged; the same kind of change before t moves them. On a
    copy of the demo's source (schema churn_future), so that no other test sees the changes."""
    t = END - dt.timedelta(days=60)
    src, out = "churn_future", "churn_future_out"
    with psycopg.connect(demo["app"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {src} CASCADE; CREATE SCHEMA {src}")
        for table in ("customers", "users", "subscription_periods", "invoices", "payment_attempts", "events",
                      "support_tickets", "fx_rates"):
            conn.execute(f"CREATE TABLE {src}.{table} AS TABLE app.{table}")
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {out} CASCADE")
        db.migrate(conn, out)
    build_metrics(END, demo_simulation.CORE_FEATURES, output_schema=out, source_schema=src)
    before = features_at(t, out, src)
    customer = before.sort_values("mrr_cents", ascending=False)["customer_id"].iloc[0]
    user = None
    with psycopg.connect(demo["app"]) as conn:
        user = conn.execute(f"SELECT user_id FROM {src}.users WHERE customer_id = %s LIMIT 1",
                            (customer,)).fetchone()[0]
        after = f"'{t}'::timestamptz + interval '2 hours'"
        conn.execute(f"INSERT INTO {src}.events VALUES ('future1', %s, %s, 'report_create', {after}, NULL)",
                     (user, customer))
        conn.execute(f"INSERT INTO {src}.support_tickets (ticket_id, customer_id, created_at, priority) "
                     f"VALUES ('future2', %s, {after}, 'urgent')", (customer,))
        conn.execute(f"UPDATE {src}.support_tickets SET first_response_at = {after} "
                     "WHERE created_at < %s AND (first_response_at IS NULL OR first_response_at >= %s)", (t, t))
        conn.execute(f"UPDATE {src}.support_tickets SET resolved_at = {after}, csat = 1 "
                     "WHERE created_at < %s AND (resolved_at IS NULL OR resolved_at >= %s)", (t, t))
        conn.execute(f"INSERT INTO {src}.payment_attempts (attempt_id, invoice_id, customer_id, attempted_at, status, "
                     f"amount_cents) SELECT 'future3-' || invoice_id, invoice_id, customer_id, {after}, 'succeeded', "
                     f"amount_due_cents FROM {src}.invoices WHERE issued_at < %s AND status <> 'paid'", (t,))
        conn.execute(f"DELETE FROM {src}.subscription_periods WHERE customer_id = %s AND valid_from >= %s",
                     (customer, t))
        conn.execute(f"UPDATE {src}.subscription_periods SET valid_to = %s::timestamptz + interval '5 days' "
                     "WHERE customer_id = %s AND (valid_to IS NULL OR valid_to > %s::timestamptz + interval '5 days')",
                     (t, customer, t))
    build_metrics(END, demo_simulation.CORE_FEATURES, output_schema=out, source_schema=src)
    unchanged = features_at(t, out, src)
    pd.testing.assert_frame_equal(unchanged.drop(columns="churned"), before.drop(columns="churned"))
    assert bool(unchanged.loc[unchanged.customer_id == customer, "churned"].iloc[0]) is True  # the label does look

    with psycopg.connect(demo["app"]) as conn:  # the control: the same event a day earlier counts
        conn.execute(f"INSERT INTO {src}.events VALUES ('past1', %s, %s, 'report_create', "
                     "%s::timestamptz - interval '20 hours', NULL)", (user, customer, t))
    build_metrics(END, demo_simulation.CORE_FEATURES, output_schema=out, source_schema=src)
    moved = features_at(t, out, src)
    row = lambda f: f.loc[f.customer_id == customer].iloc[0]  # noqa: E731
    assert row(moved)["events_7d"] == row(before)["events_7d"] + 1


def test_an_account_a_campaign_emailed_in_the_label_window_is_marked_treated(demo):
    """Observation date 11-01 (window 11-01 .. 11-30): an email queued 10-31 is sent 11-01 (treated); one queued
    11-29 is sent 11-30 (treated); one queued 11-30 goes out after the window, a held-out one never (neither)."""
    t = dt.date(2026, 11, 1)
    paying = features_at(t)["customer_id"].tolist()[:4]
    with psycopg.connect(demo["warehouse"], autocommit=True) as conn:
        for customer, day, arm in zip(paying, ("2026-10-31", "2026-11-29", "2026-11-30", "2026-11-05"),
                                      ("treatment", "treatment", "treatment", "holdout"), strict=True):
            conn.execute("INSERT INTO saas_ops.email_sends (idempotency_key, campaign, user_id, customer_id, "
                         "period_key, status, day, arm, variant) VALUES (%s, 'inactive_30', 'u', %s, 'p', %s, %s, %s, "
                         "'default')", (f"treated-test:{customer}", customer,
                                        "holdout" if arm == "holdout" else "sent", day, arm))
        try:
            rows = features_at(t)
        finally:
            conn.execute("DELETE FROM saas_ops.email_sends WHERE idempotency_key LIKE 'treated-test:%%'")
    treated = dict(zip(rows["customer_id"], rows["treated"], strict=True))
    assert [treated[c] for c in paying] == [True, True, False, False]
    assert sum(treated.values()) == 2
