"""The RPO measured all the time: how old the newest archived WAL is, what the source keeps for the archive or a
slot, and the archive's own check, written to `backup_rpo` every 15 minutes and alerted on (backup_archive_watch)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from airflow.sdk import task

from saas_ops.backups import archiving
from saas_ops.backups.marks import write_mark


def measure_rpo(now: dt.datetime) -> dict[str, Any]:
    """How much of saas_db's writes would be lost now: read from the source's archiver, its kept WAL and slots,
    and the archive's own check; written to `backup_rpo`."""
    from saas_ops import config, db

    schema = config.schema_name("OUTPUT_SCHEMA")
    with db.connect(db.SOURCE_CONN_ID) as conn:
        state = dict(zip(["archive_mode", "last_archived_wal", "last_archived_at", "failed_count", "last_failed_wal",
                          "last_failed_at", "current_wal", "unarchived", "ready_bytes", "slot_retained_bytes",
                          "server_now"],
                         db.fetch_sql_file(conn, "backups/archiver_state.sql")[0], strict=True))
    problems: list[str] = []
    if state["archive_mode"] != "on":
        problems.append("archive_mode is off on saas_db's server: nothing is archived "
                        "(python -m saas_ops.backups.archiving setup, then restart it)")
    try:
        archive = archiving.open_archive()
        if isinstance(archive, archiving.LocalArchive):
            archive.prepare()  # files the WAL waiting in incoming
        problems += archive.check()
        where = archive.where
    except Exception as exc:  # noqa: BLE001 - an unreachable archive is a finding, reported below
        problems.append(f"the archive cannot be read: {exc}")
        where = None
    rpo = 0.0
    if state["unarchived"]:
        since = state["last_archived_at"] or state["server_now"] - dt.timedelta(days=365)
        rpo = (state["server_now"] - since).total_seconds()
    target = config.setting("RPO_TARGET_MINUTES") * 60
    if rpo > target:
        problems.append(f"RPO {rpo / 60:.0f} min is over the {target / 60:.0f} min target: the newest archived WAL "
                        f"is {state['last_archived_wal'] or 'none'} at {state['last_archived_at'] or 'never'}")
    failing = state["last_failed_at"] and (not state["last_archived_at"]
                                           or state["last_failed_at"] > state["last_archived_at"])
    if failing:
        problems.append(f"the archive command fails: WAL {state['last_failed_wal']} last failed at "
                        f"{state['last_failed_at']:%Y-%m-%d %H:%M:%S} UTC ({state['failed_count']} failures); the "
                        "server keeps the WAL and retries, so nothing is lost once it works again")
    retained = int(state["ready_bytes"] or 0) + int(state["slot_retained_bytes"] or 0)
    limit = config.setting("WAL_RETAINED_MAX_MB") * 1024 * 1024
    if retained > limit:
        problems.append(f"saas_db's server keeps {retained / 1024 ** 2:,.0f} MB of WAL for the archive or a "
                        f"replication slot (limit {limit / 1024 ** 2:,.0f} MB): it grows until the disk is full")
    row = {"measured_at": now, "last_archived_at": state["last_archived_at"],
           "last_archived_wal": state["last_archived_wal"], "rpo_seconds": rpo, "retained_wal_bytes": retained,
           "failed_count": state["failed_count"], "last_failed_at": state["last_failed_at"],
           "last_failed_wal": state["last_failed_wal"], "current_wal": state["current_wal"],
           "slot_retained_bytes": state["slot_retained_bytes"], "archive": where, "ok": not problems,
           "problems": json.dumps(problems)}
    with db.warehouse() as wh:
        db.run_sql_file(wh, "backups/rpo_measured.sql", row, schema=schema)
    return {**row, "problems": problems, "severity": "P0" if rpo > 2 * target else "P1"}


@task
def watch_archive(**context: Any) -> dict[str, Any]:
    """Writes a mark, measures the RPO into `backup_rpo`, and alerts (P1; P0 past twice the target) on any
    problem: a failing archive command, an unreachable archive, WAL piling up on the source."""
    from saas_ops import alerts

    now = context.get("logical_date") or context["dag_run"].run_after
    mark = None
    try:
        mark = write_mark(f"backup_archive_watch {context['run_id']}")
    except Exception as exc:  # noqa: BLE001 - no marks role yet: archiving is not set up, which measure_rpo names
        print(f"no mark written: {exc}")
    measured = measure_rpo(now)
    print(f"RPO {measured['rpo_seconds']:.0f} s; newest archived WAL {measured['last_archived_wal']} at "
          f"{measured['last_archived_at']}; WAL kept on the source {measured['retained_wal_bytes']:,} bytes"
          + (f"; mark {mark[0]} committed {mark[1]}" if mark else ""))
    for problem in measured["problems"]:
        print(f"PROBLEM: {problem}")
    if measured["problems"]:
        alerts.dispatch(alerts.Alert(kind="watchdog", severity=measured["severity"], dag_id="backup_archive_watch",
                                     run_id=context["run_id"], title="backup_archive_watch: the archive is behind "
                                     "or failing", details=[f"• {p}" for p in measured["problems"]]))
    return {k: v for k, v in measured.items() if k in ("rpo_seconds", "ok", "last_archived_wal")}
