"""Point-in-time recovery on Barman's archive (backups/archiving.py): base backups recorded in `backups`, the
RPO measured into `backup_rpo`, and physical drills that restore a base backup, replay WAL to a target time in a
scratch server, and prove the result by the marks written into saas_db (present when committed by then, absent
when after) and, replayed to a base backup's manifest, by every table's rows and checksum."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from airflow.sdk import task

from saas_ops.backups import archiving, pg_server, source_server
from saas_ops.backups.check import Check, compare_tables
from saas_ops.backups.dump import database_contents
from saas_ops.backups.pg_tools import BackupError


def write_mark(note: str) -> tuple[int, dt.datetime]:
    """A mark in saas_db, written through the marks role; returns its id and commit time."""
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        conn.execute(f"SET LOCAL ROLE {archiving.MARKS_ROLE}")
        mark_id = conn.execute("INSERT INTO saas_ops_pitr.marks (note) VALUES (%s) RETURNING mark_id",
                               (note,)).fetchone()[0]
        conn.commit()
        committed = conn.execute("SELECT pg_xact_commit_timestamp(xmin) FROM saas_ops_pitr.marks WHERE mark_id = %s",
                                 (mark_id,)).fetchone()[0]
    return mark_id, committed


def close_segment(timeout_s: float = 90) -> None:
    """Closes the current WAL segment and waits until every closed one is archived (and filed, in the local
    folder), so that what was committed until now can be restored without waiting for archive_timeout."""
    from saas_ops import db

    write_mark("closing a segment")  # pg_switch_wal does nothing when no WAL was written since the last switch
    with db.connect(db.SOURCE_CONN_ID, autocommit=True) as conn:
        conn.execute("SELECT pg_switch_wal()")
        deadline = time.monotonic() + timeout_s  # the archiver pauses a minute after failures in a row
        while conn.execute("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'").fetchone()[0]:
            if time.monotonic() > deadline:
                raise BackupError(f"the closed WAL segments were not archived within {timeout_s:.0f} s: "
                                  "see pg_stat_archiver and the server's log")
            time.sleep(0.2)
    archive = archiving.open_archive()
    if isinstance(archive, archiving.LocalArchive):
        archive.cron()


def archive_through(lsn: str) -> None:
    """Closes the WAL segment holding `lsn` when it is not archived yet, so that replay can reach it now rather
    than after archive_timeout."""
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        archived = conn.execute("SELECT coalesce(substr(last_archived_wal, 9) >= substr(pg_walfile_name(%s::pg_lsn "
                                "+ 1), 9), false) FROM pg_stat_archiver", (lsn,)).fetchone()[0]
    if not archived:
        close_segment()


def marks_committed(conn: Any) -> dict[int, dt.datetime]:
    return dict(conn.execute("SELECT mark_id, pg_xact_commit_timestamp(xmin) FROM saas_ops_pitr.marks").fetchall())


# --------------------------------------------------------------------------------------- base backups


def take_base_backup(backup_id: str, parent: str | None = None) -> dict[str, Any]:
    """A Barman base backup of saas_db and its manifest, recorded in `backups` (kind `base`); a rerun of a backup
    that succeeded takes none. A failure is recorded with its reason, and Barman keeps a failed backup out of its
    list of good ones (status FAILED), so nothing half-taken is ever restored."""
    from saas_ops import config, db, storage

    schema = config.schema_name("OUTPUT_SCHEMA")
    with db.warehouse() as wh:
        rows = db.fetch_sql_file(wh, "backups/backup_status.sql", {"backup_id": backup_id}, schema=schema)
        if rows and rows[0][0] == "succeeded":
            return {"backup_id": backup_id, "reused": True}
        db.run_sql_file(wh, "backups/base_backup_started.sql", {"backup_id": backup_id}, schema=schema)
    archive = archiving.open_archive()
    try:
        archive.prepare()
        got = archive.take_base_backup(backup_id, parent)
        if got.status != "DONE":
            raise archiving.ArchiveError(f"Barman's backup {got.backup_id} ended {got.status}")
    except BaseException as exc:
        with db.warehouse() as wh:
            db.run_sql_file(wh, "backups/backup_failed.sql", {"error": str(exc)[:2000], "backup_id": backup_id},
                            schema=schema)
        raise
    t0 = time.monotonic()
    try:
        manifest = take_manifest()
    except Exception as exc:  # noqa: BLE001 - the backup is good without it: its drills are proven by the marks
        print(f"no table checksums for this base backup: {exc}")
        manifest = None
    record = {"backup_id": backup_id, "tool_backup_id": got.backup_id, "started_at": got.begin_time,
              "finished_at": got.end_time, "uri": f"{archive.where}#{got.backup_id}", "bytes": got.bytes,
              "begin_lsn": got.begin_lsn, "end_lsn": got.end_lsn, "begin_wal": got.begin_wal, "end_wal": got.end_wal,
              "format": f"barman-{archive.kind}", "tool_info": json.dumps(got.info, default=str),
              "manifest_lsn": manifest and manifest["lsn"], "manifest_uri": None,
              "tables": manifest and json.dumps(manifest["tables"]),
              "manifest_marks": manifest and json.dumps(manifest["marks"])}
    if manifest:  # beside the backups, as a dump's: a restore needs nothing but the storage
        record["manifest_uri"] = storage.open_storage().put_bytes(
            manifest_key(got.backup_id), json.dumps({**record, **manifest}, indent=2, default=str).encode())
    with db.warehouse() as wh:
        db.run_sql_file(wh, "backups/base_backup_succeeded.sql", record, schema=schema)
    return {**record, "tool_info": None, "tables": manifest and manifest["tables"],
            "manifest_seconds": time.monotonic() - t0 if manifest else None}


def manifest_key(tool_backup_id: str) -> str:
    """Where a base backup's manifest is kept in `backup_storage`."""
    return f"pitr-manifests/{tool_backup_id}.json"


def take_manifest() -> dict[str, Any] | None:
    """Every table's rows and checksum, and the marks, of saas_db at a known WAL position: read on the snapshot a
    temporary logical slot exports at its consistent point, which holds exactly the transactions that committed
    before that position, so a drill replayed to it must find them equal. None (and why, in the log) when the
    server's wal_level is not logical."""
    import psycopg

    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        wal_level = conn.execute("SHOW wal_level").fetchone()[0]
    if wal_level != "logical":
        print(f"no table checksums for this base backup: saas_db's wal_level is {wal_level}, and only a logical "
              "slot exports a snapshot at a known WAL position (setup asks for logical; restart the server); "
              "its drills are proven by the marks alone")
        return None
    slot = f"saas_ops_manifest_{secrets.token_hex(4)}"
    with psycopg.connect(db.conninfo(db.SOURCE_CONN_ID), autocommit=True, replication="database") as walsender:
        # A replication command runs only in the simple query protocol: libpq's PQexec.
        made = walsender.pgconn.exec_(f"CREATE_REPLICATION_SLOT {slot} TEMPORARY LOGICAL pgoutput "
                                      "EXPORT_SNAPSHOT".encode())
        if made.status != psycopg.pq.ExecStatus.TUPLES_OK:
            raise BackupError(f"the manifest's slot could not be made on saas_db's server: "
                              f"{made.error_message.decode(errors='replace').strip()}")
        lsn, snapshot = made.get_value(0, 1).decode(), made.get_value(0, 2).decode()
        with db.connect(db.SOURCE_CONN_ID, autocommit=True) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # the slot's snapshot, valid while it is open
            tables = database_contents(conn)["tables"]
            marks = [m for (m,) in conn.execute("SELECT mark_id FROM saas_ops_pitr.marks ORDER BY 1")]
            conn.execute("ROLLBACK")
    print(f"manifest at WAL {lsn}: {len(tables)} tables' rows and checksums, {len(marks)} marks")
    return {"lsn": lsn, "tables": tables, "marks": marks}


def expired_base_backups(ended: list[tuple[str, dt.datetime]], now: dt.datetime, window_days: int,
                         newest_proven: dt.datetime | None) -> list[str]:
    """The base backups retention removes: those older than the newest one that ended before the window began
    (it is what reaches the window's first moment), and only behind the newest base backup a physical drill
    proved. Barman then drops the WAL no kept backup needs."""
    start = now - dt.timedelta(days=window_days)
    before = sorted((at, b) for b, at in ended if at < start)
    if not before or newest_proven is None:
        return []
    reach_start = before[-1][0]
    return [b for at, b in before if at < reach_start and at < newest_proven]


def without_parents_of_kept(expired: list[str], parent_of: dict[str, str | None]) -> list[str]:
    """`expired` less every backup a kept one was taken on: an incremental backup restores only with its chain."""
    needed = set()
    for kept in set(parent_of) - set(expired):
        while parent_of.get(kept):
            kept = parent_of[kept]
            needed.add(kept)
    return [b for b in expired if b not in needed]


def apply_base_retention(archive: Any, now: dt.datetime) -> list[str]:
    from saas_ops import config, db, storage

    schema = config.schema_name("OUTPUT_SCHEMA")
    with db.warehouse() as wh:
        proven = db.fetch_sql_file(wh, "backups/newest_proven_base_backup.sql", schema=schema)[0][0]
    backups = [b for b in archive.base_backups() if b.status == "DONE" and b.end_time]
    expired = expired_base_backups([(b.backup_id, b.end_time) for b in backups], now,
                                   config.setting("PITR_WINDOW_DAYS"), proven)
    expired = without_parents_of_kept(expired, {b.backup_id: b.info.get("parent_backup_id") for b in backups})
    store = storage.open_storage()
    for tool_id in reversed(expired):  # the newest first: an incremental before the backup it was taken on
        archive.delete(tool_id)
        store.delete([manifest_key(tool_id)])
        with db.warehouse() as wh:
            db.run_sql_file(wh, "backups/base_backup_deleted.sql", {"tool_backup_id": tool_id}, schema=schema)
        print(f"retention: base backup {tool_id} removed (older than the PITR window's first backup)")
    return expired


# --------------------------------------------------------------------------------------- RPO


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


# --------------------------------------------------------------------------------------- physical drill


# Replay refuses a server with less of these than the primary had.
REPLAY_MINIMUMS = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
                   "max_locks_per_transaction")


def _as_on_source() -> str:
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        rows = conn.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(REPLAY_MINIMUMS),))
        return " ".join(f"-c {name}={int(value)}" for name, value in rows)


def physical_drill(drill_id: str, target_time: dt.datetime | None, *, keep_restored: bool, folder: Path
                   ) -> dict[str, Any]:
    """Restores the newest base backup that ended before `target_time` (or the newest: to its manifest's WAL
    position, or its end without one) into `folder`, replays WAL to the target in a scratch server on 127.0.0.1,
    and proves it by the marks and the manifest's tables. Writes the `restore_drills` row whatever happens;
    removes the scratch server unless kept; raises when not proven."""
    import psycopg

    from saas_ops import config, db

    schema = config.schema_name("OUTPUT_SCHEMA")
    started = dt.datetime.now(dt.UTC)
    archive = archiving.open_archive()
    archive.prepare()
    good = sorted((b for b in archive.base_backups() if b.status == "DONE" and b.end_time),
                  key=lambda b: b.end_time)
    usable = [b for b in good if target_time is None or b.end_time < target_time]
    if not usable:
        raise BackupError(f"no base backup ended before {target_time or 'now'} in {archive.where}: "
                          "run db_backup (its base_backup task) first")
    base = usable[-1]
    with db.warehouse() as wh:
        manifest = None if target_time else next(iter(db.fetch_sql_file(
            wh, "backups/base_backup_manifest.sql", {"tool_backup_id": base.backup_id}, schema=schema)), None)
        db.run_sql_file(wh, "backups/physical_drill_started.sql",
                        {"drill_id": drill_id, "backup_id": base.backup_id, "started_at": started,
                         "target_time": target_time, "target_lsn": manifest and manifest[0]}, schema=schema)
    record: dict[str, Any] = {"drill_id": drill_id, "backup_id": base.backup_id, "target_time": target_time,
                              "target_lsn": manifest and manifest[0],
                              "kept_at": None, "kept_dir": None, "restore_seconds": None, "replay_seconds": None,
                              "rto_seconds": None, "rpo_seconds": None, "restored_to": None,
                              "rto_target_seconds": config.setting("RTO_TARGET_MINUTES") * 60.0}
    checks: list[Check] = []
    error = None
    account = pg_server.server_account()
    bin_dir = archive.src.bin_dir
    data = folder / "data"
    running = False
    try:
        if manifest:
            archive_through(manifest[0])
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if account is not None:
            pg_server.open_path_for(account, folder.parent)
            pg_server.hand_over(account, folder)
        t0 = time.monotonic()
        recovery = archive.restore(base.backup_id, data, account)
        if target_time:
            target = [f"recovery_target_time = '{target_time.isoformat()}'"]
        elif manifest:  # every record before the manifest's position, none from it on: its snapshot exactly
            target = [f"recovery_target_lsn = '{manifest[0]}'", "recovery_target_inclusive = off"]
        else:
            target = ["recovery_target = 'immediate'"]
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write("\n# saas_ops physical drill\n" + "\n".join(
                [*recovery, *target, "recovery_target_action = 'promote'", "archive_mode = 'off'",
                 "archive_command = ''"]) + "\n")
        (data / "recovery.signal").touch()
        pg_server.hand_over(account, folder)
        (data).chmod(0o700)
        record["restore_seconds"] = time.monotonic() - t0
        t0 = time.monotonic()
        port = pg_server.start(bin_dir, data, folder / "server.log", timeout_s=3600,
                               options="-c track_commit_timestamp=on -c archive_mode=off " + _as_on_source())
        running = True
        info = f"host=127.0.0.1 port={port} user={archive.src.user} dbname={archive.src.dbname}"
        with psycopg.connect(info, autocommit=True, connect_timeout=30) as restored:
            while restored.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                time.sleep(0.2)
            record["replay_seconds"] = time.monotonic() - t0
            restored_to = restored.execute("SELECT (pg_last_committed_xact()).timestamp").fetchone()[0]
            got = marks_committed(restored)
            tables = database_contents(restored)["tables"] if manifest else None
        record["rto_seconds"] = record["restore_seconds"] + record["replay_seconds"]
        restored_to = restored_to or base.end_time  # no commit replayed: the database as the backup ended
        record["restored_to"] = restored_to
        record["rpo_seconds"] = max(0.0, ((target_time or started) - restored_to).total_seconds())
        if manifest:
            lsn, manifest_tables, manifest_marks = manifest
            seen = set(manifest_marks)
            checks.append(Check(f"marks of the manifest at WAL {lsn} present", manifest_marks,
                                sorted(m for m in got if m in seen)))
            checks.append(Check("marks committed after the manifest absent", [],
                                sorted(m for m in got if m not in seen)))
            checks += compare_tables(manifest_tables, tables)
        else:
            with db.connect(db.SOURCE_CONN_ID) as src:
                source_marks = marks_committed(src)
            upto = target_time or base.end_time
            checks.append(Check(f"marks committed by {upto:%Y-%m-%d %H:%M:%S.%f} UTC present",
                                sorted(m for m, at in source_marks.items() if at <= upto),
                                sorted(m for m in got if source_marks.get(m) and source_marks[m] <= upto)))
            checks.append(Check("marks committed after the target absent", [],
                                sorted(m for m in got if m not in source_marks or source_marks[m] > upto)))
        checks.append(Check("RTO within the target", True, record["rto_seconds"] <= record["rto_target_seconds"]))
        if keep_restored:
            record["kept_at"], record["kept_dir"] = f"127.0.0.1:{port}", str(folder)
    except Exception as exc:  # noqa: BLE001 - recorded in the drill's row, then raised below
        error = str(exc)
        log = folder / "server.log"
        if log.exists():  # the restoring server's own words: a missing or corrupt WAL segment, a target not reached
            said = [line for line in log.read_text(errors="replace").splitlines()
                    if "FATAL" in line or "PANIC" in line or "invalid" in line or "ERROR" in line]
            error += " | the restoring server: " + " / ".join(said[-4:])
    finally:
        if not record["kept_at"]:
            if running:
                pg_server.stop(bin_dir, data)
            shutil.rmtree(folder, ignore_errors=True)
    failed = [c for c in checks if not c.ok]
    status = "passed" if error is None and not failed else "failed"
    with db.warehouse() as wh:
        db.run_sql_file(wh, "backups/physical_drill_finished.sql",
                        {**record, "status": status, "error": error,
                         "checks": json.dumps([c.as_json() for c in checks], default=str)}, schema=schema)
    record.update(status=status, checks=len(checks), failed=[c.as_json() for c in failed], error=error)
    if status == "failed":
        reasons = ([error] if error else []) + [f"{c.name}: expected {c.expected}, got {c.actual}" for c in failed]
        raise BackupError(f"physical drill {drill_id} of base backup {base.backup_id} to "
                          f"{target_time or replayed_to(record)} FAILED: " + "; ".join(reasons))
    return record


def replayed_to(record: dict[str, Any]) -> str:
    """Where a drill with no target time replayed to, in words."""
    return f"its manifest at WAL {record['target_lsn']}" if record.get("target_lsn") else "its end"


def stop_kept(schema: str) -> list[str]:
    """Stops every restored server a drill kept (`keep_restored`) and removes its files; returns where they ran."""
    from saas_ops import db

    stopped = []
    with db.warehouse() as wh:
        kept = db.fetch_sql_file(wh, "backups/kept_restores.sql", schema=schema)
    for drill_id, kept_at, kept_dir in kept:
        folder = Path(kept_dir)
        if (folder / "data").exists():
            pg_server.stop(source_server.source().bin_dir, folder / "data")
        shutil.rmtree(folder, ignore_errors=True)
        with db.warehouse() as wh:
            db.run_sql_file(wh, "backups/kept_restore_stopped.sql", {"drill_id": drill_id}, schema=schema)
        stopped.append(kept_at)
    return stopped


# --------------------------------------------------------------------------------------- tasks


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


@task
def base_backup(**context: Any) -> dict[str, Any]:
    """A Barman base backup when the newest good one is older than BASE_BACKUP_EVERY_DAYS (0: never), with the
    archive set up (archive_mode on); otherwise says why none was taken."""
    from saas_ops import config, db

    every = config.setting("BASE_BACKUP_EVERY_DAYS")
    with db.connect(db.SOURCE_CONN_ID) as conn:
        mode = conn.execute("SHOW archive_mode").fetchone()[0]
    if every <= 0 or mode != "on":
        print("no base backup: " + ("BASE_BACKUP_EVERY_DAYS is 0" if every <= 0 else
              "archive_mode is off on saas_db's server (python -m saas_ops.backups.archiving setup)"))
        return {"taken": False}
    schema = config.schema_name("OUTPUT_SCHEMA")
    now = context.get("logical_date") or context["dag_run"].run_after
    with db.warehouse() as wh:
        newest = db.fetch_sql_file(wh, "backups/newest_base_backup.sql", schema=schema)[0][0]
    if newest is not None and now - newest < dt.timedelta(days=every) - dt.timedelta(hours=1):
        print(f"no base backup: the newest good one ended {newest}, within {every} day(s)")
        return {"taken": False}
    parent = archiving.open_archive().incremental_parent(
        dt.timedelta(days=config.setting("BASE_BACKUP_FULL_EVERY_DAYS")) - dt.timedelta(hours=1), now)
    record = take_base_backup(f"base-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}", parent)
    print(f"base backup {record['backup_id']} ({f'incremental on {parent}' if parent else 'full'}): "
          f"{record.get('bytes')} bytes, WAL {record.get('begin_wal')} to {record.get('end_wal')}")
    expired = apply_base_retention(archiving.open_archive(), now)
    return {"taken": True, "backup_id": record["backup_id"], "expired": expired}
