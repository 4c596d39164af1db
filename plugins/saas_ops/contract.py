"""The source contract (SPEC "Source tables") and its check against a live saas_db.

`SOURCE_CONTRACT` is the authority on what the pack needs; include/sql/contract/app_schema.sql is one
database that satisfies it (the demo's), and a test keeps the two in agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

# Type families: the PostgreSQL types (information_schema.columns.data_type) each accepts.
TYPE_FAMILIES: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "character varying", "character"}),
    "id": frozenset({"text", "character varying", "character", "uuid", "smallint", "integer", "bigint"}),
    "integer": frozenset({"smallint", "integer", "bigint"}),
    "cents": frozenset({"smallint", "integer", "bigint", "numeric"}),
    "numeric": frozenset({"numeric", "double precision", "real", "integer", "bigint"}),
    "timestamptz": frozenset({"timestamp with time zone"}),
    "date": frozenset({"date"}),
    "boolean": frozenset({"boolean"}),
    "json": frozenset({"jsonb", "json"}),
}


@dataclass(frozen=True)
class Column:
    name: str
    family: str
    required: bool = True


def _cols(spec: str) -> tuple[Column, ...]:
    """'name:family, other:family?' -> columns; a trailing ? marks a column that may be absent or null."""
    out = []
    for item in spec.split(","):
        name, family = item.strip().split(":")
        out.append(Column(name, family.rstrip("?"), required=not family.endswith("?")))
    return tuple(out)


# customer_id and user_id are text everywhere because the pack joins on them across tables.
SOURCE_CONTRACT: dict[str, tuple[Column, ...]] = {
    "customers": _cols("customer_id:text, name:text, created_at:timestamptz, country:text?, segment:text?, "
                       "account_owner_name:text?, account_owner_email:text?"),
    "users": _cols("user_id:text, customer_id:text, email:text, name:text?, created_at:timestamptz, "
                   "email_opt_out:boolean"),
    "subscription_periods": _cols("subscription_id:id, customer_id:text, plan_id:id, status:text, currency:text, "
                                  "amount_cents:cents, quantity:integer, billing_interval:text, "
                                  "interval_count:integer, valid_from:timestamptz, valid_to:timestamptz, "
                                  "trial_ends_at:timestamptz?"),
    "invoices": _cols("invoice_id:id, customer_id:text, subscription_id:id?, issued_at:timestamptz, "
                      "due_at:timestamptz?, currency:text, amount_due_cents:cents, amount_paid_cents:cents, "
                      "status:text"),
    "payment_attempts": _cols("attempt_id:id, invoice_id:id, customer_id:text, attempted_at:timestamptz, "
                              "status:text, failure_code:text?, amount_cents:cents"),
    "events": _cols("event_id:id, user_id:text, customer_id:text, event_name:text, occurred_at:timestamptz, "
                    "properties:json?"),
    "support_tickets": _cols("ticket_id:id, customer_id:text, created_at:timestamptz, priority:text, "
                             "first_response_at:timestamptz?, resolved_at:timestamptz?, csat:integer?"),
    "fx_rates": _cols("rate_date:date, currency:text, rate_to_reporting:numeric"),
}

# Tables a source may leave out altogether; when present, checked like the others.
OPTIONAL_TABLES: dict[str, tuple[Column, ...]] = {
    "acquisition_spend": _cols("month:date, channel:text?, amount_cents:cents, currency:text"),
}


# The type a typed NULL takes for an optional column a view leaves out.
NULL_TYPE = {"text": "text", "id": "text", "integer": "integer", "cents": "numeric", "numeric": "numeric",
             "timestamptz": "timestamptz", "date": "date", "boolean": "boolean", "json": "jsonb"}


class SourceContractError(RuntimeError):
    """saas_db does not offer what the pack reads; the message lists every problem."""


def find_problems(found: dict[str, dict[str, str]], schema: str) -> tuple[list[str], dict[str, list[str]]]:
    """Compares the columns found (table -> column -> data_type) with the contract.

    Returns (problems, absent optional columns per table). Pure, so it is tested without a database.
    """
    problems: list[str] = []
    absent_optional: dict[str, list[str]] = {}
    for table, columns in {**SOURCE_CONTRACT, **OPTIONAL_TABLES}.items():
        if table not in found:
            if table not in OPTIONAL_TABLES:
                problems.append(f"{schema}.{table}: table or view is missing")
            continue
        for col in columns:
            actual = found[table].get(col.name)
            if actual is None:
                if col.required:
                    problems.append(f"{schema}.{table}.{col.name}: required column is missing "
                                    f"(expected {col.family})")
                else:
                    absent_optional.setdefault(table, []).append(col.name)
            elif actual not in TYPE_FAMILIES[col.family]:
                problems.append(f"{schema}.{table}.{col.name}: expected {col.family} "
                                f"({', '.join(sorted(TYPE_FAMILIES[col.family]))}), found {actual}")
    return problems, absent_optional


def check_source(conn: psycopg.Connection, schema: str) -> dict:
    """Verifies saas_db against the contract; raises SourceContractError naming each missing or mistyped
    table and column. Returns a summary: tables checked, optional columns absent (read as null)."""
    from saas_ops import db

    rows = db.fetch_sql_file(conn, "contract/source_columns.sql",
                             {"schema": schema, "tables": [*SOURCE_CONTRACT, *OPTIONAL_TABLES]})
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        found.setdefault(table, {})[column] = data_type
    problems, absent_optional = find_problems(found, schema)
    if problems:
        raise SourceContractError(
            f"saas_db does not meet the source contract ({len(problems)} problem(s)):\n  - "
            + "\n  - ".join(problems)
            + "\nCreate or fix the views in schema '" + schema + "' (README: Connecting your own database)."
        )
    return {"schema": schema, "tables": sorted(found), "absent_optional_columns": absent_optional}


def optional_columns(absent_optional: dict[str, list[str]]) -> dict[str, dict[str, sql.Composable]]:
    """table -> column -> what an extract reads for each optional column of the contract: the column, or a
    typed NULL when the user's view leaves it out (SPEC). A SQL file on saas_db names each optional column it
    reads as a placeholder (`{due_at}`), filled from its table's entry (`**columns["invoices"]`). Pure."""
    from psycopg import sql

    return {table: {col.name: (sql.SQL(f"NULL::{NULL_TYPE[col.family]}")
                               if col.name in absent_optional.get(table, ()) else sql.Identifier(col.name))
                    for col in columns if not col.required}
            for table, columns in SOURCE_CONTRACT.items()}


def source_columns(conn: psycopg.Connection, schema: str) -> dict[str, dict[str, sql.Composable]]:
    """optional_columns() of saas_db as it is now (the contract is checked again: a view may have changed)."""
    return optional_columns(check_source(conn, schema)["absent_optional_columns"])


def customer_names(customer_ids: list[str]) -> dict[str, str]:
    """customer_id -> name from saas_db, for the accounts an alert names."""
    from saas_ops import config, db

    if not customer_ids:
        return {}
    with db.source() as src:
        rows = db.fetch_sql_file(src, "contract/customer_names.sql", {"customer_ids": customer_ids},
                                 schema=config.schema_name("SOURCE_SCHEMA"))
    return dict(rows)
