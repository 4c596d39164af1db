"""Point-in-time recovery (Barman) beside the bare tools, on the database of bench_backup (PITR_BENCH_CUSTOMERS
customers, default 60000: about 2 GB) or, with PITR_BENCH_DATABASE=night, on bench_whole_night's saas_db (1M
customers and 100M events: 19 GB; WHOLE_NIGHT_CUSTOMERS and WHOLE_NIGHT_EVENTS override it), archived to the
local folder, in the same run on the same server:

- the base backup (db_backup's base_backup: Barman's `backup --wait`, gzip tar, recorded in `backups`) against
  bare `pg_basebackup --format=tar --gzip --checkpoint=fast --wal-method=none` into the same disk, and the
  manifest read after it (every table's checksum at a known WAL position) beside it;
- the physical drill to the backup's end (restore + WAL replay + the marks' proof) against a bare restore of the
  same files (`tar -xzf` of Barman's base.tar.gz), and against the logical drill of a dump of the same database;
- the largest RPO while pgbench writes for PITR_BENCH_LOAD_SECONDS (default 600; 0 leaves it out) and the watch
  measures it every PITR_BENCH_SAMPLE_SECONDS (default 15), with archive_timeout at its default.
"""

import contextlib
import datetime as dt
import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from dev import devdb
from tests.harness.databases import point_airflow_at

CUSTOMERS = int(os.environ.get("PITR_BENCH_CUSTOMERS", "60000"))
DATABASE = os.environ.get("PITR_BENCH_DATABASE", "demo")
LOAD_SECONDS = int(os.environ.get("PITR_BENCH_LOAD_SECONDS", "600"))
SAMPLE_SECONDS = int(os.environ.get("PITR_BENCH_SAMPLE_SECONDS", "15"))


def main() -> None:
    import psycopg

    from dev import demo_data
    from saas_ops import config, db
    from saas_ops.backups import archiving, base_backups, drill, dump, physical_drill, rpo

    folder = Path(tempfile.mkdtemp(prefix="saas_ops_bench_pitr_"))
    try:
        server = devdb.start(folder)
        source = server.create_database("bench_pitr_app", drop_first=True)
        warehouse = server.create_database("bench_pitr_warehouse", drop_first=True)
        t = time.perf_counter()
        if DATABASE == "night":
            from bench import bench_whole_night

            counts = bench_whole_night.load_saas(source, int(os.environ.get("WHOLE_NIGHT_CUSTOMERS", "1000000")),
                                                 int(os.environ.get("WHOLE_NIGHT_EVENTS", "100000000")))[0]
        else:
            with contextlib.redirect_stdout(io.StringIO()):
                counts = demo_data.load(source, customers=CUSTOMERS, months=24, seed=7, end=dt.date(2026, 11, 22),
                                        events_per_active_day=1.2, verbose=False)
        print(f"loaded {counts['customers']:,} customers and {counts['events']:,} events in "
              f"{time.perf_counter() - t:.0f} s", flush=True)
        server = devdb.start(folder, archiving=True)  # restarts it with archive_mode on, as a user's after setup
        source, warehouse = server.dsn_for("bench_pitr_app"), server.dsn_for("bench_pitr_warehouse")  # a new port
        point_airflow_at(source, warehouse, folder / "local")
        with db.warehouse() as wh:
            db.migrate(wh)
        with contextlib.redirect_stdout(io.StringIO()):
            archiving.setup()
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        bin_dir = server.bin_dir
        print(f"database {size / 1e9:.2f} GB ({counts['customers']:,} customers), archived to "
              f"{folder / 'local' / 'barman'}", flush=True)

        bare_dir = folder / "bare_basebackup"
        t = time.perf_counter()
        subprocess.run([str(bin_dir / "pg_basebackup"), "-d", server.dsn, "-D", str(bare_dir), "--format=tar",
                        "--gzip", "--checkpoint=fast", "--wal-method=none", "--no-manifest"], check=True,
                       capture_output=True)
        bare = time.perf_counter() - t
        bare_bytes = sum(p.stat().st_size for p in bare_dir.rglob("*") if p.is_file())
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            taken = base_backups.take_base_backup("bench-base")
        manifest = taken.get("manifest_seconds") or 0.0  # read after the copy, on the source: apart from it
        ours = time.perf_counter() - t - manifest
        print(f"{'step':<44}{'ours s':>8}{'bare s':>8}{'ratio':>7}")
        print(f"{'base backup vs pg_basebackup -Ft -z':<44}{ours:>8.1f}{bare:>8.1f}{ours / bare:>7.2f}  "
              f"({(taken.get('bytes') or 0) / 1e6:,.0f} MB stored; bare {bare_bytes / 1e6:,.0f} MB; then the "
              f"manifest of {len(taken.get('tables') or {})} tables at an LSN {manifest:.1f} s)", flush=True)

        archive = archiving.open_archive()
        base = max((b for b in archive.base_backups() if b.status == "DONE"), key=lambda b: b.end_time)
        tarball = next((folder / "local" / "barman" / archiving.SERVER / "base" / base.backup_id).rglob("base.tar*"))
        untar = folder / "bare_restore"
        untar.mkdir()
        t = time.perf_counter()
        subprocess.run(["tar", "-xzf", str(tarball), "-C", str(untar)], check=True)
        bare_restore = time.perf_counter() - t
        shutil.rmtree(untar)
        shutil.rmtree(bare_dir)
        with contextlib.redirect_stdout(io.StringIO()):
            record = physical_drill.run("bench-physical", None, keep_restored=False, folder=folder / "drill")
        print(f"{'physical drill restore vs tar -xzf':<44}{record['restore_seconds']:>8.1f}{bare_restore:>8.1f}"
              f"{record['restore_seconds'] / bare_restore:>7.2f}  (the same base.tar.gz)")
        with contextlib.redirect_stdout(io.StringIO()):
            dump.take_backup("bench-logical", dump.BackupOptions())
            logical = drill.run_drill("bench-logical-drill", "bench-logical", target_conn_id="",
                                      keep_database=False, jobs=2)
        print(f"{'physical drill RTO vs logical drill RTO':<44}{record['rto_seconds']:>8.1f}"
              f"{logical['rto_seconds']:>8.1f}{record['rto_seconds'] / logical['rto_seconds']:>7.2f}  "
              f"(physical {record['status']}: restore {record['restore_seconds']:.1f} s + replay "
              f"{record['replay_seconds']:.1f} s; logical {logical['status']}: download "
              f"{logical['download_seconds']:.1f} s + pg_restore {logical['restore_seconds']:.1f} s)", flush=True)

        if not LOAD_SECONDS:
            return
        load_db = server.create_database("bench_pitr_pgbench", drop_first=True)
        subprocess.run([str(bin_dir / "pgbench"), "-i", "-s", "10", "-q", load_db], check=True, capture_output=True)
        with psycopg.connect(server.dsn) as conn:
            wal_before = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        load = subprocess.Popen([str(bin_dir / "pgbench"), "-c", "2", "-T", str(LOAD_SECONDS), "-n", load_db],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        worst, samples, ends = 0.0, 0, time.monotonic() + LOAD_SECONDS
        with contextlib.redirect_stdout(io.StringIO()):
            while time.monotonic() < ends:
                time.sleep(SAMPLE_SECONDS)
                worst = max(worst, rpo.measure_rpo(dt.datetime.now(dt.UTC))["rpo_seconds"])
                samples += 1
        tps = next((line for line in load.communicate()[0].splitlines() if line.startswith("tps")), "tps ?")
        with psycopg.connect(server.dsn) as conn:
            wal_bytes = conn.execute("SELECT pg_current_wal_lsn() - %s::pg_lsn", (wal_before,)).fetchone()[0]
        print(f"{'largest RPO under pgbench -c 2':<44}{worst:>8.1f}{'':>8}{'':>7}  ({LOAD_SECONDS} s of load, "
              f"{samples} samples every {SAMPLE_SECONDS} s, {float(wal_bytes) / 1e6:,.0f} MB of WAL, "
              f"{tps.split('(')[0]}; "
              f"target {config.setting('RPO_TARGET_MINUTES') * 60} s)", flush=True)
    finally:
        devdb.discard(folder)
