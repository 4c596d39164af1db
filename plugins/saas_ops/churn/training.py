"""churn_train: weekly point-in-time observations, a calibrated model with a champion/challenger gate, and
its artifact (with its SHA-256 and model card) in backup_storage."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from saas_ops.churn.features import announce_left_out, build_features, read_features
from saas_ops.incremental import NotReady, metrics_watermarks

if TYPE_CHECKING:
    import psycopg

    from saas_ops.churn.model import TrainedModel

TRAIN_DAG_ID = "churn_train"


@dataclass
class ModelRecord:
    version: str
    artifact_uri: str
    sha256: str
    sklearn_version: str


def artifact_key(schema: str, version: str, name: str = "model.pkl") -> str:
    """Keyed by output schema too: two deployments may share one bucket."""
    return f"models/churn/{schema}/{version}/{name}"


def save_artifact(model: TrainedModel, schema: str, version: str, card: str) -> ModelRecord:
    """Pickles the model to backup_storage with its SHA-256, and writes its card beside it."""
    import sklearn

    from saas_ops import storage

    data = pickle.dumps(model, protocol=5)
    store = storage.open_storage()
    uri = store.put_bytes(artifact_key(schema, version), data)
    store.put_bytes(artifact_key(schema, version, "model_card.md"), card.encode())
    return ModelRecord(version, uri, storage.sha256_hex(data), sklearn.__version__)


def load_artifact(record: ModelRecord, schema: str) -> TrainedModel:
    """The stored model, after checking its bytes against the recorded SHA-256 and that this worker runs
    the scikit-learn version that wrote it (a pickle is only safe to load when both hold)."""
    import sklearn

    from saas_ops import storage

    data = storage.open_storage().get_bytes(artifact_key(schema, record.version))
    actual = storage.sha256_hex(data)
    if actual != record.sha256:
        raise ValueError(f"churn model {record.version}: artifact {record.artifact_uri} has SHA-256 {actual}, but "
                         f"{record.sha256} was recorded when it was trained; it was altered or corrupted. Retrain "
                         "(trigger churn_train) or restore the file.")
    if record.sklearn_version != sklearn.__version__:
        raise ValueError(f"churn model {record.version} was trained with scikit-learn {record.sklearn_version}, this "
                         f"worker has {sklearn.__version__}; retrain it (trigger churn_train) before scoring.")
    return pickle.loads(data)  # noqa: S301 (our own artifact, hash-verified above)


def champion_record(wh: psycopg.Connection, schema: str) -> ModelRecord | None:
    from saas_ops.db import fetch_sql_file

    rows = fetch_sql_file(wh, "churn/champion.sql", schema=schema)
    return ModelRecord(*rows[0]) if rows else None


def observation_dates(label_until: dt.date, *, horizon: int, months: int) -> list[dt.date]:
    """Weekly dates, the latest being the last whose label is fully known (t + horizon − 1 ≤ label_until)."""
    last = label_until - dt.timedelta(days=horizon - 1)
    count = int(months * 365.25 / 12 / 7) + 1
    return [last - dt.timedelta(days=7 * k) for k in range(count - 1, -1, -1)]


def split_dates(dates: list[dt.date], *, eval_weeks: int, horizon: int) -> tuple[list[dt.date], list[dt.date]]:
    """The latest `eval_weeks` dates evaluate; training uses dates at least `horizon` days before the first
    of them, so no training label looks into the evaluation period."""
    evaluation = dates[-eval_weeks:]
    training = [t for t in dates if t <= evaluation[0] - dt.timedelta(days=horizon)]
    return training, evaluation


def decide(candidate_auc: float, champion_auc: float | None, single_signal_auc: float, margin: float,
           champion_problem: str | None = None, auc_standard_error: float = 0.0) -> tuple[bool, str]:
    """Whether the candidate becomes champion, and why, in one sentence. A first model must not fall below the
    single-signal baseline by more than its AUC's standard error: with a handful of churned accounts on the
    evaluation dates, a smaller gap is noise, and without a champion no account is scored at all."""
    if champion_problem:
        return True, f"promoted: the current champion cannot be used ({champion_problem})"
    if champion_auc is None:
        if candidate_auc > single_signal_auc:
            return True, (f"promoted: first model; AUC {candidate_auc:.4f} beats the single-signal baseline "
                          f"({single_signal_auc:.4f})")
        if candidate_auc >= single_signal_auc - auc_standard_error:
            return True, (f"promoted: first model; AUC {candidate_auc:.4f} is within its standard error "
                          f"({auc_standard_error:.4f}) of the single-signal baseline ({single_signal_auc:.4f})")
        return False, (f"kept as challenger: AUC {candidate_auc:.4f} is below the single-signal baseline "
                       f"({single_signal_auc:.4f}) by more than its standard error ({auc_standard_error:.4f})")
    if candidate_auc >= champion_auc + margin:
        return True, (f"promoted: AUC {candidate_auc:.4f} beats the champion's {champion_auc:.4f} on the same "
                      f"evaluation dates by at least {margin}")
    return False, (f"kept as challenger: AUC {candidate_auc:.4f} vs the champion's {champion_auc:.4f} on the same "
                   f"evaluation dates; promotion needs +{margin}")


def train_model(day: dt.date, *, run_id: str, schema: str, source_schema: str) -> dict[str, Any]:
    """Builds the training set, trains, evaluates, decides champion/challenger and records the model."""
    import sklearn
    from threadpoolctl import threadpool_limits

    from saas_ops import config, db, quality
    from saas_ops.churn import drift
    from saas_ops.churn.model import features_frame, model_card, train
    from saas_ops.db import compose

    horizon, months = config.setting("CHURN_HORIZON_DAYS"), config.setting("CHURN_TRAINING_MONTHS")
    eval_weeks, margin = config.setting("CHURN_EVAL_WEEKS"), config.setting("CHURN_PROMOTION_MARGIN")
    version = f"churn-{day:%Y%m%d}"
    with db.source() as src, db.warehouse() as wh:
        existing = wh.execute(compose("SELECT status, decision FROM {schema}.churn_models WHERE model_version = %s",
                                      schema=schema), (version,)).fetchone()
        if existing:
            return {"model_version": version, "status": existing[0], "decision": existing[1], "retrained": False}
        built = metrics_watermarks(wh, schema)
        if None in built.values():
            raise NotReady("churn_train needs saas_mrr and saas_engagement to have run (no watermark yet)")
        label_until = min(*built.values(), day)
        dates = observation_dates(label_until, horizon=horizon, months=months)
        training_dates, evaluation_dates = split_dates(dates, eval_weeks=eval_weeks, horizon=horizon)
        if len(training_dates) < 4:
            raise NotReady(f"only {len(training_dates)} training dates before {evaluation_dates[0]}: churn_train needs "
                           f"at least {eval_weeks + 4} weeks of history plus {horizon} days")
        build_features(src, wh, dates, schema=schema, source_schema=source_schema, horizon=horizon,
                       label_until=label_until, run_id=run_id, dag_id=TRAIN_DAG_ID)
        rows = read_features(wh)
        champion = champion_record(wh, schema)
        left_out = quality.new_issue_counts(wh, schema, run_id=run_id, dag_id=TRAIN_DAG_ID)
    # An account-date whose label a campaign email may have changed teaches nothing about churn left alone.
    untreated = rows[~rows["treated"]]
    train_rows = untreated[untreated["t"].isin(training_dates)]
    eval_rows = untreated[untreated["t"].isin(evaluation_dates)]
    with threadpool_limits(config.setting("CHURN_THREADS")):
        model, metrics = train(train_rows, eval_rows, high_share=config.setting("CHURN_HIGH_BAND_SHARE"),
                                           medium_share=config.setting("CHURN_MEDIUM_BAND_SHARE"),
                                           max_rows=config.setting("CHURN_MAX_TRAINING_ROWS"))
    champion_auc, problem = None, None
    if champion is not None:
        try:
            from sklearn.metrics import roc_auc_score

            current = load_artifact(champion, schema)
            champion_auc = float(roc_auc_score(eval_rows["churned"].astype(int),
                                               current.probability(features_frame(eval_rows))))
            metrics["champion_on_same_dates"] = {"model_version": champion.version, "auc": round(champion_auc, 4)}
            metrics["importance_change"] = {"from": champion.version,
                                            **drift.importance_change(current.importance(), metrics["importance"])}
        except Exception as exc:  # noqa: BLE001 (a broken champion is replaced, and the reason recorded)
            problem = str(exc)
    promote, decision = decide(metrics["auc"], champion_auc, metrics["single_signal"]["auc"], margin, problem,
                               metrics[metrics["chosen"]]["auc_standard_error"])
    metrics["treated_left_out"] = int(rows["treated"].sum())
    model.trained_with = {"model_version": version, "sklearn": sklearn.__version__, "horizon_days": horizon}
    card = model_card(version, metrics, training_window=(training_dates[0], training_dates[-1]),
                                  evaluation_window=(evaluation_dates[0], evaluation_dates[-1]), horizon=horizon,
                                  decision=decision)
    record = save_artifact(model, schema, version, card)
    with db.warehouse() as wh:
        db.run_sql_file(wh, "churn/model_trained.sql", {
            "model_version": version, "training_from": training_dates[0], "training_to": training_dates[-1],
            "metrics": json.dumps(metrics), "artifact_uri": record.artifact_uri, "promote": promote,
            "status": "champion" if promote else "challenger", "decision": decision,
            "evaluation_from": evaluation_dates[0], "evaluation_to": evaluation_dates[-1], "horizon_days": horizon,
            "artifact_sha256": record.sha256, "sklearn_version": record.sklearn_version,
            "card_uri": record.artifact_uri.replace("model.pkl", "model_card.md")}, schema=schema)
    return {"model_version": version, "status": "champion" if promote else "challenger", "decision": decision,
            "retrained": True, "run_id": run_id, "left_out": left_out,
            "metrics": {**{k: metrics[k] for k in ("chosen", "auc", "pr_auc", "lift_top_decile", "brier", "base_rate",
                                                   "calibration_error")}, "tuning_auc": metrics["tuning"]["auc"]},
            "logistic_auc": metrics["logistic"]["auc"], "gradient_boosting_auc": metrics["gradient_boosting"]["auc"],
            "blend_auc": metrics["blend"]["auc"],
            "single_signal_auc": metrics["single_signal"]["auc"], "artifact_uri": record.artifact_uri,
            "note": metrics.get("note")}


# --------------------------------------------------------------------------------------- the task


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
          f"{m['base_rate']} on the evaluation dates; there gradient boosting AUC {result['gradient_boosting_auc']}, "
          f"logistic {result['logistic_auc']}, blend {result['blend_auc']}, single signal "
          f"{result['single_signal_auc']}; chosen on the tuning dates, where AUC was {m['tuning_auc']}")
    print(result["decision"])
    if result["note"]:
        print(f"note: {result['note']}")
    print(f"artifact: {result['artifact_uri']}")
    return result
