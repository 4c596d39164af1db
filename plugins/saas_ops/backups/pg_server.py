"""A PostgreSQL server started on a data directory of this machine: a physical drill's scratch server, and
the demo's and tests' own server (dev/devdb.py). It listens on 127.0.0.1 only, on a port the OS picks. PostgreSQL
refuses to run as root, so under root it runs as an unprivileged account (`SAAS_OPS_PG_USER`, default `nobody`).
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from pathlib import Path

from saas_ops.backups.pg_tools import BackupError


def server_account() -> pwd.struct_passwd | None:
    """The account a server runs under: None for a normal user, an unprivileged one under root."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("SAAS_OPS_PG_USER", "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise BackupError(f"Running as root needs an unprivileged user for PostgreSQL; '{name}' does not exist. "
                          "Set SAAS_OPS_PG_USER to an existing one.") from None


def open_path_for(account: pwd.struct_passwd | None, path: Path) -> None:
    """Lets ``account`` traverse to ``path`` (adds o+x to folders that lack it: no listing, no reading)."""
    if account is None:
        return
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def hand_over(account: pwd.struct_passwd | None, path: Path) -> None:
    """Gives ``path`` and everything under it to ``account`` (a restored data directory its server will own)."""
    if account is None:
        return
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, account.pw_uid, account.pw_gid)


def run_as(account: pwd.struct_passwd | None, args: list[str], **kw) -> subprocess.CompletedProcess:
    """Runs a command as ``account`` (as this process's user when None), with C locale messages."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", **kw.pop("env", {})}
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


def is_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start(bin_dir: Path, data: Path, log: Path, *, options: str = "", timeout_s: int = 60) -> int:
    """Starts the server of ``data`` on 127.0.0.1 and a free port; returns the port once it accepts connections."""
    account = server_account()
    open_path_for(account, bin_dir)
    port = free_port()
    out = run_as(account, [str(bin_dir / "pg_ctl"), "start", "-w", "-t", str(timeout_s), "-D", str(data),
                           "-l", str(log), "-o", f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' {options}"])
    if out.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise BackupError(f"PostgreSQL did not start from {data}:\n{out.stderr.strip()}\n{tail}")
    deadline = time.monotonic() + 30
    while not is_ready(port):
        if time.monotonic() > deadline:
            raise BackupError(f"PostgreSQL started but does not accept connections on 127.0.0.1:{port}")
        time.sleep(0.1)
    return port


def is_running(bin_dir: Path, data: Path) -> bool:
    return run_as(server_account(), [str(bin_dir / "pg_ctl"), "status", "-D", str(data)]).returncode == 0


def stop(bin_dir: Path, data: Path) -> bool:
    """Stops the server of ``data`` (fast: sessions are cut); returns whether one was running."""
    out = run_as(server_account(), [str(bin_dir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)])
    return out.returncode == 0
