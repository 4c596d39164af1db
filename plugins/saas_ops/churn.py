"""churn_train and churn_score: point-in-time feature rows built in SQL, a calibrated model with a
champion/challenger gate, its artifact in backup_storage, and daily scores with their drivers.

Feature rows come from include/sql/churn/20_features.sql, the same SQL for training (weekly observation
dates over CHURN_TRAINING_MONTHS) and for scoring (one date: the day after the closing day), so a model
scores exactly the signals it was trained on. The model is in churn_model.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from saas_ops import assets

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

    from saas_ops.churn_model import TrainedModel

TRAIN_DAG_ID = "churn_train"
SCORE_DAG_ID = "churn_score"
# (extract, the temp table it fills, the source table whose optional columns it reads)
SOURCE_EXTRACTS = (("churn/extract_customers.sql", "churn_src_customers", "customers"),
                   ("churn/extract_periods.sql", "churn_src_periods", "subscription_periods"),
                   ("churn/extract_payments.sql", "churn_src_payments", "payment_attempts"),
                   ("churn/extract_invoices.sql", "churn_src_invoices", "invoices"),
                   ("churn/extract_tickets.sql", "churn_src_tickets", "support_tickets"))
QUARANTINED = ("customers", "invoices", "payment_attempts", "support_tickets")  # keyed tables the extracts read


class NotReady(RuntimeError):
    """The inputs a churn run needs are not there yet (the message says which and what to run)."""


# --------------------------------------------------------------------------------------- feature rows


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
    if "churned" in frame:
        frame["churned"] = frame["churned"].map({"t": True, "f": False})
    return frame


def watermarks(wh: psycopg.Connection, schema: str) -> tuple[dt.date | None, dt.date | None]:
    from saas_ops import windows

    return windows.read_watermark(wh, schema, "customer_mrr_monthly"), \
        windows.read_watermark(wh, schema, "account_engagement_daily")


# --------------------------------------------------------------------------------------- artifacts


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
    from saas_ops.db import compose

    row = wh.execute(compose("SELECT model_version, artifact_uri, artifact_sha256, sklearn_version "
                             "FROM {schema}.churn_models WHERE is_champion", schema=schema)).fetchone()
    return ModelRecord(*row) if row else None


# --------------------------------------------------------------------------------------- training


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
           champion_problem: str | None = None) -> tuple[bool, str]:
    """Whether the candidate becomes champion, and why, in one sentence."""
    if champion_problem:
        return True, f"promoted: the current champion cannot be used ({champion_problem})"
    if champion_auc is None:
        if candidate_auc > single_signal_auc:
            return True, (f"promoted: first model; AUC {candidate_auc:.4f} beats the single-signal baseline "
                          f"({single_signal_auc:.4f})")
        return False, (f"kept as challenger: AUC {candidate_auc:.4f} does not beat the single-signal baseline "
                       f"({single_signal_auc:.4f})")
    if candidate_auc >= champion_auc + margin:
        return True, (f"promoted: AUC {candidate_auc:.4f} beats the champion's {champion_auc:.4f} on the same "
                      f"evaluation dates by at least {margin}")
    return False, (f"kept as challenger: AUC {candidate_auc:.4f} vs the champion's {champion_auc:.4f} on the same "
                   f"evaluation dates; promotion needs +{margin}")


def train_model(closing_day: dt.date, *, run_id: str, schema: str, source_schema: str) -> dict[str, Any]:
    """Builds the training set, trains, evaluates, decides champion/challenger and records the model."""
    import sklearn
    from threadpoolctl import threadpool_limits

    from saas_ops import churn_model, config, db, quality
    from saas_ops.db import compose

    horizon, months = config.setting("CHURN_HORIZON_DAYS"), config.setting("CHURN_TRAINING_MONTHS")
    eval_weeks, margin = config.setting("CHURN_EVAL_WEEKS"), config.setting("CHURN_PROMOTION_MARGIN")
    version = f"churn-{closing_day:%Y%m%d}"
    with db.source() as src, db.warehouse() as wh:
        existing = wh.execute(compose("SELECT status, decision FROM {schema}.churn_models WHERE model_version = %s",
                                      schema=schema), (version,)).fetchone()
        if existing:
            return {"model_version": version, "status": existing[0], "decision": existing[1], "retrained": False}
        mrr_day, engagement_day = watermarks(wh, schema)
        if mrr_day is None or engagement_day is None:
            raise NotReady("churn_train needs saas_mrr and saas_engagement to have run (no watermark yet)")
        label_until = min(mrr_day, engagement_day, closing_day)
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
    train_rows = rows[rows["t"].isin(training_dates)]
    eval_rows = rows[rows["t"].isin(evaluation_dates)]
    with threadpool_limits(config.setting("CHURN_THREADS")):
        model, metrics = churn_model.train(train_rows, eval_rows, high_share=config.setting("CHURN_HIGH_BAND_SHARE"),
                                           medium_share=config.setting("CHURN_MEDIUM_BAND_SHARE"),
                                           max_rows=config.setting("CHURN_MAX_TRAINING_ROWS"))
    champion_auc, problem = None, None
    if champion is not None:
        try:
            from sklearn.metrics import roc_auc_score

            current = load_artifact(champion, schema)
            champion_auc = float(roc_auc_score(eval_rows["churned"].astype(int),
                                               current.probability(churn_model.features_frame(eval_rows))))
            metrics["champion_on_same_dates"] = {"model_version": champion.version, "auc": round(champion_auc, 4)}
        except Exception as exc:  # noqa: BLE001 (a broken champion is replaced, and the reason recorded)
            problem = str(exc)
    promote, decision = decide(metrics["auc"], champion_auc, metrics["single_signal"]["auc"], margin, problem)
    model.trained_with = {"model_version": version, "sklearn": sklearn.__version__, "horizon_days": horizon}
    card = churn_model.model_card(version, metrics, training_window=(training_dates[0], training_dates[-1]),
                                  evaluation_window=(evaluation_dates[0], evaluation_dates[-1]), horizon=horizon,
                                  decision=decision)
    record = save_artifact(model, schema, version, card)
    with db.warehouse() as wh:
        if promote:
            wh.execute(compose("UPDATE {schema}.churn_models SET is_champion = false, status = 'retired' "
                               "WHERE is_champion", schema=schema))
        wh.execute(compose(
            "INSERT INTO {schema}.churn_models (model_version, trained_at, training_window, metrics, artifact_uri, "
            "is_champion, status, decision, evaluation_window, horizon_days, artifact_sha256, sklearn_version, "
            "card_uri) VALUES (%s, now(), daterange(%s, %s, '[]'), %s, %s, %s, %s, %s, daterange(%s, %s, '[]'), %s, "
            "%s, %s, %s)", schema=schema),
            (version, training_dates[0], training_dates[-1], json.dumps(metrics), record.artifact_uri, promote,
             "champion" if promote else "challenger", decision, evaluation_dates[0], evaluation_dates[-1], horizon,
             record.sha256, record.sklearn_version, record.artifact_uri.replace("model.pkl", "model_card.md")))
    return {"model_version": version, "status": "champion" if promote else "challenger", "decision": decision,
            "retrained": True, "run_id": run_id, "left_out": left_out,
            "metrics": {k: metrics[k] for k in ("chosen", "auc", "pr_auc", "lift_top_decile", "brier", "base_rate",
                                                "calibration_error")},
            "logistic_auc": metrics["logistic"]["auc"], "gradient_boosting_auc": metrics["gradient_boosting"]["auc"],
            "single_signal_auc": metrics["single_signal"]["auc"], "artifact_uri": record.artifact_uri,
            "note": metrics.get("note")}


# --------------------------------------------------------------------------------------- scoring


def score_accounts(day: dt.date, *, schema: str, source_schema: str, reporting_currency: str,
                   run_id: str = "manual") -> dict[str, Any]:
    """Scores every account paying at the end of `day` with the champion and replaces that day's rows of
    churn_scores in one transaction, moving its watermark forward (ops_watchdog alerts when it goes stale).
    Returns what it did (`skipped` with the reason when there is no champion yet)."""
    import numpy as np
    from psycopg.types.json import Jsonb
    from threadpoolctl import threadpool_limits

    from saas_ops import churn_model, config, db, quality, windows
    from saas_ops.db import compose

    with db.warehouse() as wh:
        record = champion_record(wh, schema)
        mrr_day, engagement_day = watermarks(wh, schema)
    if record is None:
        return {"day": day.isoformat(), "skipped": "no champion churn model yet: trigger churn_train first"}
    for name, have in (("saas_mrr", mrr_day), ("saas_engagement", engagement_day)):
        if have is None or have < day:
            raise NotReady(f"churn scores for {day} need {name} through {day}; it is at {have}. Run {name} first.")
    model = load_artifact(record, schema)
    core = len(config.setting("CORE_FEATURES").split(","))
    with db.source() as src, db.warehouse() as wh:
        t = day + dt.timedelta(days=1)
        build_features(src, wh, [t], schema=schema, source_schema=source_schema,
                       horizon=config.setting("CHURN_HORIZON_DAYS"), label_until=day, run_id=run_id,
                       dag_id=SCORE_DAG_ID)
        rows = read_features(wh)
        x = churn_model.features_frame(rows)
        with threadpool_limits(config.setting("CHURN_THREADS")):
            p = model.probability(x) if len(x) else np.zeros(0)
            drivers = model.drivers(x) if len(x) else []
        bands, health = model.band(p), model.health(p)
        records = rows.drop(columns=["t", "churned"]).to_dict("records")
        wh.execute(compose("DELETE FROM {schema}.churn_scores WHERE day = %s", schema=schema), (day,))
        with wh.cursor() as cur, cur.copy(compose(
                "COPY {schema}.churn_scores (day, customer_id, model_version, churn_probability, risk_band, "
                "top_drivers, health_score, mrr_cents) FROM STDIN", schema=schema)) as copy:
            for i, row in enumerate(records):
                signals = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()
                           if k != "customer_id"}
                top = [{"signal": s, "value": signals[s], "impact": impact,
                        "text": churn_model.describe(s, signals[s], signals, reporting_currency, core)}
                       for s, impact in drivers[i]]
                copy.write_row((day, row["customer_id"], record.version, round(float(p[i]), 6), bands[i], Jsonb(top),
                                int(health[i]), int(row["mrr_cents"])))
        left_out = quality.new_issue_counts(wh, schema, run_id=run_id, dag_id=SCORE_DAG_ID)
        scored_through = windows.read_watermark(wh, schema, "churn_scores")
        if scored_through is None or day >= scored_through:  # rescoring an older day keeps the newest
            windows.advance_watermark(wh, schema, ("churn_scores",), SCORE_DAG_ID, day, run_id)
    counts = {band: int((bands == band).sum()) for band in ("high", "medium", "low")} if len(records) else {}
    return {"day": day.isoformat(), "model_version": record.version, "accounts": len(records), "bands": counts,
            "left_out": left_out}


# --------------------------------------------------------------------------------------- tasks


@task
def train_churn_model(**context: Any) -> dict[str, Any]:
    """Trains on weekly point-in-time observations, evaluates on the latest weeks, and promotes the model
    only when it beats the champion on the same dates by CHURN_PROMOTION_MARGIN."""
    from saas_ops import config
    from saas_ops.dates import closing_day

    result = train_model(closing_day(context), run_id=context["run_id"], schema=config.schema_name("OUTPUT_SCHEMA"),
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
    """Scores every paying account for the closing day with the champion model. With no champion yet it scores
    nothing, says so, and still publishes the day: the campaigns that follow do not need scores (only their
    high_risk campaign does, and it waits for the first model)."""
    from saas_ops import config
    from saas_ops.dates import closing_day

    summary = score_accounts(closing_day(context), schema=config.schema_name("OUTPUT_SCHEMA"),
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
    from saas_ops import alerts, config, db

    if "skipped" in summary:
        return []
    schema, currency = config.schema_name("OUTPUT_SCHEMA"), config.setting("REPORTING_CURRENCY")
    day = dt.date.fromisoformat(summary["day"])
    with db.warehouse() as wh:
        entered = db.fetch_sql_file(wh, "churn/entered_high_band.sql", {"day": day}, schema=schema)
    if not entered:
        print(f"no account entered the high risk band on {day}")
        return []
    names = _customer_names([row[0] for row in entered])
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


def _customer_names(customer_ids: list[str]) -> dict[str, str]:
    from saas_ops import config, db
    from saas_ops.db import compose

    with db.source() as src:
        rows = src.execute(compose("SELECT customer_id, name FROM {schema}.customers WHERE customer_id = ANY(%s)",
                                   schema=config.schema_name("SOURCE_SCHEMA")), (customer_ids,)).fetchall()
    return dict(rows)
