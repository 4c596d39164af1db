"""Continuous archiving by Barman and point-in-time drills, on a server of their own with archiving on: restores
to moments before, between and after known writes and to just before a DROP TABLE, proven by the marks; a
corrupted WAL segment fails the drill; a failing archive command is named by the RPO watch and loses nothing;
the S3 archive; the drill's form."""

from __future__ import annotations

import datetime as dt
import gzip
import time

import psycopg
import pytest

from saas_ops.backups import archiving, base_backups, marks, physical_drill, rpo
from saas_ops.backups.pg_tools import BackupError
from tests.harness.dag_runs import pack_dag
from tests.harness.databases import airflow_uri
from tests.harness.point_in_time import drills, marks_around

pytestmark = pytest.mark.slow  # its own archiving PostgreSQL servers and Barman; `make test-fast` leaves it out


def test_setup_configures_the_server_and_the_marks_role(archived):
    assert any("archive_command" in line and "incoming" in line for line in archived["setup"])
    with psycopg.connect(archived["dsn"]) as conn:
        assert conn.execute("SHOW archive_mode").fetchone()[0] == "on"
        assert conn.execute("SHOW archive_timeout").fetchone()[0] == "1min"
        # the marks role may write its table and nothing else
        conn.execute(f"SET ROLE {archiving.MARKS_ROLE}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.sneaky (x int)")
    # WAL archives from setup on, before any base backup created Barman's folders
    marks.close_segment(timeout_s=30)
    with psycopg.connect(archived["dsn"]) as conn:
        assert conn.execute("SELECT archived_count > 0, failed_count FROM pg_stat_archiver").fetchone() == (True, 0)


def test_restores_to_three_moments_and_to_just_before_a_drop_table(archived, warehouse, tmp_path):
    dsn = archived["dsn"]
    before, _ = marks.write_mark("before the base backup")
    backup = base_backups.take_base_backup("base-test-1")
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
    after, _ = marks.write_mark("after the drop")
    time.sleep(1.2)
    after_writes = dt.datetime.now(dt.UTC)
    time.sleep(1.2)
    marks.write_mark("replay finds a commit past the last target")
    marks.close_segment()

    # between the marks: the first present, the second (and everything later) absent
    record = physical_drill.run("pitr-between", between, keep_restored=False, folder=tmp_path / "d1")
    assert record["status"] == "passed"
    assert 1.0 <= record["rpo_seconds"] < 60
    got = drills(warehouse)["pitr-between"]
    assert got[1:4] == ("passed", "physical", between)
    present = next(c for c in got[7] if c["name"].startswith("marks committed by"))
    assert before in present["actual"] and first in present["actual"] and second not in present["actual"]
    assert not (tmp_path / "d1").exists()  # removed once proven

    # just before the DROP TABLE, kept running: the lost rows can be read back
    record = physical_drill.run("pitr-before-drop", before_drop, keep_restored=True, folder=tmp_path / "d2")
    host, port = record["kept_at"].split(":")
    with psycopg.connect(host=host, port=port, user="postgres", dbname="saas_pitr") as restored:
        assert restored.execute("SELECT count(*), sum(amount_cents) FROM public.invoices_archive").fetchone() == (
            250, 100 * 250 * 251 // 2)
        restored_marks = [r[0] for r in restored.execute("SELECT mark_id FROM saas_ops_pitr.marks ORDER BY 1")]
        assert second in restored_marks and after not in restored_marks
    assert drills(warehouse)["pitr-before-drop"][6] == record["kept_at"]
    assert physical_drill.stop_kept("saas_ops") == [record["kept_at"]]
    assert not (tmp_path / "d2").exists()
    assert drills(warehouse)["pitr-before-drop"][6] is None

    # after every write: all marks present; and the base backup alone (blank target: to its manifest, read just
    # after it) holds only the first, and the tables as they were then: invoices_archive was not made yet
    record = physical_drill.run("pitr-after", after_writes, keep_restored=False, folder=tmp_path / "d3")
    assert record["status"] == "passed"
    present = next(c for c in drills(warehouse)["pitr-after"][7] if c["name"].startswith("marks committed by"))
    assert {before, first, second, after} <= set(present["actual"])
    record = physical_drill.run("pitr-backup-end", None, keep_restored=False, folder=tmp_path / "d4")
    assert record["target_lsn"] == backup["manifest_lsn"]
    checks = {c["name"]: c for c in drills(warehouse)["pitr-backup-end"][7]}
    present = checks[f"marks of the manifest at WAL {backup['manifest_lsn']} present"]
    assert before in present["actual"] and first not in present["actual"]
    assert "public.invoices_archive" not in checks["tables present"]["actual"]
    assert checks["saas_ops_pitr.marks checksum"]["ok"]

    # the SaaS Ops page: the RPO, the window one can restore into, the physical drills against the RTO target
    from saas_ops.ops import report

    measured = rpo.measure_rpo(dt.datetime.now(dt.UTC))
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


def test_a_corrupted_or_missing_wal_segment_fails_the_drill_naming_it(archived, warehouse, tmp_path):
    """The first segment after the base backup zeroed, then gone: each drill to a moment past it fails, its row
    saying why, its scratch folder removed; the segment put back, the same moment restores."""
    base_backups.take_base_backup("base-test-2")
    _, target, _ = marks_around("in the segment to corrupt")
    marks.close_segment()
    archive = archiving.open_archive()
    newest = max(archive.base_backups(), key=lambda b: b.end_time)
    wals = sorted(p for p in (archive.home / "saas" / "wals").rglob("0000*") if p.name > newest.end_wal
                  and "." not in p.name)
    assert wals, "the segments after the base backup are in the archive"
    good = wals[0].read_bytes()
    try:
        wals[0].write_bytes(gzip.compress(b"\x00" * 16 * 1024 * 1024))  # zeros: valid gzip, no valid WAL page
        with pytest.raises(BackupError, match="FAILED"):
            physical_drill.run("pitr-corrupt", target, keep_restored=False, folder=tmp_path / "d5")
        got = drills(warehouse)["pitr-corrupt"]
        assert got[1] == "failed" and got[8], "the drill's row says why"
        assert not (tmp_path / "d5").exists()

        wals[0].unlink()
        with pytest.raises(BackupError, match="FAILED") as failed:
            physical_drill.run("pitr-missing", target, keep_restored=False, folder=tmp_path / "d6")
        assert "recovery ended before configured recovery target was reached" in str(failed.value)
        assert drills(warehouse)["pitr-missing"][1] == "failed"
        assert not (tmp_path / "d6").exists()
    finally:
        wals[0].write_bytes(good)
    assert physical_drill.run("pitr-segment-back", target, keep_restored=False,
                               folder=tmp_path / "d7")["status"] == "passed"


def test_a_failing_archive_command_is_named_and_nothing_is_lost(archived, warehouse, receivers):
    dsn = archived["dsn"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        good = conn.execute("SHOW archive_command").fetchone()[0]
        conn.execute("ALTER SYSTEM SET archive_command = 'false'")
        conn.execute("SELECT pg_reload_conf()")
    try:
        time.sleep(0.5)
        marks.write_mark("written while the archive command fails")  # a switch needs WAL written since the last
        with psycopg.connect(dsn, autocommit=True) as conn:
            stuck = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]
            conn.execute("SELECT pg_switch_wal()")
            deadline = time.monotonic() + 30
            while conn.execute("SELECT last_failed_wal FROM pg_stat_archiver").fetchone()[0] != stuck:
                assert time.monotonic() < deadline, f"the archiver did not try {stuck} within 30 s"
                time.sleep(0.2)
        measured = rpo.measure_rpo(dt.datetime.now(dt.UTC))
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
    marks.close_segment()
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
        backup = base_backups.take_base_backup("base-s3-1")
        assert backup["format"] == "barman-s3" and backup["uri"].startswith("s3://saas-ops/pitr-test-")
        first, target, second = marks_around("s3")
        marks.close_segment()
        measured = rpo.measure_rpo(dt.datetime.now(dt.UTC))
        assert measured["ok"], measured["problems"]
        record = physical_drill.run("pitr-s3", target, keep_restored=False, folder=tmp_path / "s3")
        assert record["status"] == "passed"
        present = next(c for c in drills(warehouse)["pitr-s3"][7] if c["name"].startswith("marks committed by"))
        assert first in present["actual"] and second not in present["actual"]
    finally:
        devdb.stop(folder)


def test_the_drill_form_runs_a_physical_drill_to_a_moment(archived, warehouse, receivers):
    """db_restore_drill from its form, as the UI's trigger: method physical, a target_time between two marks."""
    base_backups.take_base_backup("base-test-form")
    first, target, second = marks_around("form")
    marks.close_segment()
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
