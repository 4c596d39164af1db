"""Small hand-made source histories: a fresh `app` schema in the test source database, filled row by row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from saas_ops.db import compose, read_sql

PERIOD_COLUMNS = ("subscription_id", "customer_id", "plan_id", "status", "currency", "amount_cents", "quantity",
                  "billing_interval", "interval_count", "valid_from", "valid_to", "trial_ends_at")


def reset_source(dsn: str, schema: str = "app") -> None:
    """Drops and recreates the source schema from the contract's DDL (empty tables)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(compose("DROP SCHEMA IF EXISTS {schema} CASCADE", schema=schema))
        conn.execute(compose(read_sql("contract/app_schema.sql"), schema=schema))


def utc(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), dt.UTC)


def period(subscription_id: str, customer_id: str, amount_cents: int, valid_from: str, valid_to: str | None = None,
           *, status: str = "active", currency: str = "USD", quantity: int = 1, interval: str = "month",
           interval_count: int = 1, from_hour: int = 0, to_hour: int = 0, plan: str = "plan") -> dict[str, Any]:
    return {"subscription_id": subscription_id, "customer_id": customer_id, "plan_id": plan, "status": status,
            "currency": currency, "amount_cents": amount_cents, "quantity": quantity, "billing_interval": interval,
            "interval_count": interval_count, "valid_from": utc(valid_from, from_hour),
            "valid_to": utc(valid_to, to_hour) if valid_to else None, "trial_ends_at": None}


def load(dsn: str, periods: list[dict[str, Any]], fx_rates: list[tuple[str, str, str]] = (),
         schema: str = "app") -> None:
    """Inserts the periods (and a customer row for each customer they name) and the fx rates."""
    customers = sorted({p["customer_id"] for p in periods})
    with psycopg.connect(dsn) as conn:
        for customer_id in customers:
            conn.execute(compose("INSERT INTO {schema}.customers (customer_id, name, created_at) "
                                 "VALUES (%s, %s, '2017-01-01Z')", schema=schema),
                         (customer_id, f"Account {customer_id}"))
        for p in periods:
            conn.execute(compose("INSERT INTO {schema}.subscription_periods (" + ", ".join(PERIOD_COLUMNS) + ") "
                                 "VALUES (" + ", ".join(["%s"] * len(PERIOD_COLUMNS)) + ")", schema=schema),
                         [p[c] for c in PERIOD_COLUMNS])
        for rate_date, currency, rate in fx_rates:
            conn.execute(compose("INSERT INTO {schema}.fx_rates (rate_date, currency, rate_to_reporting) "
                                 "VALUES (%s, %s, %s)", schema=schema), (rate_date, currency, rate))


def load_activity(dsn: str, customers: list[str], users: list[tuple[str, str, str]],
                  events: list[tuple[str, str | None, str | None, str | None, dt.datetime]],
                  schema: str = "app") -> None:
    """Customers (ids), users (user_id, customer_id, created day) and events (event_id, user_id, customer_id,
    event_name, occurred_at). The events columns accept nulls, as a user's view may deliver them."""
    with psycopg.connect(dsn) as conn:
        for column in ("user_id", "customer_id", "event_name", "occurred_at"):
            conn.execute(compose("ALTER TABLE {schema}.events ALTER COLUMN " + column + " DROP NOT NULL",
                                 schema=schema))
        for customer_id in customers:
            conn.execute(compose("INSERT INTO {schema}.customers (customer_id, name, created_at) "
                                 "VALUES (%s, %s, '2025-01-01Z')", schema=schema),
                         (customer_id, f"Account {customer_id}"))
        for user_id, customer_id, created in users:
            conn.execute(compose("INSERT INTO {schema}.users (user_id, customer_id, email, created_at) "
                                 "VALUES (%s, %s, %s, %s)", schema=schema),
                         (user_id, customer_id, f"{user_id}@example.test", utc(created)))
    add_events(dsn, events, schema)


def add_events(dsn: str, events: list[tuple[str, str | None, str | None, str | None, dt.datetime]],
               schema: str = "app") -> None:
    """Events (event_id, user_id, customer_id, event_name, occurred_at), as a sync delivers them."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, cur.copy(compose(
            "COPY {schema}.events (event_id, user_id, customer_id, event_name, occurred_at) FROM STDIN",
            schema=schema)) as copy:
        for row in events:
            copy.write_row(row)
