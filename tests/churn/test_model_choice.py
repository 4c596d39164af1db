"""Which kind of model churn_train picks, on two tables whose truth is known: one where churn comes from
interactions of signals (gradient boosting must win clearly) and one where it is a straight sum of them
(the logistic baseline is the right model; the choice must not lose to it). The kind is chosen on the tuning
dates; the figures asserted are on the evaluation dates, which chose nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from saas_ops.churn import model

WEEKS, ACCOUNTS = 40, 600
FIRST = dt.date(2026, 1, 4)


def table(truth: str, seed: int = 3) -> pd.DataFrame:
    """ACCOUNTS random account-rows on each of WEEKS weekly dates, with the label drawn from `truth`'s log-odds:
    - interactions: silence only matters to monthly payers (a yearly one has paid); many tickets raise the risk
      when CSAT is low and lower it when CSAT is high; a failed payment or lost seats raise it, both together
      do not (they are the same downgrade);
    - linear: a weighted sum of silence, core features, failed payments and seat changes."""
    rng = np.random.default_rng(seed)
    n = WEEKS * ACCOUNTS
    rows = pd.DataFrame({signal: rng.poisson(3, n).astype(float) for signal in model.NUMERIC})
    rows["days_since_last_activity"] = rng.integers(0, 31, n).astype(float)
    rows["csat_90d"] = np.round(rng.uniform(1, 5, n), 1)
    rows["features_used_30d"] = rng.integers(0, 9, n).astype(float)
    rows["failed_payments_30d"] = rng.poisson(0.3, n).astype(float)
    rows["seats_change_30d"] = rng.integers(-3, 4, n).astype(float)
    rows["plan_id"] = rng.choice(["starter", "team", "business"], n)
    rows["billing_interval"] = rng.choice(["month", "year"], n)
    if truth == "interactions":
        log_odds = (-3.2 + 2.8 * ((rows.days_since_last_activity > 14) & (rows.billing_interval == "month"))
                    + 2.2 * ((rows.tickets_30d >= 4) & (rows.csat_90d < 2.5))
                    - 1.5 * ((rows.tickets_30d >= 4) & (rows.csat_90d >= 3.5))
                    + 2.0 * ((rows.failed_payments_30d > 0) != (rows.seats_change_30d < 0)))
    else:
        log_odds = (-2.0 + 0.06 * rows.days_since_last_activity - 0.25 * rows.features_used_30d
                    + 0.7 * rows.failed_payments_30d - 0.2 * rows.seats_change_30d)
    rows["churned"] = rng.random(n) < 1 / (1 + np.exp(-log_odds))
    rows["t"] = np.repeat([FIRST + dt.timedelta(days=7 * k) for k in range(WEEKS)], ACCOUNTS)
    rows["customer_id"] = [f"c{i % ACCOUNTS}" for i in range(n)]
    return rows


def trained(truth: str) -> dict:
    """Like churn_train: the last 8 dates evaluate, training stops 4 weeks (the horizon) before them."""
    rows = table(truth)
    dates = sorted(rows["t"].unique())
    _, metrics = model.train(rows[rows["t"] <= dates[-13]], rows[rows["t"] >= dates[-8]], high_share=0.1,
                             medium_share=0.2, max_rows=1_000_000)
    assert metrics["tuning"]["to"] < str(dates[-8])  # the evaluation dates chose nothing
    return metrics


def test_where_signals_interact_gradient_boosting_beats_the_logistic_baseline_clearly():
    metrics = trained("interactions")
    assert metrics["chosen"] == "gradient_boosting", metrics["tuning"]
    assert metrics["auc"] >= metrics["logistic"]["auc"] + 0.05, {k: metrics[k]["auc"] for k in model.KINDS}
    assert metrics["lift_top_decile"] > metrics["logistic"]["lift_top_decile"]
    assert len(metrics["tuning"]["gradient_boosting_tries"]) == len(model.GRADIENT_BOOSTING_GRID)
    assert all(0 < t["trees"] <= 500 for t in metrics["tuning"]["gradient_boosting_tries"])


def test_where_churn_is_a_straight_sum_the_choice_does_not_lose_to_the_logistic_baseline():
    metrics = trained("linear")
    assert metrics["auc"] >= metrics["logistic"]["auc"] - 0.01, {k: metrics[k]["auc"] for k in model.KINDS}
    assert metrics["calibration_error"] < 0.05


def test_a_first_model_within_noise_of_the_single_signal_is_promoted_and_one_clearly_below_is_not():
    """Hanley & McNeil by hand for AUC 0.9 on 20 churned and 80 kept accounts: q1 = 0.9 / 1.1 = 0.81818,
    q2 = 2 × 0.81 / 1.9 = 0.85263; variance = (0.09 + 19 × 0.00818 + 79 × 0.04263) / 1600 = 0.0022583; SE 0.0475."""
    from saas_ops.churn.training import decide

    assert round(model.auc_standard_error(0.9, 20, 80), 4) == 0.0475
    promoted, why = decide(0.90, None, 0.93, 0.005, auc_standard_error=0.0475)
    assert promoted and why == ("promoted: first model; AUC 0.9000 is within its standard error (0.0475) of the "
                                "single-signal baseline (0.9300)")
    promoted, why = decide(0.90, None, 0.96, 0.005, auc_standard_error=0.0475)
    assert not promoted and why.startswith("kept as challenger: AUC 0.9000 is below the single-signal baseline")
    assert decide(0.90, 0.897, 0.5, 0.005, auc_standard_error=0.0475)[0] is False  # a champion needs the margin
