"""Barman's base backups, on an archiving server of their own: a killed one is never taken for complete, a
corrupted file fails the drill, a drill to a base backup's manifest finds every table's checksum while writes went
on, incremental ones restore, the local archive is encrypted with GPG, and retention keeps what a restore needs."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time

import psycopg
import pytest

from saas_ops.backups import archiving, base_backups, marks, pg_server, physical_drill
from saas_ops.backups.pg_tools import BackupError
from tests.harness.databases import airflow_uri
from tests.harness.gpg_keys import operator_key
from tests.harness.point_in_time import drills, marks_around

pytestmark = pytest.mark.slow  # its own archiving PostgreSQL servers and Barman; `make test-fast` leaves it out


def test_a_corrupted_base_backup_file_fails_the_drill_naming_it(archived, warehouse, tmp_path):
    """A flipped run of bytes inside the stored base.tar.gz: the restore fails, before any check could pass, with
    the tool's words for it; the scratch folder goes. The file is put back for the other tests."""
    base_backups.take_base_backup("base-test-corrupt-file")
    archive = archiving.open_archive()
    newest = max(archive.base_backups(), key=lambda b: b.end_time)
    stored = next((archive.home / "saas" / "base" / newest.backup_id).rglob("base.tar.gz"))
    good = stored.read_bytes()
    middle = len(good) // 2
    stored.write_bytes(good[:middle] + bytes(b ^ 0xFF for b in good[middle:middle + 64]) + good[middle + 64:])
    try:
        with pytest.raises(BackupError, match="FAILED") as failed:
            physical_drill.run("pitr-corrupt-file", None, keep_restored=False, folder=tmp_path / "d7")
    finally:
        stored.write_bytes(good)
    assert newest.backup_id in str(failed.value) and "barman recover" in str(failed.value)
    got = drills(warehouse)["pitr-corrupt-file"]
    assert got[1] == "failed" and "barman recover" in got[8] and got[7] == [], "no check ran on a broken restore"
    assert not (tmp_path / "d7").exists()


def test_a_drill_to_the_manifest_finds_every_table_as_its_snapshot_saw_it(archived, warehouse, tmp_path):
    """Orders are inserted without a pause while the base backup and its manifest are taken: the drill (blank
    target) replays to the manifest's WAL position and finds the orders table's rows and checksum equal to the
    snapshot's, a part of the orders only; a manifest that says otherwise fails the drill, naming the table."""
    dsn = archived["dsn"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.orders_live (order_id bigserial PRIMARY KEY, note text NOT NULL)")
    stop = threading.Event()

    def insert_orders() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO public.orders_live (note) VALUES ('Zoë <b>\r\n</b>')")

    writer = threading.Thread(target=insert_orders)
    writer.start()
    try:
        backup = base_backups.take_base_backup("base-manifest")
    finally:
        stop.set()
        writer.join()
    with psycopg.connect(dsn) as conn:
        written = conn.execute("SELECT count(*) FROM public.orders_live").fetchone()[0]
    lsn, in_manifest = warehouse.execute(
        "SELECT manifest_lsn, (tables -> 'public.orders_live' ->> 'rows')::bigint FROM saas_ops.backups "
        "WHERE backup_id = 'base-manifest'").fetchone()
    assert lsn == backup["manifest_lsn"]
    assert warehouse.execute("SELECT %s::pg_lsn < %s::pg_lsn", (backup["end_lsn"], lsn)).fetchone()[0]
    assert 0 < in_manifest < written, "orders were inserted before the manifest's snapshot and after it"
    from saas_ops import storage

    stored = json.loads(storage.open_storage().get_bytes(base_backups.manifest_key(backup["tool_backup_id"])))
    assert (stored["lsn"], stored["tables"]["public.orders_live"]["rows"]) == (lsn, in_manifest)

    record = physical_drill.run("pitr-manifest", None, keep_restored=True, folder=tmp_path / "m")
    assert record["status"] == "passed" and record["target_lsn"] == lsn
    checks = {c["name"]: c for c in drills(warehouse)["pitr-manifest"][7]}
    assert checks["public.orders_live rows"]["actual"] == in_manifest
    assert checks["public.orders_live checksum"]["ok"] and checks["saas_ops_pitr.marks checksum"]["ok"]
    host, port = record["kept_at"].split(":")
    with psycopg.connect(host=host, port=port, user="postgres", dbname="saas_pitr") as restored:
        assert restored.execute("SELECT count(*) FROM public.orders_live").fetchone()[0] == in_manifest
    physical_drill.stop_kept("saas_ops")

    warehouse.execute("UPDATE saas_ops.backups SET tables = jsonb_set(tables, '{public.orders_live,checksum}', "
                      "'\"12345\"') WHERE backup_id = 'base-manifest'")
    warehouse.commit()
    with pytest.raises(BackupError, match=r"public\.orders_live checksum: expected 12345, got -?\d+"):
        physical_drill.run("pitr-manifest-differs", None, keep_restored=False, folder=tmp_path / "m2")
    assert not (tmp_path / "m2").exists()


def test_a_killed_base_backup_is_never_taken_for_complete(archived, warehouse):
    """SIGKILL to the task taking a base backup (and to Barman and pg_basebackup under it) in the middle of the
    copy: its row stays unfinished, Barman lists it as not DONE, nothing restores from it, and the retry of the
    same backup_id takes a whole one."""
    import subprocess
    import sys

    import psutil

    from tests.harness.dag_runs import REPO

    before = base_backups.take_base_backup("base-before-kill")
    with psycopg.connect(archived["dsn"], autocommit=True) as conn:  # enough to copy for a few seconds
        conn.execute("CREATE TABLE ballast AS SELECT g, repeat(md5(g::text), 8) AS pad "
                     "FROM generate_series(1, 400000) g")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    task = subprocess.Popen([sys.executable, "-c", "from saas_ops.backups import base_backups; "
                             "base_backups.take_base_backup('base-killed')"], env=env)
    try:
        deadline = time.monotonic() + 120
        while not any(p.name() == "pg_basebackup" for p in psutil.Process(task.pid).children(recursive=True)):
            assert task.poll() is None and time.monotonic() < deadline, "pg_basebackup never started"
            time.sleep(0.05)
        time.sleep(0.5)
        tree = [psutil.Process(task.pid), *psutil.Process(task.pid).children(recursive=True)]
        for proc in tree:
            proc.kill()
        psutil.wait_procs(tree, timeout=30)
    finally:
        with psycopg.connect(archived["dsn"], autocommit=True) as conn:
            conn.execute("DROP TABLE ballast")
    assert warehouse.execute("SELECT status FROM saas_ops.backups WHERE backup_id = 'base-killed'").fetchone() == (
        "running",)
    archive = archiving.open_archive()
    killed = [b for b in archive.base_backups() if b.info.get("backup_name") == "base-killed"]
    assert [b.status for b in killed if b.status == "DONE"] == [], killed
    newest_done = max((b for b in archive.base_backups() if b.status == "DONE"), key=lambda b: b.end_time)
    assert newest_done.backup_id == before["tool_backup_id"]  # what a drill or retention would take as newest

    record = base_backups.take_base_backup("base-killed")  # the task's retry
    assert warehouse.execute("SELECT status FROM saas_ops.backups WHERE backup_id = 'base-killed'").fetchone() == (
        "succeeded",)
    done = [b for b in archive.base_backups() if b.info.get("backup_name") == "base-killed" and b.status == "DONE"]
    assert len(done) == 1 and record["tool_backup_id"] == done[0].backup_id


def test_the_local_archive_is_encrypted_with_gpg_and_restores(archived, warehouse, monkeypatch, tmp_path_factory,
                                                             tmp_path):
    """With a `backup_encryption` connection (an operator's cv25519 key, gpg 2.4's default, and its passphrase),
    Barman encrypts the base backup and every WAL segment it files; the drill decrypts them (file(1) alone calls
    them "data": get-wal reads them with the pack's magic) and restores to a moment between two marks; the
    passphrase is in no configuration file, log or command line, only in a file of the server's account."""
    import json
    import secrets
    import subprocess

    from dev import devdb

    folder = tmp_path_factory.mktemp("pitr_gpg_pg")
    server = devdb.start(folder, archiving=True)
    try:
        dsn = server.create_database("saas_pitr_gpg")
        passphrase = f"correct horse battery {secrets.token_hex(8)}"
        monkeypatch.setenv("AIRFLOW_CONN_SAAS_DB", airflow_uri(dsn))
        monkeypatch.setenv("AIRFLOW_VAR_LOCAL_DIR", str(tmp_path_factory.mktemp("gpg_local")))
        key = operator_key(tmp_path / "operator", passphrase, "future-default")
        monkeypatch.setenv("AIRFLOW_CONN_BACKUP_ENCRYPTION", json.dumps({
            "conn_type": "generic", "password": passphrase, "extra": {"private_key": key["armored"]}}))
        archiving.setup()
        base_backups.take_base_backup("base-gpg")
        first, target, second = marks_around("gpg")
        marks.close_segment()
        archive = archiving.open_archive()
        assert archive.encryption is not None
        stored = list((archive.home / "saas" / "base").rglob("base.tar*"))
        wals = [p for p in (archive.home / "saas" / "wals").rglob("0000*") if p.is_file() and "." not in p.name]
        assert stored and wals
        listing = tmp_path / "empty_gnupg"  # gpg lists a file's packets without any key; file(1) misses some
        listing.mkdir(mode=0o700)
        keys = pg_server.run_as(archive.src.account, ["gpg", "--batch", "--homedir", str(archive.gnupg),
                                                      "--with-colons", "--list-keys"]).stdout
        key_ids = {line.split(":")[4] for line in keys.splitlines() if line.startswith(("pub:", "sub:"))}
        for path in [*stored, *wals]:
            packets = subprocess.run(["gpg", "--batch", "--homedir", str(listing), "--list-only", "--list-packets",
                                      str(path)], capture_output=True, text=True).stdout
            first_key = packets.partition(":pubkey enc packet:")[2].partition("keyid ")[2][:16]
            assert packets.startswith("# off=0 ") and first_key in key_ids and ":encrypted data packet:" in packets, \
                (path, packets, key_ids)
        record = physical_drill.run("pitr-gpg", target, keep_restored=False, folder=tmp_path / "gpg")
        assert record["status"] == "passed"
        present = next(c for c in drills(warehouse)["pitr-gpg"][7] if c["name"].startswith("marks committed by"))
        assert first in present["actual"] and second not in present["actual"]
        secret_file = archive.home / "gpg-passphrase"
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
        for path in [archive.config_file, archive.home / "barman.log", folder / "server.log",
                     folder / "data" / "postgresql.auto.conf"]:
            text = path.read_text(errors="replace")
            assert passphrase not in text and "PRIVATE KEY" not in text, path
    finally:
        devdb.stop(folder)


def test_incremental_base_backups_restore_and_a_full_one_is_taken_weekly(archived, warehouse, tmp_path):
    """PostgreSQL 18 with summarize_wal (set by setup): between weekly full backups db_backup takes block-level
    incremental ones on the newest; a drill to a moment after one restores it (Barman combines the chain)."""
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        assert conn.execute("SHOW summarize_wal").fetchone()[0] == "on"
    full = base_backups.take_base_backup("base-full-weekly")
    archive = archiving.open_archive()
    now = dt.datetime.now(dt.UTC)
    week = dt.timedelta(days=7)
    assert archive.incremental_parent(week, now) == full["tool_backup_id"]
    assert archive.incremental_parent(week, now + dt.timedelta(days=8)) is None  # a full one is due
    with psycopg.connect(archived["dsn"], autocommit=True) as conn:
        conn.execute("CREATE TABLE after_the_full AS SELECT g FROM generate_series(1, 5000) g")
    inc = base_backups.take_base_backup("base-incremental-1", archive.incremental_parent(week, now))
    shown = next(b for b in archive.base_backups() if b.backup_id == inc["tool_backup_id"])
    assert shown.info["backup_type"] == "incremental" and shown.info["parent_backup_id"] == full["tool_backup_id"]
    assert inc["bytes"] < full["bytes"] / 2, (inc["bytes"], full["bytes"])
    assert warehouse.execute("SELECT status FROM saas_ops.backups WHERE backup_id = 'base-incremental-1'"
                             ).fetchone() == ("succeeded",)
    first, target, second = marks_around("after the incremental")
    marks.close_segment()
    record = physical_drill.run("pitr-incremental", target, keep_restored=True, folder=tmp_path / "inc")
    try:
        assert record["status"] == "passed" and record["backup_id"] == inc["tool_backup_id"]
        host, port = record["kept_at"].split(":")
        with psycopg.connect(host=host, port=int(port), user="postgres", dbname="saas_pitr") as restored:
            assert restored.execute("SELECT count(*) FROM after_the_full").fetchone() == (5000,)
    finally:
        physical_drill.stop_kept("saas_ops")
        with psycopg.connect(archived["dsn"], autocommit=True) as conn:
            conn.execute("DROP TABLE after_the_full")


def test_retention_keeps_the_backups_a_kept_incremental_was_taken_on():
    """full1 <- inc1 <- inc2, full2: expiring full1, inc1 and full2 while inc2 is kept keeps its chain."""
    parent_of = {"full1": None, "inc1": "full1", "inc2": "inc1", "full2": None}
    assert base_backups.without_parents_of_kept(["full1", "inc1", "full2"], parent_of) == ["full2"]
    assert base_backups.without_parents_of_kept(["full1", "inc1", "inc2"], parent_of) == ["full1", "inc1", "inc2"]


def test_base_backup_retention_by_hand():
    """A 30-day window on 2026-12-31: backups ended Nov 20, Nov 25, Dec 1 (in the window) and Dec 20. The window
    begins Dec 1 12:00, so Nov 25 is the one that reaches its first moment and stays; Nov 20 goes, but only once
    a newer backup passed a physical drill."""
    at = lambda day: dt.datetime(2026, *day, 12, tzinfo=dt.UTC)  # noqa: E731
    ended = [("nov20", at((11, 20))), ("nov25", at((11, 25))), ("dec01", at((12, 1))), ("dec20", at((12, 20)))]
    now = dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC)
    assert base_backups.expired_base_backups(ended, now, 30, newest_proven=at((12, 20))) == ["nov20"]
    assert base_backups.expired_base_backups(ended, now, 30, newest_proven=None) == []
    assert base_backups.expired_base_backups(ended, now, 30, newest_proven=at((11, 20))) == []
    assert base_backups.expired_base_backups(ended, now, 60, newest_proven=at((12, 20))) == []
