"""db_backup and db_restore_drill beside bare pg_dump and pg_restore, on a database of about 2 GB from the
demo generator (BACKUP_BENCH_CUSTOMERS customers, default 60000), in the same run on the same server:

- bare `pg_dump -Fc` at the default compression and at -Z1, to /dev/null: the compression choice;
- the backup (pg_dump -Z1 streamed into local storage with its SHA-256, and the same-snapshot manifest of
  every table's rows and checksum) against bare `pg_dump -Fc > /dev/null` (the issue's baseline; target:
  within 1.2x), and like for like against `pg_dump -Fc -Z1 > /dev/null`, twice; beside them the floor this
  machine sets: pg_dump's and the checksum pass's CPU seconds over its cores, as a ratio to bare -Z1;
- the drill (download with SHA-256, pg_restore -j2 into a fresh database, then every check) against bare
  `pg_restore -j2` of the same file into a fresh database. Target: within 1.5x.
"""

import contextlib
import datetime as dt
import io
import os
import subprocess
import tempfile
import time
from pathlib import Path

from dev import devdb
from tests.harness.databases import point_airflow_at

CUSTOMERS = int(os.environ.get("BACKUP_BENCH_CUSTOMERS", "60000"))


def main() -> None:
    import psycopg

    from dev import demo_data
    from saas_ops import db, storage
    from saas_ops.backups import drill, dump

    folder = Path(tempfile.mkdtemp(prefix="saas_ops_bench_backup_"))
    server = devdb.start(folder)
    try:
        source = server.create_database("bench_backup_app", drop_first=True)
        warehouse = server.create_database("bench_backup_warehouse", drop_first=True)
        with contextlib.redirect_stdout(io.StringIO()):
            demo_data.load(source, customers=CUSTOMERS, months=24, seed=7, end=dt.date(2026, 11, 22),
                           events_per_active_day=1.2, verbose=False)
        point_airflow_at(source, warehouse, folder / "local")
        with db.warehouse() as wh:
            db.migrate(wh)
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        bin_dir = server.bin_dir
        env = {**os.environ, "PGPASSWORD": ""}

        def bare_dump(level: str | None) -> tuple[float, int]:
            args = [str(bin_dir / "pg_dump"), f"--dbname={source}", "--format=custom"]
            args += [f"--compress={level}"] if level else []
            t = time.perf_counter()
            out = subprocess.run(f"{' '.join(args)} | wc -c", shell=True, capture_output=True, text=True, env=env,
                                 check=True)
            return time.perf_counter() - t, int(out.stdout.strip())

        def bare_dump_to_null(*compress: str) -> float:
            t = time.perf_counter()
            with open(os.devnull, "wb") as null:
                subprocess.run([str(bin_dir / "pg_dump"), f"--dbname={source}", "--format=custom", *compress],
                               stdout=null, check=True, env=env)
            return time.perf_counter() - t

        print(f"database {size / 1e9:.2f} GB ({CUSTOMERS:,} customers)", flush=True)
        default_s, default_bytes = bare_dump(None)
        z1_s, z1_bytes = bare_dump("1")
        print(f"{'pg_dump -Fc':<34}{'s':>8}{'MB':>10}")
        print(f"{'  default compression':<34}{default_s:>8.1f}{default_bytes / 1e6:>10.1f}")
        print(f"{'  -Z1':<34}{z1_s:>8.1f}{z1_bytes / 1e6:>10.1f}")

        bare_default = bare_dump_to_null()
        bare, dump_cpu = _with_cpu(lambda: bare_dump_to_null("--compress=1"))
        checksums_s, checksums_cpu = _with_cpu(lambda: _checksums_alone(source))
        # The backup runs pg_dump and the checksum pass at once: on this machine's cores it cannot take less
        # than their CPU seconds spread over every core.
        floor = max(bare, (dump_cpu + checksums_cpu) / os.cpu_count())
        print(f"CPU seconds: pg_dump -Z1 {dump_cpu:.1f} in {bare:.1f} s; the checksum pass alone {checksums_cpu:.1f} "
              f"in {checksums_s:.1f} s; both at once on {os.cpu_count()} cores: at least {floor:.1f} s "
              f"({floor / bare:.2f}x bare -Z1)")
        print(f"{'step':<34}{'ours s':>8}{'bare s':>8}{'ratio':>7}")
        for attempt in ("bench", "bench-2"):
            with contextlib.redirect_stdout(io.StringIO()):
                t = time.perf_counter()
                taken = dump.take_backup(attempt, dump.BackupOptions())
                ours = time.perf_counter() - t
            print(f"{'backup vs pg_dump -Fc > /dev/null':<34}{ours:>8.1f}{bare_default:>8.1f}"
                  f"{ours / bare_default:>7.2f}  (the issue's baseline: pg_dump's default compression)")
            print(f"{'backup vs pg_dump -Fc -Z1':<34}{ours:>8.1f}{bare:>8.1f}{ours / bare:>7.2f}"
                  f"  (like for like: streaming, SHA-256 and checksums; CPU floor {floor / bare:.2f}; "
                  f"{taken['bytes'] / 1e6:,.1f} MB, {len(taken['tables'])} tables checksummed)", flush=True)

        dump = folder / "bare.pgdump"
        storage.open_storage().download_to("backups/bench/dump.pgdump", dump)
        scratch = server.create_database("bench_backup_bare_restore", drop_first=True)
        t = time.perf_counter()
        subprocess.run([str(bin_dir / "pg_restore"), f"--dbname={scratch}", "--jobs=2", "--no-owner",
                        "--no-privileges", str(dump)], check=True, env=env)
        bare = time.perf_counter() - t
        dump.unlink()
        with contextlib.redirect_stdout(io.StringIO()):
            t = time.perf_counter()
            record = drill.run_drill("bench-drill", "bench", target_conn_id="", keep_database=False, jobs=2)
            ours = time.perf_counter() - t
        print(f"{'drill vs pg_restore -j2':<34}{ours:>8.1f}{bare:>8.1f}{ours / bare:>7.2f}"
              f"  ({record['status']}: {record['checks']} checks; download {record['download_seconds']:.1f} s, "
              f"restore {record['restore_seconds']:.1f} s, verify {record['verify_seconds']:.1f} s)", flush=True)
    finally:
        devdb.discard(folder)


def _machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used (/proc/stat): pg_dump, its backend and ours."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _with_cpu(run) -> tuple[float, float]:
    """(wall seconds, machine CPU seconds) of run()."""
    cpu, t = _machine_cpu_seconds(), time.perf_counter()
    run()
    return time.perf_counter() - t, _machine_cpu_seconds() - cpu


def _checksums_alone(dsn: str) -> None:
    """The backup's same-snapshot contents pass (rows and checksum of every table) without pg_dump beside it."""
    import psycopg

    from saas_ops.backups import dump

    with psycopg.connect(dsn) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # as in the backup
        dump.database_contents(conn)


