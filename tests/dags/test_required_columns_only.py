"""Every DAG that reads saas_db, end to end with dag.test(), on a source of views that carry only the columns
the contract requires (SPEC: a column marked null may be left out of a view; the pack reads it as null)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from dev import demo_data
from saas_ops import contract
from saas_ops.db import compose
from tests.conftest import REPO, load_dag

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
    """The night in pipeline order: backup, MRR, engagement, a churn model and its scores, campaigns (dry run),
    a restore drill. Every run succeeds; the contract check names all 13 optional columns as absent."""
    monkeypatch.setenv("AIRFLOW_VAR_SOURCE_SCHEMA", VIEWS)
    monkeypatch.setenv("AIRFLOW_VAR_OUTPUT_SCHEMA", OUT)
    monkeypatch.setenv("AIRFLOW_VAR_EMAIL_DRY_RUN", "true")
    monkeypatch.setenv("AIRFLOW_VAR_LOCAL_DIR", str(tmp_path))
    with psycopg.connect(required_only["app"]) as conn:
        absent = contract.check_source(conn, VIEWS)["absent_optional_columns"]
    assert sum(len(columns) for columns in absent.values()) == 13

    night = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(1), dt.UTC)
    for dag_id in ("db_backup", "saas_mrr", "saas_engagement", "churn_train", "churn_score",
                   "reengagement_campaigns", "db_restore_drill"):
        run = load_dag(REPO / "dags" / f"{dag_id}.py", dag_id).test(logical_date=night)
        assert run.state == "success", dag_id

    with psycopg.connect(required_only["warehouse"]) as conn:
        def one(query: str, *params: object) -> tuple:
            return conn.execute(compose(query, o=OUT), params).fetchone()

        assert one("SELECT max(day), count(*) > 300 FROM {o}.mrr_daily") == (END, True)
        assert one("SELECT max(day), bool_and(dau <= mau) FROM {o}.engagement_daily") == (END, True)
        model_version, status = one("SELECT model_version, status FROM {o}.churn_models")
        assert status == "champion", model_version
        assert one("SELECT count(*) > 100 FROM {o}.churn_scores WHERE day = %s", END) == (True,)
        assert one("SELECT count(*) > 0, bool_and(status IN ('dry_run', 'suppressed')) FROM {o}.email_sends") == \
            (True, True)
        assert one("SELECT status FROM {o}.backups") == ("succeeded",)
        assert one("SELECT status FROM {o}.restore_drills") == ("passed",)
