"""Alerting shared by every DAG: failure, retry and deadline callbacks, a backstop task, and the channels.

Channels: Slack (`slack_alerts`), email (Resend through `resend_default`, else SMTP through `smtp_default`,
to the ALERT_EMAILS setting) and PagerDuty (`pagerduty_default`) for P0 DAGs. A channel without its
connection writes to the local outbox (<LOCAL_DIR>/outbox) and says so in the log.

Why three layers (each tested against the pinned Airflow in tests/dags/test_alerting.py):
- task callbacks through default_args: the fastest, most detailed message;
- `failure_backstop()`, a last task with trigger_rule one_failed: fires even where a callback does not
  (DAG-level on_failure_callback never firing, apache/airflow#63374);
- the ops_watchdog DAG: catches a run that died without a word (a killed worker runs no callback, #60858).

A storm is held: per DAG run and channel only the first failure message goes out (claimed in
<OUTPUT_SCHEMA>.alert_claims); later failures are recorded in alert_log and counted. A notifier never
raises: an alerting error is logged and the task's own outcome stands.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from typing import Any

from airflow.sdk import AsyncCallback, BaseNotifier, DeadlineAlert, DeadlineReference, task

from saas_ops import alert_channels
from saas_ops.alert_message import FAILURE_KINDS, Alert

log = logging.getLogger(__name__)

SEVERITIES = ("P0", "P1", "P2", "P3")
SEVERITY_TAG_PREFIX = "severity:"
# At most one message per run_id and channel: a failed run, a watchdog day, a revenue day, a run's data report.
HELD_KINDS = (*FAILURE_KINDS, "watchdog", "business", "data_quality")
SLACK_ONLY_KINDS = ("retry", "business", "data_quality")


# --------------------------------------------------------------------------------------- the policy


def dag_policy(*, severity: str, owner: str, tags: list[str], deadline: dt.timedelta | None = None,
               retries: int = 2, retry_delay: dt.timedelta = dt.timedelta(minutes=1),
               execution_timeout: dt.timedelta = dt.timedelta(hours=2)) -> dict[str, Any]:
    """Keyword arguments for @dag that every DAG of the pack shares: retries with exponential backoff,
    a timeout, failure and retry callbacks, the severity as a tag, and an optional deadline alert."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    policy: dict[str, Any] = {
        "default_args": {
            "owner": owner,
            "retries": retries,
            "retry_delay": retry_delay,
            "retry_exponential_backoff": True,
            "max_retry_delay": dt.timedelta(minutes=30),
            "execution_timeout": execution_timeout,
            "on_failure_callback": TaskFailureNotifier(severity),
            "on_retry_callback": RetryNotifier(severity),
        },
        "on_failure_callback": DagFailureNotifier(severity),
        "tags": [*tags, SEVERITY_TAG_PREFIX + severity],
    }
    if deadline is not None:
        policy["deadline"] = DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=deadline,
            callback=AsyncCallback(deadline_missed, kwargs={"severity": severity, "allowed": str(deadline)}),
        )
    return policy


def severity_of(dag: Any) -> str:
    for tag in getattr(dag, "tags", None) or ():
        if str(tag).startswith(SEVERITY_TAG_PREFIX):
            return str(tag)[len(SEVERITY_TAG_PREFIX):]
    return "P3"


# --------------------------------------------------------------------------------------- the message


def money(cents: int, currency: str, *, signed: bool = False) -> str:
    """12345678 -> '123,456.78 USD' (with a sign when `signed`)."""
    sign = ("+" if cents >= 0 else "-") if signed else ("-" if cents < 0 else "")
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d} {currency}"


def last_error_line(exc: BaseException | None, limit: int = 500) -> str | None:
    """The exception as its traceback's last line ('Type: message'), cut to `limit` characters."""
    if exc is None:
        return None
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _owner(context: Any) -> str | None:
    task_ = context.get("task")
    return getattr(task_, "owner", None) if task_ is not None else None


def _task_alert(context: Any, kind: str, severity: str, title: str) -> Alert:
    ti = context["ti"]
    task_ = context.get("task")
    retries = getattr(task_, "retries", None)
    return Alert(
        kind=kind, severity=severity, dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
        try_number=ti.try_number, max_tries=(retries + 1) if retries is not None else None,
        owner=_owner(context), error=last_error_line(context.get("exception")),
        log_url=_safe(lambda: ti.log_url), title=title,
    )


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception:
        return None


# --------------------------------------------------------------------------------------- callbacks


class TaskFailureNotifier(BaseNotifier):
    """on_failure_callback of every task: the first failure of a run goes to every channel."""

    def __init__(self, severity: str):
        super().__init__()
        self.severity = severity

    def notify(self, context: Any) -> None:
        try:
            ti = context["ti"]
            dispatch(_task_alert(context, "task_failure", self.severity, f"{ti.dag_id}.{ti.task_id} failed"))
        except Exception:
            log.exception("saas_ops: the task failure alert itself failed; the task's outcome is unchanged")


class RetryNotifier(BaseNotifier):
    """on_retry_callback: a quieter Slack line, no email or page."""

    def __init__(self, severity: str):
        super().__init__()
        self.severity = severity

    def notify(self, context: Any) -> None:
        try:
            ti = context["ti"]
            dispatch(_task_alert(context, "retry", self.severity, f"{ti.dag_id}.{ti.task_id} will retry"))
        except Exception:
            log.exception("saas_ops: the retry alert itself failed; the task's outcome is unchanged")


class DagFailureNotifier:
    """DAG-level on_failure_callback (runs in the DAG processor, where it runs at all: see the module doc).

    A plain callable, not a BaseNotifier: on Airflow 3.3.2 a notifier at DAG level fails before notifying
    ('SerializedDAG' object has no attribute 'get_template_env') when the run is driven by dag.test().
    """

    def __init__(self, severity: str):
        self.severity = severity

    def __call__(self, context: Any) -> None:
        try:
            dag_run = context["dag_run"]
            reason = context.get("reason") or "a task failed"
            dispatch(Alert(kind="dag_failure", severity=self.severity, dag_id=dag_run.dag_id,
                           run_id=dag_run.run_id, title=f"DAG run of {dag_run.dag_id} failed",
                           error=str(reason)))
        except Exception:
            log.exception("saas_ops: the DAG failure alert itself failed")


async def deadline_missed(context: Any, severity: str = "P2", allowed: str = "", **_: Any) -> None:
    """AsyncCallback of a DeadlineAlert (runs in the triggerer): the run is late."""
    import asyncio

    dag_run = context.get("dag_run") or {}
    get = dag_run.get if isinstance(dag_run, dict) else (lambda k: getattr(dag_run, k, None))
    dag_id, run_id = get("dag_id") or "?", get("run_id") or "?"
    alert = Alert(kind="deadline", severity=severity, dag_id=dag_id, run_id=run_id,
                  title=f"{dag_id} missed its deadline: not finished {allowed} after it was queued")
    await asyncio.to_thread(dispatch, alert)


@task(trigger_rule="one_failed", retries=0, on_failure_callback=[])  # it alerts by itself
def failure_backstop(**context: Any) -> str:
    """Last task of every DAG: runs only when an upstream task failed, and alerts unless a callback did.

    Covers failure callbacks that never ran. It then fails itself so the run is marked failed, not green.
    """
    from airflow.sdk.exceptions import AirflowFailException

    ti, dag = context["ti"], context["dag"]
    failed = [t for t in ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {}).items()
              if t[1] in ("failed", "upstream_failed")]
    names = sorted(task_id for task_id, state in failed if state == "failed")
    dispatch(Alert(kind="backstop", severity=severity_of(dag), dag_id=ti.dag_id, run_id=ti.run_id,
                   title=f"{ti.dag_id}: {len(names)} task(s) failed", owner=_owner(context),
                   details=[f"failed: {', '.join(names) or 'unknown'}"], log_url=_safe(lambda: ti.log_url)))
    raise AirflowFailException(f"upstream task(s) failed: {', '.join(names) or 'unknown'}")


# --------------------------------------------------------------------------------------- dispatch


def channels_for(alert: Alert) -> list[str]:
    if alert.kind in SLACK_ONLY_KINDS:
        return ["slack"]
    return ["slack", "email"] + (["pagerduty"] if alert.severity == "P0" else [])


def dispatch(alert: Alert) -> list[str]:
    """Records the alert, applies the storm hold, and sends it on each channel. Never raises.

    Returns the channels it was sent on.
    """
    record = _record(alert)
    sent: list[str] = []
    for channel in channels_for(alert):
        if alert.kind in HELD_KINDS and record is not None and not _claim(alert, channel):
            log.info("saas_ops: %s alert for %s/%s held (a failure message already went to %s for this run)",
                     alert.kind, alert.dag_id, alert.run_id, channel)
            continue
        try:
            where = alert_channels.SENDERS[channel](alert)
            sent.append(channel)
            log.info("saas_ops: %s alert for %s sent to %s", alert.kind, alert.dag_id, where)
        except Exception:
            log.exception("saas_ops: sending the %s alert for %s to %s failed", alert.kind, alert.dag_id, channel)
            if alert.kind in HELD_KINDS and record is not None:
                _release(alert, channel)  # the next failure of this run may get through instead
    if record is not None:
        _mark_sent(record, sent)
    return sent


def _with_warehouse(fn: Any) -> Any:
    """Runs fn(conn, schema) on the warehouse, or returns None when it is unreachable (alerts still go)."""
    try:
        from saas_ops import config, db

        schema = config.schema_name("OUTPUT_SCHEMA")
        with db.warehouse() as conn:
            return fn(conn, schema)
    except Exception as exc:
        log.warning("saas_ops: alert bookkeeping unavailable (%s); sending without the storm hold",
                    last_error_line(exc, 200))
        return None


def _record(alert: Alert) -> int | None:
    """Inserts the alert into alert_log and fills alert.failed_so_far; returns its id."""

    def insert(conn: Any, schema: str) -> int:
        from saas_ops.db import fetch_sql_file

        alert_id = fetch_sql_file(conn, "alerts/record_alert.sql", {
            "dag_id": alert.dag_id, "run_id": alert.run_id, "task_id": alert.task_id, "try_number": alert.try_number,
            "kind": alert.kind, "severity": alert.severity, "summary": alert.title}, schema=schema)[0][0]
        if alert.is_failure:
            alert.failed_so_far = fetch_sql_file(conn, "alerts/failed_tasks_of_run.sql",
                                                 {"dag_id": alert.dag_id, "run_id": alert.run_id}, schema=schema)[0][0]
        return alert_id

    return _with_warehouse(insert)


def _claim(alert: Alert, channel: str) -> bool:
    def claim(conn: Any, schema: str) -> bool:
        from saas_ops.db import fetch_sql_file

        return bool(fetch_sql_file(conn, "alerts/claim_channel.sql",
                                   {"dag_id": alert.dag_id, "run_id": alert.run_id, "channel": channel}, schema=schema))

    claimed = _with_warehouse(claim)
    return True if claimed is None else claimed


def _release(alert: Alert, channel: str) -> None:
    def release(conn: Any, schema: str) -> None:
        from saas_ops.db import run_sql_file

        run_sql_file(conn, "alerts/release_channel.sql",
                     {"dag_id": alert.dag_id, "run_id": alert.run_id, "channel": channel}, schema=schema)

    _with_warehouse(release)


def _mark_sent(alert_id: int, channels: list[str]) -> None:
    def update(conn: Any, schema: str) -> None:
        from saas_ops.db import run_sql_file

        run_sql_file(conn, "alerts/mark_sent.sql", {"channels": channels, "held": not channels, "alert_id": alert_id},
                     schema=schema)

    _with_warehouse(update)
