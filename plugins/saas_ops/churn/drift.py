"""Population stability: how far a day's accounts have moved from the ones a model learned from, per signal and
for the score. PSI = Σ (actual − expected) × ln(actual / expected) over bins fixed on the reference: deciles of
a number plus one bin for a missing value, or one bin per category plus one for a category never seen and one
for a missing value. Pure numpy and pandas, no database."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BINS = 10
EMPTY_SHARE = 1e-4  # what an empty bin counts as, so that ln() stays finite
SCORE = "churn_probability"  # the score's key beside the signals'
PSI_MEANING = "under 0.1 stable, 0.1-0.25 moving, over 0.25 shifted"


def number_reference(values: np.ndarray) -> dict[str, Any]:
    known = values[~np.isnan(values)]
    edges = sorted(set(np.quantile(known, np.linspace(0, 1, BINS + 1))[1:-1].tolist())) if len(known) else []
    return {"edges": edges, "shares": number_shares(values, edges)}


def number_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    """Shares below the first edge, from each edge to the next, from the last edge up, then missing."""
    missing = np.isnan(values)
    counts = np.bincount(np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1)
    return [float(c) / len(values) for c in [*counts.tolist(), int(missing.sum())]]


def category_reference(values: pd.Series) -> dict[str, Any]:
    categories = sorted(values.dropna().astype(str).unique().tolist())
    return {"categories": categories, "shares": category_shares(values, categories)}


def category_shares(values: pd.Series, categories: list[str]) -> list[float]:
    """Shares of each known category, then of categories never seen, then missing."""
    known = values.dropna().astype(str)
    counts = known.value_counts()
    shares = [int(counts.get(c, 0)) for c in categories]
    shares += [len(known) - sum(shares), int(values.isna().sum())]
    return [s / len(values) for s in shares]


def psi(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=float), EMPTY_SHARE)
    a = np.maximum(np.asarray(actual, dtype=float), EMPTY_SHARE)
    return float(np.sum((a - e) * np.log(a / e)))


def reference(x: pd.DataFrame, categorical: list[str], probabilities: np.ndarray) -> dict[str, Any]:
    """What later days are compared with: each signal's bins and shares, and the score's."""
    signals = {s: category_reference(x[s]) if s in categorical else number_reference(x[s].to_numpy(dtype=float))
               for s in x.columns}
    return {"signals": signals, SCORE: number_reference(np.asarray(probabilities, dtype=float))}


def stability(ref: dict[str, Any], x: pd.DataFrame, probabilities: np.ndarray) -> dict[str, float]:
    """PSI of each signal of `x` and of `probabilities` against `ref`, rounded to 4 places."""
    out = {}
    for signal, bins in ref["signals"].items():
        if signal not in x or not len(x):
            continue
        actual = category_shares(x[signal], bins["categories"]) if "categories" in bins else \
            number_shares(x[signal].to_numpy(dtype=float), bins["edges"])
        out[signal] = round(psi(bins["shares"], actual), 4)
    if len(probabilities):
        score = ref[SCORE]
        out[SCORE] = round(psi(score["shares"], number_shares(np.asarray(probabilities, dtype=float),
                                                              score["edges"])), 4)
    return out


def importance_change(before: dict[str, float], after: dict[str, float], top: int = 3) -> dict[str, Any]:
    """How two models' importance shares differ: Spearman's rank correlation over the signals both have, and
    the `top` signals whose share moved most."""
    common = sorted(set(before) & set(after))
    if len(common) < 2:
        return {"rank_correlation": None, "largest_changes": []}
    ranks_before = pd.Series([before[s] for s in common]).rank().to_numpy()
    ranks_after = pd.Series([after[s] for s in common]).rank().to_numpy()
    correlation = float(np.corrcoef(ranks_before, ranks_after)[0, 1])
    moved = sorted(common, key=lambda s: -abs(after[s] - before[s]))[:top]
    return {"rank_correlation": round(correlation, 3),
            "largest_changes": [{"signal": s, "before": round(before[s], 4), "after": round(after[s], 4)}
                                for s in moved]}
