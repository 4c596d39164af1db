"""Point-in-time feature rows (include/sql/churn/20_features.sql): the same SQL for training (weekly
observation dates) and for scoring (one date), so a model scores exactly the signals it was trained on."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

# (extract, the temp table it fills, the source table whose optional columns it reads)
SOURCE_EXTRACTS = (("churn/extract_signup_times.sql", "churn_src_customers", "customers"),
                   ("churn/extract_periods.sql", "churn_src_periods", "subscription_periods"),
                   ("churn/extract_payments.sql", "churn_src_payments", "payment_attempts"),
                   ("churn/extract_invoices.sql", "churn_src_invoices", "invoices"),
                   ("churn/extract_tickets.sql", "churn_src_tickets", "support_tickets"))
QUARANTINED = ("customers", "invoices", "payment_attempts", "support_tickets")  # keyed tables the extracts read


def build_features(src: psycopg.Connection, wh: psycopg.Connection, dates: list[dt.date], *, schema: str,
                   source_schema: str, horizon: int, label_until: dt.date, run_id: str, dag_id: str) -> dict[str, int]:
    """Creates the temporary table churn_features in `wh`'s transaction: one row per account paying at
    each date in `dates`, from the source rows that keep the contract (the others are listed in
    data_quality_issues). Returns the rows copied from saas_db per source table."""
    from saas_ops import contract, db, quality

    db.run_sql_file(wh, "churn/10_raw_tables.sql")
    with wh.cursor() as cur, cur.copy("COPY churn_obs_dates (t) FROM STDIN") as copy:
        for t in sorted(set(dates)):
            copy.write_row((t,))
    params = {"first_t": min(dates), "last_t": max(dates), "horizon": horizon, "label_until": label_until,
              **quality.quarantine(src, wh, QUARANTINED, source_schema=source_schema, output_schema=schema,
                                   run_id=run_id, dag_id=dag_id)}
    columns = contract.source_columns(src, source_schema)
    copied = {table: db.copy_query_rows(src, wh, query, table, params, schema=source_schema,
                                        **columns[source_table])
              for query, table, source_table in SOURCE_EXTRACTS}
    for _, table, _ in SOURCE_EXTRACTS:
        wh.execute(f"ANALYZE {table}")
    db.run_sql_file(wh, "churn/20_features.sql", params, schema=schema)
    return copied


def read_features(wh: psycopg.Connection, where: str = "") -> pd.DataFrame:
    """churn_features as a DataFrame, through one COPY (much faster than row fetching at millions of rows)."""
    import pandas as pd

    buffer = io.BytesIO()
    with wh.cursor() as cur, cur.copy(f"COPY (SELECT * FROM churn_features {where}) TO STDOUT "
                                      "WITH (FORMAT csv, HEADER)") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    frame = pd.read_csv(buffer, dtype={"customer_id": str, "plan_id": object, "billing_interval": object},
                        parse_dates=["t"], keep_default_na=False, na_values=[""])
    frame["t"] = frame["t"].dt.date
    for flag in ("churned", "treated"):
        if flag in frame:
            frame[flag] = frame[flag].map({"t": True, "f": False})
    return frame


def announce_left_out(counts: dict[str, int], *, dag_id: str, run_id: str) -> None:
    """One Slack line for the source rows this run newly found breaking the contract."""
    from saas_ops import alerts, config, quality

    alert = quality.alert(counts, dag_id=dag_id, run_id=run_id, schema=config.schema_name("OUTPUT_SCHEMA"),
                          left_out_of="the churn signals")
    if alert:
        print(alert.title)
        alerts.dispatch(alert)
