"""db_restore_drill: proves a backup (backups/dump.py) restores. A drill downloads it, checks its SHA-256 before
anything else, restores it with `pg_restore` into a scratch database, and proves it equal to the manifest;
`restore_drills` keeps every check. `python -m saas_ops.backups.drill verify` does the proving for a database
restored by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from airflow.sdk import task

from saas_ops import alert_channels
from saas_ops.backups.check import Check, compare_tables
from saas_ops.backups.dump import FORMATS, database_contents, keys_of
from saas_ops.backups.pg_tools import BackupError, libpq_env, pg_tools, server_major

DAG_ID = "db_restore_drill"
RESTORE_TARGET_CONN_ID = "restore_target"


class DrillFailed(BackupError):
    """A drill whose checks found the backup different from its manifest: the same on every retry."""


class BadFormValue(BackupError):
    """A value of the drill's form that cannot work (an unknown backup_id or connection): the same on every retry."""


def compare_contents(expected: dict[str, Any], actual: dict[str, Any]) -> list[Check]:
    """Every table present with its rows and checksum; sequences' last values; indexes and constraints."""
    checks = compare_tables(expected["tables"], actual["tables"])
    want_objects, got_objects = expected["objects"], actual["objects"]
    checks.append(Check("sequences", want_objects["sequences"], got_objects["sequences"]))
    for kind in ("indexes", "constraints"):
        missing = sorted(set(want_objects[kind]) - set(got_objects[kind]))
        checks.append(Check(f"{kind} missing (of {len(want_objects[kind])})", [], missing))
    return checks


def _resolve(wh: Any, schema: str, backup_id: str) -> tuple:
    from saas_ops.db import fetch_sql_file

    latest = backup_id in ("", "latest")
    rows = fetch_sql_file(wh, "backups/good_backup.sql", {"backup_id": None if latest else backup_id}, schema=schema)
    row = rows[0] if rows else None
    if latest:
        if row is None:
            raise BackupError("there is no good backup to restore: run db_backup first")
    else:
        if row is None:
            raise BadFormValue(f"backup {backup_id!r} is not a good backup with its files (see saas_ops.backups: "
                               "it is unknown, failed, is still running, or retention deleted it)")
    return row


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
        db.run_sql_file(wh, "backups/drill_started.sql",
                        {"drill_id": drill_id, "backup_id": backup_id, "started_at": started}, schema=schema)
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
        db.run_sql_file(wh, "backups/drill_finished.sql",
            {"rto_seconds": None, "download_seconds": None, "restore_seconds": None, "verify_seconds": None,
             **record, "status": status, "error": error,
             "checks": json.dumps([c.as_json() for c in checks], default=str)}, schema=schema)
    record.update(status=status, checks=len(checks), failed=[c.as_json() for c in failed], error=error)
    if status == "failed":
        reasons = [error] if error else []
        reasons += [f"{c.name}: expected {c.expected}, got {c.actual}" for c in failed[:10]]
        raise (DrillFailed if failed else BackupError)(
            f"restore drill {drill_id} of backup {backup_id} FAILED: " + "; ".join(reasons))
    return record


def parse_target_time(value: str) -> dt.datetime | None:
    """The form's target_time: blank (None), or ISO 8601 with a zone (`random` is read by _target)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadFormValue(f"target_time {value!r} is not ISO 8601 (e.g. 2026-12-07T16:59:00+00:00)") from None
    if at.tzinfo is None:
        raise BadFormValue(f"target_time {value!r} has no time zone: add one (+00:00 for UTC)")
    return at.astimezone(dt.UTC)


def random_moment(drill_id: str, earliest: dt.datetime, latest: dt.datetime) -> dt.datetime:
    """A moment between `earliest` and `latest`, the same for every try of one drill (seeded by its id)."""
    import hashlib
    import random

    seed = int.from_bytes(hashlib.sha256(drill_id.encode()).digest()[:8], "big")
    span = max(0.0, (latest - earliest).total_seconds())
    return (earliest + dt.timedelta(seconds=random.Random(seed).uniform(0, span))).replace(microsecond=0)


def _target(drill_id: str, value: str) -> dt.datetime | None:
    """The form's target_time; `random`: a moment of the restorable window, from the oldest base backup's end to
    a minute before the newest archived WAL, so that the monthly drill proves the window and not only its end."""
    from saas_ops import db
    from saas_ops.backups import archiving

    if value.strip().lower() != "random":
        return parse_target_time(value)
    archive = archiving.open_archive()
    ends = sorted(b.end_time for b in archive.base_backups() if b.status == "DONE" and b.end_time)
    if not ends:
        raise BackupError(f"no base backup in {archive.where} to restore a random moment from: run db_backup first")
    with db.connect(db.SOURCE_CONN_ID) as conn:
        archived = conn.execute("SELECT last_archived_time FROM pg_stat_archiver").fetchone()[0]
    latest = max(ends[0], (archived or ends[-1]) - dt.timedelta(minutes=1))
    moment = random_moment(drill_id, ends[0] + dt.timedelta(seconds=1), latest)
    print(f"random moment of the window {ends[0]} .. {latest}: {moment.isoformat()}")
    return moment


def _physical(drill_id: str, params: dict[str, Any]) -> str:
    """A physical drill from the form; returns its summary."""
    from saas_ops import config
    from saas_ops.backups import physical_drill, source_server

    schema = config.schema_name("OUTPUT_SCHEMA")
    for where in physical_drill.stop_kept(schema):  # the next drill stops a restore kept by an earlier one
        print(f"stopped the restored server kept at {where} and removed its files")
    target = _target(drill_id, str(params.get("target_time") or ""))
    folder = config.local_dir() / "drills" / "".join(c if c.isalnum() or c in "-_" else "_" for c in drill_id)
    record = physical_drill.run(drill_id, target, keep_restored=bool(params.get("keep_restored")), folder=folder)
    return (f":white_check_mark: physical drill passed: base backup {record['backup_id']} replayed to "
            f"{target.isoformat() if target else physical_drill.replayed_to(record)} in {record['rto_seconds']:.1f} s "
            f"(RTO: restore {record['restore_seconds']:.1f} s + replay {record['replay_seconds']:.1f} s, target "
            f"{record['rto_target_seconds'] / 60:.0f} min); newest restored commit {record['restored_to']} "
            f"(RPO {record['rpo_seconds'] or 0:.1f} s); {record['checks']} checks equal"
            + (f"; the restored server is KEPT at {record['kept_at']} (database {source_server.source().dbname}, "
               f"files {record['kept_dir']}): the next drill, the form's stop, or make db-stop stops it"
               if record["kept_at"] else ""))


def methods(params: dict[str, Any]) -> list[str]:
    """The drills a run does: the form's method, or (blank, as on the schedule) one of each kind of backup there
    is, the newest dump and the newest base backup, so that each path's retention has a drill behind it."""
    from saas_ops import config, db

    method = str(params.get("method") or "").strip()
    if method not in ("", "logical", "physical"):
        raise BadFormValue(f"method {method!r}: expected logical, physical, or blank")
    if method:
        return [method]
    schema = config.schema_name("OUTPUT_SCHEMA")
    with db.warehouse() as wh:
        base = db.fetch_sql_file(wh, "backups/newest_base_backup.sql", schema=schema)[0][0]
        dump = db.fetch_sql_file(wh, "backups/good_backup.sql", {"backup_id": None}, schema=schema)
    if base is None:
        return ["logical"]
    if str(params.get("target_time") or "").strip():
        return ["physical"]  # a moment: only WAL replay reaches it
    return (["logical"] if dump else []) + ["physical"]


@task
def restore_drill(**context: Any) -> dict[str, Any]:
    """Restores the chosen backup and proves it: logically (a dump into a scratch database, proven equal to its
    manifest) or physically (a base backup and WAL replayed to target_time in a scratch server, proven by the
    marks); blank: both, when both kinds of backup exist. A check that fails fails the task at once (a retry would
    find the same); an error on the way (storage or the server unreachable) is retried."""
    from airflow.sdk.exceptions import AirflowFailException

    from saas_ops import config

    params = context["params"]
    drill_id = f"drill-{context['run_id']}"
    done: dict[str, Any] = {}
    try:
        if params.get("stop"):
            from saas_ops.backups import physical_drill

            stopped = physical_drill.stop_kept(config.schema_name("OUTPUT_SCHEMA"))
            print(f"stopped {len(stopped)} kept restored server(s): {', '.join(stopped) or 'none was running'}")
            return {"stopped": stopped}
        chosen = methods(params)
        if "physical" not in chosen and str(params.get("target_time") or "").strip():
            raise BadFormValue("target_time needs the physical method: a dump restores only to when it was taken")
        for method in chosen:
            if method == "physical":  # the run's own id: SPEC's blank method is physical where WAL is archived
                done["physical"] = _physical(drill_id, params)
            else:
                done["logical"] = _logical(drill_id if chosen == ["logical"] else f"{drill_id}-logical", params)
            print(done[method])
            alert_channels.send_slack(done[method])
    except (DrillFailed, BadFormValue) as exc:  # the same on every retry: fail at once
        raise AirflowFailException(str(exc)) from exc
    except BackupError as exc:
        if "FAILED" in str(exc):  # a physical drill's checks: the same on every retry
            raise AirflowFailException(str(exc)) from exc
        raise
    return done


def _logical(drill_id: str, params: dict[str, Any]) -> str:
    """A logical drill from the form; returns its summary."""
    from saas_ops import config

    record = run_drill(drill_id, str(params.get("backup_id") or "latest"),
                       target_conn_id=str(params.get("target_conn_id") or RESTORE_TARGET_CONN_ID),
                       keep_database=bool(params.get("keep_database")), jobs=config.setting("BACKUP_JOBS"))
    return (f":white_check_mark: restore drill passed: backup {record['backup_id']} restored into "
            f"{record['target']} in {record['rto_seconds']:.1f} s (RTO: download {record['download_seconds']:.1f} s "
            f"+ pg_restore {record['restore_seconds']:.1f} s), {record['checks']} checks equal, verified in "
            f"{record['verify_seconds']:.1f} s; backup age (RPO) {record['rpo_seconds'] / 3600:.1f} h"
            + (f"; scratch database {record['scratch_database']} kept" if record["kept_database"] else ""))


# --------------------------------------------------------------------------------------- by hand


def main(argv: list[str] | None = None) -> int:
    """`python -m saas_ops.backups.drill verify MANIFEST DSN`: proves a database restored by hand (the README's
    runbook) equal to a backup's manifest.json, check by check."""
    import argparse

    import psycopg

    parser = argparse.ArgumentParser(prog="python -m saas_ops.backups.drill", description=main.__doc__)
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
