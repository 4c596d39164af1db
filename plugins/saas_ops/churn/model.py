"""The churn model itself: its signals and how they read in words, training, evaluation, risk bands, health
scores and per-account drivers. Pure scikit-learn on a DataFrame of the feature rows that churn/features.py builds
in SQL (include/sql/churn/20_features.sql); no database or storage here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from saas_ops.alerts import money
from saas_ops.churn import drift

CATEGORICAL = ["plan_id", "billing_interval"]
NUMERIC = ["tenure_days", "mrr_cents", "mrr_change_30d", "mrr_change_90d", "seats", "seats_change_30d", "past_due",
           "active_users_7d", "active_users_30d", "active_users_trend", "events_7d", "events_30d", "events_trend",
           "days_since_last_activity", "features_used_30d", "failed_payments_30d", "failed_payments_90d",
           "overdue_invoices", "tickets_30d", "tickets_90d", "urgent_tickets_90d", "unanswered_tickets", "csat_90d",
           "first_response_hours_90d"]
SIGNALS = CATEGORICAL + NUMERIC
SINGLE_SIGNAL = "days_since_last_activity"  # the baseline a model must beat
RANDOM_STATE = 7
# Who the account is: the model weighs these, but a customer-success person cannot change them, so they are
# never shown as drivers.
PROFILE = ("plan_id", "billing_interval", "tenure_days", "mrr_cents", "seats")
_CHECK_IN, _SUPPORT = "book a check-in", "review their open tickets with support"
# What a customer-success person can act on, with what to do about it.
ACTIONS = {
    "days_since_last_activity": _CHECK_IN, "events_7d": _CHECK_IN, "events_30d": _CHECK_IN,
    "events_trend": _CHECK_IN, "active_users_7d": _CHECK_IN, "active_users_30d": _CHECK_IN,
    "active_users_trend": _CHECK_IN,
    "features_used_30d": "offer a walkthrough of the core features they do not use",
    "seats_change_30d": "ask the admin why seats were removed",
    "mrr_change_30d": "ask why they moved down a plan", "mrr_change_90d": "ask why they moved down a plan",
    "past_due": "help them update their payment method", "failed_payments_30d": "help them update their payment method",
    "failed_payments_90d": "help them update their payment method",
    "overdue_invoices": "help them settle the overdue invoices",
    "tickets_30d": _SUPPORT, "tickets_90d": _SUPPORT, "urgent_tickets_90d": _SUPPORT,
    "unanswered_tickets": "get their waiting tickets answered today", "first_response_hours_90d": _SUPPORT,
    "csat_90d": "follow up on their low satisfaction",
}
# When the signal has no value, what it means is different: a new payer has no MRR change, nobody rated support.
ACTIONS_WHEN_MISSING = {"mrr_change_30d": "check that their onboarding is complete",
                        "mrr_change_90d": "check that their onboarding is complete",
                        "csat_90d": "ask them how it is going"}


def action_for(signal: str, value: Any) -> str:
    """What to do about an actionable signal with this value."""
    missing = value is None or (isinstance(value, float) and np.isnan(value))
    return ACTIONS_WHEN_MISSING.get(signal, ACTIONS[signal]) if missing else ACTIONS[signal]


def driver_line(driver: dict[str, Any]) -> str:
    """A driver as one line: what is happening, and what to do about it."""
    return f"{driver['text']} → {driver['action']}" if driver.get("action") else driver["text"]


def _pct(v: float) -> str:
    return f"{abs(v):.0%}"


def describe(signal: str, value: Any, row: dict[str, Any], currency: str = "USD", core_features: int = 8) -> str:
    """One signal of one account in words a customer-success person reads."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return {"csat_90d": "no CSAT rating in 90 days", "mrr_change_30d": "new to paying in the last 30 days",
                "mrr_change_90d": "new to paying in the last 90 days",
                "first_response_hours_90d": "no answered ticket in 90 days",
                "active_users_trend": "no active users in 30 days",
                "events_trend": "no events in 30 days"}.get(signal, f"{signal} unknown")
    v = value
    match signal:
        case "plan_id":
            return f"on the {v} plan"
        case "billing_interval":
            return f"billed every {v}"
        case "tenure_days":
            return f"customer for {int(v)} days"
        case "mrr_cents":
            return f"MRR {money(int(v), currency)}"
        case "mrr_change_30d" | "mrr_change_90d":
            days = signal[-3:-1]
            return f"MRR {'down' if v < 0 else 'up'} {_pct(v)} in {days} days" if v else f"MRR flat over {days} days"
        case "seats":
            return f"{int(v)} seats"
        case "seats_change_30d":
            return f"seats {'down' if v < 0 else 'up'} {abs(int(v))} in 30 days (now {int(row['seats'])})" if v \
                else "no seat change in 30 days"
        case "past_due":
            return "subscription past due" if v else "subscription in good standing"
        case "active_users_7d":
            return f"{int(v)} of {int(row['active_users_30d'])} monthly users active in the last 7 days"
        case "active_users_30d":
            return f"{int(v)} active user{'s' * (v != 1)} in 30 days ({int(row['seats'])} seats)"
        case "active_users_trend":
            return f"only {_pct(v)} of the month's active users came back this week"
        case "events_7d":
            return f"{int(v)} event{'s' * (v != 1)} in the last 7 days"
        case "events_30d":
            return f"{int(v)} event{'s' * (v != 1)} in 30 days"
        case "events_trend":
            return f"activity {'down' if v < 1 else 'up'} {_pct(v - 1)} vs the 30-day average"
        case "days_since_last_activity":
            return "no activity in more than 30 days" if v > 30 else f"no activity for {int(v)} days"
        case "features_used_30d":
            return f"uses {int(v)} of {core_features} core features"
        case "failed_payments_30d" | "failed_payments_90d":
            return f"{int(v)} failed payment{'s' * (v != 1)} in {signal[-3:-1]} days"
        case "overdue_invoices":
            return f"{int(v)} overdue unpaid invoice{'s' * (v != 1)}"
        case "tickets_30d" | "tickets_90d":
            return f"{int(v)} support ticket{'s' * (v != 1)} in {signal[-3:-1]} days"
        case "urgent_tickets_90d":
            return f"{int(v)} high or urgent ticket{'s' * (v != 1)} in 90 days"
        case "unanswered_tickets":
            return f"{int(v)} ticket{'s' * (v != 1)} waiting for a first response"
        case "csat_90d":
            return f"CSAT {v:.1f} of 5 over 90 days"
        case "first_response_hours_90d":
            return f"first responses took {v:.0f} h on average"
    return f"{signal} = {v}"


# --------------------------------------------------------------------------------------- training


# The gradient-boosting settings tried, from cautious to flexible, with and without weighting the rare churned
# rows up; each stops adding trees when the tuning dates stop improving, and the best on those dates is kept.
GRADIENT_BOOSTING_GRID = (
    {"learning_rate": 0.05, "max_leaf_nodes": 7, "min_samples_leaf": 100, "class_weight": None},
    {"learning_rate": 0.05, "max_leaf_nodes": 7, "min_samples_leaf": 100, "class_weight": "balanced"},
    {"learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 50, "class_weight": None},
    {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20, "class_weight": "balanced"},
)
TUNING_SHARE = 0.2  # the latest training dates tune (early stopping, settings, kind) and calibrate


def _encoder() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    return ColumnTransformer([
        ("categories", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                      encoded_missing_value=np.nan), CATEGORICAL),
        ("numbers", "passthrough", NUMERIC)])


def _tuned_gradient_boosting(x: pd.DataFrame, y: np.ndarray, x_tune: pd.DataFrame,
                             y_tune: np.ndarray) -> tuple[Any, list[dict[str, Any]]]:
    """Every setting of GRADIENT_BOOSTING_GRID fitted on the earlier dates with early stopping on the tuning
    dates (time-ordered, not a random slice of the same weeks); returns the best pipeline and each try."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline

    encode = _encoder().fit(x)
    fit_part, tune_part = encode.transform(x), encode.transform(x_tune)
    tries, best, best_auc = [], None, -1.0
    for settings in GRADIENT_BOOSTING_GRID:
        model = HistGradientBoostingClassifier(max_iter=500, l2_regularization=1.0, categorical_features=[0, 1],
                                               early_stopping=True, n_iter_no_change=20, random_state=RANDOM_STATE,
                                               **settings)
        model.fit(fit_part, y, X_val=tune_part, y_val=y_tune)
        auc = float(roc_auc_score(y_tune, model.predict_proba(tune_part)[:, 1]))
        tries.append({**settings, "trees": int(model.n_iter_), "tuning_auc": round(auc, 4)})
        if auc > best_auc:
            best, best_auc = model, auc
    return Pipeline([("encode", encode), ("model", best)]), tries


def _logistic() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = ColumnTransformer([
        ("categories", make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                                     OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
        ("numbers", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), NUMERIC)])
    return Pipeline([("encode", encode), ("model", LogisticRegression(C=0.5, max_iter=2000))])


def _calibrated(fitted: Any, x_tune: pd.DataFrame, y_tune: np.ndarray) -> Any:
    """Sigmoid (Platt) calibration on the tuning dates: strictly increasing, so it keeps the model's order
    (isotonic's steps gave thousands of accounts one probability, and a ranking then fell back to customer_id)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    return CalibratedClassifierCV(FrozenEstimator(fitted), method="sigmoid").fit(x_tune, y_tune)


@dataclass
class Blend:
    """The mean of calibrated models' probabilities: steadier than either when neither wins clearly."""
    members: list[Any]

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        p = np.mean([m.predict_proba(x)[:, 1] for m in self.members], axis=0)
        return np.column_stack([1 - p, p])


def split_by_date(dates: pd.Series, share: float) -> np.ndarray:
    """True for the rows before the latest `share` of the distinct dates."""
    distinct = sorted(dates.unique())
    first_later = distinct[-max(1, round(len(distinct) * share))]
    return (dates < first_later).to_numpy()


def features_frame(rows: pd.DataFrame) -> pd.DataFrame:
    x = rows[SIGNALS].copy()
    for column in CATEGORICAL:
        x[column] = x[column].astype(object).where(x[column].notna(), None)
    for column in NUMERIC:
        x[column] = pd.to_numeric(x[column], errors="coerce").astype(float)
    return x


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """AUC, PR-AUC, lift in the top decile, Brier score, base rate, and calibration (10 bins by predicted
    probability: mean predicted vs observed rate; the error is their count-weighted mean gap)."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    base_rate = float(y.mean())
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, len(p) // 10)]
    bins = np.minimum((p * 10).astype(int), 9)
    table = []
    for b in range(10):
        mask = bins == b
        if mask.any():
            table.append({"bin": f"{b / 10:.1f}-{(b + 1) / 10:.1f}", "accounts": int(mask.sum()),
                          "mean_predicted": round(float(p[mask].mean()), 4),
                          "observed_rate": round(float(y[mask].mean()), 4)})
    ece = sum(r["accounts"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in table) / len(p)
    auc, churned = float(roc_auc_score(y, p)), int(y.sum())
    return {"auc": round(auc, 4), "auc_standard_error": round(auc_standard_error(auc, churned, len(y) - churned), 4),
            "pr_auc": round(float(average_precision_score(y, p)), 4),
            "lift_top_decile": round(float(y[top].mean() / base_rate), 3) if base_rate else None,
            "brier": round(float(brier_score_loss(y, p)), 5), "base_rate": round(base_rate, 4),
            "calibration_error": round(float(ece), 4), "calibration": table, "rows": int(len(p)),
            "churned": int(y.sum())}


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley & McNeil (1982): how far an AUC measured on this many churned and kept accounts moves by chance."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) \
        / (positives * negatives)
    return float(np.sqrt(max(variance, 0.0)))


def bands_by_rank(p: np.ndarray, customer_ids: np.ndarray, *, high_share: float, medium_share: float) -> np.ndarray:
    """The day's bands by rank, so that they hold their shares whatever the probabilities' spread: the riskiest
    `high_share` of the accounts are high, the next `medium_share` medium (equal probabilities by customer_id)."""
    order = np.lexsort((customer_ids, -p))
    high, medium = round(high_share * len(p)), round((high_share + medium_share) * len(p))
    bands = np.full(len(p), "low", dtype=object)
    bands[order[:high]] = "high"
    bands[order[high:medium]] = "medium"
    return bands


@dataclass
class TrainedModel:
    """What a champion carries into scoring: the calibrated pipeline and what its evaluation decided."""
    kind: str  # gradient_boosting or logistic
    model: Any
    thresholds: dict[str, float]  # on the evaluation weeks, the probability the high / medium bands began at
    health_quantiles: list[float]  # 101 quantiles of evaluation-window probabilities
    effects: dict[str, Effect]  # how each signal moves the score (for drivers)
    trained_with: dict[str, Any] = field(default_factory=dict)
    # drift.reference: the signals of the training rows, the scores of the evaluation dates (out of sample)
    reference: dict[str, Any] = field(default_factory=dict)

    def importance(self) -> dict[str, float]:
        """Each signal's share of the model's sensitivity: how far its effect moves the log-odds, end to end."""
        spread = {s: max(e.values + [e.missing]) - min(e.values + [e.missing]) for s, e in self.effects.items()}
        total = sum(spread.values()) or 1.0
        return {s: round(v / total, 4) for s, v in sorted(spread.items(), key=lambda kv: -kv[1])}

    def probability(self, x: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(x)[:, 1]

    def health(self, p: np.ndarray) -> np.ndarray:
        """0-100: the share of evaluation-window accounts that were riskier (100 = safest)."""
        share_riskier = 1 - np.interp(p, self.health_quantiles, np.linspace(0, 1, len(self.health_quantiles)))
        return np.clip(np.rint(100 * share_riskier), 0, 100).astype(int)

    def drivers(self, x: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per account, the `top` actionable signals (ACTIONS: not the profile) whose value raises its risk most
        above the average account's: impact = effect(its value) − the signal's average effect over the training
        accounts, from the model's partial dependence on each signal (a lookup per signal, so a million accounts
        take seconds). Only signals that raise the risk are listed."""
        signals = [s for s in self.effects if s in ACTIONS]
        impact = np.column_stack([self.effects[s].at(x[s]) - self.effects[s].average for s in signals])
        order = np.argsort(-impact, axis=1, kind="stable")[:, :top]
        chosen = np.take_along_axis(impact, order, axis=1)
        return [[(signals[j], round(float(v), 4)) for j, v in zip(row, values, strict=True) if v > 1e-9]
                for row, values in zip(order, chosen, strict=True)]


@dataclass
class Effect:
    """Partial dependence of the uncalibrated score on one signal: the mean score of a sample of accounts
    with the signal set to each grid value (categories, or quantiles of a number), and with it missing."""
    categorical: bool
    grid: list[Any]
    values: list[float]
    missing: float
    average: float = 0.0  # the mean effect over the training accounts

    def at(self, column: pd.Series) -> np.ndarray:
        if self.categorical:  # an unseen category counts as missing
            lookup = dict(zip(self.grid, self.values, strict=True))
            return column.map(lambda v: lookup.get(v, self.missing)).to_numpy(dtype=float)
        v = column.to_numpy(dtype=float)
        if not self.grid:
            return np.full(len(v), self.missing)
        return np.where(np.isnan(v), self.missing, np.interp(v, self.grid, self.values))


def partial_effects(model: Any, x: pd.DataFrame, points: int = 24, sample: int = 1000) -> dict[str, Effect]:
    """The Effect of every signal on the log-odds of `model`'s probability, on a sample of `x` (the training rows)."""
    rows = x.sample(n=min(sample, len(x)), random_state=RANDOM_STATE)
    effects = {}
    for signal in SIGNALS:
        known = x[signal].dropna()
        if signal in CATEGORICAL:
            grid = sorted(known.unique().tolist())
        else:
            grid = sorted(set(np.quantile(known.to_numpy(dtype=float), np.linspace(0, 1, points)).tolist())) \
                if len(known) else []
        trial = pd.concat([rows] * (len(grid) + 1), ignore_index=True)
        trial[signal] = ([None] if signal in CATEGORICAL else [np.nan]) * len(rows) + \
            [g for g in grid for _ in range(len(rows))]
        p = np.clip(model.predict_proba(trial)[:, 1], 1e-9, 1 - 1e-9)
        means = np.log(p / (1 - p)).reshape(len(grid) + 1, len(rows)).mean(axis=1)
        effect = Effect(signal in CATEGORICAL, grid, [float(m) for m in means[1:]], float(means[0]))
        effect.average = float(effect.at(x[signal]).mean())
        effects[signal] = effect
    return effects


KINDS = ("gradient_boosting", "logistic", "blend")  # on equal tuning AUC, the first wins


def train(train_rows: pd.DataFrame, eval_rows: pd.DataFrame, *, high_share: float, medium_share: float,
          max_rows: int) -> tuple[TrainedModel, dict[str, Any]]:
    """Fits every kind on the earlier training dates and tunes it on the later ones (TUNING_SHARE): gradient
    boosting (GRADIENT_BOOSTING_GRID with early stopping), the logistic baseline and their blend, each calibrated
    there; the kind with the best AUC on the tuning dates is the candidate. Every kind and the single-signal
    baseline are then measured on the evaluation dates, which chose nothing. Beyond `max_rows` account-dates it
    trains on a uniform sample (the base rate, so calibration, holds)."""
    from sklearn.metrics import roc_auc_score

    sampled = len(train_rows) > max_rows
    if sampled:
        train_rows = train_rows.sample(n=max_rows, random_state=RANDOM_STATE)
    train_rows = train_rows.sort_values(["t", "customer_id"], kind="stable")
    x, y = features_frame(train_rows), train_rows["churned"].astype(int).to_numpy()
    for column in NUMERIC:  # a signal nobody has yet (no tickets at all, say) is 0, which the models can bin
        if x[column].isna().all():
            x[column] = 0.0
    x_eval, y_eval = features_frame(eval_rows), eval_rows["churned"].astype(int).to_numpy()
    fit_part = split_by_date(train_rows["t"], TUNING_SHARE)
    x_fit, y_fit, x_tune, y_tune = x[fit_part], y[fit_part], x[~fit_part], y[~fit_part]
    if y_fit.sum() < 10 or y_tune.sum() < 5 or y_eval.sum() < 5 or (1 - y).sum() < 10:
        raise ValueError(f"too few churned accounts to learn from: {int(y_fit.sum())} in fitting, {int(y_tune.sum())} "
                         f"in tuning, {int(y_eval.sum())} in evaluation (need 10, 5 and 5)")
    boosted, tries = _tuned_gradient_boosting(x_fit, y_fit, x_tune, y_tune)
    gradient_boosting = _calibrated(boosted, x_tune, y_tune)
    logistic = _calibrated(_logistic().fit(x_fit, y_fit), x_tune, y_tune)
    candidates = {"gradient_boosting": gradient_boosting, "logistic": logistic,
                  "blend": Blend([gradient_boosting, logistic])}
    tuning_auc = {kind: round(float(roc_auc_score(y_tune, m.predict_proba(x_tune)[:, 1])), 4)
                  for kind, m in candidates.items()}
    best = max(KINDS, key=lambda k: (tuning_auc[k], -KINDS.index(k)))
    metrics: dict[str, Any] = {}
    predictions = {}
    for kind, model in candidates.items():
        predictions[kind] = model.predict_proba(x_eval)[:, 1]
        metrics[kind] = evaluate(y_eval, predictions[kind])
    single = x_eval[SINGLE_SIGNAL].fillna(x_eval[SINGLE_SIGNAL].max()).to_numpy()
    metrics["single_signal"] = {"signal": SINGLE_SIGNAL, "auc": round(float(roc_auc_score(y_eval, single)), 4)}
    tune_dates = train_rows["t"][~fit_part]
    metrics["tuning"] = {"from": str(tune_dates.min()), "to": str(tune_dates.max()), "rows": int(len(y_tune)),
                         "auc": tuning_auc, "gradient_boosting_tries": tries}
    p = predictions[best]
    thresholds = {"high": float(np.quantile(p, 1 - high_share)),
                  "medium": float(np.quantile(p, 1 - high_share - medium_share))}
    metrics.update(chosen=best, thresholds=thresholds, train_rows=int(len(y)), train_churned=int(y.sum()),
                   train_sampled=sampled,
                   **{k: metrics[best][k] for k in ("auc", "pr_auc", "lift_top_decile", "brier", "base_rate",
                                                     "calibration_error")})
    if best != "gradient_boosting":
        metrics["note"] = (f"the {best.replace('_', ' ')} (tuning AUC {tuning_auc[best]}) beat gradient boosting "
                           f"(tuning AUC {tuning_auc['gradient_boosting']}) on the tuning dates, so it is the "
                           "candidate")
    model = TrainedModel(kind=best, model=candidates[best], thresholds=thresholds,
                         health_quantiles=[float(q) for q in np.quantile(p, np.linspace(0, 1, 101))],
                         effects=partial_effects(candidates[best], x),
                         reference=drift.reference(x, CATEGORICAL, p))
    metrics["importance"] = model.importance()
    return model, metrics


def model_card(version: str, metrics: dict[str, Any], *, training_window: tuple[dt.date, dt.date],
               evaluation_window: tuple[dt.date, dt.date], horizon: int, decision: str) -> str:
    """A short markdown card stored beside the artifact."""
    chosen = metrics["chosen"]
    lines = [f"# Churn model {version}", "",
             f"- Label: MRR reaches 0 within {horizon} days of an observation date (weekly dates).",
             f"- Trained on observation dates {training_window[0]} .. {training_window[1]} "
             f"({metrics['train_rows']:,} account-dates, {metrics['train_churned']:,} churned).",
             f"- Evaluated on the later dates {evaluation_window[0]} .. {evaluation_window[1]}, never trained on.",
             f"- Model: {chosen.replace('_', ' ')}, chosen on the tuning dates {metrics['tuning']['from']} .. "
             f"{metrics['tuning']['to']} (the last {TUNING_SHARE:.0%} of the training dates, where every kind was also "
             "calibrated, sigmoid); the kinds were fitted on the earlier dates.",
             f"- Decision: {decision}", "",
             "Evaluation dates:", "", "| model | AUC | PR-AUC | lift top 10% | Brier | calibration error |",
             "|---|---:|---:|---:|---:|---:|"]
    for kind in KINDS:
        m = metrics[kind]
        name = kind.replace("_", " ") + " (chosen)" * (kind == chosen)
        lines.append(f"| {name} | {m['auc']} | {m['pr_auc']} | {m['lift_top_decile']} | {m['brier']} | "
                     f"{m['calibration_error']} |")
    lines += [f"| single signal ({SINGLE_SIGNAL}) | {metrics['single_signal']['auc']} | | | | |", "",
              f"Base rate on the evaluation dates: {metrics['base_rate']:.2%}. Risk bands: high at probability "
              f"≥ {metrics['thresholds']['high']:.3f}, medium at ≥ {metrics['thresholds']['medium']:.3f}.", "",
              "## Calibration (evaluation dates)", "", "| predicted | accounts | mean predicted | observed |",
              "|---|---:|---:|---:|"]
    lines += [f"| {r['bin']} | {r['accounts']:,} | {r['mean_predicted']:.3f} | {r['observed_rate']:.3f} |"
              for r in metrics[chosen]["calibration"]]
    tuning = metrics["tuning"]
    lines += ["", "## Tuning dates", "", "AUC: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                                                          tuning["auc"].items()) + ".", "",
              "| learning rate | leaves | min leaf | class weight | trees | AUC |", "|---:|---:|---:|---|---:|---:|"]
    lines += [f"| {t['learning_rate']} | {t['max_leaf_nodes']} | {t['min_samples_leaf']} | "
              f"{t['class_weight'] or 'none'} | {t['trees']} | {t['tuning_auc']} |"
              for t in tuning["gradient_boosting_tries"]]
    lines += ["", "## Signals", "", ", ".join(SIGNALS), ""]
    return "\n".join(lines)
