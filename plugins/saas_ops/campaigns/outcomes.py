"""Did it work? campaign_outcomes: for each campaign, variant, arm and cohort day, how many recipients did what
the campaign is for within its window (OUTCOMES), once the window has closed; and the effect of the emails, the
treatment arm against the holdout, with its uncertainty (`Effect`, `results`, `winner`)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

# Per campaign: the SQL that says whether each recipient converted, the days after the cohort day it may take,
# and whether converting is revenue (a paid invoice, a paid plan, an account still paying): only then is the MRR
# of the converted accounts an effect of the email. A user active again keeps their account's MRR in no sense.
OUTCOMES: dict[str, tuple[str, int, bool]] = {
    "failed_payment": ("campaigns/outcome_invoice_paid.sql", 14, True),
    "trial_ending": ("campaigns/outcome_trial_converted.sql", 14, True),
    "high_risk": ("campaigns/outcome_still_paying.sql", 30, True),
    "win_back": ("campaigns/outcome_active_again.sql", 14, False),
    "inactive_90": ("campaigns/outcome_active_again.sql", 14, False),
    "inactive_60": ("campaigns/outcome_active_again.sql", 14, False),
    "inactive_30": ("campaigns/outcome_active_again.sql", 14, False),
    "low_adoption": ("campaigns/outcome_new_core_feature.sql", 14, False),
}
REMEASURE_DAYS = 7  # each run measures again the last week of closed cohorts: late events and billing fixes count


def measure(day: dt.date, *, schema: str, source_schema: str, features: list[str]) -> dict[str, Any]:
    """Writes campaign_outcomes for every campaign's cohorts whose window closed by `day` (and by the metrics'
    watermarks): those never measured and the last REMEASURE_DAYS, in one transaction; returns the cohort days
    measured per campaign."""
    from saas_ops import db, incremental

    measured: dict[str, list[str]] = {}
    with db.source() as src, db.warehouse() as wh:
        complete = min([day, *(w for w in incremental.metrics_watermarks(wh, schema).values() if w)])
        for campaign, (outcome_file, window_days, _) in OUTCOMES.items():
            last = complete - dt.timedelta(days=window_days)
            unmeasured = db.fetch_sql_file(wh, "campaigns/first_unmeasured_cohort.sql", {"campaign": campaign},
                                           schema=schema)[0][0]
            first = min(last - dt.timedelta(days=REMEASURE_DAYS - 1), unmeasured or last)
            params = {"campaign": campaign, "window_days": window_days, "features": features,
                      "first_day": first, "last_day": last}
            db.run_sql_file(wh, "campaigns/40_outcome_recipients.sql", params, schema=schema)
            if campaign == "failed_payment":
                invoice_ids = [r[0] for r in wh.execute(
                    "SELECT DISTINCT variables->>'invoice_id' FROM camp_outcome_recipients").fetchall()]
                db.copy_query_rows(src, wh, "campaigns/extract_invoice_payments.sql", "camp_invoice_paid",
                                   {**params, "invoice_ids": invoice_ids}, schema=source_schema)
            db.run_sql(wh, db.compose("INSERT INTO camp_outcome_rows (idempotency_key, converted)\n"
                                      + db.read_sql(outcome_file), schema=schema), params)
            db.run_sql_file(wh, "campaigns/50_outcomes.sql", params, schema=schema)
            measured[campaign] = [params["first_day"].isoformat(), last.isoformat()]
            wh.execute("DROP TABLE camp_outcome_recipients, camp_outcome_rows, camp_invoice_paid")
    return measured


# --------------------------------------------------------------------------------------- the effect

Z95 = 1.959964
MIN_PER_ARM = 100  # fewer recipients in an arm cannot tell an effect of a few points from chance
MIN_CONVERSIONS = 10


def two_proportions(x1: int, n1: int, x0: int, n0: int, z: float) -> tuple[float, float, float]:
    """x1/n1 − x0/n0 with its interval ± z standard errors (unpooled)."""
    p1, p0 = x1 / n1, x0 / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return p1 - p0, p1 - p0 - z * se, p1 - p0 + z * se


@dataclass
class Effect:
    """The treatment arm against the holdout for one campaign and variant, over the cohorts summed."""
    campaign: str
    variant: str
    treated: int
    treated_converted: int
    held_out: int
    held_out_converted: int
    treated_mrr_cents: int
    held_out_mrr_cents: int
    cost_per_1000: float
    revenue: bool = True  # whether converting is revenue (OUTCOMES)

    @property
    def rates(self) -> tuple[float | None, float | None]:
        return (self.treated_converted / self.treated if self.treated else None,
                self.held_out_converted / self.held_out if self.held_out else None)

    @property
    def lift(self) -> tuple[float, float, float] | None:
        """Absolute lift (treated rate − held-out rate) with its 95% interval (two proportions, unpooled)."""
        if not self.treated or not self.held_out:
            return None
        return two_proportions(self.treated_converted, self.treated, self.held_out_converted, self.held_out, Z95)

    @property
    def relative_lift(self) -> tuple[float, float, float] | None:
        """Treated rate ÷ held-out rate − 1, with its 95% interval (Katz: normal on the log of the ratio)."""
        p1, p0 = self.rates
        if not p1 or not p0:
            return None
        log_ratio = math.log(p1 / p0)
        se = math.sqrt((1 - p1) / self.treated_converted + (1 - p0) / self.held_out_converted)
        return p1 / p0 - 1, math.exp(log_ratio - Z95 * se) - 1, math.exp(log_ratio + Z95 * se) - 1

    @property
    def incremental_conversions(self) -> float | None:
        lift = self.lift
        return None if lift is None else lift[0] * self.treated

    @property
    def mrr_per_conversion_cents(self) -> float | None:
        """The MRR retained per converted recipient, both arms together."""
        converted = self.treated_converted + self.held_out_converted
        return (self.treated_mrr_cents + self.held_out_mrr_cents) / converted if converted else None

    @property
    def incremental_mrr_cents(self) -> tuple[float, float, float] | None:
        """The incremental conversions (with the lift's 95% interval) times the MRR retained per conversion: a
        few large accounts in a small holdout would swing a difference of MRR per recipient far more. None when
        converting is not revenue."""
        lift, per_conversion = self.lift, self.mrr_per_conversion_cents
        if not self.revenue or lift is None or per_conversion is None:
            return None
        return tuple(v * self.treated * per_conversion for v in lift)

    @property
    def cost(self) -> float:
        """What the treatment arm's emails cost: one email per treated recipient."""
        return self.treated * self.cost_per_1000 / 1000

    @property
    def verdict(self) -> str:
        lift = self.lift
        if lift is None or min(self.treated, self.held_out) < MIN_PER_ARM or \
                self.treated_converted + self.held_out_converted < MIN_CONVERSIONS:
            return (f"too few to tell yet ({self.treated:,} treated, {self.held_out:,} held out; each arm needs "
                    f"{MIN_PER_ARM} and both {MIN_CONVERSIONS} conversions)")
        if lift[1] > 0:
            return "the emails help: the whole 95% interval is above zero"
        if lift[2] < 0:
            return "the emails hurt: the whole 95% interval is below zero"
        return "no effect that can be told from chance: the 95% interval includes zero"

    @property
    def roi(self) -> float | None:
        """Incremental MRR (a month of it, in the reporting currency) per unit spent on the emails."""
        mrr = self.incremental_mrr_cents
        return None if mrr is None or not self.cost else mrr[0] / 100 / self.cost


RESULTS_DAYS = 90  # the page, the run's log and the weekly summary sum the cohorts of the last 90 days


def recent_effects(wh: Any, schema: str, cost_per_1000: float) -> tuple[dt.date, dt.date, list[Effect]] | None:
    """Every campaign's and variant's Effect over the RESULTS_DAYS of cohorts to the newest measured one (each
    variant against the campaign's holdout), with the first and newest cohort day summed; None before any."""
    from saas_ops.db import fetch_sql_file

    newest = fetch_sql_file(wh, "campaigns/newest_cohort.sql", schema=schema)[0][0]
    if newest is None:
        return None
    since = newest - dt.timedelta(days=RESULTS_DAYS - 1)
    treated: dict[tuple[str, str], tuple[int, int, int]] = {}
    held_out: dict[str, tuple[int, int, int]] = {}
    totals = fetch_sql_file(wh, "campaigns/outcome_totals.sql", {"since": since}, schema=schema)
    for campaign, variant, arm, eligible, converted, mrr, _ in totals:
        figures = (int(eligible), int(converted), int(mrr))
        if arm == "holdout":
            old = held_out.get(campaign, (0, 0, 0))
            held_out[campaign] = tuple(a + b for a, b in zip(old, figures, strict=True))
        else:
            treated[(campaign, variant)] = figures
    found = []
    for (campaign, variant), (n1, x1, mrr1) in sorted(treated.items()):
        n0, x0, mrr0 = held_out.get(campaign, (0, 0, 0))
        revenue = OUTCOMES.get(campaign, ("", 0, False))[2]
        found.append(Effect(campaign, variant, n1, x1, n0, x0, mrr1, mrr0, cost_per_1000, revenue))
    return min(first for *_, first in totals), newest, found


def variant_verdicts(found: list[Effect]) -> dict[str, str]:
    """winner() for every campaign with more than one variant."""
    campaigns = sorted({e.campaign for e in found})
    return {c: winner([e for e in found if e.campaign == c]) for c in campaigns
            if sum(e.campaign == c for e in found) > 1}


def results(wh: Any, schema: str, cost_per_1000: float) -> dict[str, Any] | None:
    """recent_effects as the SaaS Ops page shows them (plain JSON values)."""
    recent = recent_effects(wh, schema, cost_per_1000)
    if recent is None:
        return None
    since, newest, found = recent
    rows = []
    for e in found:
        lift, relative = e.lift, e.relative_lift
        rows.append({"campaign": e.campaign, "variant": e.variant, "treated": e.treated, "held_out": e.held_out,
                     "rate_treated": e.rates[0], "rate_held_out": e.rates[1],
                     "lift": lift and [round(v, 4) for v in lift], "relative_lift": relative and
                     [round(v, 4) for v in relative], "incremental_conversions": e.incremental_conversions,
                     "incremental_mrr_cents": e.incremental_mrr_cents and [round(v) for v in e.incremental_mrr_cents],
                     "revenue": e.revenue, "cost": round(e.cost, 2), "roi": e.roi,
                     "verdict": e.verdict})
    return {"from": since.isoformat(), "to": newest.isoformat(), "rows": rows, "variants": variant_verdicts(found)}


def describe(e: Effect, currency: str) -> str:
    """One line a growth team reads."""
    p1, p0 = e.rates
    done = "saved" if e.campaign == "high_risk" else "converted"  # high_risk's conversion is its save rate
    parts = [f"{e.campaign}/{e.variant}: {done} {p1:.1%} of {e.treated:,} emailed"
             + (f" vs {p0:.1%} of {e.held_out:,} held out" if p0 is not None else ", no holdout yet")]
    lift = e.lift
    if lift is not None:
        parts.append(f"lift {100 * lift[0]:+.1f} pts (95% {100 * lift[1]:+.1f} to {100 * lift[2]:+.1f})")
        mrr = e.incremental_mrr_cents
        parts.append((f"incremental MRR {mrr[0] / 100:,.0f} {currency} (95% {mrr[1] / 100:,.0f} to "
                      f"{mrr[2] / 100:,.0f}), " if mrr else "") + f"cost {e.cost:,.2f}")
    parts.append(e.verdict)
    return "; ".join(parts)


def summary_lines(found: list[Effect], currency: str) -> list[str]:
    """describe() of every effect, then each campaign's variants against each other: the run's log, the weekly
    Slack summary and the demo say the same."""
    return [describe(e, currency) for e in found] + [f"{campaign} variants: {verdict}"
                                                     for campaign, verdict in variant_verdicts(found).items()]


MIN_PER_VARIANT = 1000  # the fixed horizon: daily looks that stop on a good-looking day find winners by chance


def winner(variants: list[Effect], min_per_variant: int = MIN_PER_VARIANT) -> str:
    """The variants of one campaign against each other. A winner is named only at the fixed horizon and only
    when its conversion beats every other variant's with the whole interval above zero, at 95% over the
    comparisons together (Bonferroni: each at 1 − 0.05 / (variants − 1))."""
    from statistics import NormalDist

    if len(variants) < 2:
        return "one variant: nothing to compare"
    short = [e for e in variants if e.treated < min_per_variant]
    if short:
        return ("still collecting, no comparison before the fixed horizon: "
                + ", ".join(f"{e.variant} {e.treated:,} of {min_per_variant:,}" for e in short))
    best = max(variants, key=lambda e: e.treated_converted / e.treated)
    z = NormalDist().inv_cdf(1 - 0.05 / (len(variants) - 1) / 2)
    lows = {e.variant: two_proportions(best.treated_converted, best.treated, e.treated_converted, e.treated, z)[1]
            for e in variants if e is not best}
    if all(low > 0 for low in lows.values()):
        return (f"winner: {best.variant} ({best.rates[0]:.1%}); beats "
                + ", ".join(f"{v} by at least {100 * low:.1f} pts" for v, low in lows.items()))
    return (f"no winner: {best.variant} converts most ({best.rates[0]:.1%}) but not surely more than "
            + ", ".join(v for v, low in lows.items() if low <= 0))
