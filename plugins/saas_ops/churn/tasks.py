"""The tasks of churn_train and churn_score. Feature rows are churn/features.py's, training churn/training.py's,
scoring churn/scoring.py's, the model itself churn/model.py's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import task

from saas_ops import assets
from saas_ops.churn.scoring import SCORE_DAG_ID, score_accounts
from saas_ops.churn.training import TRAIN_DAG_ID, train_model


@task
def train_churn_model(**context: Any) -> dict[str, Any]:
    """Trains on weekly point-in-time observations, evaluates on the latest weeks, and promotes the model
    only when it beats the champion on the same dates by CHURN_PROMOTION_MARGIN."""
    from saas_ops import config
    from saas_ops.dates import day_closed

    result = train_model(day_closed(context), run_id=context["run_id"], schema=config.schema_name("OUTPUT_SCHEMA"),
                         source_schema=config.schema_name("SOURCE_SCHEMA"))
    announce_left_out(result.get("left_out", {}), dag_id=TRAIN_DAG_ID, run_id=context["run_id"])
    if not result["retrained"]:
        print(f"{result['model_version']} was already trained for this day ({result['status']}): {result['decision']}")
        return result
    m = result["metrics"]
    print(f"{result['model_version']} ({m['chosen']}): AUC {m['auc']}, PR-AUC {m['pr_auc']}, lift@10% "
          f"{m['lift_top_decile']}, Brier {m['brier']}, calibration error {m['calibration_error']}, base rate "
          f"{m['base_rate']}; logistic AUC {result['logistic_auc']}, gradient boosting AUC "
          f"{result['gradient_boosting_auc']}, single signal AUC {result['single_signal_auc']}")
    print(result["decision"])
    if result["note"]:
        print(f"note: {result['note']}")
    print(f"artifact: {result['artifact_uri']}")
    return result


@task(outlets=[assets.CHURN_SCORES])
def score_churn(**context: Any) -> dict[str, Any]:
    """Scores every paying account for the run's day with the champion model. With no champion yet it scores
    nothing, says so, and still publishes the day: the campaigns that follow do not need scores (only their
    high_risk campaign does, and it waits for the first model)."""
    from saas_ops import config
    from saas_ops.dates import day_closed

    summary = score_accounts(day_closed(context), schema=config.schema_name("OUTPUT_SCHEMA"),
                             source_schema=config.schema_name("SOURCE_SCHEMA"),
                             reporting_currency=config.setting("REPORTING_CURRENCY"), run_id=context["run_id"])
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
             f"{health}: " + "; ".join(d["text"] for d in drivers) for cid, mrr, p, health, drivers in entered[:15]]
    if len(entered) > 15:
        lines.append(f"• … and {len(entered) - 15} more: SELECT * FROM {schema}.churn_scores WHERE day = '{day}' "
                     "AND risk_band = 'high'")
    alert = alerts.Alert(kind="business", severity="P3", dag_id=SCORE_DAG_ID, run_id=f"churn_score:{day}",
                         title=f"{SCORE_DAG_ID}: {len(entered)} account(s) entered the high churn-risk band on {day}, "
                               f"{alerts.money(total, currency)} MRR at risk", details=lines)
    alerts.dispatch(alert)
    return [alert.title]


def announce_left_out(counts: dict[str, int], *, dag_id: str, run_id: str) -> None:
    """One Slack line for the source rows this run newly found breaking the contract."""
    from saas_ops import alerts, config, quality

    alert = quality.alert(counts, dag_id=dag_id, run_id=run_id, schema=config.schema_name("OUTPUT_SCHEMA"),
                          left_out_of="the churn signals")
    if alert:
        print(alert.title)
        alerts.dispatch(alert)
