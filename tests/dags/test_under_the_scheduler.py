"""The nightly chain under Airflow's real scheduler: the API server, scheduler (LocalExecutor), DAG processor
and triggerer started as `make airflow` starts them (dev.airflow_services), PostgreSQL as metadata
database. saas_mrr and saas_engagement are triggered over the REST API; saas_support, churn_score and
reengagement_campaigns must follow through the assets; a DAG that fails on purpose must reach each alert channel
once; task logs must hold the pack's own lines and no connection's secret.
"""

from __future__ import annotations

import datetime as dt
import os

import httpx
import psycopg
import pytest

from dev import airflow_services
from saas_ops.backups.pg_server import free_port
from tests.harness.airflow_api import (
    api_client,
    chain_databases,
    components_env,
    runs,
    trigger,
    unpause,
    wait_finished,
    wait_for_dags,
)
from tests.harness.dag_runs import REPO

pytestmark = pytest.mark.slow
TOKEN = "schedulerWebhookTokenThatMustNotLeak"
CHAIN = ("saas_mrr", "saas_engagement", "saas_support", "churn_score", "reengagement_campaigns")


@pytest.fixture(scope="module")
def airflow(pg_server, airflow_env, slack_receiver, tmp_path_factory):
    """Airflow running against its own metadata, source and warehouse databases: (API client, home, warehouse)."""
    admin, _ = pg_server
    home = tmp_path_factory.mktemp("scheduler_home")
    app, warehouse, metadata = chain_databases(admin, "saas_ops_sched", customers=300, months=6, seed=3)
    port = free_port()
    env = components_env(home, metadata, app, warehouse, f"{slack_receiver.url}/services/T0/B0/{TOKEN}")
    processes = airflow_services.start(env, port, home / "service_logs")
    try:
        airflow_services.wait_until_up(port, processes)
        yield api_client(port, home), home, warehouse, processes
    finally:
        airflow_services.stop(processes)


def _listening(processes: dict) -> set[str]:
    """The addresses the components and their children listen on."""
    import psutil

    tree = [p for proc in processes.values() for p in (psutil.Process(proc.pid), *psutil.Process(proc.pid).children(
        recursive=True))]
    return {c.laddr.ip for p in tree for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}


def test_the_nightly_chain_follows_its_assets_and_alerts_once(airflow, receivers):
    api, home, warehouse, processes = airflow
    wait_for_dags(api, (*CHAIN, "alert_drill"))
    assert _listening(processes) == {"127.0.0.1"}  # no log server on every interface
    unpause(api, (*CHAIN, "alert_drill"))
    for dag_id in ("saas_mrr", "saas_engagement", "alert_drill"):
        trigger(api, dag_id)

    for dag_id in CHAIN:
        finished = wait_finished(api, dag_id)
        assert {r["state"] for r in finished} == {"success"}, (dag_id, finished)
    scored = [r for r in runs(api, "churn_score") if r["run_type"] == "asset_triggered"]
    mailed = [r for r in runs(api, "reengagement_campaigns") if r["run_type"] == "asset_triggered"]
    supported = [r for r in runs(api, "saas_support") if r["run_type"] == "asset_triggered"]
    assert scored and mailed and supported  # none was triggered by hand: the assets did it
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    with psycopg.connect(warehouse) as conn:
        marks = dict(conn.execute("SELECT output, watermark_day FROM saas_ops.watermarks").fetchall())
        emails = conn.execute("SELECT count(*), count(DISTINCT idempotency_key) FROM saas_ops.email_sends "
                              "WHERE status = 'sent'").fetchone()
    assert marks["mrr_daily"] == marks["engagement_daily"] == marks["email_sends"] == marks["support_daily"] \
        == yesterday
    assert emails[0] == emails[1] and receivers["resend"].duplicates() == 0

    drill = wait_finished(api, "alert_drill")
    assert [r["state"] for r in drill] == ["failed"]
    failures = [t for t in receivers["slack"].texts() if "alert_drill" in t and "will retry" not in t]
    assert len(failures) == 1 and failures[0].startswith(":red_circle: [P0] alert_drill")
    assert len([e for e in receivers["resend"].emails if "alert_drill" in e["subject"]]) == 1
    assert len([r for r in receivers["pagerduty"].requests if "alert_drill" in r.body.decode()]) == 1

    logs = {path: path.read_text() for path in (home / "logs").rglob("*.log")}
    mrr_log = "".join(text for path, text in logs.items() if "dag_id=saas_mrr" in str(path))
    assert f"watermark {yesterday}" in mrr_log and "bridge holds for every day and month" in mrr_log
    leaked = [str(path) for path, text in logs.items() if TOKEN in text]
    assert leaked == []


def test_make_airflow_stops_airflow_and_the_embedded_database_on_sigterm(tmp_path):
    """`make airflow` (demo --serve) over a small demo in a fresh home: once it says Airflow is up, SIGTERM
    leaves no Airflow process and no PostgreSQL server of its own behind."""
    import signal
    import subprocess
    import sys

    import psutil

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__DATABASE"))}
    env.update({"SAAS_OPS_HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])})
    (tmp_path / "dags").symlink_to(REPO / "dags")
    for folder in ("plugins", "include"):
        (tmp_path / folder).symlink_to(REPO / folder)
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "dev.demo", "--serve", "--customers", "60", "--port",
                              str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    lines, children = [], []
    try:
        for line in serve.stdout:
            lines.append(line)
            if f"Airflow is up on http://127.0.0.1:{port}" in line:
                break
        assert any("Airflow is up" in line for line in lines), "".join(lines)[-3000:]
        postmaster = int((tmp_path / ".local" / "pg" / "data" / "postmaster.pid").read_text().split()[0])
        children = [*psutil.Process(serve.pid).children(recursive=True), psutil.Process(postmaster)]
        assert len(children) > 4 and httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health").status_code == 200
        serve.send_signal(signal.SIGTERM)
        rest = serve.communicate(timeout=120)[0]
    finally:
        if serve.poll() is None:  # the components have sessions of their own: a failed test must not leave them
            for proc in [*psutil.Process(serve.pid).children(recursive=True), psutil.Process(serve.pid)]:
                proc.kill()
    assert "Embedded PostgreSQL stopped" in rest, rest[-2000:]
    _, alive = psutil.wait_procs([p for p in children if p.is_running()], timeout=30)
    assert alive == [], [(p.pid, p.name()) for p in alive]
