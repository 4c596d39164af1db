"""
DAGs that fail on purpose, for tests/dags/test_alerting.py: two tasks fail (after one retry each) beside a
healthy one. `alert_drill` has the pack's full alert policy; `alert_drill_no_callbacks` has its task
callbacks removed, so only the backstop task can tell anyone.
"""

import datetime as dt

import pendulum
from airflow.sdk import dag, task

from saas_ops import alerts


@task
def healthy() -> int:
    return 1


@task
def load_revenue() -> None:
    raise ValueError("revenue table is locked by another session")


@task
def load_usage() -> None:
    raise RuntimeError("usage export returned 0 rows")


def _policy(**overrides):
    policy = alerts.dag_policy(severity="P0", owner="revenue-team", tags=["test"], retries=1,
                               retry_delay=dt.timedelta(seconds=0))
    policy["default_args"].update(overrides)
    return policy


@dag(dag_id="alert_drill", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), doc_md=__doc__,
     **_policy())
def alert_drill():
    [healthy(), load_revenue(), load_usage()] >> alerts.failure_backstop()


@dag(dag_id="alert_drill_no_callbacks", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
     doc_md=__doc__, **_policy(on_failure_callback=None, on_retry_callback=None))
def alert_drill_no_callbacks():
    [healthy(), load_revenue(), load_usage()] >> alerts.failure_backstop()


alert_drill()
alert_drill_no_callbacks()
