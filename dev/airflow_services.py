"""Airflow's four components on one machine, for `make airflow` and the tests that run the nightly chain under
the real scheduler: the API server on 127.0.0.1 only, the scheduler (LocalExecutor, or CeleryExecutor with
Celery workers started by `start_celery_worker`), the DAG processor and the triggerer. The scheduler and
triggerer run without their log servers: those listen on every interface, and on one machine the API server
reads task logs from disk anyway.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
COMMANDS = {
    "api-server": ["api-server", "--host", "127.0.0.1"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}


def environment(env: dict[str, str], port: int, executor: str = "LocalExecutor") -> dict[str, str]:
    """`env` with what the components need to find each other on 127.0.0.1:<port>."""
    return {**env, "AIRFLOW__CORE__EXECUTOR": executor, "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}", "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/"}


def start(env: dict[str, str], port: int, log_dir: Path,
          executor: str = "LocalExecutor") -> dict[str, subprocess.Popen]:
    """Starts the four components (after `airflow db migrate`), each logging to <log_dir>/<name>.log."""
    import socket

    with socket.socket() as probe:  # else the health check could be answered by whatever holds the port
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"127.0.0.1:{port} is in use (another Airflow still running?): stop it or pick "
                               "another port")
    env = environment(env, port, executor)
    log_dir.mkdir(parents=True, exist_ok=True)
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                             text=True)
    if migrate.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout[-2000:]}\n{migrate.stderr[-3000:]}")
    started = {}
    for name, args in COMMANDS.items():
        extra = ["--port", str(port)] if name == "api-server" else []
        with (log_dir / f"{name}.log").open("ab") as log:
            started[name] = subprocess.Popen([sys.executable, "-m", "airflow", *args, *extra], env=env, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
    return started


def start_celery_worker(env: dict[str, str], port: int, name: str, home: Path) -> subprocess.Popen:
    """One Celery worker running one task at a time, as if on a machine of its own: `home` is its AIRFLOW_HOME,
    working directory and local storage (task logs land in home/logs); it logs to home/worker.log. Without a log
    server (it would listen on every interface): the API server cannot show its task logs."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**environment(env, port, "CeleryExecutor"), "AIRFLOW_HOME": str(home),
           "AIRFLOW_VAR_LOCAL_DIR": str(home / "local")}
    with (home / "worker.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "airflow", "celery", "worker", "--celery-hostname",
                                 f"{name}@%h", "--concurrency", "1", "--skip-serve-logs", "--without-mingle",
                                 "--without-gossip"], env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until_up(port: int, processes: dict[str, subprocess.Popen], timeout: float = 180) -> None:
    """Returns once the API server answers its health check; raises when a component died first."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [name for name, proc in processes.items() if proc.poll() is not None]
        if dead:
            raise RuntimeError(f"Airflow's {', '.join(dead)} stopped while starting (see its log)")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"Airflow's API server did not answer on 127.0.0.1:{port} within {timeout:.0f} s")


def stop(processes: dict[str, subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM to each component's process group (its workers too), SIGKILL to what is left after `timeout`."""
    for proc in processes.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in processes.values():
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def admin_password(airflow_home: Path) -> str | None:
    """The password the simple auth manager generated for `admin` (it writes it on the API server's start)."""
    import json

    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    return json.loads(path.read_text()).get("admin") if path.exists() else None
