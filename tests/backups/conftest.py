"""The archiving server the point-in-time modules share the shape of: each module gets its own."""

from __future__ import annotations

import os

import psycopg
import pytest

from saas_ops.backups import archiving
from tests.harness.databases import airflow_uri


@pytest.fixture(scope="module")
def archived(tmp_path_factory, airflow_env, databases):
    """A PostgreSQL server started with archive_mode on, its saas_db set up by the pack for the local folder."""
    from dev import devdb

    folder = tmp_path_factory.mktemp("pitr_pg")
    server = devdb.start(folder, archiving=True)
    dsn = server.create_database("saas_pitr")
    saved = {k: os.environ.get(k) for k in ("AIRFLOW_CONN_SAAS_DB", "AIRFLOW_CONN_BACKUP_STORAGE")}
    os.environ["AIRFLOW_CONN_SAAS_DB"] = airflow_uri(dsn)
    os.environ.pop("AIRFLOW_CONN_BACKUP_STORAGE", None)  # the local folder: a Barman server of its own
    with psycopg.connect(databases["warehouse"], autocommit=True) as conn:
        from saas_ops import db
        db.migrate(conn, "saas_ops")
    try:
        done = archiving.setup()
        yield {"dsn": dsn, "setup": done, "local_dir": airflow_env, "s3": saved["AIRFLOW_CONN_BACKUP_STORAGE"]}
    finally:
        with psycopg.connect(databases["warehouse"], autocommit=True) as conn:  # the other modules' warehouse
            conn.execute("DELETE FROM saas_ops.backups WHERE kind = 'base'")
            conn.execute("DELETE FROM saas_ops.restore_drills WHERE method = 'physical'")
            conn.execute("TRUNCATE saas_ops.backup_rpo")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        devdb.stop(folder)
