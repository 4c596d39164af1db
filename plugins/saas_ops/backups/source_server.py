"""saas_db's server as Barman and the scratch servers of the drills reach it: its libpq parameters, client tools,
and, when it runs on this machine, its data directory and OS account."""

from __future__ import annotations

import getpass
import os
import pwd
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Source:
    """saas_db's server as Barman reaches it: libpq parameters (the password only in `env`)."""
    host: str
    port: int
    user: str
    dbname: str
    env: dict[str, str]
    bin_dir: Path  # the server's major's client tools (pg_basebackup)
    data_directory: Path | None  # when the server runs on this machine
    account: pwd.struct_passwd | None  # its OS account, when not ours

    @property
    def conninfo(self) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    @property
    def os_user(self) -> str:
        return self.account.pw_name if self.account else getpass.getuser()


def source() -> Source:
    from psycopg.conninfo import conninfo_to_dict

    from saas_ops import db
    from saas_ops.backups.pg_tools import libpq_env, pg_tools, server_major

    conninfo, env = libpq_env(db.conninfo(db.SOURCE_CONN_ID))
    params = conninfo_to_dict(conninfo)
    with db.connect(db.SOURCE_CONN_ID) as conn:
        bin_dir = pg_tools(server_major(conn))
        try:
            data = Path(conn.execute("SHOW data_directory").fetchone()[0])
        except Exception:  # noqa: BLE001 - only superusers and pg_read_all_settings may read it
            data = None
    local = data is not None and data.is_dir()
    account = None
    if local and os.geteuid() == 0:
        account = pwd.getpwuid(data.stat().st_uid)
    return Source(str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432), str(params["user"]),
                  str(params["dbname"]), env, bin_dir, data if local else None, account)
