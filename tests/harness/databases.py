"""Databases on the session's PostgreSQL server, and their Airflow connection URIs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def create_database(admin_dsn: str, name: str) -> str:
    """A fresh, empty database `name` (dropped first when it exists); its DSN."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(**{**conninfo_to_dict(admin_dsn), "dbname": name})


def airflow_uri(dsn: str) -> str:
    """An Airflow connection URI for a libpq DSN."""
    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(dsn)
    auth = p.get("user", "postgres") + (f":{p['password']}" if p.get("password") else "")
    return f"postgresql://{auth}@{p.get('host', '127.0.0.1')}:{p.get('port', 5432)}/{p['dbname']}"


def point_airflow_at(source: str, warehouse: str | None = None, local_dir: Path | None = None) -> None:
    """saas_db and warehouse_db (the same database when `warehouse` is None) as Airflow connections from the
    environment, and local storage in `local_dir`: enough for the pack's code outside Airflow (no metadata
    database needed)."""
    os.environ.update({"AIRFLOW_CONN_SAAS_DB": airflow_uri(source),
                       "AIRFLOW_CONN_WAREHOUSE_DB": airflow_uri(warehouse or source)})
    if local_dir is not None:
        os.environ["AIRFLOW_VAR_LOCAL_DIR"] = str(local_dir)
        os.environ.pop("AIRFLOW_CONN_BACKUP_STORAGE", None)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="saas_ops_bench_airflow_"))
