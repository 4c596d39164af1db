"""Alert callbacks end to end: failing DAGs run with dag.test(), and what the Slack receiver, the Resend
double and the PagerDuty receiver got, exactly. Observed on the pinned Airflow (3.3.2):

- a task that will retry calls on_retry_callback only, and on_failure_callback on its last try
  (apache/airflow#65400 does not reproduce here; the counts below would catch it);
- with the task callbacks removed, the backstop task alone sends the one failure message;
- the DAG-level on_failure_callback fires under dag.test() when it is a plain callable (as a BaseNotifier
  it fails: 'SerializedDAG' object has no attribute 'get_template_env'); under the scheduler it runs in
  the DAG processor, where apache/airflow#63374 reports it may not run at all: hence the backstop;
- the storm hold lets one failure message per run and channel through, whatever fires.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.harness.dag_runs import load_dag

DRILL = Path(__file__).parent / "fixture_dags" / "alert_drill.py"


def _run(dag_id: str):
    dag = load_dag(DRILL, dag_id)
    dag_run = dag.test()
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    return dag_run, states


def _alert_log(warehouse, run_id: str) -> list[tuple]:
    return warehouse.execute("SELECT kind, task_id, try_number, held, channels_sent FROM saas_ops.alert_log "
                             "WHERE run_id = %s ORDER BY alert_id", (run_id,)).fetchall()


def test_a_failing_run_sends_one_message_per_channel_and_quiet_retry_lines(warehouse, receivers):
    dag_run, states = _run("alert_drill")

    assert dag_run.state == "failed"
    assert states == {"healthy": "success", "load_revenue": "failed", "load_usage": "failed",
                      "failure_backstop": "failed"}
    slack = receivers["slack"].texts()
    retries = [t for t in slack if "will retry" in t]
    failures = [t for t in slack if "will retry" not in t]
    # Two tasks, each retried once: two quiet retry lines, then one failure message for the whole run.
    assert len(retries) == 2 and all(t.startswith(":warning: [P0]") for t in retries)
    assert len(failures) == 1
    message = failures[0]
    failed_task = "load_revenue" if "load_revenue failed" in message else "load_usage"
    error = {"load_revenue": "ValueError: revenue table is locked by another session",
             "load_usage": "RuntimeError: usage export returned 0 rows"}[failed_task]
    assert message.startswith(f":red_circle: [P0] alert_drill.{failed_task} failed")
    assert f"task {failed_task}" in message and f"run {dag_run.run_id}" in message
    assert "try 2 of 2" in message and "owner revenue-team" in message
    assert f"error: {error}" in message
    assert (f"log: http://airflow.test:8080/dags/alert_drill/runs/{quote(dag_run.run_id, safe='')}"
            f"/tasks/{failed_task}?try_number=2") in message

    emails = receivers["resend"].emails
    assert len(emails) == 1
    assert emails[0]["subject"] == f"[P0] alert_drill.{failed_task} failed"
    assert emails[0]["to"] == ["data-team@example.com"] and error in emails[0]["text"]

    pages = [r.json() for r in receivers["pagerduty"].requests]
    assert len(pages) == 1
    assert pages[0]["routing_key"] == "pd-routing-key"
    assert pages[0]["dedup_key"] == f"saas_ops/alert_drill/{dag_run.run_id}"
    assert pages[0]["payload"]["severity"] == "critical"

    log = _alert_log(warehouse, dag_run.run_id)
    kinds = [row[0] for row in log]
    assert kinds.count("retry") == 2 and kinds.count("task_failure") == 2 and kinds.count("backstop") == 1
    sent = [row for row in log if row[4]]
    assert [(row[0], sorted(row[4])) for row in sent if row[0] != "retry"] == [
        ("task_failure", ["email", "pagerduty", "slack"])]
    held = [row for row in log if row[0] in ("task_failure", "backstop", "dag_failure") and row[3]]
    assert len(held) == len([k for k in kinds if k in ("task_failure", "backstop", "dag_failure")]) - 1


def test_the_backstop_alerts_when_no_callback_fires(warehouse, receivers):
    dag_run, states = _run("alert_drill_no_callbacks")

    assert dag_run.state == "failed" and states["failure_backstop"] == "failed"
    slack = receivers["slack"].texts()
    assert len(slack) == 1
    assert slack[0].startswith(":red_circle: [P0] alert_drill_no_callbacks: 2 task(s) failed")
    assert "failed: load_revenue, load_usage" in slack[0]
    assert len(receivers["resend"].emails) == 1 and len(receivers["pagerduty"].requests) == 1


def test_a_broken_channel_changes_nothing_else(warehouse, receivers):
    receivers["slack"].status = 500
    try:
        dag_run, states = _run("alert_drill")
    finally:
        receivers["slack"].status = 200
    # Slack answered 500 to everything; the run's outcome and the other channels are as without it.
    assert dag_run.state == "failed"
    assert states["healthy"] == "success" and states["load_revenue"] == "failed"
    assert len(receivers["resend"].emails) == 1 and len(receivers["pagerduty"].requests) == 1
    # Each failure message that Slack refused released its claim, so the next failure tried again: the
    # two retry lines, both task failures, the backstop and the DAG callback all reached Slack's door.
    assert len(receivers["slack"].requests) == 6


def test_local_mode_writes_the_outbox(airflow_env, receivers, monkeypatch):
    from saas_ops import alerts

    for conn in ("SLACK_ALERTS", "RESEND_DEFAULT", "PAGERDUTY_DEFAULT", "WAREHOUSE_DB", "SAAS_DB"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{conn}")
    alert = alerts.Alert(kind="task_failure", severity="P0", dag_id="db_backup", run_id="local-1",
                         task_id="dump", title="db_backup.dump failed", error="OSError: disk full")
    assert alerts.dispatch(alert) == ["slack", "email", "pagerduty"]

    outbox = airflow_env / "outbox"
    slack_lines = [json.loads(line) for line in (outbox / "slack.jsonl").read_text().splitlines()]
    assert any("db_backup.dump failed" in m["text"] and "OSError: disk full" in m["text"] for m in slack_lines)
    emls = sorted((outbox / "alert_emails").glob("*.eml"))
    assert emls and "Subject: [P0] db_backup.dump failed" in emls[-1].read_text()
    pages = [json.loads(line) for line in (outbox / "pagerduty.jsonl").read_text().splitlines()]
    assert pages[-1]["dedup_key"] == "saas_ops/db_backup/local-1"
    assert receivers["slack"].requests == [] and receivers["resend"].emails == []
    assert {oct(p.stat().st_mode & 0o777) for p in outbox.rglob("*") if p.is_file()} == {"0o600"}
    assert {oct(p.stat().st_mode & 0o777) for p in [outbox, *outbox.rglob("*")] if p.is_dir()} == {"0o700"}


@pytest.mark.parametrize("severity, channels", [("P0", ["slack", "email", "pagerduty"]),
                                                ("P2", ["slack", "email"])])
def test_channels_follow_severity(severity, channels):
    from saas_ops import alerts

    alert = alerts.Alert(kind="task_failure", severity=severity, dag_id="d", run_id="r", title="t")
    assert alerts.channels_for(alert) == channels
    assert alerts.channels_for(alerts.Alert(kind="retry", severity=severity, dag_id="d", run_id="r",
                                            title="t")) == ["slack"]


def test_a_missed_deadline_alerts_like_a_failure(warehouse, receivers):
    import asyncio
    import datetime as dt

    from saas_ops import alerts

    policy = alerts.dag_policy(severity="P2", owner="data-team", tags=["revenue"], deadline=dt.timedelta(hours=3))
    callback = policy["deadline"].callback
    assert callback.path == "saas_ops.alerts.deadline_missed"
    assert callback.kwargs == {"severity": "P2", "allowed": "3:00:00"}

    # What the triggerer does when the deadline passes: await the callback with the run's context.
    asyncio.run(alerts.deadline_missed({"dag_run": {"dag_id": "saas_mrr", "run_id": "scheduled__2026-03-01"}},
                                       **callback.kwargs))
    assert receivers["slack"].texts() == [
        ":red_circle: [P2] saas_mrr missed its deadline: not finished 3:00:00 after it was queued\n"
        "DAG saas_mrr · run scheduled__2026-03-01"]
    assert len(receivers["resend"].emails) == 1


def test_no_log_line_carries_a_connection_secret(warehouse, receivers):
    """`airflow dags test` at log level INFO with Slack unreachable (the Slack SDK retries, and logs the
    webhook URL on a retry when let): no line holds the webhook token or another connection's secret."""
    import os
    import socket
    import subprocess
    import sys

    from tests.harness.dag_runs import REPO

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    token = "T0PSECRET/B0PSECRET/webhookTokenThatMustNotLeak"
    env = {**os.environ, "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO", "AIRFLOW__CORE__DAGS_FOLDER": str(DRILL.parent),
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]),
           "AIRFLOW_CONN_SLACK_ALERTS": json.dumps({"conn_type": "slackwebhook",
                                                    "host": f"http://127.0.0.1:{closed}/services", "password": token})}
    out = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "alert_drill"], env=env,
                         capture_output=True, text=True, timeout=300)
    logged = out.stdout + out.stderr
    assert "Failed to send a request to Slack API server: <urlopen error [Errno 111] Connection refused>" in logged
    assert "saas_ops: sending the retry alert for alert_drill to slack failed" in logged
    assert "DagRun Finished: dag_id=alert_drill" in logged
    for secret in ("webhookTokenThatMustNotLeak", "pd-routing-key", receivers["resend"].api_key, "test-signing-key"):
        assert secret not in logged
