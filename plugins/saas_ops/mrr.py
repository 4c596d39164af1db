"""saas_mrr: MRR, its movements and the revenue summary (SPEC "Metric definitions"), incremental by day.

A run closes day D and rebuilds the window [S, E]: S is the day after the watermark (the earliest source
day on the first run or with `full_refresh`), E is D (or the watermark, when an older interval is rerun,
so the tables stay consistent). Monthly rows are rebuilt from S's month. All set work is SQL in
include/sql/mrr/, run by `build` in three steps (see there); every output changes in one warehouse
transaction. saas_db rows are copied into the warehouse first, because the two may be different servers.

The watermark moves only after check_bridge.sql found every written day and month consistent, so a run
whose check failed is recomputed by the next one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from saas_ops import assets, windows
from saas_ops.windows import Window

if TYPE_CHECKING:
    import psycopg

DAG_ID = "saas_mrr"
OUTPUTS = ("mrr_daily", "customer_mrr_monthly", "mrr_monthly", "customer_mrr_changes")
STATE_TABLES = ("mrr_customer_first_paid",)
BULK_TABLES = ("customer_mrr_monthly", "customer_mrr_changes", "mrr_customer_first_paid")  # indexed last
ALERT_LOOKBACK_DAYS = 7  # a first build alerts on its last week only, not on years of history
TOP_ACCOUNTS = 5


def plan_for(closing_day: dt.date, full_refresh: bool, *, output_schema: str, source_schema: str) -> Window:
    return windows.plan_for(closing_day, full_refresh, output_schema=output_schema, source_schema=source_schema,
                            watermark_output="mrr_daily", earliest_day_sql="mrr/earliest_day.sql")


# --------------------------------------------------------------------------------------- the build


def copy_source_rows(src: psycopg.Connection, wh: psycopg.Connection, source_schema: str, output_schema: str,
                     params: dict[str, Any]) -> dict[str, int]:
    """Streams the window's subscription_periods and fx_rates from saas_db into the run's work tables."""
    from saas_ops.db import copy_query_rows

    return {
        "subscription_periods": copy_query_rows(
            src, wh, "mrr/extract_periods.sql", "mrr_work_raw_periods (subscription_id, customer_id, status, "
            "currency, amount_cents, quantity, billing_interval, interval_count, valid_from, valid_to)", params,
            target_schema=output_schema, schema=source_schema),
        "fx_rates": copy_query_rows(src, wh, "mrr/extract_fx.sql",
                                    "mrr_work_raw_fx (rate_date, currency, rate_to_reporting)", params,
                                    target_schema=output_schema, schema=source_schema),
    }


def build(window: Window, *, run_id: str, output_schema: str, source_schema: str,
          reporting_currency: str) -> dict[str, Any]:
    """Rebuilds the window's rows of every output; returns what it did. Three steps, so that a second core
    does part of the work (PostgreSQL runs each statement here on one):

    1. saas_db's rows are read and checked (20) into unlogged work tables, {schema}.mrr_work_*, and
       committed: a second session can read them (temporary tables it could not). The periods that count
       are computed from them (21) while the second session lists the rows that broke the contract (22).
       No output changes here.
    2. The output transaction opens and writes the months (50, 55), while the second session computes the
       daily movements (30) into more work tables.
    3. The same transaction records the rows that broke the contract (25), writes the days (40) and the
       firsts (60), and commits, so every output changes at once and a failed run changes none. The work
       tables are dropped either way.

    mrr_customer_first_paid is emptied by a full refresh only in step 3, once the second session, which
    reads it, has finished; until then the SQL ignores it on a full refresh (`NOT full_refresh`)."""
    from concurrent.futures import ThreadPoolExecutor

    from saas_ops import db

    summary: dict[str, Any] = {"window": window.to_xcom()}
    with db.source() as src, db.warehouse() as wh:
        windows.prepare_session(wh)
        if window.start is None:
            windows.begin_build(wh, window, output_schema, (*OUTPUTS, *STATE_TABLES))
            summary.update(rows_read={}, issues=0, days=0)
            return summary
        params = window.params(run_id=run_id, dag_id=DAG_ID, reporting=reporting_currency.upper())
        # One build per schema at a time: the work tables have fixed names. Held until the connection closes.
        wh.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"saas_ops.mrr_build:{output_schema}",))
        try:
            db.run_sql_file(wh, "mrr/drop_work_tables.sql", schema=output_schema)  # a killed run's
            db.run_sql_file(wh, "mrr/10_raw_tables.sql", schema=output_schema)
            summary["rows_read"] = copy_source_rows(src, wh, source_schema, output_schema, params)
            db.run_sql_file(wh, "mrr/20_checks.sql", params, schema=output_schema)
            wh.commit()

            with db.warehouse() as side, ThreadPoolExecutor(max_workers=1) as helper:
                # The second session runs its files in turn, each once what it reads is committed.
                windows.prepare_session(side)
                issues = helper.submit(db.run_sql_file, side, "mrr/22_issues.sql", params, schema=output_schema)
                db.run_sql_file(wh, "mrr/21_periods.sql", params, schema=output_schema)
                wh.commit()
                movements = helper.submit(db.run_sql_file, side, "mrr/30_movements.sql", params,
                                          schema=output_schema)
                dropped_indexes = windows.begin_build(wh, window, output_schema, OUTPUTS, bulk_tables=BULK_TABLES)
                db.run_sql_file(wh, "mrr/50_month_values_one_month.sql" if window.reuses_month_rows
                                else "mrr/50_month_values.sql", params, schema=output_schema)
                db.run_sql_file(wh, "mrr/55_write_months.sql", params, schema=output_schema)
                issues.result()
                movements.result()
                side.commit()

            dropped_indexes += windows.begin_build(wh, window, output_schema, STATE_TABLES,
                                                   bulk_tables=BULK_TABLES)
            db.run_sql_file(wh, "mrr/25_report_issues.sql", params, schema=output_schema)
            db.run_sql_file(wh, "mrr/40_mrr_daily.sql", params, schema=output_schema)
            db.run_sql_file(wh, "mrr/60_first_paid.sql", params, schema=output_schema)
            windows.end_build(wh, window, output_schema, (*OUTPUTS, *STATE_TABLES), dropped_indexes)
            summary["issues"] = dict(wh.execute(
                db.compose("SELECT table_name, count(*) FROM {schema}.data_quality_issues "
                           "WHERE run_id = %s AND dag_id = %s GROUP BY table_name ORDER BY 1", schema=output_schema),
                (run_id, DAG_ID)).fetchall())
            wh.commit()
        finally:
            wh.rollback()  # nothing left after a commit; a failed build's writes otherwise
            db.run_sql_file(wh, "mrr/drop_work_tables.sql", schema=output_schema)
            wh.commit()
    summary["days"] = (window.end - window.start).days + 1
    return summary


def bridge_problems(conn: psycopg.Connection, schema: str, window: Window) -> list[str]:
    return windows.problems(conn, "mrr/check_bridge.sql", schema, window)


def advance_watermark(conn: psycopg.Connection, schema: str, day: dt.date, run_id: str) -> None:
    windows.advance_watermark(conn, schema, OUTPUTS, DAG_ID, day, run_id)


# --------------------------------------------------------------------------------------- tasks


@task
def build_mrr(**context: Any) -> dict[str, Any]:
    """Brings mrr_daily, customer_mrr_monthly and mrr_monthly up to date through the run's closing day."""
    from saas_ops import alerts, config
    from saas_ops.dates import closing_day

    schema, source_schema = config.schema_name("OUTPUT_SCHEMA"), config.schema_name("SOURCE_SCHEMA")
    window = plan_for(closing_day(context), bool(context["params"].get("full_refresh")), output_schema=schema,
                      source_schema=source_schema)
    summary = build(window, run_id=context["run_id"], output_schema=schema, source_schema=source_schema,
                    reporting_currency=config.setting("REPORTING_CURRENCY"))
    print(f"read {summary.get('rows_read')}; rebuilt {summary['days']} day(s)")
    if summary["issues"]:
        counts = ", ".join(f"{table} {n}" for table, n in summary["issues"].items())
        alerts.dispatch(alerts.Alert(
            kind="data_quality", severity="P2", dag_id=DAG_ID, run_id=context["run_id"],
            title=f"{DAG_ID}: {sum(summary['issues'].values())} source row(s) broke the contract and were "
                  f"left out of MRR ({counts})",
            details=[f"See: SELECT * FROM {schema}.data_quality_issues WHERE run_id = '{context['run_id']}'"]))
    return summary


@task(retries=0, outlets=[assets.MRR])
def check_mrr_bridge(summary: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Fails the run when any written day or month breaks the bridge; otherwise moves the watermark."""
    from airflow.sdk.exceptions import AirflowFailException

    from saas_ops import config, db

    schema = config.schema_name("OUTPUT_SCHEMA")
    window = Window.from_xcom(summary["window"])
    with db.warehouse() as wh:
        problems = bridge_problems(wh, schema, window)
        if problems:
            raise AirflowFailException(f"MRR bridge broken on {len(problems)} day(s)/month(s); the watermark "
                                       "stays, so the next run rebuilds them:\n" + "\n".join(problems))
        advance_watermark(wh, schema, window.end, context["run_id"])
    print(f"bridge holds for every day and month of {window.start} .. {window.end}; watermark {window.end}")
    return summary


@task
def revenue_alerts(summary: dict[str, Any]) -> list[str]:
    """Slack when MRR fell more than MRR_DROP_ALERT in a day, or churn spiked over CHURN_SPIKE_FACTOR ×
    its 28-day mean, with the accounts behind it. One message per day, however often the run repeats."""
    from saas_ops import alerts, config, db

    window = Window.from_xcom(summary["window"])
    if window.start is None:
        return []
    first = max(window.first_new_day or window.end, window.end - dt.timedelta(days=ALERT_LOOKBACK_DAYS - 1))
    schema, currency = config.schema_name("OUTPUT_SCHEMA"), config.setting("REPORTING_CURRENCY")
    drop, spike = config.setting("MRR_DROP_ALERT"), config.setting("CHURN_SPIKE_FACTOR")
    messages = []
    with db.warehouse() as wh:
        days = db.fetch_sql_file(wh, "mrr/revenue_alerts.sql", {"alert_from": first, "e_day": window.end,
                                 "drop_threshold": drop, "spike_factor": spike}, schema=schema)
        for day, mrr, before, churn, churn_mean, dropped, spiked in days:
            top = db.fetch_sql_file(wh, "mrr/top_accounts.sql", {"day": day, "limit": TOP_ACCOUNTS}, schema=schema)
            alert = revenue_alert(day, mrr, before, churn, churn_mean, dropped, spiked, top, account_names(top),
                                  currency=currency, drop=drop, spike=spike)
            alerts.dispatch(alert)
            messages.append(alert.title)
    print(f"{len(messages)} revenue alert(s) for {first} .. {window.end}")
    return messages


# --------------------------------------------------------------------------------------- helpers


def account_names(top: list[tuple]) -> dict[str, str]:
    """customer_id -> name from saas_db, for the accounts an alert names."""
    from saas_ops import config, db

    ids = [row[0] for row in top]
    if not ids:
        return {}
    with db.source() as src:
        rows = src.execute(db.compose("SELECT customer_id, name FROM {schema}.customers WHERE customer_id = ANY(%s)",
                                      schema=config.schema_name("SOURCE_SCHEMA")), (ids,)).fetchall()
    return dict(rows)


def revenue_alert(day: dt.date, mrr: int, before: int | None, churn: int, churn_mean: Any, dropped: bool,
                  spiked: bool, top: list[tuple], names: dict[str, str], *, currency: str, drop: float,
                  spike: float) -> Any:
    from saas_ops.alerts import Alert, money

    headline = []
    details = [f"• MRR {money(mrr, currency)} on {day}"
               + (f", {money(mrr - before, currency, signed=True)} from the day before" if before else "")]
    if dropped and before:
        headline.append(f"MRR fell {(before - mrr) / before:.1%}")
        details.append(f"• threshold: a fall of more than {drop:.0%} in a day")
    if spiked:
        headline.append(f"churn {churn / churn_mean:.1f}× its 28-day mean")
        details.append(f"• churned MRR {money(churn, currency)}; 28-day mean {money(round(churn_mean), currency)}; "
                       f"threshold {spike:g}×")
    for customer_id, movement, previous, now in top:
        details.append(f"  – {names.get(customer_id, '?')} ({customer_id}): {movement}, "
                       f"{money(now - previous, currency, signed=True)}")
    return Alert(kind="business", severity="P2", dag_id=DAG_ID, run_id=f"revenue:{day}",
                 title=f"{DAG_ID}: {' and '.join(headline)} on {day}", details=details)
