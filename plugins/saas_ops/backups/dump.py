"""db_backup: backups of saas_db that a drill can prove (backups/drill.py).

A backup is `pg_dump` of saas_db, streamed into `backup_storage` (S3, or the local folder) while it is
written, its SHA-256 computed on the way. In the same snapshot as the dump (exported, and handed to
pg_dump) it records every table's row count and content checksum, and the sequences, indexes and
constraints: the manifest, stored beside the dump and in `backups`. A restore needs nothing but storage.

Restoring it is backups/drill.py's.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow.sdk import task

from saas_ops import alerts, assets
from saas_ops.backups.pg_tools import BackupError, libpq_env, pg_tools, server_major, tool_major

DAG_ID = "db_backup"
PREFIX = "backups"
FORMATS = {"custom": "dump.pgdump", "directory": "dump.tar"}  # directory dumps are stored as one tar
TABLE_SHRINK_MIN_ROWS = 100  # below this, a table losing rows is not worth an alert


# --------------------------------------------------------------------------------------- contents


def database_contents(conn: Any) -> dict[str, Any]:
    """What a backup vouches for, read in the connection's transaction (its snapshot): per table its row
    count and content checksum; the sequences' last values; the index and constraint names."""
    from saas_ops.db import fetch_sql_file

    tables = {}
    for schema, table, by_values in fetch_sql_file(conn, "backups/contents_tables.sql"):
        rows, checksum = fetch_sql_file(conn, "backups/table_checksum.sql", {"by_values": by_values},
                                        schema=schema, table=table)[0]
        tables[f"{schema}.{table}"] = {"rows": rows, "checksum": checksum}
    objects: dict[str, Any] = {"sequences": {}, "indexes": [], "constraints": []}
    for kind, name, value in fetch_sql_file(conn, "backups/contents_objects.sql"):
        if kind == "sequences":
            objects[kind][name] = value
        else:
            objects[kind].append(name)
    return {"tables": tables, "objects": objects}


# --------------------------------------------------------------------------------------- backup


@dataclass
class BackupOptions:
    format: str = "custom"
    compression: str = "1"
    jobs: int = 2

    @classmethod
    def from_settings(cls) -> BackupOptions:
        from saas_ops import config

        options = cls(config.setting("BACKUP_FORMAT"), str(config.setting("BACKUP_COMPRESSION")),
                      config.setting("BACKUP_JOBS"))
        if options.format not in FORMATS:
            raise BackupError(f"Variable BACKUP_FORMAT={options.format!r}: expected custom or directory")
        return options


def backup_id_for(database: str, at: dt.datetime) -> str:
    return f"{database}-{at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def _dump_chunks(proc: subprocess.Popen, stderr: Path, what: str = "pg_dump") -> Iterator[bytes]:
    """A dumping process's output as it is written; raises at the end unless the process succeeded, so
    that storage drops what it received rather than keep half a dump."""
    from saas_ops.storage import CHUNK_BYTES

    assert proc.stdout is not None
    while chunk := proc.stdout.read(CHUNK_BYTES):
        yield chunk
    code = proc.wait()
    if code != 0:
        detail = stderr.read_text(errors="replace").strip()[-800:] or "no message"
        how = f"was killed (signal {-code})" if code < 0 else f"failed (exit {code})"
        raise BackupError(f"{what} {how}: {detail}")


def _dump_command(bin_dir: Path, conninfo: str, snapshot: str, options: BackupOptions, out_dir: Path | None
                  ) -> list[str]:
    command = [str(bin_dir / "pg_dump"), f"--dbname={conninfo}", f"--snapshot={snapshot}", "--no-password",
               f"--compress={options.compression}"]
    if options.format == "directory":
        assert out_dir is not None
        return [*command, "--format=directory", f"--jobs={options.jobs}", f"--file={out_dir}"]
    return [*command, "--format=custom"]


def take_backup(backup_id: str, options: BackupOptions) -> dict[str, Any]:
    """Dumps saas_db into storage with its manifest and records it in `backups`; returns the manifest.
    A backup that already succeeded is not taken again. On any failure the row says `failed` with the
    reason, and nothing of it is left in storage."""
    from saas_ops import config, db, storage

    schema = config.schema_name("OUTPUT_SCHEMA")
    store = storage.open_storage()
    folder = f"{PREFIX}/{backup_id}"
    fail_stale_backups(store, dt.timedelta(hours=config.setting("BACKUP_STALE_HOURS")))
    with db.warehouse() as wh:
        rows = db.fetch_sql_file(wh, "backups/backup_status.sql", {"backup_id": backup_id}, schema=schema)
        row = rows[0] if rows else None
        if row and row[0] == "succeeded":
            print(f"backup {backup_id} already succeeded ({row[1]}); not taken again")
            return {"backup_id": backup_id, "status": "succeeded", "reused": True}
        if row:  # a try that was killed may have left a partial file
            _discard(store, folder)
        db.run_sql_file(wh, "backups/backup_started.sql", {"backup_id": backup_id, "format": options.format,
                                                           "compression": options.compression}, schema=schema)

    try:
        manifest = _dump_to_storage(store, backup_id, options)
    except BaseException as exc:
        _discard(store, folder)
        with db.warehouse() as wh:
            db.run_sql_file(wh, "backups/backup_failed.sql", {"error": str(exc)[:2000], "backup_id": backup_id},
                            schema=schema)
        raise
    with db.warehouse() as wh:
        db.run_sql_file(wh, "backups/backup_succeeded.sql", {
            **manifest, "tables": json.dumps(manifest["tables"]), "objects": json.dumps(manifest["objects"])},
            schema=schema)
    return manifest


def _dump_to_storage(store: Any, backup_id: str, options: BackupOptions) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    from saas_ops import db

    started = dt.datetime.now(dt.UTC)
    conninfo, env = libpq_env(db.conninfo(db.SOURCE_CONN_ID))
    with db.connect(db.SOURCE_CONN_ID, autocommit=True) as snap:
        snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # The checksums run beside pg_dump, which keeps the cores busy: parallel workers only add overhead.
        snap.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
        server_version = snap.execute("SHOW server_version").fetchone()[0]
        bin_dir = pg_tools(server_major(snap))

        contents: dict[str, Any] = {}
        failure: list[BaseException] = []

        def read_contents() -> None:  # beside the dump, on the same snapshot (the exporting transaction)
            try:
                contents.update(database_contents(snap))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(exc)

        reader = threading.Thread(target=read_contents, name="backup-contents")
        reader.start()
        try:
            stored, dump_seconds = _dump(store, keys_of(backup_id, options.format)[0], bin_dir, conninfo, env,
                                         snapshot, options)
        except BaseException:
            snap.cancel_safe()  # the checksums are of no use now: stop them rather than wait for them
            raise
        finally:
            reader.join()
            snap.execute("ROLLBACK")
    if failure:
        raise BackupError(f"reading the tables' checksums failed: {failure[0]}") from failure[0]

    manifest = {
        "backup_id": backup_id, "database": conninfo_to_dict(conninfo).get("dbname"), "status": "succeeded",
        "started_at": started.isoformat(), "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "format": options.format, "compression": options.compression, "server_version": server_version,
        "pg_dump_version": f"{tool_major(bin_dir / 'pg_dump')}", "uri": stored.uri, "bytes": stored.bytes,
        "sha256": stored.sha256, "dump_seconds": round(dump_seconds, 3),
        "tables": contents["tables"], "objects": contents["objects"],
    }
    manifest["manifest_uri"] = store.put_bytes(keys_of(backup_id, options.format)[1],
                                               json.dumps(manifest, indent=2, sort_keys=True).encode())
    return manifest


def _dump(store: Any, key: str, bin_dir: Path, conninfo: str, env: dict[str, str], snapshot: str,
          options: BackupOptions) -> tuple[Any, float]:
    """Runs pg_dump on the snapshot and streams its output to `key`; returns (what was stored, seconds)."""
    with tempfile.TemporaryDirectory(prefix="saas_ops_dump_") as tmp:
        stderr_path, out_dir = Path(tmp) / "pg_dump.stderr", Path(tmp) / "dump"
        t0 = time.monotonic()
        with stderr_path.open("wb") as stderr:
            proc = subprocess.Popen(_dump_command(bin_dir, conninfo, snapshot, options, out_dir), env=env,
                                    stdout=subprocess.PIPE, stderr=stderr)
        try:
            if options.format == "custom":
                stored = store.upload_stream(key, _dump_chunks(proc, stderr_path))
            else:  # pg_dump -j writes a folder: once it is complete, it is streamed to storage as one tar
                for _ in _dump_chunks(proc, stderr_path):
                    pass
                tar_stderr = Path(tmp) / "tar.stderr"
                with tar_stderr.open("wb") as err:
                    tar = subprocess.Popen(["tar", "-C", str(out_dir), "-cf", "-", "."], stdout=subprocess.PIPE,
                                           stderr=err)
                stored = store.upload_stream(key, _dump_chunks(tar, tar_stderr, "tar"))
        finally:
            if proc.poll() is None:  # storage failed first: pg_dump must not outlive the backup
                proc.kill()
                proc.wait()
        return stored, time.monotonic() - t0


def fail_stale_backups(store: Any, older_than: dt.timedelta) -> list[str]:
    """Backups still `running` after `older_than`: their task was killed (a live one would have ended). Each is
    marked failed with the reason and its files (a partial dump among them) removed; returns their ids."""
    from saas_ops import config, db

    schema = config.schema_name("OUTPUT_SCHEMA")
    with db.warehouse() as wh:
        stale = db.fetch_sql_file(wh, "backups/fail_stale_backups.sql", {"older_than": older_than}, schema=schema)
    for (backup_id,) in stale:
        _discard(store, f"{PREFIX}/{backup_id}")
        print(f"backup {backup_id} was still running after {older_than}: marked failed, its files removed")
    return [backup_id for (backup_id,) in stale]


def _discard(store: Any, folder: str) -> None:
    """Removes what a failed backup left in storage (best effort: storage may be the thing that failed)."""
    try:
        store.delete(store.list_keys(folder + "/"))
    except Exception as exc:  # noqa: BLE001 - the backup's own error is the one to raise
        print(f"could not clean {folder} from storage: {exc}")


def keys_of(backup_id: str, fmt: str) -> tuple[str, str]:
    """The storage keys of a backup's dump and manifest."""
    return f"{PREFIX}/{backup_id}/{FORMATS[fmt]}", f"{PREFIX}/{backup_id}/manifest.json"


# --------------------------------------------------------------------------------------- anomalies


def anomalies(current: dict[str, Any], previous: dict[str, Any] | None, max_shrink: float) -> list[str]:
    """What looks wrong in a good backup next to the previous good one: much smaller, or a table that lost
    most of its rows or disappeared. Suspicious, not fatal: it alerts, the backup stands."""
    if not previous:
        return []
    found = []
    if previous["bytes"] and current["bytes"] < previous["bytes"] * max_shrink:
        found.append(f"backup {current['backup_id']} is {current['bytes']:,} bytes, "
                     f"{current['bytes'] / previous['bytes']:.0%} of the previous good one "
                     f"{previous['backup_id']} ({previous['bytes']:,} bytes)")
    for name, before in sorted(previous["tables"].items()):
        now = current["tables"].get(name)
        if now is None:
            found.append(f"table {name} ({before['rows']:,} rows in {previous['backup_id']}) is not in this backup")
        elif before["rows"] >= TABLE_SHRINK_MIN_ROWS and now["rows"] < before["rows"] * max_shrink:
            found.append(f"table {name} has {now['rows']:,} rows, down from {before['rows']:,} "
                         f"({now['rows'] / before['rows'] - 1:+.0%})")
    return found


# --------------------------------------------------------------------------------------- retention


@dataclass
class Retention:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    def keep(self, started: list[tuple[str, dt.datetime]]) -> set[str]:
        """The backups to keep, newest first: the newest of each of the last `daily` days, `weekly` ISO
        weeks and `monthly` months that have one (grandfather-father-son)."""
        kept: set[str] = set()
        for count, period in ((self.daily, lambda t: t.date()), (self.weekly, lambda t: t.isocalendar()[:2]),
                              (self.monthly, lambda t: (t.year, t.month))):
            periods: set[Any] = set()
            for backup_id, at in sorted(started, key=lambda b: b[1], reverse=True):
                if len(periods) >= count:
                    break
                if period(at) not in periods:
                    periods.add(period(at))
                    kept.add(backup_id)
        return kept


def apply_retention(retention: Retention) -> dict[str, list[str]]:
    """Deletes the files of good backups retention does not keep, but only those older than the newest
    backup that passed a restore drill: until a newer backup is proven, the older ones stay."""
    from saas_ops import config, db, storage

    schema = config.schema_name("OUTPUT_SCHEMA")
    with db.warehouse() as wh:
        good = db.fetch_sql_file(wh, "backups/good_backups.sql", schema=schema)
        proven = db.fetch_sql_file(wh, "backups/newest_proven_backup.sql", schema=schema)[0][0]
    keep = retention.keep(good)
    expired = sorted(b for b, at in good if b not in keep and proven is not None and at < proven)
    held = sorted(b for b, at in good if b not in keep and b not in expired)
    store = storage.open_storage()
    for backup_id in expired:
        store.delete(store.list_keys(f"{PREFIX}/{backup_id}/"))
        with db.warehouse() as wh:
            db.run_sql_file(wh, "backups/backup_deleted.sql", {"backup_id": backup_id}, schema=schema)
    return {"kept": sorted(keep), "deleted": expired, "held_until_a_newer_drill_passes": held}


# --------------------------------------------------------------------------------------- tasks


@task(outlets=[assets.BACKUP])
def backup_database(**context: Any) -> dict[str, Any]:
    """pg_dump of saas_db into backup_storage, with its manifest; keyed on the run's data interval."""
    from saas_ops import db

    options = BackupOptions.from_settings()
    database = str(db.optional_connection(db.SOURCE_CONN_ID).schema or "postgres")
    at = context.get("data_interval_end") or context["logical_date"]
    manifest = take_backup(backup_id_for(database, at), options)
    if not manifest.get("reused"):
        print(f"backup {manifest['backup_id']}: {manifest['bytes']:,} bytes in {manifest['dump_seconds']:.1f} s, "
              f"sha256 {manifest['sha256']}, {len(manifest['tables'])} tables, {manifest['format']} format, "
              f"-Z{manifest['compression']} -> {manifest['uri']}")
    return {k: manifest[k] for k in ("backup_id", "status") if k in manifest}


@task
def check_backup(backup: dict[str, Any], **context: Any) -> list[str]:
    """Compares the new backup with the previous good one; alerts (does not fail) when it looks wrong."""
    from saas_ops import config, db

    schema = config.schema_name("OUTPUT_SCHEMA")
    with db.warehouse() as wh:
        rows = db.fetch_sql_file(wh, "backups/backup_and_previous.sql", {"backup_id": backup["backup_id"]},
                                 schema=schema)
    good = [{"backup_id": r[0], "bytes": r[1], "tables": r[2]} for r in rows]
    found = anomalies(good[0], good[1] if len(good) > 1 else None, config.setting("BACKUP_MAX_SHRINK"))
    for line in found:
        print(line)
    if found:
        alerts.dispatch(alerts.Alert(
            kind="business", severity="P1", dag_id=DAG_ID, run_id=f"{DAG_ID}:{backup['backup_id']}",
            title=f"db_backup: backup {backup['backup_id']} looks wrong next to the previous one",
            details=found[:10]))
    return found


@task
def apply_backup_retention() -> dict[str, list[str]]:
    """Deletes the files of backups retention does not keep, once a newer backup passed a drill."""
    from saas_ops import config

    outcome = apply_retention(Retention(config.setting("BACKUP_KEEP_DAILY"), config.setting("BACKUP_KEEP_WEEKLY"),
                                        config.setting("BACKUP_KEEP_MONTHLY")))
    print(f"kept {len(outcome['kept'])}, deleted {len(outcome['deleted'])} "
          f"({', '.join(outcome['deleted']) or 'none'}); held until a newer backup passes a drill: "
          f"{', '.join(outcome['held_until_a_newer_drill_passes']) or 'none'}")
    return outcome
