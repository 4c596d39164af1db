"""The nightly chain under Airflow's CeleryExecutor: the scheduler, API server, DAG processor and triggerer as
`make airflow` starts them, two Celery workers in separate processes with separate homes and working folders
(no local disk shared: backups go to the S3 test server, messages to the HTTP doubles), a Redis broker the test
starts, PostgreSQL as metadata database and Celery result backend.

Needs Debian's redis-server: skipped without it, failed instead when SAAS_OPS_REQUIRE_REDIS is set (.ci/run).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from dev import airflow_services
from saas_ops.backups.pg_server import free_port
from tests.harness import airflow_api
from tests.harness.builds import engagement_snapshot, revenue_snapshot, run_engagement, run_revenue
from tests.harness.databases import airflow_uri, create_database

pytestmark = pytest.mark.slow
CHAIN = ("saas_mrr", "saas_engagement", "saas_support", "churn_score", "reengagement_campaigns")
WORKERS = ("worker1", "worker2")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis server on 127.0.0.1 without persistence: the Celery broker."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = ("redis-server is not installed: the CeleryExecutor test needs Debian's redis-server "
                  "(apt-get install redis-server; .ci/run installs it)")
        if os.environ.get("SAAS_OPS_REQUIRE_REDIS"):
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                               "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not _answers_ping(port):
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port} within 30 s")
        time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(30)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def celery_airflow(pg_server, airflow_env, slack_receiver, redis_url, tmp_path_factory):
    """Airflow with the CeleryExecutor and two workers: (API client, {worker: (process, home)}, app, warehouse)."""
    admin, _ = pg_server
    home = tmp_path_factory.mktemp("celery_home")
    app, warehouse, metadata = airflow_api.chain_databases(admin, "saas_ops_celery", customers=150, months=4, seed=5)
    port = free_port()
    env = {**airflow_api.components_env(home, metadata, app, warehouse, f"{slack_receiver.url}/services/T0/B0/celery"),
           "AIRFLOW__CELERY__BROKER_URL": redis_url,
           "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + airflow_api.sqlalchemy_url(metadata),
           # a dead worker's task is failed, and retried, soon after its heartbeats stop, not minutes later
           "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
           "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5"}
    # This Airflow only: a failed task retries soon, not after the pack's delay; the retry itself is what is tested.
    (home / "config").mkdir()
    (home / "config" / "airflow_local_settings.py").write_text(
        "import datetime\n\n\ndef task_policy(task):\n    task.retry_delay = datetime.timedelta(seconds=5)\n"
        "    task.retry_exponential_backoff = False\n")
    processes = airflow_services.start(env, port, home / "service_logs", executor="CeleryExecutor")
    workers = {}
    try:
        airflow_services.wait_until_up(port, processes)
        for name in WORKERS:
            worker_home = tmp_path_factory.mktemp(name)
            workers[name] = (airflow_services.start_celery_worker(env, port, name, worker_home), worker_home)
        yield airflow_api.api_client(port, home), workers, app, warehouse
    finally:
        airflow_services.stop({**processes, **{name: proc for name, (proc, _) in workers.items()}})


def _attempts(worker_home: Path) -> set[tuple[str, str, str, int]]:
    """The task attempts a worker ran, from the task logs in its own home: (dag_id, run_id, task_id, try)."""
    found = set()
    for log in (worker_home / "logs").glob("dag_id=*/**/attempt=*.log"):
        parts = dict(part.split("=", 1) for part in log.relative_to(worker_home / "logs").with_suffix("").parts)
        found.add((parts["dag_id"], parts["run_id"], parts["task_id"], int(parts["attempt"])))
    return found


def _outputs(dsn: str) -> dict[str, list[tuple]]:
    with psycopg.connect(dsn) as conn:
        return {**revenue_snapshot(conn), **engagement_snapshot(conn)}


def _in_process_outputs(admin: str, app: str, marks: dict[str, dt.date], monkeypatch) -> dict[str, list[tuple]]:
    """saas_mrr's and saas_engagement's outputs through their watermarks, built in this process (as their tasks
    do) into a warehouse of their own."""
    from saas_ops import db

    warehouse = create_database(admin, "saas_ops_celery_in_process")
    monkeypatch.setenv("AIRFLOW_CONN_SAAS_DB", airflow_uri(app))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", airflow_uri(warehouse))
    with db.warehouse() as wh:
        db.migrate(wh, "saas_ops")
    run_revenue(marks["mrr_daily"].isoformat(), full=True)
    run_engagement(marks["engagement_daily"].isoformat(), full=True)
    return _outputs(warehouse)


def _wait_for_lock_wait(warehouse: str, timeout: float = 300) -> None:
    """Returns once a session of the pack waits for a lock in the warehouse."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(warehouse, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND application_name = 'saas_ops' AND wait_event_type = 'Lock'").fetchone()[0]:
                return
            time.sleep(0.5)
    raise AssertionError(f"no build waited for the locked table within {timeout:.0f} s")


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL to a worker and every process under it (its task's supervisor and task), as a machine lost."""
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    for p in tree:
        p.send_signal(signal.SIGKILL)
    psutil.wait_procs(tree, timeout=30)


def test_the_nightly_chain_runs_on_two_celery_workers_and_survives_losing_one(celery_airflow, pg_server,
                                                                             monkeypatch):
    api, workers, app, warehouse = celery_airflow
    airflow_api.wait_for_dags(api, CHAIN)
    airflow_api.unpause(api, CHAIN)  # saas_mrr and saas_engagement get their last scheduled run
    for dag_id in CHAIN:
        finished = airflow_api.wait_finished(api, dag_id)
        assert {r["state"] for r in finished} == {"success"}, (dag_id, finished)
    started = {dag_id: {r["run_type"] for r in airflow_api.runs(api, dag_id)} for dag_id in CHAIN}
    assert started == {"saas_mrr": {"scheduled"}, "saas_engagement": {"scheduled"},
                       **{dag_id: {"asset_triggered"} for dag_id in CHAIN[2:]}}  # the assets did the rest

    ran = {name: _attempts(home) for name, (_, home) in workers.items()}
    assert ran["worker1"] and ran["worker2"], ran  # both workers took tasks of the night
    assert not ran["worker1"] & ran["worker2"]  # each attempt ran once
    assert {dag for dag, *_ in ran["worker1"] | ran["worker2"]} == set(CHAIN)
    with psycopg.connect(warehouse) as conn:
        marks = dict(conn.execute("SELECT output, watermark_day FROM saas_ops.watermarks").fetchall())
    now = dt.datetime.now(dt.UTC)
    closed = {output: (now - dt.timedelta(hours=hours, minutes=minutes)).date() - dt.timedelta(days=1)
              for output, hours, minutes in (("mrr_daily", 2, 0), ("engagement_daily", 2, 30))}
    assert {output: marks[output] for output in closed} == closed  # the days before their last scheduled times
    assert marks["support_daily"] == marks["mrr_daily"] and marks["email_sends"] in closed.values()
    written = _outputs(warehouse)
    assert len(written["mrr_daily"]) > 100 and len(written["account_engagement_daily"]) > 1000
    expected = _in_process_outputs(pg_server[0], app, marks, monkeypatch)
    assert written == expected

    # A worker dies in the middle of a full refresh of saas_mrr: the test holds mrr_daily locked so that the
    # build waits inside its transaction, kills the worker running it (and its task), then lets go.
    with psycopg.connect(warehouse) as blocker:
        blocker.execute("LOCK TABLE saas_ops.mrr_daily IN ACCESS EXCLUSIVE MODE")
        # a rerun of the scheduled run's day (a run by hand now would close a later one between 00:00 and 02:00)
        rerun = dt.datetime.combine(marks["mrr_daily"] + dt.timedelta(days=1), dt.time(2, 1), dt.UTC)
        run_id = airflow_api.trigger(api, "saas_mrr", {"full_refresh": True}, logical_date=rerun)
        _wait_for_lock_wait(warehouse)
        running = [name for name, (_, home) in workers.items()
                   if ("saas_mrr", run_id, "build_mrr", 1) in _attempts(home)]
        assert len(running) == 1, running
        lost, survivor = running[0], next(name for name in WORKERS if name != running[0])
        _kill_tree(workers[lost][0])
        blocker.rollback()
    time.sleep(5)  # the dead build's session ends with its client: PostgreSQL rolls it back
    assert _outputs(warehouse) == written  # nothing half-written

    finished = airflow_api.wait_finished(api, "saas_mrr", timeout=600)
    assert [r["state"] for r in finished if r["dag_run_id"] == run_id] == ["success"]
    assert ("saas_mrr", run_id, "build_mrr", 2) in _attempts(workers[survivor][1])  # retried on the other
    airflow_api.wait_finished(api, "saas_support")  # it follows the asset again
    assert _outputs(warehouse) == expected
