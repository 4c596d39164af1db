"""Source rows the DAGs leave out because they break the contract, and how that is reported.

Each keyed source table has one SQL file in include/sql/data_quality/ listing, with the reason, the rows every
DAG leaves out: a key several rows hold (SPEC: it is the table's key; which row is right is for the application
to say), an amount beyond what the pack adds up. A DAG runs the files of the tables it reads, records the rows
in data_quality_issues (key and reason), and passes their keys to its extracts as `quarantined_<key>s`; the
run goes on without them. A Slack line announces the rows no earlier run of the DAG had reported. Where saas_db
keeps a key unique itself (a unique index on it), no run looks for rows that share it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

# table -> (its file, its key, the extract parameter that carries the keys left out)
QUARANTINES = {
    "customers": ("data_quality/customers.sql", "customer_id", "quarantined_customer_ids"),
    "users": ("data_quality/users.sql", "user_id", "quarantined_user_ids"),
    "invoices": ("data_quality/invoices.sql", "invoice_id", "quarantined_invoice_ids"),
    "payment_attempts": ("data_quality/payment_attempts.sql", "attempt_id", "quarantined_attempt_ids"),
    "support_tickets": ("data_quality/support_tickets.sql", "ticket_id", "quarantined_ticket_ids"),
}


def quarantine(src: psycopg.Connection, wh: psycopg.Connection, tables: tuple[str, ...], *, source_schema: str,
               output_schema: str, run_id: str, dag_id: str) -> dict[str, list[str]]:
    """Finds the rows of `tables` to leave out, records them in data_quality_issues (in `wh`'s transaction,
    replacing this run's earlier report of those tables) and returns the extract parameters."""
    from saas_ops import db

    params: dict[str, list[str]] = {}
    table_names, row_keys, reasons = [], [], []
    for table in tables:
        path, key, parameter = QUARANTINES[table]
        found = db.fetch_sql_file(src, path, {"key_is_unique": key_is_unique(src, source_schema, table, key)},
                                  schema=source_schema)
        params[parameter] = sorted({key for key, _ in found})
        for key, reason in found:
            table_names.append(table)
            row_keys.append(key)
            reasons.append(reason)
    db.run_sql_file(wh, "data_quality/report.sql", {"run_id": run_id, "dag_id": dag_id, "tables": list(tables),
                                                    "table_names": table_names, "row_keys": row_keys,
                                                    "reasons": reasons}, schema=output_schema)
    return params


def key_is_unique(src: psycopg.Connection, source_schema: str, table: str, key: str) -> bool:
    """Whether saas_db keeps `table`'s key unique itself (a unique index on it): no duplicates to look for."""
    from saas_ops import db
    from saas_ops.db import compose

    relation = compose("{schema}.{table}", schema=source_schema, table=table).as_string(src)
    return db.fetch_sql_file(src, "data_quality/key_is_unique.sql", {"table": relation, "column": key})[0][0]


def new_issue_counts(wh: psycopg.Connection, schema: str, *, run_id: str, dag_id: str) -> dict[str, int]:
    """Per source table, the rows this run reported that no other run of the DAG had reported."""
    from saas_ops import db

    return dict(db.fetch_sql_file(wh, "data_quality/new_issues.sql", {"run_id": run_id, "dag_id": dag_id},
                                  schema=schema))


def alert(counts: dict[str, int], *, dag_id: str, run_id: str, schema: str, left_out_of: str) -> Any:
    """The Slack line for the rows a run newly found breaking the contract (None when there are none)."""
    from saas_ops.alerts import Alert

    if not counts:
        return None
    listed = ", ".join(f"{table} {n}" for table, n in counts.items())
    return Alert(kind="data_quality", severity="P2", dag_id=dag_id, run_id=run_id,
                 title=f"{dag_id}: {sum(counts.values())} source row(s) broke the contract and were left out of "
                       f"{left_out_of} ({listed})",
                 details=[f"See: SELECT * FROM {schema}.data_quality_issues WHERE run_id = '{run_id}'"])
