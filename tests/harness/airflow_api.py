"""Airflow's components as the scheduler tests run them: their environment, and waiting on the REST API."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx

from dev import airflow_services
from tests.harness.dag_runs import REPO
from tests.harness.databases import airflow_uri, create_database


def chain_databases(admin: str, prefix: str, *, customers: int, months: int, seed: int) -> tuple[str, str, str]:
    """Fresh saas_db (demo data to yesterday), warehouse and Airflow metadata databases named <prefix>_app,
    _warehouse and _airflow: (app, warehouse, metadata) DSNs."""
    import datetime as dt

    from dev import demo_data

    app, warehouse, metadata = (create_database(admin, f"{prefix}_{name}") for name in ("app", "warehouse", "airflow"))
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    demo_data.load(app, customers=customers, months=months, seed=seed, end=yesterday, verbose=False)
    return app, warehouse, metadata


def components_env(home: Path, metadata: str, app: str, warehouse: str, slack_url: str) -> dict[str, str]:
    """The environment of every component: this process's (the session's connections), Airflow's metadata in
    `metadata`, saas_db `app`, warehouse_db `warehouse`, Slack alerts to `slack_url`, quick heartbeats."""
    return {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(metadata),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]),
            "AIRFLOW_CONN_SAAS_DB": airflow_uri(app), "AIRFLOW_CONN_WAREHOUSE_DB": airflow_uri(warehouse),
            "AIRFLOW_CONN_SLACK_ALERTS": json.dumps({"conn_type": "slackwebhook", "password": slack_url}),
            "AIRFLOW_VAR_LOCAL_DIR": str(home / "local")}


def sqlalchemy_url(dsn: str, driver: str = "postgresql+psycopg2") -> str:
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    return f"{driver}://{parts.get('user', 'postgres')}@{parts['host']}:{parts['port']}/{parts['dbname']}"


def api_client(port: int, home: Path) -> httpx.Client:
    """A REST API client logged in as the simple auth manager's admin."""
    base = f"http://127.0.0.1:{port}"
    answer = httpx.post(f"{base}/auth/token", timeout=60,
                        json={"username": "admin", "password": airflow_services.admin_password(home)})
    return httpx.Client(base_url=base, timeout=60,  # a busy 2-core machine answers slowly
                        headers={"Authorization": f"Bearer {answer.json()['access_token']}"})


def wait_for_dags(api: httpx.Client, dag_ids: tuple[str, ...], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {d["dag_id"] for d in api.get("/api/v2/dags?limit=100").json()["dags"]}
        if set(dag_ids) <= found:
            return
        time.sleep(2)
    raise AssertionError(f"the DAG processor did not parse {set(dag_ids) - found} within {timeout:.0f} s")


def unpause(api: httpx.Client, dag_ids: tuple[str, ...]) -> None:
    for dag_id in dag_ids:
        answer = api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        assert answer.status_code == 200, answer.text


def trigger(api: httpx.Client, dag_id: str, conf: dict | None = None, logical_date=None) -> str:
    """A manual run of `dag_id` with its logical date (now, unless given); its run id."""
    import datetime as dt

    when = logical_date or dt.datetime.now(dt.UTC)
    answer = api.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": when.isoformat(), "conf": conf or {}})
    assert answer.status_code == 200, answer.text
    return answer.json()["dag_run_id"]


def runs(api: httpx.Client, dag_id: str) -> list[dict]:
    return api.get(f"/api/v2/dags/{dag_id}/dagRuns?order_by=run_after").json()["dag_runs"]


def wait_finished(api: httpx.Client, dag_id: str, timeout: float = 600) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = runs(api, dag_id)
        if found and all(r["state"] in ("success", "failed") for r in found):
            return found
        time.sleep(3)
    raise AssertionError(f"{dag_id} did not finish within {timeout:.0f} s: {runs(api, dag_id)}")
