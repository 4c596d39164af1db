"""db_backup and db_restore_drill: backups of saas_db that are proven to restore.

A backup is `pg_dump` of saas_db, streamed into `backup_storage` (S3, or the local folder) while it is
written, its SHA-256 computed on the way. In the same snapshot as the dump (exported, and handed to
pg_dump) it records every table's row count and content checksum, and the sequences, indexes and
constraints: the manifest, stored beside the dump and in `backups`. A restore needs nothing but storage.

A drill downloads a backup, checks its SHA-256 before anything else, restores it with `pg_restore` into a
scratch database, and proves it equal to the manifest; `restore_drills` keeps every check.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow.sdk import task

from saas_ops import alerts, assets

DAG_ID = "db_backup"
DRILL_DAG_ID = "db_restore_drill"
PREFIX = "backups"
FORMATS = {"custom": "dump.pgdump", "directory": "dump.tar"}  # directory dumps are stored as one tar
RESTORE_TARGET_CONN_ID = "restore_target"
TABLE_SHRINK_MIN_ROWS = 100  # below this, a table losing rows is not worth an alert


class BackupError(RuntimeError):
    """A backup or drill could not be completed; the message says what is wrong and what to do."""


class DrillFailed(BackupError):
    """A drill whose checks found the backup different from its manifest: the same on every retry."""


class BadFormValue(BackupError):
    """A value of the drill's form that cannot work (an unknown backup_id or connection): the same on every retry."""


# --------------------------------------------------------------------------------------- pg tools


def _major(executable: Path) -> int | None:
    out = subprocess.run([str(executable), "--version"], capture_output=True, text=True)
    found = re.search(r"\)\s*(\d+)", out.stdout)
    return int(found.group(1)) if out.returncode == 0 and found else None


def pg_tools(server_major: int) -> Path:
    """The folder whose pg_dump and pg_restore have the server's major version: an older pg_dump cannot
    dump a newer server, and a newer one writes archives an older pg_restore cannot read."""
    from saas_ops import config, devdb

    folders = [Path(config.setting("PG_BIN_DIR"))] if config.setting("PG_BIN_DIR") else []
    folders += [Path(f"/usr/lib/postgresql/{server_major}/bin"), *devdb.pg_bin_candidates()]
    if shutil.which("pg_dump"):
        folders.append(Path(shutil.which("pg_dump")).parent)
    seen: list[str] = []
    for folder in dict.fromkeys(folders):
        if (folder / "pg_dump").is_file() and (folder / "pg_restore").is_file():
            major = _major(folder / "pg_dump")
            seen.append(f"{folder} ({major})")
            if major == server_major:
                return folder
    raise BackupError(f"no pg_dump/pg_restore for PostgreSQL {server_major} (the server's major version); found "
                      f"{', '.join(seen) or 'none'}. Install postgresql-client-{server_major}, or set the "
                      f"Variable PG_BIN_DIR to the folder holding its pg_dump and pg_restore")


def libpq_env(conninfo: str) -> tuple[str, dict[str, str]]:
    """A conninfo without its password, and the environment carrying it (PGPASSWORD), so that the password
    never appears on a command line (visible to `ps`) or in a log."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "30"}
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def server_major(conn: Any) -> int:
    return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


# --------------------------------------------------------------------------------------- contents


def database_contents(conn: Any) -> dict[str, Any]:
    """What a backup vouches for, read in the connection's transaction (its snapshot): per table its row
    count and content checksum; the sequences' last values; the index and constraint names."""
    from saas_ops.db import fetch_sql_file

    tables = {}
    for schema, table, by_values in fetch_sql_file(conn, "backup/contents_tables.sql"):
        rows, checksum = fetch_sql_file(conn, "backup/table_checksum.sql", {"by_values": by_values},
                                        schema=schema, table=table)[0]
        tables[f"{schema}.{table}"] = {"rows": rows, "checksum": checksum}
    objects: dict[str, Any] = {"sequences": {}, "indexes": [], "constraints": []}
    for kind, name, value in fetch_sql_file(conn, "backup/contents_objects.sql"):
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
        row = wh.execute(db.compose("SELECT status, manifest_uri FROM {schema}.backups WHERE backup_id = %s",
                                    schema=schema), (backup_id,)).fetchone()
        if row and row[0] == "succeeded":
            print(f"backup {backup_id} already succeeded ({row[1]}); not taken again")
            return {"backup_id": backup_id, "status": "succeeded", "reused": True}
        if row:  # a try that was killed may have left a partial file
            _discard(store, folder)
        wh.execute(db.compose(
            "INSERT INTO {schema}.backups (backup_id, started_at, status, format, compression) "
            "VALUES (%s, now(), 'running', %s, %s) ON CONFLICT (backup_id) DO UPDATE SET started_at = now(), "
            "finished_at = NULL, status = 'running', error = NULL, format = excluded.format, "
            "compression = excluded.compression", schema=schema), (backup_id, options.format, options.compression))

    try:
        manifest = _dump_to_storage(store, backup_id, options)
    except BaseException as exc:
        _discard(store, folder)
        with db.warehouse() as wh:
            wh.execute(db.compose("UPDATE {schema}.backups SET status = 'failed', finished_at = now(), error = %s "
                                  "WHERE backup_id = %s", schema=schema), (str(exc)[:2000], backup_id))
        raise
    with db.warehouse() as wh:
        wh.execute(db.compose(
            "UPDATE {schema}.backups SET status = 'succeeded', started_at = %(started_at)s, "
            "finished_at = %(finished_at)s, uri = %(uri)s, bytes = %(bytes)s, sha256 = %(sha256)s, "
            "server_version = %(server_version)s, tables = %(tables)s, objects = %(objects)s, "
            "database = %(database)s, manifest_uri = %(manifest_uri)s, pg_dump_version = %(pg_dump_version)s, "
            "dump_seconds = %(dump_seconds)s, error = NULL WHERE backup_id = %(backup_id)s", schema=schema),
            {**manifest, "tables": json.dumps(manifest["tables"]), "objects": json.dumps(manifest["objects"])})
    return manifest


def _dump_to_storage(store: Any, backup_id: str, options: BackupOptions) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    from saas_ops import db

    started = dt.datetime.now(dt.UTC)
    conninfo, env = libpq_env(db.conninfo(db.SOURCE_CONN_ID))
    with db.connect(db.SOURCE_CONN_ID, autocommit=True) as snap:
        snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # The checksums run beside pg_dump, which keeps nearly two cores busy: parallel workers would
        # only add their overhead (757 MB database: 3.0 CPU-s with them, 2.7 without; pg_dump -Z1 6.4).
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
        "pg_dump_version": f"{_major(bin_dir / 'pg_dump')}", "uri": stored.uri, "bytes": stored.bytes,
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
        stale = wh.execute(db.compose(
            "UPDATE {schema}.backups SET status = 'failed', finished_at = now(), error = 'still running ' || "
            "date_trunc('minute', now() - started_at) || ' after it started: its task was killed or lost (marked "
            "failed by the next db_backup or ops_watchdog; its partial files were removed)' "
            "WHERE status = 'running' AND started_at < now() - %s RETURNING backup_id", schema=schema),
            (older_than,)).fetchall()
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
        good = wh.execute(db.compose("SELECT backup_id, started_at FROM {schema}.backups "
                                     "WHERE status = 'succeeded' AND deleted_at IS NULL", schema=schema)).fetchall()
        proven = wh.execute(db.compose(
            "SELECT max(b.started_at) FROM {schema}.backups b JOIN {schema}.restore_drills d USING (backup_id) "
            "WHERE d.status = 'passed'", schema=schema)).fetchone()[0]
    keep = retention.keep(good)
    expired = sorted(b for b, at in good if b not in keep and proven is not None and at < proven)
    held = sorted(b for b, at in good if b not in keep and b not in expired)
    store = storage.open_storage()
    for backup_id in expired:
        store.delete(store.list_keys(f"{PREFIX}/{backup_id}/"))
        with db.warehouse() as wh:
            wh.execute(db.compose("UPDATE {schema}.backups SET deleted_at = now() WHERE backup_id = %s",
                                  schema=schema), (backup_id,))
    return {"kept": sorted(keep), "deleted": expired, "held_until_a_newer_drill_passes": held}


# --------------------------------------------------------------------------------------- restore drill


@dataclass
class Check:
    name: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "expected": self.expected, "actual": self.actual, "ok": self.ok}


def compare_contents(expected: dict[str, Any], actual: dict[str, Any]) -> list[Check]:
    """Every table present with its rows and checksum; sequences' last values; indexes and constraints."""
    checks = [Check("tables present", sorted(expected["tables"]), sorted(actual["tables"]))]
    for name, want in sorted(expected["tables"].items()):
        got = actual["tables"].get(name, {})
        checks.append(Check(f"{name} rows", want["rows"], got.get("rows")))
        checks.append(Check(f"{name} checksum", want["checksum"], got.get("checksum")))
    want_objects, got_objects = expected["objects"], actual["objects"]
    checks.append(Check("sequences", want_objects["sequences"], got_objects["sequences"]))
    for kind in ("indexes", "constraints"):
        missing = sorted(set(want_objects[kind]) - set(got_objects[kind]))
        checks.append(Check(f"{kind} missing (of {len(want_objects[kind])})", [], missing))
    return checks


def _resolve(wh: Any, schema: str, backup_id: str) -> tuple:
    from saas_ops.db import compose

    query = ("SELECT backup_id, started_at, bytes, sha256, format, tables, objects "
             "FROM {schema}.backups WHERE status = 'succeeded' AND deleted_at IS NULL")
    if backup_id in ("", "latest"):
        row = wh.execute(compose(query + " ORDER BY started_at DESC LIMIT 1", schema=schema)).fetchone()
        if row is None:
            raise BackupError("there is no good backup to restore: run db_backup first")
    else:
        row = wh.execute(compose(query + " AND backup_id = %s", schema=schema), (backup_id,)).fetchone()
        if row is None:
            raise BadFormValue(f"backup {backup_id!r} is not a good backup with its files (see saas_ops.backups: "
                               "it is unknown, failed, is still running, or retention deleted it)")
    return row


def keys_of(backup_id: str, fmt: str) -> tuple[str, str]:
    """The storage keys of a backup's dump and manifest."""
    return f"{PREFIX}/{backup_id}/{FORMATS[fmt]}", f"{PREFIX}/{backup_id}/manifest.json"


def restore_target_conninfo(conn_id: str) -> tuple[str, str]:
    """(connection id, conninfo) of the server to restore into: `conn_id` when that connection exists, else
    the server of saas_db (the backed-up one)."""
    from saas_ops import db

    if conn_id and conn_id != RESTORE_TARGET_CONN_ID and db.optional_connection(conn_id) is None:
        raise BadFormValue(f"target_conn_id {conn_id!r} is not an Airflow connection (leave it at "
                           f"{RESTORE_TARGET_CONN_ID!r}: that connection, else saas_db's server)")
    conn_id = conn_id if conn_id and db.optional_connection(conn_id) else db.SOURCE_CONN_ID
    return conn_id, db.conninfo(conn_id)


def run_drill(drill_id: str, backup_id: str, *, target_conn_id: str, keep_database: bool, jobs: int
              ) -> dict[str, Any]:
    """Restores a backup into a fresh scratch database and proves it equal to its manifest. Writes the
    `restore_drills` row (every check with its expected and actual value) whatever happens, drops the
    scratch database unless asked to keep it, and raises when the backup is not proven."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from saas_ops import config, db, storage

    schema = config.schema_name("OUTPUT_SCHEMA")
    started = dt.datetime.now(dt.UTC)
    target_id, target = restore_target_conninfo(target_conn_id)
    with db.warehouse() as wh:
        backup_id, backup_started, size, sha256, fmt, tables, objects = _resolve(wh, schema, backup_id)
        wh.execute(db.compose(
            "INSERT INTO {schema}.restore_drills (drill_id, backup_id, started_at, status) "
            "VALUES (%s, %s, %s, 'running') ON CONFLICT (drill_id) DO UPDATE SET backup_id = excluded.backup_id, "
            "started_at = excluded.started_at, finished_at = NULL, status = 'running', checks = NULL, error = NULL",
            schema=schema), (drill_id, backup_id, started))
    scratch = f"saas_ops_drill_{started:%Y%m%d%H%M%S}_{secrets.token_hex(3)}"
    record: dict[str, Any] = {"drill_id": drill_id, "backup_id": backup_id, "target": target_id,
                              "scratch_database": scratch, "kept_database": keep_database,
                              "rpo_seconds": (started - backup_started).total_seconds()}
    checks: list[Check] = []
    store = storage.open_storage()
    error = None
    created = False
    admin_info, env = libpq_env(target)
    try:
        dump_key, manifest_key = keys_of(backup_id, fmt)
        manifest = json.loads(store.get_bytes(manifest_key))
        recorded = {"sha256": sha256, "bytes": size, "tables": tables, "objects": objects}
        checks.append(Check("manifest fields that differ from the backups row", [],
                            [k for k, v in recorded.items() if manifest.get(k) != v]))
        with tempfile.TemporaryDirectory(prefix="saas_ops_drill_") as tmp:
            dump = Path(tmp) / FORMATS[fmt]
            t0 = time.monotonic()
            got = store.download_to(dump_key, dump)
            record["download_seconds"] = time.monotonic() - t0
            checks.append(Check("bytes", manifest["bytes"], got.bytes))
            checks.append(Check("sha256", manifest["sha256"], got.sha256))
            if not all(c.ok for c in checks):
                raise BackupError("the stored backup is not the one its manifest describes: not restored")

            with psycopg.connect(admin_info, autocommit=True) as admin:
                bin_dir = pg_tools(server_major(admin))
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
                created = True
            scratch_info = make_conninfo(**{**conninfo_to_dict(admin_info), "dbname": scratch})
            source = dump
            if fmt == "directory":
                source = Path(tmp) / "dump"
                source.mkdir()
                subprocess.run(["tar", "-C", str(source), "-xf", str(dump)], check=True, capture_output=True)
                dump.unlink()
            t0 = time.monotonic()
            out = subprocess.run([str(bin_dir / "pg_restore"), f"--dbname={scratch_info}", f"--jobs={jobs}",
                                  "--no-owner", "--no-privileges", "--exit-on-error", "--no-password", str(source)],
                                 env=env, capture_output=True, text=True)
            record["restore_seconds"] = time.monotonic() - t0
            if out.returncode != 0:
                raise BackupError(f"pg_restore failed (exit {out.returncode}): {out.stderr.strip()[-800:]}")
        t0 = time.monotonic()
        with psycopg.connect(scratch_info) as restored:
            checks += compare_contents(manifest, database_contents(restored))
        record["verify_seconds"] = time.monotonic() - t0
        record["rto_seconds"] = record["download_seconds"] + record["restore_seconds"]
    except Exception as exc:  # noqa: BLE001 - recorded in the drill's row, then raised below
        error = str(exc)
    finally:
        if created and not keep_database:
            with psycopg.connect(admin_info, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))

    failed = [c for c in checks if not c.ok]
    status = "passed" if error is None and not failed else "failed"
    with db.warehouse() as wh:
        wh.execute(db.compose(
            "UPDATE {schema}.restore_drills SET finished_at = now(), status = %(status)s, checks = %(checks)s, "
            "rto_seconds = %(rto_seconds)s, rpo_seconds = %(rpo_seconds)s, download_seconds = %(download_seconds)s, "
            "restore_seconds = %(restore_seconds)s, verify_seconds = %(verify_seconds)s, target = %(target)s, "
            "scratch_database = %(scratch_database)s, kept_database = %(kept_database)s, error = %(error)s "
            "WHERE drill_id = %(drill_id)s", schema=schema),
            {"rto_seconds": None, "download_seconds": None, "restore_seconds": None, "verify_seconds": None,
             **record, "status": status, "error": error,
             "checks": json.dumps([c.as_json() for c in checks], default=str)})
    record.update(status=status, checks=len(checks), failed=[c.as_json() for c in failed], error=error)
    if status == "failed":
        reasons = [error] if error else []
        reasons += [f"{c.name}: expected {c.expected}, got {c.actual}" for c in failed[:10]]
        raise (DrillFailed if failed else BackupError)(
            f"restore drill {drill_id} of backup {backup_id} FAILED: " + "; ".join(reasons))
    return record


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
        rows = wh.execute(db.compose(
            "SELECT backup_id, bytes, tables FROM {schema}.backups WHERE status = 'succeeded' "
            "AND started_at <= (SELECT started_at FROM {schema}.backups WHERE backup_id = %s) "
            "ORDER BY started_at DESC LIMIT 2", schema=schema), (backup["backup_id"],)).fetchall()
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


@task
def restore_drill(**context: Any) -> dict[str, Any]:
    """Restores the chosen backup into a scratch database and proves it equal to its manifest. A check
    that fails fails the task at once (a retry would find the same); an error on the way (storage or the
    server unreachable) is retried."""
    from airflow.sdk.exceptions import AirflowFailException

    from saas_ops import config

    params = context["params"]
    drill_id = f"drill-{context['run_id']}"
    try:
        record = run_drill(drill_id, str(params.get("backup_id") or "latest"),
                           target_conn_id=str(params.get("target_conn_id") or RESTORE_TARGET_CONN_ID),
                           keep_database=bool(params.get("keep_database")), jobs=config.setting("BACKUP_JOBS"))
    except (DrillFailed, BadFormValue) as exc:  # the same on every retry: fail at once
        raise AirflowFailException(str(exc)) from exc
    summary = (f":white_check_mark: restore drill passed: backup {record['backup_id']} restored into "
               f"{record['target']} in {record['rto_seconds']:.1f} s (RTO: download {record['download_seconds']:.1f} s "
               f"+ pg_restore {record['restore_seconds']:.1f} s), {record['checks']} checks equal, verified in "
               f"{record['verify_seconds']:.1f} s; backup age (RPO) {record['rpo_seconds'] / 3600:.1f} h"
               + (f"; scratch database {record['scratch_database']} kept" if record["kept_database"] else ""))
    print(summary)
    alerts.send_slack(summary)
    return record


# --------------------------------------------------------------------------------------- by hand


def main(argv: list[str] | None = None) -> int:
    """`python -m saas_ops.backup verify MANIFEST DSN`: proves a database restored by hand (the README's
    runbook) equal to a backup's manifest.json, check by check."""
    import argparse

    import psycopg

    parser = argparse.ArgumentParser(prog="python -m saas_ops.backup", description=main.__doc__)
    parser.add_argument("command", choices=["verify"])
    parser.add_argument("manifest", type=Path, help="the backup's manifest.json")
    parser.add_argument("dsn", help="libpq connection string of the restored database, e.g. 'host=... dbname=...'")
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    with psycopg.connect(args.dsn) as conn:
        checks = compare_contents(manifest, database_contents(conn))
    failed = [c for c in checks if not c.ok]
    for c in failed:
        print(f"NOT EQUAL  {c.name}: expected {c.expected}, got {c.actual}")
    print(f"{len(checks) - len(failed)} of {len(checks)} checks equal to backup {manifest['backup_id']} "
          f"({len(manifest['tables'])} tables)" + ("" if failed else ": the database is what was backed up"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
