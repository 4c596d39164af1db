"""The test harness: real servers, started once per session, all on 127.0.0.1 with ports the OS picks.

- PostgreSQL: the embedded server (in a temporary folder), or the server of SAAS_OPS_TEST_DSN when set;
- moto's S3 server, reached through the `backup_storage` connection's endpoint_url;
- a Slack webhook receiver and a PagerDuty receiver that record every POST;
- a Resend API double (tests/harness/servers.py);
- Airflow in a temporary AIRFLOW_HOME with a SQLite metadata database; connections as AIRFLOW_CONN_*.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Airflow reads its configuration when first imported: set it before anything imports airflow.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="saas_ops_airflow_"))
os.environ.update({
    "AIRFLOW_HOME": str(_AIRFLOW_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__API__BASE_URL": "http://airflow.test:8080",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),  # the sessions ops/test_report makes; 64 bytes for SHA-512
    "SAAS_OPS_HOME": str(REPO),
    # Two bundles: the pack's DAGs, and DAGs that exist only for tests (they fail on purpose).
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([
        {"name": name, "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {"path": path}}
        for name, path in (("dags-folder", str(REPO / "dags")),
                           ("test-dags", str(REPO / "tests" / "dags" / "fixture_dags")))]),
})
if os.environ.get("PYTEST_XDIST_WORKER"):  # one of `make test`'s processes: one core's threads each, not all
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
for path in (str(REPO / "plugins"), str(REPO)):
    if path not in sys.path:
        sys.path.insert(0, path)

from tests.harness.databases import airflow_uri, create_database  # noqa: E402
from tests.harness.servers import RecordingWebhook, ResendDouble  # noqa: E402


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A PostgreSQL server: (admin DSN, DevServer or None). Stopped at the end of the session."""
    from dev import devdb

    given = os.environ.get("SAAS_OPS_TEST_DSN")
    if given:
        yield given, None
        return
    folder = tmp_path_factory.mktemp("pg")
    server = devdb.start(folder)
    try:
        yield server.dsn, server
    finally:
        devdb.stop(folder)


@pytest.fixture(scope="session")
def databases(pg_server):
    """Fresh source and warehouse databases for the session: {'app': dsn, 'warehouse': dsn}."""
    admin, _ = pg_server
    return {"app": create_database(admin, "saas_ops_test_app"),
            "warehouse": create_database(admin, "saas_ops_test_warehouse")}


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server bound to 127.0.0.1 (its default binds every interface)."""
    from moto.server import ThreadedMotoServer

    from saas_ops.backups.pg_server import free_port

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    import boto3

    boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="saas-ops")  # STORAGE_BUCKET's default
    yield f"http://{host}:{port}"
    server.stop()


def _serve(server_class):
    """A session fixture running one recording server, stopped at the end of the session."""

    @pytest.fixture(scope="session")
    def fixture():
        server = server_class()
        yield server
        server.stop()

    return fixture


slack_receiver = _serve(RecordingWebhook)
pagerduty_receiver = _serve(RecordingWebhook)
resend_double = _serve(ResendDouble)


@pytest.fixture(scope="session")
def airflow_env(databases, s3_server, slack_receiver, pagerduty_receiver, resend_double, tmp_path_factory):
    """Airflow's metadata database migrated once, and every connection of the SPEC pointed at the
    session's servers. Returns the local-mode folder (outbox, local backups)."""
    local_dir = tmp_path_factory.mktemp("local")
    os.environ.update({
        "AIRFLOW_CONN_SAAS_DB": airflow_uri(databases["app"]),
        "AIRFLOW_CONN_WAREHOUSE_DB": airflow_uri(databases["warehouse"]),
        "AIRFLOW_CONN_BACKUP_STORAGE": json.dumps({
            "conn_type": "aws", "login": "testing", "password": "testing",
            "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"}}),
        "AIRFLOW_CONN_SLACK_ALERTS": json.dumps({"conn_type": "slackwebhook",
                                                 "password": f"{slack_receiver.url}/services/T000/B000/XXX"}),
        "AIRFLOW_CONN_RESEND_DEFAULT": json.dumps({"conn_type": "generic", "host": resend_double.url,
                                                   "password": resend_double.api_key}),
        "AIRFLOW_CONN_UNSUBSCRIBE_SIGNING": json.dumps({"conn_type": "generic", "password": "test-signing-key"}),
        "AIRFLOW_CONN_PAGERDUTY_DEFAULT": json.dumps({"conn_type": "pagerduty_events",
                                                      "host": pagerduty_receiver.url, "password": "pd-routing-key"}),
        "AIRFLOW_VAR_ALERT_EMAILS": "data-team@example.com",
        "AIRFLOW_VAR_LOCAL_DIR": str(local_dir),
    })
    out = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True,
                         env=os.environ.copy())
    assert out.returncode == 0, f"airflow db migrate failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return local_dir


@pytest.fixture
def receivers(slack_receiver, pagerduty_receiver, resend_double):
    """The three recording servers, emptied before the test."""
    for server in (slack_receiver, pagerduty_receiver, resend_double):
        server.reset()
    return {"slack": slack_receiver, "pagerduty": pagerduty_receiver, "resend": resend_double}


@pytest.fixture
def warehouse(airflow_env, databases):
    """A connection to the session's warehouse database, with the output schema migrated."""
    import psycopg

    from saas_ops import db

    with psycopg.connect(databases["warehouse"]) as conn:
        db.migrate(conn, "saas_ops")
        yield conn


@pytest.fixture
def web_server(airflow_env):
    """The pack's web app (saas_ops/ops/web.py) served by uvicorn on 127.0.0.1, as the API server mounts it; its
    base URL."""
    import threading
    import time

    import uvicorn

    from saas_ops.backups.pg_server import free_port
    from saas_ops.ops.web import app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)



def pytest_collection_modifyitems(items):
    """The slow modules first: under `make test`'s processes they then run beside the many short ones, not
    after them and beside each other."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
