"""Continuous archiving by Barman and point-in-time drills, on a server of their own with archiving on: restores
to moments before, between and after known writes and to just before a DROP TABLE, proven by the marks; a
corrupted WAL segment fails the drill; a failing archive command is named by the RPO watch and loses nothing."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import time

import psycopg
import pytest

from saas_ops.backups import archiving, pitr
from saas_ops.backups.pg_tools import BackupError
from tests.harness.dag_runs import pack_dag
from tests.harness.databases import airflow_uri

pytestmark = pytest.mark.slow  # its own archiving PostgreSQL servers and Barman; `make test-fast` leaves it out


@pytest.fixture(scope="module")
def archived(tmp_path_factory, airflow_env, databases):
    """A PostgreSQL server started with archive_mode on, its saas_db set up by the pack for the local folder."""
    from dev import devdb

    folder = tmp_path_factory.mktemp("pitr_pg")
    server = devdb.start(folder, archiving=True)
    dsn = server.create_database("saas_pitr")
    saved = {k: os.environ.get(k) for k in ("AIRFLOW_CONN_SAAS_DB", "AIRFLOW_CONN_BACKUP_STORAGE")}
    os.environ["AIRFLOW_CONN_SAAS_DB"] = airflow_uri(dsn)
    os.environ.pop("AIRFLOW_CONN_BACKUP_STORAGE", None)  # the local folder: a Barman server of its own
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        from saas_ops import db
        db.migrate(conn, "saas_ops")
    try:
        done = archiving.setup()
        yield {"dsn": dsn, "setup": done, "local_dir": airflow_env, "s3": saved["AIRFLOW_CONN_BACKUP_STORAGE"]}
    finally:
        with psycopg.connect(databases["warehouse"], autocommit=True) as conn:  # the other modules' warehouse
            conn.execute("DELETE FROM saas_ops.backups WHERE kind = 'base'")
            conn.execute("DELETE FROM saas_ops.restore_drills WHERE method = 'physical'")
            conn.execute("TRUNCATE saas_ops.backup_rpo")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        devdb.stop(folder)


def marks_around(label: str) -> tuple[int, dt.datetime, int]:
    """Two marks with a moment between them, each over a second away: (first, moment, second)."""
    first, _ = pitr.write_mark(f"{label} first")
    time.sleep(1.2)
    moment = dt.datetime.now(dt.UTC)
    time.sleep(1.2)
    second, _ = pitr.write_mark(f"{label} second")
    return first, moment, second


def drills(warehouse):
    return {r[0]: r for r in warehouse.execute(
        "SELECT drill_id, status, method, target_time, rpo_seconds, rto_seconds, kept_at, checks, error "
        "FROM saas_ops.restore_drills WHERE method = 'physical'").fetchall()}


def test_setup_configures_the_server_and_the_marks_role(archived):
    assert any("archive_command" in line and "incoming" in line for line in archived["setup"])
    with psycopg.connect(archived["dsn"]) as conn:
        assert conn.execute("SHOW archive_mode").fetchone()[0] == "on"
        assert conn.execute("SHOW archive_timeout").fetchone()[0] == "1min"
        # the marks role may write its table and nothing else
        conn.execute(f"SET ROLE {archiving.MARKS_ROLE}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.sneaky (x int)")


def test_restores_to_three_moments_and_to_just_before_a_drop_table(archived, warehouse, tmp_path):
    dsn = archived["dsn"]
    before, _ = pitr.write_mark("before the base backup")
    backup = pitr.take_base_backup("base-test-1")
    assert backup["end_lsn"] and backup["bytes"] > 0
    row = warehouse.execute("SELECT kind, status, format, begin_wal FROM saas_ops.backups "
                            "WHERE backup_id = 'base-test-1'").fetchone()
    assert row == ("base", "succeeded", "barman-local", backup["begin_wal"])

    first, between, second = marks_around("between")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.invoices_archive (invoice_id int PRIMARY KEY, amount_cents int)")
        conn.execute("INSERT INTO public.invoices_archive SELECT g, g * 100 FROM generate_series(1, 250) g")
    time.sleep(1.2)
    before_drop = dt.datetime.now(dt.UTC)
    time.sleep(1.2)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE public.invoices_archive")
    after, _ = pitr.write_mark("after the drop")
    time.sleep(1.2)
    after_writes = dt.datetime.now(dt.UTC)
    time.sleep(1.2)
    pitr.write_mark("replay finds a commit past the last target")
    pitr.close_segment()

    # between the marks: the first present, the second (and everything later) absent
    record = pitr.physical_drill("pitr-between", between, keep_restored=False, folder=tmp_path / "d1")
    assert record["status"] == "passed"
    assert 1.0 <= record["rpo_seconds"] < 60
    got = drills(warehouse)["pitr-between"]
    assert got[1:4] == ("passed", "physical", between)
    present = next(c for c in got[7] if c["name"].startswith("marks committed by"))
    assert before in present["actual"] and first in present["actual"] and second not in present["actual"]
    assert not (tmp_path / "d1").exists()  # removed once proven

    # just before the DROP TABLE, kept running: the lost rows can be read back
    record = pitr.physical_drill("pitr-before-drop", before_drop, keep_restored=True, folder=tmp_path / "d2")
    host, port = record["kept_at"].split(":")
    with psycopg.connect(host=host, port=port, user="postgres", dbname="saas_pitr") as restored:
        assert restored.execute("SELECT count(*), sum(amount_cents) FROM public.invoices_archive").fetchone() == (
            250, 100 * 250 * 251 // 2)
        marks = [r[0] for r in restored.execute("SELECT mark_id FROM saas_ops_pitr.marks ORDER BY 1")]
        assert second in marks and after not in marks
    assert drills(warehouse)["pitr-before-drop"][6] == record["kept_at"]
    assert pitr.stop_kept("saas_ops") == [record["kept_at"]]
    assert not (tmp_path / "d2").exists()
    assert drills(warehouse)["pitr-before-drop"][6] is None

    # after every write: all marks present; and the base backup alone (blank target) holds only the first
    record = pitr.physical_drill("pitr-after", after_writes, keep_restored=False, folder=tmp_path / "d3")
    assert record["status"] == "passed"
    present = next(c for c in drills(warehouse)["pitr-after"][7] if c["name"].startswith("marks committed by"))
    assert {before, first, second, after} <= set(present["actual"])
    record = pitr.physical_drill("pitr-backup-end", None, keep_restored=False, folder=tmp_path / "d4")
    present = next(c for c in drills(warehouse)["pitr-backup-end"][7] if c["name"].startswith("marks committed by"))
    assert before in present["actual"] and first not in present["actual"]

    # the SaaS Ops page: the RPO, the window one can restore into, the physical drills against the RTO target
    from saas_ops.ops import report

    measured = pitr.measure_rpo(dt.datetime.now(dt.UTC))
    page = report.read_figures()["backups"]["point_in_time"]
    assert page["rpo_now"] == measured["rpo_seconds"]
    base_end = warehouse.execute("SELECT finished_at FROM saas_ops.backups WHERE backup_id = 'base-test-1'"
                                 ).fetchone()[0]
    assert page["earliest"] == base_end.isoformat()
    assert [d["drill_id"] for d in page["drills"]][:4] == ["pitr-backup-end", "pitr-after", "pitr-before-drop",
                                                             "pitr-between"]
    assert all(d["rto_target_seconds"] == 14400 for d in page["drills"])
    html = report.render_html(report.read_figures(), standalone=True)
    assert 'data-figure="pitr_earliest">' + base_end.isoformat()[:19] in html

    # the weekly review: the RPO at the week's end and the last physical drill against the RTO target
    from saas_ops.ops import weekly_review

    today = dt.datetime.now(dt.UTC).date()
    sections = weekly_review.figures(warehouse, "saas_ops", today - dt.timedelta(days=6), today, currency="USD",
                                     cost_per_1000=0.4)
    rows = dict(next(s for s in sections if s.title == "Backups and drills").rows)
    assert rows["restorable from"] == f"{base_end.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    drill = drills(warehouse)["pitr-backup-end"]
    assert rows["last physical drill"] == (f"passed: RPO {drill[4] or 0:,.1f} s, RTO {drill[5]:,.0f} s "
                                           "(target 14,400 s)")


def test_a_corrupted_wal_segment_fails_the_drill_naming_it(archived, warehouse, tmp_path):
    pitr.take_base_backup("base-test-2")
    _, target, _ = marks_around("in the segment to corrupt")
    pitr.close_segment()
    archive = archiving.open_archive()
    newest = max(archive.base_backups(), key=lambda b: b.end_time)
    wals = sorted(p for p in (archive.home / "saas" / "wals").rglob("0000*") if p.name > newest.end_wal
                  and "." not in p.name)
    assert wals, "the segments after the base backup are in the archive"
    wals[0].write_bytes(gzip.compress(b"\x00" * 16 * 1024 * 1024))  # zeros: valid gzip, no valid WAL page
    with pytest.raises(BackupError, match="FAILED"):
        pitr.physical_drill("pitr-corrupt", target, keep_restored=False, folder=tmp_path / "d5")
    got = drills(warehouse)["pitr-corrupt"]
    assert got[1] == "failed" and got[8], "the drill's row says why"
    assert not (tmp_path / "d5").exists()


def test_a_corrupted_base_backup_file_fails_the_drill_naming_it(archived, warehouse, tmp_path):
    """A flipped run of bytes inside the stored base.tar.gz: the restore fails, before any check could pass, with
    the tool's words for it; the scratch folder goes. The file is put back for the other tests."""
    pitr.take_base_backup("base-test-corrupt-file")
    archive = archiving.open_archive()
    newest = max(archive.base_backups(), key=lambda b: b.end_time)
    stored = next((archive.home / "saas" / "base" / newest.backup_id).rglob("base.tar.gz"))
    good = stored.read_bytes()
    middle = len(good) // 2
    stored.write_bytes(good[:middle] + bytes(b ^ 0xFF for b in good[middle:middle + 64]) + good[middle + 64:])
    try:
        with pytest.raises(BackupError, match="FAILED") as failed:
            pitr.physical_drill("pitr-corrupt-file", None, keep_restored=False, folder=tmp_path / "d7")
    finally:
        stored.write_bytes(good)
    assert newest.backup_id in str(failed.value) and "barman recover" in str(failed.value)
    got = drills(warehouse)["pitr-corrupt-file"]
    assert got[1] == "failed" and "barman recover" in got[8] and got[7] == [], "no check ran on a broken restore"
    assert not (tmp_path / "d7").exists()


def test_a_killed_base_backup_is_never_taken_for_complete(archived, warehouse):
    """SIGKILL to the task taking a base backup (and to Barman and pg_basebackup under it) in the middle of the
    copy: its row stays unfinished, Barman lists it as not DONE, nothing restores from it, and the retry of the
    same backup_id takes a whole one."""
    import subprocess
    import sys

    import psutil

    from tests.harness.dag_runs import REPO

    before = pitr.take_base_backup("base-before-kill")
    with psycopg.connect(archived["dsn"], autocommit=True) as conn:  # enough to copy for a few seconds
        conn.execute("CREATE TABLE ballast AS SELECT g, repeat(md5(g::text), 8) AS pad "
                     "FROM generate_series(1, 400000) g")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    task = subprocess.Popen([sys.executable, "-c", "from saas_ops.backups import pitr; "
                             "pitr.take_base_backup('base-killed')"], env=env)
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

    record = pitr.take_base_backup("base-killed")  # the task's retry
    assert warehouse.execute("SELECT status FROM saas_ops.backups WHERE backup_id = 'base-killed'").fetchone() == (
        "succeeded",)
    done = [b for b in archive.base_backups() if b.info.get("backup_name") == "base-killed" and b.status == "DONE"]
    assert len(done) == 1 and record["tool_backup_id"] == done[0].backup_id


def test_a_failing_archive_command_is_named_and_nothing_is_lost(archived, warehouse, receivers):
    dsn = archived["dsn"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        good = conn.execute("SHOW archive_command").fetchone()[0]
        conn.execute("ALTER SYSTEM SET archive_command = 'false'")
        conn.execute("SELECT pg_reload_conf()")
    try:
        time.sleep(0.5)
        pitr.write_mark("written while the archive command fails")  # a switch needs WAL written since the last
        with psycopg.connect(dsn, autocommit=True) as conn:
            stuck = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]
            conn.execute("SELECT pg_switch_wal()")
            deadline = time.monotonic() + 30
            while conn.execute("SELECT last_failed_wal FROM pg_stat_archiver").fetchone()[0] != stuck:
                assert time.monotonic() < deadline, f"the archiver did not try {stuck} within 30 s"
                time.sleep(0.2)
        measured = pitr.measure_rpo(dt.datetime.now(dt.UTC))
        assert not measured["ok"]
        assert any("archive command fails" in p and stuck in p for p in measured["problems"])
        assert warehouse.execute("SELECT ok, last_failed_wal FROM saas_ops.backup_rpo WHERE measured_at = %s",
                                 (measured["measured_at"],)).fetchone() == (False, stuck)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("ALTER SYSTEM SET archive_command = {}").format(good))
            conn.execute("SELECT pg_reload_conf()")  # also wakes the archiver from its wait after failures
    with psycopg.connect(dsn, autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while (conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0] or "") < stuck:
            assert time.monotonic() < deadline, "the stuck segment is archived once the command works"
            time.sleep(0.5)
    archiving.open_archive().cron()
    assert (archiving.open_archive().home / "saas" / "wals" / stuck[:16] / stuck).exists()


def test_the_watch_dag_writes_a_mark_and_the_rpo(archived, warehouse, receivers):
    pitr.close_segment()
    pack_dag("backup_archive_watch").test(logical_date=dt.datetime(2026, 12, 7, 12, 15, tzinfo=dt.UTC))
    row = warehouse.execute("SELECT ok, rpo_seconds, last_archived_wal, archive FROM saas_ops.backup_rpo "
                            "WHERE measured_at = '2026-12-07T12:15:00Z'").fetchone()
    assert row is not None and row[2] and row[3].endswith("barman")
    with psycopg.connect(archived["dsn"]) as conn:
        assert conn.execute("SELECT count(*) FROM saas_ops_pitr.marks WHERE note LIKE 'backup_archive_watch %'"
                            ).fetchone()[0] == 1


def test_the_s3_archive_restores_to_a_moment(archived, warehouse, monkeypatch, tmp_path_factory, tmp_path):
    """barman-cloud to the suite's S3 server: archived, base-backed-up, replayed to a moment between two marks."""
    from dev import devdb

    folder = tmp_path_factory.mktemp("pitr_s3_pg")
    server = devdb.start(folder, archiving=True)
    try:
        dsn = server.create_database("saas_pitr_s3")
        monkeypatch.setenv("AIRFLOW_CONN_SAAS_DB", airflow_uri(dsn))
        monkeypatch.setenv("AIRFLOW_CONN_BACKUP_STORAGE", archived["s3"])
        monkeypatch.setenv("AIRFLOW_VAR_STORAGE_PREFIX", f"pitr-test-{server.port}")
        done = archiving.setup()
        assert any("barman-cloud-wal-archive" in line and "-e AES256" in line and "testing" not in line
                   for line in done), "the archive command encrypts, and holds no key"
        backup = pitr.take_base_backup("base-s3-1")
        assert backup["format"] == "barman-s3" and backup["uri"].startswith("s3://saas-ops/pitr-test-")
        first, target, second = marks_around("s3")
        pitr.close_segment()
        measured = pitr.measure_rpo(dt.datetime.now(dt.UTC))
        assert measured["ok"], measured["problems"]
        record = pitr.physical_drill("pitr-s3", target, keep_restored=False, folder=tmp_path / "s3")
        assert record["status"] == "passed"
        present = next(c for c in drills(warehouse)["pitr-s3"][7] if c["name"].startswith("marks committed by"))
        assert first in present["actual"] and second not in present["actual"]
    finally:
        devdb.stop(folder)


def test_the_local_archive_is_encrypted_with_gpg_and_restores(archived, warehouse, monkeypatch, tmp_path_factory,
                                                             tmp_path):
    """With a `backup_encryption` connection (a passphrase; no key given, so the pack makes one), Barman encrypts
    the base backup and every WAL segment it files; the drill decrypts them and restores to a moment between two
    marks; the passphrase is in no configuration file, log or command line, only in a file of the server's account."""
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
        monkeypatch.setenv("AIRFLOW_CONN_BACKUP_ENCRYPTION", json.dumps({"conn_type": "generic",
                                                                         "password": passphrase}))
        archiving.setup()
        pitr.take_base_backup("base-gpg")
        first, target, second = marks_around("gpg")
        pitr.close_segment()
        archive = archiving.open_archive()
        assert archive.encryption is not None
        stored = list((archive.home / "saas" / "base").rglob("base.tar*"))
        wals = [p for p in (archive.home / "saas" / "wals").rglob("0000*") if p.is_file() and "." not in p.name]
        assert stored and wals
        kinds = {subprocess.run(["file", "--brief", str(p)], capture_output=True, text=True).stdout.strip()
                 for p in [*stored, *wals]}
        assert all("PGP" in kind and "encrypted" in kind for kind in kinds), kinds
        record = pitr.physical_drill("pitr-gpg", target, keep_restored=False, folder=tmp_path / "gpg")
        assert record["status"] == "passed"
        present = next(c for c in drills(warehouse)["pitr-gpg"][7] if c["name"].startswith("marks committed by"))
        assert first in present["actual"] and second not in present["actual"]
        secret_file = archive.home / "gpg-passphrase"
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
        for path in [archive.config_file, archive.home / "barman.log", folder / "server.log",
                     folder / "data" / "postgresql.auto.conf"]:
            assert passphrase not in path.read_text(errors="replace"), path
    finally:
        devdb.stop(folder)


def test_incremental_base_backups_restore_and_a_full_one_is_taken_weekly(archived, warehouse, tmp_path):
    """PostgreSQL 18 with summarize_wal (set by setup): between weekly full backups db_backup takes block-level
    incremental ones on the newest; a drill to a moment after one restores it (Barman combines the chain)."""
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        assert conn.execute("SHOW summarize_wal").fetchone()[0] == "on"
    full = pitr.take_base_backup("base-full-weekly")
    archive = archiving.open_archive()
    now = dt.datetime.now(dt.UTC)
    week = dt.timedelta(days=7)
    assert archive.incremental_parent(week, now) == full["tool_backup_id"]
    assert archive.incremental_parent(week, now + dt.timedelta(days=8)) is None  # a full one is due
    with psycopg.connect(archived["dsn"], autocommit=True) as conn:
        conn.execute("CREATE TABLE after_the_full AS SELECT g FROM generate_series(1, 5000) g")
    inc = pitr.take_base_backup("base-incremental-1", archive.incremental_parent(week, now))
    shown = next(b for b in archive.base_backups() if b.backup_id == inc["tool_backup_id"])
    assert shown.info["backup_type"] == "incremental" and shown.info["parent_backup_id"] == full["tool_backup_id"]
    assert inc["bytes"] < full["bytes"] / 2, (inc["bytes"], full["bytes"])
    assert warehouse.execute("SELECT status FROM saas_ops.backups WHERE backup_id = 'base-incremental-1'"
                             ).fetchone() == ("succeeded",)
    first, target, second = marks_around("after the incremental")
    pitr.close_segment()
    record = pitr.physical_drill("pitr-incremental", target, keep_restored=True, folder=tmp_path / "inc")
    try:
        assert record["status"] == "passed" and record["backup_id"] == inc["tool_backup_id"]
        host, port = record["kept_at"].split(":")
        with psycopg.connect(host=host, port=int(port), user="postgres", dbname="saas_pitr") as restored:
            assert restored.execute("SELECT count(*) FROM after_the_full").fetchone() == (5000,)
    finally:
        pitr.stop_kept("saas_ops")
        with psycopg.connect(archived["dsn"], autocommit=True) as conn:
            conn.execute("DROP TABLE after_the_full")


def test_retention_keeps_the_backups_a_kept_incremental_was_taken_on():
    """full1 <- inc1 <- inc2, full2: expiring full1, inc1 and full2 while inc2 is kept keeps its chain."""
    parent_of = {"full1": None, "inc1": "full1", "inc2": "inc1", "full2": None}
    assert pitr.without_parents_of_kept(["full1", "inc1", "full2"], parent_of) == ["full2"]
    assert pitr.without_parents_of_kept(["full1", "inc1", "inc2"], parent_of) == ["full1", "inc1", "inc2"]


def test_base_backup_retention_by_hand():
    """A 30-day window on 2026-12-31: backups ended Nov 20, Nov 25, Dec 1 (in the window) and Dec 20. The window
    begins Dec 1 12:00, so Nov 25 is the one that reaches its first moment and stays; Nov 20 goes, but only once
    a newer backup passed a physical drill."""
    at = lambda day: dt.datetime(2026, *day, 12, tzinfo=dt.UTC)  # noqa: E731
    ended = [("nov20", at((11, 20))), ("nov25", at((11, 25))), ("dec01", at((12, 1))), ("dec20", at((12, 20)))]
    now = dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC)
    assert pitr.expired_base_backups(ended, now, 30, newest_proven=at((12, 20))) == ["nov20"]
    assert pitr.expired_base_backups(ended, now, 30, newest_proven=None) == []
    assert pitr.expired_base_backups(ended, now, 30, newest_proven=at((11, 20))) == []
    assert pitr.expired_base_backups(ended, now, 60, newest_proven=at((12, 20))) == []


def test_the_drill_form_runs_a_physical_drill_to_a_moment(archived, warehouse, receivers):
    """db_restore_drill from its form, as the UI's trigger: method physical, a target_time between two marks."""
    pitr.take_base_backup("base-test-form")
    first, target, second = marks_around("form")
    pitr.close_segment()
    dag = pack_dag("db_restore_drill")
    assert {k: dag.params[k] for k in ("method", "target_time", "keep_restored", "stop")} == {
        "method": "", "target_time": "", "keep_restored": False, "stop": False}
    run = dag.test(logical_date=dt.datetime(2026, 12, 5, 5, tzinfo=dt.UTC),
                   run_conf={"method": "physical", "target_time": target.isoformat()})
    assert run.state == "success"
    drill_id = f"drill-{run.run_id}"
    got = drills(warehouse)[drill_id]
    assert got[1:4] == ("passed", "physical", target)
    present = next(c for c in got[7] if c["name"].startswith("marks committed by"))
    assert first in present["actual"] and second not in present["actual"]
    assert any("physical drill passed" in text for text in receivers["slack"].texts())

    run = dag.test(logical_date=dt.datetime(2026, 12, 5, 6, tzinfo=dt.UTC),
                   run_conf={"method": "physical", "target_time": "2026-12-07 16:59"})
    assert run.state == "failed"  # no zone: refused at once, nothing restored
