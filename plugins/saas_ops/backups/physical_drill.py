"""The physical drill: restores a Barman base backup into a scratch folder, replays WAL to a target time (or the
backup's manifest) in a scratch server on 127.0.0.1, and proves it by the marks (present when committed by then,
absent when after) and the manifest's tables; keeps the restored server when asked, until the next drill stops it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any

from saas_ops.backups import archiving, pg_server, source_server
from saas_ops.backups.check import Check, compare_tables
from saas_ops.backups.dump import database_contents
from saas_ops.backups.marks import archive_through, marks_committed
from saas_ops.backups.pg_tools import BackupError

# Replay refuses a server with less of these than the primary had.
REPLAY_MINIMUMS = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
                   "max_locks_per_transaction")


def _as_on_source() -> str:
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        rows = conn.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(REPLAY_MINIMUMS),))
        return " ".join(f"-c {name}={int(value)}" for name, value in rows)


def run(drill_id: str, target_time: dt.datetime | None, *, keep_restored: bool, folder: Path) -> dict[str, Any]:
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
