"""Every DAG file imports fast and clean, and every DAG follows the team's policy."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from tests.harness.dag_runs import REPO

DAG_FILES = sorted((REPO / "dags").glob("*.py"))
POLICY_DAGS = DAG_FILES + [REPO / "tests" / "dags" / "fixture_dags" / "alert_drill.py"]


def test_there_are_dag_files():
    assert [p.stem for p in DAG_FILES] and all(p.stem.islower() for p in DAG_FILES)


def test_each_dag_file_imports_in_under_half_a_second():
    """Each file parsed as Airflow 3's DAG processor parses it: in a process forked from one that has airflow.sdk
    and its lazily imported names loaded already, so that no file is charged for Airflow's own imports. Each
    file's own import (the pack's modules included) takes under 0.5 s of CPU (no heavy import at parse time);
    the clock only guards against waiting on a database or the network, with room for a loaded machine."""
    script = """
import importlib.util, json, os, sys, time
import airflow.sdk, pendulum
for name in airflow.sdk.__all__:
    getattr(airflow.sdk, name, None)  # a name the SDK lists but does not provide is none of the pack's cost
out = {}
for n, path in enumerate(sys.argv[1:]):
    read, write = os.pipe()
    if os.fork() == 0:
        t, cpu = time.perf_counter(), time.process_time()
        spec = importlib.util.spec_from_file_location(f"dag_under_test_{n}", path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        os.write(write, json.dumps([time.process_time() - cpu, time.perf_counter() - t]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as result:
        out[path] = json.loads(result.read())
    os.wait()
print(json.dumps(out))
"""
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    # No connection or variable may be needed to parse: hide them all.
    env = {k: v for k, v in env.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    out = subprocess.run([sys.executable, "-c", script, *map(str, DAG_FILES)], capture_output=True, text=True,
                         env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    times = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(times) == sorted(map(str, DAG_FILES))
    slow = {path: (round(cpu, 3), round(clock, 3)) for path, (cpu, clock) in times.items() if cpu > 0.5 or clock > 5}
    assert slow == {}


@pytest.fixture(scope="module")
def dags(airflow_env):
    from airflow.dag_processing.dagbag import DagBag

    found = {}
    for path in POLICY_DAGS:
        bag = DagBag(dag_folder=str(path))
        assert not bag.import_errors, bag.import_errors
        found.update(bag.dags)
    return found


def test_every_dag_follows_the_policy(dags):
    from saas_ops import alerts

    problems = []
    for dag_id, dag in dags.items():
        if not dag.doc_md or len(dag.doc_md.strip()) < 80:
            problems.append(f"{dag_id}: doc_md missing or too short for a data person")
        if not dag.tags or not any(t.startswith(alerts.SEVERITY_TAG_PREFIX) for t in dag.tags):
            problems.append(f"{dag_id}: tags must include a severity:P0..P3 tag")
        if not isinstance(dag.on_failure_callback, alerts.DagFailureNotifier):
            problems.append(f"{dag_id}: DAG on_failure_callback is not the shared DagFailureNotifier")
        if "failure_backstop" not in dag.task_dict:
            problems.append(f"{dag_id}: no failure_backstop task")
        for task in dag.tasks:
            where = f"{dag_id}.{task.task_id}"
            if not task.owner or task.owner == "airflow":
                problems.append(f"{where}: no owner")
            if task.execution_timeout is None or task.execution_timeout > dt.timedelta(hours=12):
                problems.append(f"{where}: execution_timeout missing or over 12 h")
            if task.task_id == "failure_backstop":
                continue
            # A check of data (check_*) gives the same answer on a retry: it may fail at once instead.
            if task.retries < 1 and not task.task_id.startswith("check_"):
                problems.append(f"{where}: no retries")
            if task.retries and not task.retry_exponential_backoff:
                problems.append(f"{where}: retries without exponential backoff")
            callbacks = task.on_failure_callback if isinstance(task.on_failure_callback, list) else [
                task.on_failure_callback]
            if not any(isinstance(c, alerts.TaskFailureNotifier) for c in callbacks if c) \
                    and dag_id != "alert_drill_no_callbacks":
                problems.append(f"{where}: no TaskFailureNotifier on failure")
    assert problems == []


def test_p0_dags_page(dags):
    from saas_ops import alerts

    for dag_id in ("db_backup", "db_restore_drill", "db_restore_drill_monthly"):
        if dag_id in dags:
            assert alerts.severity_of(dags[dag_id]) == "P0", dag_id
