"""Base backups of saas_db by Barman (backups/archiving.py), recorded in `backups` (kind `base`) with a manifest of
every table's rows and checksum at a known WAL position, and held to the retention rule: nothing behind the newest
backup a physical drill proved, and the WAL for any moment of the last PITR_WINDOW_DAYS kept."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from typing import Any

from airflow.sdk import task

from saas_ops.backups import archiving
from saas_ops.backups.dump import database_contents
from saas_ops.backups.pg_tools import BackupError


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
    archive = archiving.open_archive()
    parent = archive.incremental_parent(
        dt.timedelta(days=config.setting("BASE_BACKUP_FULL_EVERY_DAYS")) - dt.timedelta(hours=1), now)
    record = take_base_backup(f"base-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}", parent)
    print(f"base backup {record['backup_id']} ({f'incremental on {parent}' if parent else 'full'}): "
          f"{record.get('bytes')} bytes, WAL {record.get('begin_wal')} to {record.get('end_wal')}")
    expired = apply_base_retention(archive, now)
    return {"taken": True, "backup_id": record["backup_id"], "expired": expired}
