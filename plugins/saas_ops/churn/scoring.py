"""churn_score: every paying account scored for the day with the champion model, with its band, health score
and drivers, in churn_scores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import task

from saas_ops import assets
from saas_ops.churn.features import announce_left_out, build_features, read_features
from saas_ops.churn.training import champion_record, load_artifact

SCORE_DAG_ID = "churn_score"


def score_accounts(day: dt.date, *, schema: str, source_schema: str, reporting_currency: str,
                   run_id: str = "manual") -> dict[str, Any]:
    """Scores every account paying at the end of `day` with the champion and replaces that day's rows of
    churn_scores in one transaction, moving its watermark forward (ops_watchdog alerts when it goes stale).
    Returns what it did (`skipped` with the reason when there is no champion yet)."""
    import numpy as np
    from psycopg.types.json import Jsonb
    from threadpoolctl import threadpool_limits

    from saas_ops import config, db, incremental, quality
    from saas_ops.churn import drift
    from saas_ops.churn.model import action_for, bands_by_rank, describe, features_frame
    from saas_ops.db import compose

    with db.warehouse() as wh:
        record = champion_record(wh, schema)
        if record is None:
            return {"day": day.isoformat(), "skipped": "no champion churn model yet: trigger churn_train first"}
        incremental.require_metrics_through(wh, schema, day, "churn scores")
    model = load_artifact(record, schema)
    core = len(config.core_features())
    with db.source() as src, db.warehouse() as wh:
        t = day + dt.timedelta(days=1)
        build_features(src, wh, [t], schema=schema, source_schema=source_schema,
                       horizon=config.setting("CHURN_HORIZON_DAYS"), label_until=day, run_id=run_id,
                       dag_id=SCORE_DAG_ID)
        rows = read_features(wh)
        x = features_frame(rows)
        with threadpool_limits(config.setting("CHURN_THREADS")):
            p = model.probability(x) if len(x) else np.zeros(0)
            drivers = model.drivers(x) if len(x) else []
        # A model pickled before drift references existed has none: no PSI until it is retrained.
        reference = getattr(model, "reference", None)
        psi = drift.stability(reference, x, p) if reference else {}
        bands = bands_by_rank(p, rows["customer_id"].to_numpy(), high_share=config.setting("CHURN_HIGH_BAND_SHARE"),
                              medium_share=config.setting("CHURN_MEDIUM_BAND_SHARE"))
        health = model.health(p)
        records = rows.drop(columns=["t", "churned", "treated"]).to_dict("records")
        wh.execute(compose("DELETE FROM {schema}.churn_scores WHERE day = %s", schema=schema), (day,))
        with wh.cursor() as cur, cur.copy(compose(
                "COPY {schema}.churn_scores (day, customer_id, model_version, churn_probability, risk_band, "
                "top_drivers, health_score, mrr_cents) FROM STDIN", schema=schema)) as copy:
            for i, row in enumerate(records):
                signals = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()
                           if k != "customer_id"}
                top = [{"signal": s, "value": signals[s], "impact": impact,
                        "text": describe(s, signals[s], signals, reporting_currency, core),
                        "action": action_for(s, signals[s])}
                       for s, impact in drivers[i]]
                copy.write_row((day, row["customer_id"], record.version, round(float(p[i]), 6), bands[i], Jsonb(top),
                                int(health[i]), int(row["mrr_cents"])))
        left_out = quality.new_issue_counts(wh, schema, run_id=run_id, dag_id=SCORE_DAG_ID)
        scored_through = incremental.read_watermark(wh, schema, "churn_scores")
        if scored_through is None or day >= scored_through:  # rescoring an older day keeps the newest
            incremental.advance_watermark(wh, schema, ("churn_scores",), SCORE_DAG_ID, day, run_id)
    counts = {band: int((bands == band).sum()) for band in ("high", "medium", "low")} if len(records) else {}
    return {"day": day.isoformat(), "model_version": record.version, "accounts": len(records), "bands": counts,
            "left_out": left_out, "psi": psi, "importance": model.importance()}


# --------------------------------------------------------------------------------------- the tasks


@task(outlets=[assets.CHURN_SCORES])
def score_churn(**context: Any) -> dict[str, Any]:
    """Scores every paying account for the run's day with the champion model. With no champion yet it scores
    nothing, says so, and still publishes the day: the campaigns that follow do not need scores (only their
    high_risk campaign does, and it waits for the first model)."""
    from saas_ops import config
    from saas_ops.dates import carry_day, day_closed

    day = day_closed(context)
    summary = score_accounts(day, schema=config.schema_name("OUTPUT_SCHEMA"),
                             source_schema=config.schema_name("SOURCE_SCHEMA"),
                             reporting_currency=config.setting("REPORTING_CURRENCY"), run_id=context["run_id"])
    carry_day(context, day)
    announce_left_out(summary.get("left_out", {}), dag_id=SCORE_DAG_ID, run_id=context["run_id"])
    if "skipped" in summary:
        print(f"NOT SCORED: {summary['skipped']}")
        return summary
    print(f"scored {summary['accounts']:,} accounts for {summary['day']} with {summary['model_version']}: "
          f"{summary['bands']}")
    return summary


@task
def churn_risk_alerts(summary: dict[str, Any]) -> list[str]:
    """One Slack digest of the accounts that entered the high band on the day, by MRR at risk."""
    from saas_ops import alerts, config, contract, db
    from saas_ops.churn.model import driver_line

    if "skipped" in summary:
        return []
    schema, currency = config.schema_name("OUTPUT_SCHEMA"), config.setting("REPORTING_CURRENCY")
    day = dt.date.fromisoformat(summary["day"])
    with db.warehouse() as wh:
        entered = db.fetch_sql_file(wh, "churn/entered_high_band.sql", {"day": day}, schema=schema)
    if not entered:
        print(f"no account entered the high risk band on {day}")
        return []
    names = contract.customer_names([row[0] for row in entered])
    total = sum(row[1] for row in entered)
    lines = [f"• {names.get(cid, cid)} ({cid}): {alerts.money(mrr, currency)} MRR, {p:.0%} churn risk, health "
             f"{health}: " + ("; ".join(map(driver_line, drivers)) or "no actionable signal")
             for cid, mrr, p, health, drivers in entered[:15]]
    if len(entered) > 15:
        lines.append(f"• … and {len(entered) - 15} more: SELECT * FROM {schema}.churn_scores WHERE day = '{day}' "
                     "AND risk_band = 'high'")
    alert = alerts.Alert(kind="business", severity="P3", dag_id=SCORE_DAG_ID, run_id=f"churn_score:{day}",
                         title=f"{SCORE_DAG_ID}: {len(entered)} account(s) entered the high churn-risk band on {day}, "
                               f"{alerts.money(total, currency)} MRR at risk", details=lines)
    alerts.dispatch(alert)
    return [alert.title]
