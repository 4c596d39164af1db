"""Every DAG that reads saas_db, end to end with dag.test(), on a source of views that carry only the columns
the contract requires (SPEC: a column marked null may be left out of a view; the pack reads it as null)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from dev import demo_data
from saas_ops import contract
from saas_ops.db import compose
from tests.harness.dag_runs import pack_dag

END = dt.date(2026, 11, 22)
DATA, VIEWS, OUT = "req_data", "req_views", "req_out"


@pytest.fixture(scope="module")
def required_only(airflow_env, databases):
    """Demo data in schema req_data, and req_views: one view per source table with its required columns only."""
    demo_data.load(databases["app"], customers=800, months=16, seed=5, end=END, schema=DATA, verbose=False)
    with psycopg.connect(databases["app"]) as conn:
        conn.execute(compose("DROP SCHEMA IF EXISTS {v} CASCADE; CREATE SCHEMA {v}", v=VIEWS))
        for table, columns in contract.SOURCE_CONTRACT.items():
            required = ", ".join(c.name for c in columns if c.required)
            conn.execute(compose(f"CREATE VIEW {{v}}.{table} AS SELECT {required} FROM {{d}}.{table}", v=VIEWS,
                                 d=DATA))
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        conn.execute(compose("DROP SCHEMA IF EXISTS {o} CASCADE", o=OUT))
    return databases


def test_every_dag_runs_on_views_without_optional_columns(required_only, monkeypatch, tmp_path):
    """The night in pipeline order: backup, MRR, support, engagement, a churn model and its scores, campaigns (dry
    run), a restore drill. Every run succeeds; the contract check names all 13 optional columns as absent. Without
    first_response_at no ticket is known to be answered: support counts tickets and writes no SLA rows."""
    monkeypatch.setenv("AIRFLOW_VAR_SOURCE_SCHEMA", VIEWS)
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", OUT)
    monkeypatch.setenv("AIRFLOW_VAR_EMAIL_DRY_RUN", "true")
    monkeypatch.setenv("AIRFLOW_VAR_LOCAL_DIR", str(tmp_path))
    with psycopg.connect(required_only["app"]) as conn:
        absent = contract.check_source(conn, VIEWS)["absent_optional_columns"]
    assert sum(len(columns) for columns in absent.values()) == 13

    night = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(1), dt.UTC)
    for dag_id in ("db_backup", "saas_mrr", "saas_support", "saas_engagement", "churn_train", "churn_score",
                   "reengagement_campaigns", "db_restore_drill"):
        run = pack_dag(dag_id).test(logical_date=night)
        assert run.state == "success", dag_id

    with psycopg.connect(required_only["warehouse"]) as conn:
        def one(query: str, *params: object) -> tuple:
            return conn.execute(compose(query, o=OUT), params).fetchone()

        assert one("SELECT max(day), count(*) > 300 FROM {o}.mrr_daily") == (END, True)
        assert one("SELECT max(day), bool_and(dau <= mau) FROM {o}.engagement_daily") == (END, True)
        assert one("SELECT max(day), sum(opened) > 100, sum(first_responded) FROM {o}.support_daily "
                   "WHERE priority = 'all'") == (END, True, 0)
        assert one("SELECT count(*) FROM {o}.support_sla_daily") == (0,)
        model_version, status = one("SELECT model_version, status FROM {o}.churn_models")
        assert status == "champion", model_version
        assert one("SELECT count(*) > 100 FROM {o}.churn_scores WHERE day = %s", END) == (True,)
        # every email rendered (dry run) or suppressed, but the random tenth held out, which nothing was sent to
        assert one("SELECT count(*) > 0, bool_and(status IN ('dry_run', 'suppressed', 'holdout')), "
                   "count(*) FILTER (WHERE arm = 'holdout') > 0, bool_and((status = 'holdout') = (arm = 'holdout')) "
                   "FILTER (WHERE arm IS NOT NULL) FROM {o}.email_sends") == (True, True, True, True)
        assert one("SELECT status FROM {o}.backups") == ("succeeded",)
        assert one("SELECT status FROM {o}.restore_drills") == ("passed",)


def test_a_missing_required_column_fails_the_dag_before_it_writes(required_only, monkeypatch, receivers):
    """check_source_contract, the task every DAG that reads saas_db starts with: subscription_periods without
    amount_cents fails saas_mrr before it builds anything; the alert names the column."""
    broken = "req_broken"
    with psycopg.connect(required_only["app"]) as conn:
        conn.execute(compose("DROP SCHEMA IF EXISTS {b} CASCADE; CREATE SCHEMA {b}", b=broken))
        for table in set(contract.SOURCE_CONTRACT) - {"subscription_periods"}:
            conn.execute(compose(f"CREATE VIEW {{b}}.{table} AS SELECT * FROM {{v}}.{table}", b=broken, v=VIEWS))
        conn.execute(compose("CREATE VIEW {b}.subscription_periods AS SELECT subscription_id, customer_id, "
                             "plan_id, status, currency, quantity, billing_interval, interval_count, valid_from, "
                             "valid_to FROM {v}.subscription_periods", b=broken, v=VIEWS))
    monkeypatch.setenv("AIRFLOW_VAR_SOURCE_SCHEMA", broken)
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", "req_broken_out")
    run = pack_dag("saas_mrr").test(logical_date=dt.datetime.combine(END + dt.timedelta(days=1), dt.time(2), dt.UTC))
    assert run.state == "failed"
    texts = receivers["slack"].texts()
    assert any("req_broken.subscription_periods.amount_cents: required column is missing" in t for t in texts), texts
    with psycopg.connect(required_only["warehouse"]) as conn:  # migrate_outputs ran beside the check; nothing more
        assert conn.execute("SELECT (SELECT count(*) FROM req_broken_out.mrr_daily), "
                            "(SELECT count(*) FROM req_broken_out.watermarks)").fetchone() == (0, 0)
