"""db_backup and db_restore_drill against a real server, moto's S3 and the local folder: a backup restores
and is proven equal; every fault the issue names is caught with a message, an alert and no good-looking
partial backup; retention; the drill's form."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import threading
import time

import psutil
import psycopg
import pytest

from dev import demo_data
from saas_ops import storage
from saas_ops.backups import drill, dump, pg_tools
from tests.harness.dag_runs import pack_dag
from tests.harness.databases import airflow_uri, create_database

SOURCE_DB = "saas_ops_test_backup_source"


@pytest.fixture(scope="module")
def source(pg_server, airflow_env):
    """A small saas_db of its own (the other tests' app database is theirs): 150 demo customers over 4
    months, plus a sequence that has been used and a table with a json column (checksummed by its text)."""
    dsn = create_database(pg_server[0], SOURCE_DB)
    demo_data.load(dsn, customers=150, months=4, seed=5, end=dt.date(2026, 11, 22), verbose=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE app.invoice_numbers START 1000")
        conn.execute("SELECT nextval('app.invoice_numbers') FROM generate_series(1, 3)")
        # json has no hash operator class: this table's checksum hashes each row's text instead
        conn.execute("CREATE TABLE app.audit_notes (note_id int PRIMARY KEY, body json)")
        conn.execute("""INSERT INTO app.audit_notes VALUES (1, '{"a": 1}'), (2, '[true, null]')""")
    return dsn


@pytest.fixture
def env(source, databases, monkeypatch, receivers):
    """saas_db pointed at the backup source; no backups or drills recorded; storage emptied."""
    monkeypatch.setenv("AIRFLOW_CONN_SAAS_DB", airflow_uri(source))
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        from saas_ops import db
        db.migrate(conn, "saas_ops")
        conn.execute("TRUNCATE saas_ops.backups, saas_ops.restore_drills")
        conn.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id IN ('db_backup', 'db_restore_drill')")
    store = storage.open_storage()
    store.delete(store.list_keys("backups/"))
    return {"source": source, "warehouse": databases["warehouse"], "slack": receivers["slack"]}


@pytest.fixture(params=["s3", "local"])
def each_storage(request, env, monkeypatch):
    """Both storages: moto's S3 (the backup_storage connection) and the local folder (none)."""
    if request.param == "local":
        monkeypatch.delenv("AIRFLOW_CONN_BACKUP_STORAGE")
    return request.param


def row(warehouse: str, query: str, *args):
    with psycopg.connect(warehouse) as conn:
        return conn.execute(query, args).fetchone()


def scratch_databases(source: str) -> list[str]:
    with psycopg.connect(source) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'saas_ops_drill_%'")]


def take(at: str = "2026-11-23T01:00:00") -> dict:
    backup_id = dump.backup_id_for(SOURCE_DB, dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC))
    return dump.take_backup(backup_id, dump.BackupOptions())


def a_drill(backup_id: str = "latest", **kw) -> dict:
    return drill.run_drill(f"drill-test-{time.monotonic_ns()}", backup_id, target_conn_id="restore_target",
                            keep_database=kw.pop("keep_database", False), jobs=2, **kw)


def dag_run(name: str, at: dt.datetime, **conf):
    dag = pack_dag(name)
    return dag.test(logical_date=at, run_conf=conf or None)


# --------------------------------------------------------------------------------------- the round trip


def test_a_nightly_backup_restores_and_is_proven_equal(each_storage, env):
    at = dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC)
    assert dag_run("db_backup", at).state == "success"
    backup_id = f"{SOURCE_DB}-20261123T010000Z"
    status, size, sha256, tables, objects, uri = row(
        env["warehouse"], "SELECT status, bytes, sha256, tables, objects, uri FROM saas_ops.backups "
                          "WHERE backup_id = %s", backup_id)
    assert status == "succeeded"
    assert uri.startswith("s3://saas-ops/saas-ops/backups/" if each_storage == "s3" else "file://")

    # The stored dump is what the row says, byte for byte, and the manifest beside it says the same.
    store = storage.open_storage()
    dump = store.get_bytes(f"backups/{backup_id}/dump.pgdump")
    assert (len(dump), hashlib.sha256(dump).hexdigest()) == (size, sha256)
    assert dump[:5] == b"PGDMP"
    if each_storage == "local":  # every row of the application: readable by its owner only, whatever the umask
        root = store.root
        assert {oct(p.stat().st_mode & 0o777) for p in root.rglob("*") if p.is_file()} == {"0o600"}
        assert {oct(p.stat().st_mode & 0o777) for p in [root, *root.rglob("*")] if p.is_dir()} == {"0o700"}
    manifest = json.loads(store.get_bytes(f"backups/{backup_id}/manifest.json"))
    assert (manifest["sha256"], manifest["bytes"], manifest["tables"], manifest["objects"]) == (
        sha256, size, tables, objects)

    # Row counts as the source has them; the sequence's last value; the demo schema's indexes.
    with psycopg.connect(env["source"]) as conn:
        for table in ("customers", "events", "subscription_periods"):
            assert tables[f"app.{table}"]["rows"] == conn.execute(f"SELECT count(*) FROM app.{table}").fetchone()[0]
    assert tables["app.events"]["rows"] > 1000
    assert tables["app.audit_notes"]["rows"] == 2
    assert objects["sequences"] == {"app.invoice_numbers": "1002"}
    assert "app.customers_pkey" in objects["indexes"] and "app.customers.customers_pkey" in objects["constraints"]

    assert dag_run("db_restore_drill", at + dt.timedelta(hours=4)).state == "success"
    drill_status, checks, rto, rpo, drilled, kept = row(
        env["warehouse"], "SELECT status, checks, rto_seconds, rpo_seconds, backup_id, kept_database "
                          "FROM saas_ops.restore_drills")
    assert (drill_status, drilled, kept) == ("passed", backup_id, False)
    assert all(c["ok"] for c in checks) and len(checks) == 3 + 1 + 2 * len(tables) + 3
    by_name = {c["name"]: c for c in checks}
    assert by_name["app.events rows"]["actual"] == tables["app.events"]["rows"]
    assert by_name["sha256"] == {"name": "sha256", "expected": sha256, "actual": sha256, "ok": True}
    assert rto > 0 and rpo > 0
    assert scratch_databases(env["source"]) == []  # dropped
    assert any(f"restore drill passed: backup {backup_id}" in t for t in env["slack"].texts())

    # A rerun of the night's backup does not take it again.
    assert dag_run("db_backup", at).state == "success"
    assert row(env["warehouse"], "SELECT count(*), max(sha256) FROM saas_ops.backups") == (1, sha256)


def test_the_drill_form_picks_a_backup_a_target_and_keeps_the_database(env, monkeypatch, tmp_path, capsys):
    first = take("2026-11-21T01:00:00")["backup_id"]
    take("2026-11-22T01:00:00")
    monkeypatch.setenv("AIRFLOW_CONN_RESTORE_TARGET", airflow_uri(env["source"]))
    dag = pack_dag("db_restore_drill")
    assert {k: dag.params[k] for k in ("backup_id", "target_conn_id", "keep_database")} == {
        "backup_id": "latest", "target_conn_id": "restore_target", "keep_database": False}
    run = dag.test(logical_date=dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC),
                   run_conf={"backup_id": first, "keep_database": True})
    assert run.state == "success"
    drilled, target, scratch, kept = row(env["warehouse"], "SELECT backup_id, target, scratch_database, "
                                                           "kept_database FROM saas_ops.restore_drills")
    assert (drilled, target, kept) == (first, "restore_target", True)
    assert scratch_databases(env["source"]) == [scratch]

    # The runbook's check of a database restored by hand, on the kept one: equal, then one row changed.
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(storage.open_storage().get_bytes(f"backups/{first}/manifest.json"))
    restored = env["source"].replace(SOURCE_DB, scratch)
    assert drill.main(["verify", str(manifest), restored]) == 0
    with psycopg.connect(env["source"]) as conn:  # the fixture's tables: two checks each (rows, checksum)
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                              "'information_schema')").fetchone()[0]
    checks = 3 + 2 * tables + 1  # and the table list, the sequences, the indexes; the constraints
    assert f"{checks} of {checks} checks equal to backup {first}" in capsys.readouterr().out
    with psycopg.connect(restored, autocommit=True) as conn:
        conn.execute("UPDATE app.customers SET name = name || '!' WHERE customer_id = (SELECT min(customer_id) "
                     "FROM app.customers)")
    assert drill.main(["verify", str(manifest), restored]) == 1
    out = capsys.readouterr().out
    assert "NOT EQUAL  app.customers checksum: expected" in out and f"{checks - 1} of {checks} checks" in out
    with psycopg.connect(env["source"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')


def test_a_directory_format_backup_restores_in_parallel(env, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_BACKUP_FORMAT", "directory")
    options = dump.BackupOptions.from_settings()
    assert (options.format, options.compression, options.jobs) == ("directory", "1", 2)
    taken = dump.take_backup(f"{SOURCE_DB}-dir", options)
    stored = storage.open_storage().get_bytes(f"backups/{SOURCE_DB}-dir/dump.tar")
    assert stored[257:262] == b"ustar" and (len(stored), hashlib.sha256(stored).hexdigest()) == (taken["bytes"],
                                                                                        taken["sha256"])
    record = a_drill()
    assert (record["status"], record["backup_id"], record["failed"]) == ("passed", f"{SOURCE_DB}-dir", [])
    monkeypatch.setenv("AIRFLOW_VAR_BACKUP_FORMAT", "plain")
    with pytest.raises(pg_tools.BackupError, match="BACKUP_FORMAT='plain': expected custom or directory"):
        dump.BackupOptions.from_settings()


def test_no_matching_pg_dump_is_a_clear_error():
    with pytest.raises(pg_tools.BackupError, match=r"no pg_dump/pg_restore for PostgreSQL 99 .*"
                                                 r"Install postgresql-client-99, or set the Variable PG_BIN_DIR"):
        pg_tools.pg_tools(99)


# --------------------------------------------------------------------------------------- faults


def failed_drill(env, match: str) -> dict:
    with pytest.raises(pg_tools.BackupError, match=match):
        a_drill()
    status, checks, error = row(env["warehouse"], "SELECT status, checks, error FROM saas_ops.restore_drills")
    assert status == "failed"
    assert scratch_databases(env["source"]) == []
    return {"checks": {c["name"]: c for c in checks}, "error": error}


def test_a_flipped_byte_is_caught_before_restoring_and_pages(env, receivers):
    """Through the DAG: the drill fails before restoring, and the P0 alert goes to Slack and PagerDuty."""
    taken = take()
    key = f"backups/{taken['backup_id']}/dump.pgdump"
    store = storage.open_storage()
    data = bytearray(store.get_bytes(key))
    data[len(data) // 2] ^= 0x01
    store.put_bytes(key, bytes(data))
    receivers["slack"].reset()
    assert dag_run("db_restore_drill", dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC)).state == "failed"
    status, checks, error = row(env["warehouse"], "SELECT status, checks, error FROM saas_ops.restore_drills")
    by_name = {c["name"]: c for c in checks}
    assert status == "failed" and "is not the one its manifest describes: not restored" in error
    assert by_name["sha256"]["expected"] == taken["sha256"]
    assert by_name["sha256"]["actual"] == hashlib.sha256(bytes(data)).hexdigest() != taken["sha256"]
    assert by_name["bytes"]["ok"]  # same size: only the hash can tell
    assert scratch_databases(env["source"]) == []
    page = receivers["pagerduty"].requests[0].json()
    assert page["payload"]["severity"] == "critical" and "db_restore_drill" in page["payload"]["summary"]
    slack = "\n".join(receivers["slack"].texts())
    assert "[P0]" in slack and "sha256: expected " + taken["sha256"] in slack


def test_a_truncated_upload_is_caught(each_storage, env):
    taken = take()
    key = f"backups/{taken['backup_id']}/dump.pgdump"
    store = storage.open_storage()
    store.put_bytes(key, store.get_bytes(key)[:4096])
    got = failed_drill(env, "not restored")
    assert (got["checks"]["bytes"]["expected"], got["checks"]["bytes"]["actual"]) == (taken["bytes"], 4096)


def test_a_manifest_that_does_not_match_its_record_is_caught(each_storage, env):
    taken = take()
    key = f"backups/{taken['backup_id']}/manifest.json"
    store = storage.open_storage()
    manifest = json.loads(store.get_bytes(key))
    manifest["tables"]["app.customers"]["rows"] -= 1
    store.put_bytes(key, json.dumps(manifest).encode())
    got = failed_drill(env, "not restored")
    assert got["checks"]["manifest fields that differ from the backups row"]["actual"] == ["tables"]


def test_a_table_missing_after_restore_is_caught(env):
    """The manifest (and its row) vouch for a table the dump does not hold: the restore succeeds, the
    proof does not."""
    taken = take()
    key = f"backups/{taken['backup_id']}/manifest.json"
    store = storage.open_storage()
    manifest = json.loads(store.get_bytes(key))
    manifest["tables"]["app.ghost"] = {"rows": 5, "checksum": "123"}
    store.put_bytes(key, json.dumps(manifest).encode())
    with psycopg.connect(env["warehouse"], autocommit=True) as conn:
        conn.execute("UPDATE saas_ops.backups SET tables = %s", (json.dumps(manifest["tables"]),))
    got = failed_drill(env, r"FAILED: tables present: expected \[.*'app.ghost'.*\]; app.ghost rows: "
                            r"expected 5, got None")
    assert got["checks"]["app.customers rows"]["ok"]


def test_unreachable_storage_fails_the_backup_and_records_why(env, monkeypatch):
    from saas_ops.backups.pg_server import free_port

    monkeypatch.setenv("AIRFLOW_CONN_BACKUP_STORAGE", json.dumps({
        "conn_type": "aws", "login": "testing", "password": "testing",
        "extra": {"endpoint_url": f"http://127.0.0.1:{free_port()}", "region_name": "us-east-1",
                  "config_kwargs": {"retries": {"max_attempts": 1}}}}))
    with pytest.raises(storage.StorageError, match="upload on s3://saas-ops failed: Could not connect"):
        take()
    status, error = row(env["warehouse"], "SELECT status, error FROM saas_ops.backups")
    assert status == "failed" and "Could not connect to the endpoint URL" in error
    assert not our_pg_dumps()


def test_the_local_mode_refuses_a_distributed_executor(env, monkeypatch):
    """Without backup_storage, a backup under the CeleryExecutor would land on one worker's disk, where the drill
    on another worker cannot find it: the run fails at once, naming the connection, and records nothing."""
    monkeypatch.delenv("AIRFLOW_CONN_BACKUP_STORAGE")
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor,KubernetesExecutor")
    with pytest.raises(storage.StorageError, match="no backup_storage connection, and Airflow runs tasks with "
                                                   "CeleryExecutor, KubernetesExecutor: a backup or model"):
        take()
    assert row(env["warehouse"], "SELECT count(*) FROM saas_ops.backups") == (0,)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    assert isinstance(storage.open_storage(), storage.LocalStorage)


def our_pg_dumps() -> list[psutil.Process]:
    """The dumping pg_dump processes this test session started (a backup runs them as its children), never
    another's, nor the `pg_dump --version` that finds the tools first."""
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # one may end while we look
            if child.name() == "pg_dump" and "--version" not in child.cmdline():
                found.append(child)
    return found


def test_pg_dump_killed_midway_leaves_no_backup(env):
    """pg_dump waits on a lock the test holds, is killed, and the backup fails: no object in storage (the
    multipart upload is aborted), the row `failed` with the reason."""
    outcome: dict = {}

    def run() -> None:
        try:
            take()
        except Exception as exc:  # noqa: BLE001 - inspected below
            outcome["error"] = exc

    with psycopg.connect(env["source"]) as locker:
        locker.execute("LOCK TABLE app.events IN ACCESS EXCLUSIVE MODE")
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 30
        while not (dumps := our_pg_dumps()):
            assert time.monotonic() < deadline, "pg_dump did not start"
            time.sleep(0.05)
        dumps[0].kill()
        locker.rollback()
    worker.join(60)
    assert isinstance(outcome.get("error"), pg_tools.BackupError)
    assert str(outcome["error"]).startswith("pg_dump was killed (signal 9)")
    status, error, uri = row(env["warehouse"], "SELECT status, error, uri FROM saas_ops.backups")
    assert (status, uri) == ("failed", None) and error.startswith("pg_dump was killed")
    assert storage.open_storage().list_keys("backups/") == []


def _killed_backup(warehouse: str, backup_id: str, hours_ago: float) -> str:
    """What a backup task killed mid-dump (SIGKILL: no except clause ran) leaves: its row `running`, and in the
    local storage a partial dump."""
    store = storage.open_storage()
    partial = f"backups/{backup_id}/dump.pgdump.partial"
    store.put_bytes(partial, b"PGDMP half a dump")
    with psycopg.connect(warehouse) as conn:
        conn.execute("INSERT INTO saas_ops.backups (backup_id, started_at, status, format) "
                     "VALUES (%s, now() - %s * interval '1 hour', 'running', 'custom')", (backup_id, hours_ago))
    assert partial in store.list_keys(f"backups/{backup_id}/")
    return partial


def test_a_killed_backup_is_marked_failed_and_its_partial_file_removed(env, monkeypatch, receivers):
    """The next db_backup marks a backup still `running` after BACKUP_STALE_HOURS (6) failed, with the reason,
    and removes its partial file; one running for an hour is left alone. ops_watchdog does the same, and says so."""
    monkeypatch.delenv("AIRFLOW_CONN_BACKUP_STORAGE")
    store = storage.open_storage()
    _killed_backup(env["warehouse"], "killed-at-night", 7)
    _killed_backup(env["warehouse"], "still-running", 1)
    assert dag_run("db_backup", dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC)).state == "success"
    with psycopg.connect(env["warehouse"]) as conn:
        states = dict(conn.execute("SELECT backup_id, status || ': ' || coalesce(error, '') FROM saas_ops.backups "
                                   "WHERE backup_id IN ('killed-at-night', 'still-running')").fetchall())
    assert states["still-running"] == "running: "
    assert states["killed-at-night"].startswith("failed: still running 07:00:00 after it started: its task was "
                                                "killed or lost")
    assert store.list_keys("backups/killed-at-night/") == []
    assert store.list_keys("backups/still-running/") == ["backups/still-running/dump.pgdump.partial"]

    with psycopg.connect(env["warehouse"]) as conn:
        conn.execute("UPDATE saas_ops.backups SET started_at = now() - interval '8 hours' "
                     "WHERE backup_id = 'still-running'")
        conn.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id = 'ops_watchdog'")
    run = pack_dag("ops_watchdog").test(
        logical_date=dt.datetime.now(dt.UTC).replace(microsecond=0))
    assert run.state == "success"
    assert row(env["warehouse"], "SELECT status FROM saas_ops.backups WHERE backup_id = 'still-running'") == (
        "failed",)
    assert store.list_keys("backups/still-running/") == []
    assert any("• backup still-running was still running after 6 h: its task was killed or lost; marked failed "
               "and its partial files removed" in t for t in receivers["slack"].texts())


def test_a_wrong_drill_form_value_fails_at_once_without_retries(env, receivers):
    """An unknown backup_id, or a target connection that does not exist, fails the drill on its first try with
    the reason (a retry would find the same); one failure message, no retry line."""
    take("2026-11-22T01:00:00")
    dag = pack_dag("db_restore_drill")
    for hour, conf, message in (
            (5, {"backup_id": "no-such-backup"}, "backup 'no-such-backup' is not a good backup with its files"),
            (6, {"target_conn_id": "no_such_conn"}, "target_conn_id 'no_such_conn' is not an Airflow connection")):
        run = dag.test(logical_date=dt.datetime(2026, 11, 23, hour, tzinfo=dt.UTC), run_conf=conf)
        tries = {ti.task_id: (ti.state, ti.try_number) for ti in run.get_task_instances()}
        assert run.state == "failed" and tries["restore_drill"] == ("failed", 1)
        texts = [t for t in receivers["slack"].texts() if run.run_id in t]
        assert len(texts) == 1 and "will retry" not in texts[0] and message in texts[0], texts
    assert row(env["warehouse"], "SELECT count(*) FROM saas_ops.restore_drills") == (0,)


# --------------------------------------------------------------------------------------- retention


def test_retention_keeps_daily_weekly_monthly_by_hand():
    # Daily backups from 2026-09-01 to 2026-11-20 (a Friday). Keep 3 daily, 2 weekly, 3 monthly:
    # days 11-20, 11-19, 11-18; ISO weeks 47 (11-20, already kept) and 46 (its newest: Sunday 11-15);
    # months November (11-20), October (10-31), September (09-30).
    days = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(81)]
    started = [(f"b{d:%m%d}", dt.datetime.combine(d, dt.time(1), dt.UTC)) for d in days]
    kept = dump.Retention(daily=3, weekly=2, monthly=3).keep(started)
    assert kept == {"b1120", "b1119", "b1118", "b1115", "b1031", "b0930"}


def test_retention_deletes_only_behind_a_passed_drill(env):
    store = storage.open_storage()
    ids = [f"{SOURCE_DB}-202611{d:02d}T010000Z" for d in range(10, 21)]  # 11 nightly backups
    with psycopg.connect(env["warehouse"], autocommit=True) as conn:
        for d, backup_id in zip(range(10, 21), ids, strict=True):
            store.put_bytes(f"backups/{backup_id}/dump.pgdump", b"x" * 10)
            store.put_bytes(f"backups/{backup_id}/manifest.json", b"{}")
            conn.execute("INSERT INTO saas_ops.backups (backup_id, started_at, status, bytes) "
                         "VALUES (%s, %s, 'succeeded', 10)", (backup_id, dt.datetime(2026, 11, d, 1, tzinfo=dt.UTC)))
    policy = dump.Retention(daily=3, weekly=1, monthly=1)  # keeps 11-20, 11-19, 11-18

    # No drill passed yet: nothing goes.
    assert dump.apply_retention(policy)["deleted"] == []
    assert len(store.list_keys("backups/")) == 22

    # A drill passed on 11-15's backup: what retention does not keep and is older than it goes.
    with psycopg.connect(env["warehouse"], autocommit=True) as conn:
        conn.execute("INSERT INTO saas_ops.restore_drills (drill_id, backup_id, started_at, status) "
                     "VALUES ('d', %s, now(), 'passed')", (ids[5],))
    outcome = dump.apply_retention(policy)
    assert outcome["deleted"] == ids[:5]                        # 11-10 .. 11-14
    assert outcome["held_until_a_newer_drill_passes"] == ids[5:8]  # 11-15 .. 11-17
    assert store.list_keys("backups/") == sorted(
        f"backups/{b}/{name}" for b in ids[5:] for name in ("dump.pgdump", "manifest.json"))
    assert row(env["warehouse"], "SELECT count(*) FROM saas_ops.backups WHERE deleted_at IS NOT NULL") == (5,)


# --------------------------------------------------------------------------------------- anomalies


def test_a_backup_that_shrank_alerts_with_the_table_behind_it(env):
    """Most of the source's events are deleted between two backups (and put back afterwards)."""
    assert dag_run("db_backup", dt.datetime(2026, 11, 22, 1, tzinfo=dt.UTC)).state == "success"
    saved = io.BytesIO()
    with psycopg.connect(env["source"], autocommit=True) as conn:
        before = conn.execute("SELECT count(*) FROM app.events").fetchone()[0]
        with conn.cursor().copy("COPY app.events TO STDOUT") as copy:
            for block in copy:
                saved.write(block)
        conn.execute("DELETE FROM app.events WHERE event_id NOT IN (SELECT event_id FROM app.events "
                     "ORDER BY event_id LIMIT %s)", (before // 10,))
        conn.execute("VACUUM FULL app.events")
    try:
        env["slack"].reset()
        assert dag_run("db_backup", dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC)).state == "success"
    finally:
        with psycopg.connect(env["source"]) as conn:
            conn.execute("TRUNCATE app.events")
            with conn.cursor().copy("COPY app.events FROM STDIN") as copy:
                copy.write(saved.getvalue())
    texts = env["slack"].texts()
    assert len(texts) == 1, texts
    assert f"backup {SOURCE_DB}-20261123T010000Z looks wrong next to the previous one" in texts[0]
    assert f"table app.events has {before // 10:,} rows, down from {before:,} (-90%)" in texts[0]
    assert row(env["warehouse"], "SELECT count(*) FROM saas_ops.backups WHERE status = 'succeeded'") == (2,)


def test_anomalies_by_hand():
    previous = {"backup_id": "a", "bytes": 1000, "tables": {"app.t": {"rows": 200}, "app.u": {"rows": 50},
                                                           "app.gone": {"rows": 7}}}
    current = {"backup_id": "b", "bytes": 400, "tables": {"app.t": {"rows": 99}, "app.u": {"rows": 1}}}
    assert dump.anomalies(current, previous, 0.5) == [
        "backup b is 400 bytes, 40% of the previous good one a (1,000 bytes)",
        "table app.gone (7 rows in a) is not in this backup",
        "table app.t has 99 rows, down from 200 (-50%)",
    ]  # app.u is under TABLE_SHRINK_MIN_ROWS rows: not worth an alert
    assert dump.anomalies(current, None, 0.5) == []
