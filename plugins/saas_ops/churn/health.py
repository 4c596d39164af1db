"""churn_model_health: churn_score's daily check-up of its champion. How the scores whose horizon has closed
turned out (realised AUC, lift, calibration, and their 7- and 30-day trends), how far the day's accounts have
drifted from the ones the model learned from (PSI per signal and for the score), and a Slack alert (P2) the
first day a problem appears, with the recommendation to retrain (or, behind CHURN_AUTO_RETRAIN, a churn_train
run triggered)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from saas_ops import assets
from saas_ops.churn.scoring import SCORE_DAG_ID

if TYPE_CHECKING:
    import psycopg

MIN_CHURNED_FOR_AUC_ALERT = 10  # fewer churned accounts behind a 7-day realised AUC make it noise
# Signals that move away from any training window by construction (every account ages a day a day): their PSI
# is recorded and shown, but is no reason to alert.
DRIFTS_BY_DESIGN = ("tenure_days",)
RETRAIN = "retrain: trigger churn_train (Airflow UI: churn_train → Trigger)"


def realised(wh: psycopg.Connection, schema: str, day: dt.date, horizon: int) -> dict[str, Any] | None:
    """How the scores of `day` turned out (include/sql/churn/realised_performance.sql); None if none were made."""
    from saas_ops.db import fetch_sql_file

    rows = fetch_sql_file(wh, "churn/realised_performance.sql", {"day": day, "horizon": horizon}, schema=schema)
    if not rows:
        return None
    keys = ("accounts", "churned", "auc", "lift_top_decile", "calibration_error", "calibration",
            "realised_model_versions")
    found = dict(zip(keys, rows[0], strict=True))
    for k in ("auc", "lift_top_decile", "calibration_error"):
        found[k] = None if found[k] is None else round(float(found[k]), 4)
    return found


def problems(*, version: str, day: dt.date, realised_day: dt.date, auc_7d: float | None, churned_7d: int,
             psi: dict[str, float], top_signals: list[str], min_auc: float, psi_limit: float) -> list[dict[str, str]]:
    """The conditions a team must hear about, each with a key that stays the same while it lasts."""
    from saas_ops.churn.drift import PSI_MEANING, SCORE

    found = []
    if auc_7d is not None and churned_7d >= MIN_CHURNED_FOR_AUC_ALERT and auc_7d < min_auc:
        found.append({"key": "realised_auc", "text": (
            f"realised AUC {auc_7d:.3f} over the scored days closed in the 7 days to {realised_day} ({churned_7d} "
            f"churned accounts) is below CHURN_MIN_REALISED_AUC {min_auc}: the model no longer ranks who leaves")})
    for signal in [*(s for s in top_signals if s not in DRIFTS_BY_DESIGN), SCORE]:
        value = psi.get(signal)
        if value is not None and value > psi_limit:
            what = "the churn score's distribution" if signal == SCORE else f"signal {signal}"
            found.append({"key": f"psi:{signal}", "text": (
                f"{what} has shifted since {version} was trained: PSI {value:.2f} on {day} (over {psi_limit}; "
                f"{PSI_MEANING})")})
    return found


def check_health(summary: dict[str, Any], *, schema: str, horizon: int, min_auc: float, psi_limit: float,
                 top: int) -> dict[str, Any]:
    """Writes the day's churn_model_health row (replacing it on a rerun) and returns it, with `new_alerts`: the
    problems that the previous check of the same model did not have (each is announced once)."""
    from psycopg.types.json import Jsonb

    from saas_ops import db
    from saas_ops.db import fetch_sql_file

    day, version = dt.date.fromisoformat(summary["day"]), summary["model_version"]
    realised_day = day - dt.timedelta(days=horizon)
    top_signals = list(summary.get("importance", {}))[:top]
    with db.warehouse() as wh:
        found = realised(wh, schema, realised_day, horizon) or {}
        earlier = fetch_sql_file(wh, "churn/health_trend.sql", {"day": day}, schema=schema)
        trend = [(d, auc, churned) for d, auc, churned in earlier] + \
            ([(realised_day, found["auc"], found["churned"])] if found.get("auc") is not None else [])

        def mean_auc(days: int) -> tuple[float | None, int]:
            window = [(auc, n) for d, auc, n in trend if d > realised_day - dt.timedelta(days=days)]
            return (round(sum(a for a, _ in window) / len(window), 4) if window else None), sum(n for _, n in window)

        (auc_7d, churned_7d), (auc_30d, _) = mean_auc(7), mean_auc(30)
        found_now = problems(version=version, day=day, realised_day=realised_day, auc_7d=auc_7d, churned_7d=churned_7d,
                             psi=summary.get("psi", {}), top_signals=top_signals, min_auc=min_auc,
                             psi_limit=psi_limit)
        already = {a["key"] for (alerts,) in fetch_sql_file(wh, "churn/health_alerts_before.sql",
                                                            {"day": day, "model_version": version}, schema=schema)
                   for a in alerts}
        row = {"day": day, "model_version": version, "realised_day": realised_day,
               "realised_model_versions": found.get("realised_model_versions"), "accounts": found.get("accounts"),
               "churned": found.get("churned"), "auc": found.get("auc"),
               "lift_top_decile": found.get("lift_top_decile"), "calibration_error": found.get("calibration_error"),
               "calibration": Jsonb(found.get("calibration")), "auc_7d": auc_7d, "auc_30d": auc_30d,
               "churned_7d": churned_7d, "psi": Jsonb(summary.get("psi", {})), "top_signals": top_signals,
               "alerts": Jsonb(found_now), "recommendation": RETRAIN if found_now else None}
        db.run_sql_file(wh, "churn/health_checked.sql", row, schema=schema)
    return {**{k: v for k, v in row.items() if k not in ("calibration", "psi", "alerts")},
            "day": summary["day"], "realised_day": realised_day.isoformat(), "problems": found_now,
            "new_alerts": [a for a in found_now if a["key"] not in already]}


# --------------------------------------------------------------------------------------- the tasks


@task
def check_model_health(summary: dict[str, Any]) -> dict[str, Any]:
    """The day's churn_model_health row, and one Slack alert (P2) for problems that are new since the last check
    of the same model. Returns whether to retrain (CHURN_AUTO_RETRAIN and a new problem)."""
    from saas_ops import alerts, config

    if "skipped" in summary:
        print("no scores today, so no model-health check")
        return {"retrain": False}
    health = check_health(summary, schema=config.schema_name("OUTPUT_SCHEMA"),
                          horizon=config.setting("CHURN_HORIZON_DAYS"),
                          min_auc=config.setting("CHURN_MIN_REALISED_AUC"), psi_limit=config.setting("CHURN_PSI_ALERT"),
                          top=config.setting("CHURN_PSI_TOP_SIGNALS"))
    judged = (f"no scores of {health['realised_day']} to judge" if health["accounts"] is None else
              f"scores of {health['realised_day']}: realised AUC {health['auc']} ({health['churned']} of "
              f"{health['accounts']} churned), lift {health['lift_top_decile']}, calibration error "
              f"{health['calibration_error']}")
    print(f"{health['model_version']} on {health['day']}: {judged}; 7-day AUC {health['auc_7d']}, 30-day "
          f"{health['auc_30d']}; top signals {', '.join(health['top_signals'])}")
    for problem in health["problems"]:
        print(f"problem: {problem['text']}" + ("" if problem in health["new_alerts"] else " (already announced)"))
    retrain = bool(health["new_alerts"]) and config.setting("CHURN_AUTO_RETRAIN")
    if health["new_alerts"]:
        alerts.dispatch(alerts.Alert(
            kind="business", severity="P2", dag_id=SCORE_DAG_ID,
            run_id=f"churn_model_health:{health['model_version']}:{health['day']}",
            title=f"{SCORE_DAG_ID}: churn model {health['model_version']} needs attention on {health['day']}",
            details=[f"• {a['text']}" for a in health["new_alerts"]]
            + ["churn_train requested (CHURN_AUTO_RETRAIN is on)" if retrain else RETRAIN]))
    return {"retrain": retrain, "day": health["day"], "problems": [a["key"] for a in health["problems"]]}


@task.short_circuit
def retrain_wanted(health: dict[str, Any]) -> bool:
    """Lets request_retrain run only when the check asked for it."""
    return bool(health.get("retrain"))


@task(outlets=[assets.CHURN_RETRAIN])
def request_retrain(**context: Any) -> None:
    """Publishes saas_ops.churn_retrain_requested, which runs churn_train (its schedule is that asset or Sunday)
    for the day this run checked."""
    from saas_ops.dates import carry_day, day_closed

    carry_day(context, day_closed(context))
    print("model-health problem found with CHURN_AUTO_RETRAIN on: churn_train requested")
