"""Connections, transactions, SQL files and the output schema's migrations.

The pack reads `saas_db` and writes `warehouse_db`, which falls back to `saas_db` when not defined.
SQL lives in include/sql/; a file names schemas as `{schema}`-style placeholders (filled with quoted
identifiers, never with text) and values as driver-bound `%(name)s` parameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from saas_ops import config

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

SOURCE_CONN_ID = "saas_db"
WAREHOUSE_CONN_ID = "warehouse_db"


def conninfo(conn_id: str) -> str:
    """A libpq connection string built from an Airflow connection (password included: never log it)."""
    from airflow.sdk import BaseHook
    from psycopg.conninfo import make_conninfo

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    params = {
        "host": conn.host or "localhost",
        "port": conn.port or 5432,
        "dbname": conn.schema or "postgres",
        "user": conn.login or None,
        "password": conn.password or None,
        "application_name": "saas_ops",
    }
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "options"):
        if key in extra:
            params[key] = extra[key]
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def optional_connection(conn_id: str) -> Any:
    """The Airflow connection `conn_id`, or None when it is not defined (the pack's local mode)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    mask_secrets(conn)
    return conn


# Extra fields that hold a secret in the connections the pack uses (S3, Slack, PagerDuty, Resend).
_SECRET_EXTRAS = ("aws_secret_access_key", "aws_session_token", "webhook_token", "token", "api_key",
                  "routing_key", "integration_key", "password")


def mask_secrets(conn: Any) -> None:
    """Registers the connection's secrets with Airflow's secrets masker before any call, so no log line shows
    them: the password (also without the slashes a URL join trims), secret extras, and a Slack webhook's token
    (everything after /services/, in the password or the host: the Slack SDK logs the whole URL on a retry)."""
    from airflow.sdk.log import mask_secret

    extras = conn.extra_dejson if conn.extra else {}
    secrets = [conn.password, conn.extra, (conn.password or "").strip().strip("/")]
    secrets += [str(value) for key, value in extras.items() if key.lower() in _SECRET_EXTRAS]
    secrets += [url.split("/services/", 1)[1] for url in (conn.password, conn.host) if url and "/services/" in url]
    for secret in secrets:
        if secret and len(secret) >= 4:  # shorter values would mask ordinary words
            mask_secret(secret)


def warehouse_conn_id() -> str:
    """`warehouse_db` when it is defined, else `saas_db` (SPEC)."""
    return WAREHOUSE_CONN_ID if optional_connection(WAREHOUSE_CONN_ID) is not None else SOURCE_CONN_ID


def connect(conn_id: str, *, autocommit: bool = False) -> psycopg.Connection:
    import psycopg

    return psycopg.connect(conninfo(conn_id), autocommit=autocommit)


@contextmanager
def source() -> Iterator[psycopg.Connection]:
    """A connection to saas_db in a read-only transaction (a read-only role is enough for metrics).

    Sessions run in UTC: the SPEC's days are UTC days, and every `timestamptz::date` relies on it."""
    with connect(SOURCE_CONN_ID) as conn:
        conn.read_only = True
        conn.execute("SET TIME ZONE 'UTC'")
        yield conn


@contextmanager
def warehouse(*, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A connection to the warehouse, in UTC; everything in the `with` block is one transaction (unless
    `autocommit`: then each statement, or `conn.transaction()` block, commits on its own)."""
    with connect(warehouse_conn_id(), autocommit=autocommit) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        yield conn


def read_sql(relative_path: str) -> str:
    """The text of include/sql/<relative_path>."""
    path = config.include_dir() / "sql" / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {path} is missing from include/sql/")
    return path.read_text()


def compose(text: str, **identifiers: str | sql.Composable) -> sql.Composed:
    """Fills `{name}` placeholders with quoted identifiers (schemas, tables), or with a given SQL fragment
    (e.g. `NULL::text` for an optional source column a view leaves out); values stay `%(name)s`."""
    from psycopg import sql

    return sql.SQL(text).format(**{name: sql.Identifier(value) if isinstance(value, str) else value
                                   for name, value in identifiers.items()})


def run_sql_file(conn: psycopg.Connection, relative_path: str, params: Mapping[str, Any] | None = None,
                 **identifiers: str | sql.Composable) -> int:
    """Runs a SQL file (one or more statements) in the connection's transaction; returns rows affected.

    Parameters are bound client-side by psycopg (ClientCursor), which allows several statements per file.
    """
    return run_sql(conn, compose(read_sql(relative_path), **identifiers), params)


def run_sql(conn: psycopg.Connection, statement: sql.Composable, params: Mapping[str, Any] | None = None) -> int:
    """Runs composed SQL (one or more statements, parameters bound client-side); returns rows affected."""
    from psycopg import ClientCursor

    with ClientCursor(conn) as cur:
        cur.execute(statement, params or None)
        return cur.rowcount


def fetch_sql_file(conn: psycopg.Connection, relative_path: str, params: Mapping[str, Any] | None = None,
                   **identifiers: str) -> list[tuple]:
    """Runs a one-query SQL file and returns its rows (parameters bound as in run_sql_file)."""
    from psycopg import ClientCursor

    with ClientCursor(conn) as cur:
        cur.execute(compose(read_sql(relative_path), **identifiers), params or None)
        return cur.fetchall()


MIGRATIONS_DIR = "warehouse"


def copy_query_rows(src: psycopg.Connection, dst: psycopg.Connection, query_file: str, target: str,
                    params: Mapping[str, Any], *, target_schema: str | None = None,
                    **identifiers: str | sql.Composable) -> int:
    """Streams a SQL file's rows from `src` into `target` ("table (columns)", in `target_schema` when given)
    on `dst` with COPY, as saas_db and warehouse_db may be different servers; returns the rows now in the
    target table.

    When both are the same database reached as the same role, the rows go straight from the query into the
    target inside the server, without the round trip through the client."""
    from psycopg import ClientCursor, sql

    query = compose(read_sql(query_file), **identifiers)
    name, _, columns = target.partition(" ")
    table = sql.SQL("{}.{}").format(sql.Identifier(target_schema), sql.SQL(name)) if target_schema else sql.SQL(name)
    into = sql.SQL("{} {}").format(table, sql.SQL(columns))
    if same_database(src, dst):
        run_sql(dst, sql.SQL("INSERT INTO {} {}").format(into, query), params)
    else:
        with ClientCursor(src) as out_cur, dst.cursor() as in_cur:
            with out_cur.copy(sql.SQL("COPY ({}) TO STDOUT").format(query), params) as out, \
                    in_cur.copy(sql.SQL("COPY {} FROM STDIN").format(into)) as copy_in:
                for block in out:
                    copy_in.write(block)
    return dst.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]


def same_database(a: psycopg.Connection, b: psycopg.Connection) -> bool:
    """Whether two connections reach the same database on the same server as the same role."""
    return (a.info.host, a.info.port, a.info.dbname, a.info.user) == (b.info.host, b.info.port, b.info.dbname,
                                                                      b.info.user)


def migrate(conn: psycopg.Connection, schema: str | None = None) -> list[str]:
    """Brings the output schema up to date; safe to run on every start and from parallel tasks.

    Each include/sql/warehouse/NNNN_*.sql runs once, in order, recorded in `<schema>.schema_migrations`.
    Returns the versions applied now. Commits on success, rolls back everything on failure.
    """
    schema = schema or config.schema_name("OUTPUT_SCHEMA")
    files = sorted((config.include_dir() / "sql" / MIGRATIONS_DIR).glob("[0-9][0-9][0-9][0-9]_*.sql"))
    applied_now: list[str] = []
    with conn.transaction():
        # One migrator at a time per schema, whichever DAG starts first.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('saas_ops.migrate:' || %s))", (schema,))
        conn.execute(compose("CREATE SCHEMA IF NOT EXISTS {schema}", schema=schema))
        conn.execute(compose(
            "CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ("
            " version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
            schema=schema))
        done = dict(conn.execute(compose("SELECT version, checksum FROM {schema}.schema_migrations",
                                         schema=schema)).fetchall())
        for path in files:
            version, text = path.stem, path.read_text()
            checksum = hashlib.sha256(text.encode()).hexdigest()
            if version in done:
                if done[version] != checksum:
                    raise RuntimeError(
                        f"Migration {path.name} changed after it was applied to schema {schema}. "
                        "Applied migrations are frozen: add a new NNNN_*.sql file instead.")
                continue
            conn.execute(compose(text, schema=schema))
            conn.execute(compose("INSERT INTO {schema}.schema_migrations (version, checksum) VALUES (%s, %s)",
                                 schema=schema), (version, checksum))
            applied_now.append(version)
    return applied_now
