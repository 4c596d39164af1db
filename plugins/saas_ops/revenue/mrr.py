"""saas_mrr: MRR, its movements and the revenue summary (SPEC "Metric definitions"), kept right as the source
changes.

A run brings every output up to date through its day (or the last day built, when an older interval is
rerun). It keeps what its figures were built from (the paying periods, each customer's fingerprint,
the rates), so that each run finds what changed in saas_db since, anywhere in history: a late row, a
retroactive end, a correction, a deletion, a late or corrected rate. Every output then moves by exactly that:
what the stored state said for the restated customers is taken out, what the source says now is put in, and
the new days are added. One warehouse transaction; a failed run changes nothing. The SQL is include/sql/revenue/,
run in the order of STEPS.

The watermark moves only after check_bridge.sql found every written day and month consistent; the next run
writes the days after the watermark again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from saas_ops import assets, incremental
from saas_ops.incremental import Window

if TYPE_CHECKING:
    import psycopg

DAG_ID = "saas_mrr"
OUTPUTS = ("mrr_daily", "customer_mrr_monthly", "mrr_monthly", "customer_mrr_changes", "mrr_by_dimension_monthly")
# What the figures were built from, and each customer's firsts (new vs reactivation).
STATE_TABLES = ("mrr_paying_periods", "mrr_source_fingerprints", "mrr_source_buckets", "mrr_fx_rates",
                "mrr_customer_first_paid")
BULK_TABLES = ("customer_mrr_monthly", "customer_mrr_changes", "mrr_customer_first_paid", "mrr_paying_periods",
               "mrr_source_fingerprints")  # a full refresh builds their indexes after loading them
TOP_ACCOUNTS = 5


# --------------------------------------------------------------------------------------- the build


def read_fingerprints(src: psycopg.Connection, wh: psycopg.Connection, params: dict[str, Any]) -> None:
    """saas_db: each bucket's fingerprint, and the first day any period starts (where the series begins)."""
    from saas_ops.db import copy_query_rows

    copy_query_rows(src, wh, "revenue/extract_fingerprint_buckets.sql", "mrr_source_buckets_now (bucket, fingerprint, "
                    "first_day)", params, schema=params["source_schema"])
    params["earliest"] = wh.execute("SELECT min(first_day) FROM mrr_source_buckets_now").fetchone()[0]


def read_bucket_customers(src: psycopg.Connection, wh: psycopg.Connection, params: dict[str, Any]) -> None:
    """saas_db: the fingerprint of each customer of the buckets that moved."""
    from saas_ops.db import copy_query_rows

    every = params["last_built"] is None  # a first build or a full refresh: every bucket moved
    buckets = [] if every else [b for (b,) in wh.execute("SELECT bucket FROM mrr_changed_buckets").fetchall()]
    copy_query_rows(src, wh, "revenue/extract_fingerprints.sql", "mrr_source_fingerprints_now (customer_id, bucket, "
                    "fingerprint)", {"every_bucket": every, "buckets": buckets}, schema=params["source_schema"])


def read_changed_rows(src: psycopg.Connection, wh: psycopg.Connection, params: dict[str, Any]) -> None:
    """saas_db: every row of the customers whose fingerprint moved, and every rate."""
    from saas_ops.db import copy_query_rows

    changed = [c for (c,) in wh.execute("SELECT customer_id FROM mrr_changed_customers").fetchall()]
    every = params["last_built"] is None  # a first build or a full refresh: every customer changed
    params["rows_read"] = {
        "subscription_periods": copy_query_rows(
            src, wh, "revenue/extract_periods.sql", "mrr_raw_periods (subscription_id, customer_id, status, currency, "
            "amount_cents, quantity, billing_interval, interval_count, valid_from, valid_to, plan_id)",
            {"every_customer": every, "customer_ids": [] if every else changed}, schema=params["source_schema"]),
        "fx_rates": copy_query_rows(src, wh, "revenue/extract_fx.sql", "mrr_raw_fx (rate_date, currency, "
                                    "rate_to_reporting)", params, schema=params["source_schema"])}


def plan_days(src: psycopg.Connection, wh: psycopg.Connection, params: dict[str, Any]) -> None:
    """The days this run writes: from the first restated day or the first new day, whichever comes first (and
    from the first day of the series when rows before it arrived), through the run's day."""
    from saas_ops.db import compose

    restated_from, restated = wh.execute("SELECT min(from_day), count(*) FROM mrr_restated").fetchone()
    first_stored = wh.execute(compose("SELECT min(day) FROM {schema}.mrr_daily", schema=params["schema"])
                              ).fetchone()[0]
    first_new, day, earliest = params["first_new_day"], params["day"], params["earliest"]
    candidates = [first_new, restated_from, earliest if first_stored is None or earliest < first_stored else None]
    params["written_from"] = min(max(d, earliest) for d in candidates if d is not None)
    params["restated_customers"] = restated
    # New days that start a month or cross into one write that month's row for every customer.
    params["whole_month"] = first_new <= day and (first_new.day == 1 or first_new.replace(day=1) != day.replace(day=1))


def read_trials_and_spend(src: psycopg.Connection, wh: psycopg.Connection, params: dict[str, Any]) -> None:
    """saas_db: the trials that ended and the acquisition spend (an optional table) from `metrics_from`: the
    first month this run writes, or whose trials may have converted since, or that never had these figures."""
    from saas_ops.db import compose, copy_query_rows, run_sql_file

    since_written = (params["written_from"] - dt.timedelta(days=params["trial_days"])).replace(day=1)
    never_filled = wh.execute(compose("SELECT min(month) FROM {schema}.mrr_monthly WHERE trials_ended IS NULL",
                                      schema=params["schema"])).fetchone()[0]
    params["metrics_from"] = min(d for d in (since_written, never_filled) if d is not None)
    copy_query_rows(src, wh, "revenue/extract_trials_ended.sql", "mrr_trials_ended (customer_id, ended_day)", params,
                    schema=params["source_schema"])
    spend_table = f"{params['source_schema']}.acquisition_spend"
    if src.execute("SELECT to_regclass(%s) IS NOT NULL", (spend_table,)).fetchone()[0]:
        copy_query_rows(src, wh, "revenue/extract_acquisition_spend.sql", "mrr_spend (month, channel, currency, "
                        "amount_cents)", params, schema=params["source_schema"])
        run_sql_file(wh, "revenue/checked_spend.sql", params)


def read_customer_dimensions(src: psycopg.Connection, wh: psycopg.Connection, params: dict[str, Any]) -> None:
    """saas_db: each customer's segment and country, for mrr_by_dimension_monthly."""
    from saas_ops import contract
    from saas_ops.db import copy_query_rows

    columns = contract.source_columns(src, params["source_schema"])["customers"]
    copy_query_rows(src, wh, "revenue/extract_customer_dimensions.sql", "mrr_customer_dimensions (customer_id, "
                    "segment, country)", params, schema=params["source_schema"], **columns)
    wh.execute("ANALYZE mrr_customer_dimensions")


def stored_state(params: dict[str, Any]) -> dict[str, Any]:
    """60_movements.sql over the state the written figures came from: the restated customers, through the last
    day built."""
    return {"sign": -1, "to_day": params["last_built"], "others_from": None}


def source_now(params: dict[str, Any]) -> dict[str, Any]:
    """60_movements.sql over the source now: the restated customers, and everyone else from the first new day."""
    first_new, day = params["first_new_day"], params["day"]
    return {"sign": 1, "to_day": day, "others_from": first_new if first_new <= day else None}


# After the fingerprints are read (build), the build in run order: a read from saas_db, or a SQL file of
# include/sql/revenue/ (with the parameters a pass of 60_movements.sql adds). All in one warehouse transaction.
STEPS: tuple[Any, ...] = (
    "revenue/20_changed_buckets.sql",
    read_bucket_customers,
    "revenue/25_changed_customers.sql",
    read_changed_rows,
    "revenue/30_checked_rows.sql",
    "revenue/40_paying_periods.sql",
    "revenue/50_restated_customers.sql",
    plan_days,
    read_trials_and_spend,
    read_customer_dimensions,
    ("revenue/60_movements.sql", stored_state),  # taken out: what the written figures counted
    "revenue/70_source_state.sql",
    ("revenue/60_movements.sql", source_now),    # put in: what the source says now
    "revenue/80_month_rows.sql",
    "revenue/81_customer_mrr_monthly.sql",
    "revenue/82_mrr_monthly.sql",
    "revenue/83_mrr_daily.sql",
    "revenue/84_customer_mrr_changes.sql",
    "revenue/85_mrr_customer_first_paid.sql",
    "revenue/86_data_quality_issues.sql",
    "revenue/87_revenue_metrics.sql",
    "revenue/88_mrr_by_dimension.sql",
)


def build(day: dt.date, *, full_refresh: bool, run_id: str, output_schema: str, source_schema: str,
          reporting_currency: str, gross_margin: float = 1.0, trial_days: int = 7) -> dict[str, Any]:
    """Brings every output up to date through the run's day (see the module docstring); returns what it did,
    with the window it wrote for check_mrr_bridge."""
    from saas_ops import db, quality

    with db.source() as src, db.warehouse() as wh:
        incremental.prepare_session(wh)
        # One build per schema at a time: a run takes out what the stored state said, and two at once would take
        # it out twice. Released when the transaction ends.
        wh.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"saas_ops.mrr_build:{output_schema}",))
        last_built = incremental.read_watermark(wh, output_schema, "mrr_daily")
        remembered = wh.execute(db.compose("SELECT EXISTS (SELECT 1 FROM {schema}.mrr_source_fingerprints)",
                                           schema=output_schema)).fetchone()[0]
        if last_built is not None and not remembered and not full_refresh:
            print("no stored source state (outputs built by an earlier version of the pack): a full refresh")
        full_refresh = full_refresh or last_built is None or not remembered
        day = day if full_refresh else max(day, last_built)
        params: dict[str, Any] = {
            "schema": output_schema, "source_schema": source_schema, "run_id": run_id, "dag_id": DAG_ID,
            "reporting": reporting_currency.upper(), "day": day, "last_built": None if full_refresh else last_built,
            "full_refresh": full_refresh, "gross_margin": gross_margin, "trial_days": trial_days}
        dropped_indexes = incremental.begin_build(wh, full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES),
                                              bulk_tables=BULK_TABLES)
        db.run_sql_file(wh, "revenue/10_run_tables.sql")
        read_fingerprints(src, wh, params)
        if params["earliest"] is not None and params["earliest"] <= day:  # else no source rows through the day yet
            params["first_new_day"] = params["earliest"] if full_refresh else last_built + dt.timedelta(days=1)
            for step in STEPS:
                if callable(step):
                    step(src, wh, params)
                else:
                    path, pass_params = step if isinstance(step, tuple) else (step, None)
                    db.run_sql_file(wh, path, {**params, **(pass_params(params) if pass_params else {})},
                                    schema=output_schema)
        incremental.end_build(wh, full_refresh, output_schema, (*OUTPUTS, *STATE_TABLES), dropped_indexes)
        if "written_from" not in params:
            wh.commit()
            return {"window": Window(None, day, None, full_refresh).to_xcom(), "rows_read": {}, "issues": {},
                    "days": 0, "restated": None}
        first_new = params["first_new_day"]
        summary = {
            "window": Window(params["written_from"], day, first_new if first_new <= day else None,
                             full_refresh).to_xcom(),
            "rows_read": params["rows_read"], "days": (day - params["written_from"]).days + 1,
            "issues": quality.new_issue_counts(wh, output_schema, run_id=run_id, dag_id=DAG_ID),
            "restated": restatement(wh, params)}
        wh.commit()
    return summary


def restatement(wh: psycopg.Connection, params: dict[str, Any]) -> dict[str, Any] | None:
    """What the run changed in the figures already written: how many customers, from which day, and each month's
    change of MRR. None when nothing was restated."""
    from saas_ops import db

    if not params["restated_customers"]:
        return None
    months = db.fetch_sql_file(wh, "revenue/restated_months.sql", schema=params["schema"])
    restated_from = wh.execute("SELECT min(from_day) FROM mrr_restated").fetchone()[0]
    return {"customers": params["restated_customers"], "from_day": restated_from.isoformat(),
            "months": [(month.isoformat(), cents) for month, cents in months]}


def build_for(run: incremental.Run) -> dict[str, Any]:
    from saas_ops import config

    return build(run.day, full_refresh=run.full_refresh, run_id=run.run_id, output_schema=run.output_schema,
                 source_schema=run.source_schema, reporting_currency=config.setting("REPORTING_CURRENCY"),
                 gross_margin=config.setting("GROSS_MARGIN"), trial_days=config.setting("TRIAL_CONVERSION_DAYS"))


def build_alerts(summary: dict[str, Any], run: incremental.Run) -> list[Any]:
    """The Slack lines a build sends: source rows that broke the contract (those no earlier run reported), and
    what a restatement changed in the figures already written."""
    from saas_ops import config, quality
    from saas_ops.alerts import Alert, money

    currency = config.setting("REPORTING_CURRENCY")
    out = [quality.alert(summary["issues"], dag_id=DAG_ID, run_id=run.run_id, schema=run.output_schema,
                         left_out_of="MRR")]
    restated = summary.get("restated")
    if restated:
        changed = [(month, cents) for month, cents in restated["months"] if cents]
        title = f"{DAG_ID}: {restated['customers']:,} customer(s) restated from {restated['from_day']}"
        if restated["months"]:
            first, last = restated["months"][0][0][:7], restated["months"][-1][0][:7]
            title += f"; {first} … {last} changed" if first != last else f"; {first} changed"
        if changed:
            month, cents = changed[-1]
            title += f": MRR of {month[:7]} {money(cents, currency, signed=True)}"
        out.append(Alert(kind="data_quality", severity="P3", dag_id=DAG_ID, run_id=f"{run.run_id}:restated",
                         title=title,
                         details=[f"• MRR of {month[:7]}: {money(cents, currency, signed=True)}"
                                  for month, cents in changed[-12:]]
                         + ["The source changed after these figures were written (a late, corrected or deleted "
                            "row or rate); they now say what it says."]))
    return [alert for alert in out if alert]


def day_alerts(wh: psycopg.Connection, first: dt.date, day: dt.date, schema: str) -> list[Any]:
    """A day whose MRR fell more than MRR_DROP_ALERT, or whose churn spiked over CHURN_SPIKE_FACTOR × its 28-day
    mean, with the accounts behind it."""
    from saas_ops import config, contract, db

    currency = config.setting("REPORTING_CURRENCY")
    drop, spike = config.setting("MRR_DROP_ALERT"), config.setting("CHURN_SPIKE_FACTOR")
    out = []
    days = db.fetch_sql_file(wh, "revenue/revenue_alerts.sql", {"alert_from": first, "day": day,
                             "drop_threshold": drop, "spike_factor": spike}, schema=schema)
    for alert_day, mrr, before, churn, churn_mean, dropped, spiked in days:
        top = db.fetch_sql_file(wh, "revenue/top_accounts.sql", {"day": alert_day, "limit": TOP_ACCOUNTS},
                                schema=schema)
        names = contract.customer_names([row[0] for row in top])
        out.append(revenue_alert(alert_day, mrr, before, churn, churn_mean, dropped, spiked, top, names,
                                 currency=currency, drop=drop, spike=spike))
    return out


REVENUE = incremental.Incremental(dag_id=DAG_ID, outputs=OUTPUTS, build=build_for, check_sql="revenue/check_bridge.sql",
                                  check_name="MRR bridge", build_alerts=build_alerts, day_alerts=day_alerts)


# --------------------------------------------------------------------------------------- tasks


@task
def build_mrr(**context: Any) -> dict[str, Any]:
    """Brings mrr_daily, customer_mrr_monthly, mrr_monthly and customer_mrr_changes up to date through the run's
    day, restating what changed in saas_db since the figures were written."""
    return incremental.build(REVENUE, context)


@task(retries=0, outlets=[assets.MRR])
def check_mrr_bridge(summary: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Fails the run when any written day or month breaks the bridge; otherwise moves the watermark."""
    return incremental.check_and_advance(REVENUE, summary, context)


@task
def revenue_alerts(summary: dict[str, Any]) -> list[str]:
    """Slack when MRR fell more than MRR_DROP_ALERT in a day, or churn spiked over CHURN_SPIKE_FACTOR ×
    its 28-day mean, with the accounts behind it. One message per day, however often the run repeats."""
    return incremental.alert_new_days(REVENUE, summary)


# --------------------------------------------------------------------------------------- helpers


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
