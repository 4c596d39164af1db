"""Tasks shared by several DAGs."""

from __future__ import annotations

from airflow.sdk import task


@task(retries=0)
def check_source_contract() -> dict:
    """Verifies saas_db offers every table and column the pack reads, with usable types.

    Fails with a message naming each missing or mistyped table and column. No retries: a contract
    problem needs a person, not another try.
    """
    from saas_ops import config, contract, db

    with db.source() as conn:
        summary = contract.check_source(conn, config.schema_name("SOURCE_SCHEMA"))
    for table, columns in summary["absent_optional_columns"].items():
        print(f"{table}: optional column(s) absent, read as null: {', '.join(columns)}")
    return summary


@task
def migrate_outputs() -> list[str]:
    """Creates or upgrades the output schema in warehouse_db (a no-op when it is current)."""
    from saas_ops import db

    with db.warehouse() as conn:
        applied = db.migrate(conn)
    print(f"migrations applied: {', '.join(applied) or 'none (schema is current)'}")
    return applied

