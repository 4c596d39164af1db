"""The simulated SaaS behind the demo data (demo_data.py loads it): customers, their subscription periods,
users, events, invoices, payment attempts, tickets and rates, each a deterministic function of the seed.
What it simulates is told in demo_data.py's docstring.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PLANS = {  # plan -> price per seat per month in the plan's currency, cents
    "starter": 2900,
    "growth": 7900,
    "enterprise": 19900,
}
PLAN_ORDER = ["starter", "growth", "enterprise"]
SEGMENTS = {  # segment -> (share, plan weights, (min seats, max seats))
    "smb": (0.65, (0.7, 0.28, 0.02), (1, 5)),
    "mid_market": (0.28, (0.2, 0.6, 0.2), (3, 25)),
    "enterprise": (0.07, (0.0, 0.3, 0.7), (20, 120)),
}
COUNTRIES = [("US", "USD", 0.55), ("CA", "USD", 0.07), ("GB", "GBP", 0.12), ("DE", "EUR", 0.11),
             ("FR", "EUR", 0.08), ("NL", "EUR", 0.07)]
CORE_FEATURES = ["dashboard_view", "report_create", "integration_connect", "alert_create", "export_csv",
                 "invite_user", "api_call", "comment_add"]
BASIC_EVENTS = ["login", "page_view"]
EVENT_NAMES = BASIC_EVENTS + CORE_FEATURES  # index = feature code in the load
FIRST = ["Ada", "Ben", "Chloe", "Dan", "Eva", "Finn", "Grace", "Hugo", "Iris", "Jonas", "Kara", "Leo", "Maya",
         "Nina", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Viktor", "Wen", "Yara", "Zane"]
LAST = ["Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jansen", "Kim",
        "Lopez", "Meyer", "Novak", "Olsen", "Patel", "Rossi", "Schmidt", "Tanaka", "Weber"]
COMPANY_A = ["Blue", "North", "Bright", "Swift", "Iron", "Silver", "Green", "Red", "Open", "Clear", "Deep",
             "Prime", "Urban", "Lunar", "Solar", "Alpine"]
COMPANY_B = ["Labs", "Works", "Systems", "Analytics", "Logistics", "Health", "Retail", "Media", "Capital",
             "Foods", "Robotics", "Studio", "Partners", "Cloud", "Energy", "Travel"]
OWNERS = [("Alex Morgan", "alex.morgan"), ("Sam Rivera", "sam.rivera"), ("Jordan Lee", "jordan.lee"),
          ("Casey Kim", "casey.kim"), ("Taylor Brooks", "taylor.brooks")]
FAILURE_CODES = ["card_declined", "insufficient_funds", "expired_card", "processing_error"]
PRE_CHURN_DAYS = 60
MONTH = 30.4375
PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Fixed-width ids (up to 10M customers, 100M users, 10G events), so events can be written by numpy.
CUSTOMER_PREFIX, CUSTOMER_DIGITS = b"cus_", 7
USER_PREFIX, USER_DIGITS = b"usr_", 8
EVENT_ID_PREFIX, EVENT_DIGITS = b"evt_", 10


def customer_id(n: int) -> str:
    return f"cus_{n:07d}"


def user_id(n: int) -> str:
    return f"usr_{n:08d}"


@dataclass
class Period:
    subscription_id: str
    plan: str
    status: str
    amount_cents: int
    quantity: int
    interval: str
    interval_count: int
    start: float  # days since the history start (fractional: time of day)
    end: float | None = None
    trial_ends_at: float | None = None


@dataclass
class Customer:
    n: int
    signup: float
    health: float
    segment: str
    currency: str
    country: str
    periods: list[Period] = field(default_factory=list)
    churn_days: list[float] = field(default_factory=list)  # voluntary cancellations (pre-churn drift)
    end: float = 0.0          # last day with a live subscription (history end if still live)
    max_seats: int = 1


class Simulation:
    """Draws every customer's history; all randomness flows from one seed, in a fixed order."""

    def __init__(self, customers: int, months: int, seed: int, end: dt.date):
        self.n_customers = customers
        self.days = int(round(months * MONTH))
        self.end_date = end
        self.start_date = end - dt.timedelta(days=self.days - 1)  # day offsets 0..days-1 end at `end`
        self.seed = seed
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.customers: list[Customer] = []
        self.invoices: list[tuple] = []
        self.attempts: list[tuple] = []
        self.tickets: list[tuple] = []

    # ----------------------------------------------------------------------------------- helpers
    def ts(self, day: float) -> str:
        """A day offset as a timestamptz literal (UTC)."""
        moment = dt.datetime.combine(self.start_date, dt.time(), dt.UTC) + dt.timedelta(days=day)
        return moment.strftime("%Y-%m-%d %H:%M:%S+00")

    def pick(self, weighted: list[tuple[Any, float]]) -> Any:
        r, acc = self.rng.random(), 0.0
        for value, weight in weighted:
            acc += weight
            if r < acc:
                return value
        return weighted[-1][0]

    # ----------------------------------------------------------------------------------- customers
    def run(self) -> None:
        for n in range(1, self.n_customers + 1):
            self.customers.append(self.simulate_customer(n))

    def simulate_customer(self, n: int) -> Customer:
        rng = self.rng
        signup = min(self.days * rng.random() ** 0.75, self.days - 1.0)  # growth: later signups likelier
        segment = self.pick([(s, v[0]) for s, v in SEGMENTS.items()])
        country, currency, _ = self.pick([((c, cur, w), w) for c, cur, w in COUNTRIES])
        cust = Customer(n=n, signup=signup, health=rng.gauss(0, 1), segment=segment,
                        currency=currency, country=country)
        _, plan_weights, (lo, hi) = SEGMENTS[segment]
        plan = self.pick(list(zip(PLAN_ORDER, plan_weights, strict=True)))
        seats = max(lo, min(hi, int(round(lo + (hi - lo) * rng.random() ** 2))))
        interval, count = self.pick([(("month", 1), 0.72), (("month", 3), 0.06), (("year", 1), 0.22)])
        discounted = rng.random() < 0.15
        start = cust.signup
        sub_n = 1
        if rng.random() < 0.6:  # trial first
            sub_id = f"sub_{n}_{sub_n}"
            trial_end = start + 14
            cust.periods.append(Period(sub_id, plan, "trialing", self.price(plan, interval, count), seats,
                                       interval, count, start, None, trial_end))
            converts = rng.random() < 1 / (1 + math.exp(-(0.9 + 0.9 * cust.health)))
            if trial_end >= self.days:
                cust.end = self.days
                cust.max_seats = seats
                return cust
            cust.periods[-1].end = trial_end
            if not converts:
                cust.end = trial_end
                cust.max_seats = seats
                return cust
            start = trial_end
        else:
            sub_id = f"sub_{n}_{sub_n}"
        while True:
            live_until, voluntary = self.simulate_paid(cust, sub_id, plan, seats, interval, count, start, discounted)
            if live_until is None:
                cust.end = self.days
                break
            cust.end = live_until
            if voluntary:
                cust.churn_days.append(live_until)
            comeback = live_until + rng.uniform(60, 200)
            if rng.random() < 0.2 and comeback < self.days - 1:
                sub_n += 1
                sub_id = f"sub_{n}_{sub_n}"
                start, discounted = comeback, False
                continue
            break
        cust.max_seats = max(p.quantity for p in cust.periods)
        return cust

    def price(self, plan: str, interval: str, count: int, discount: float = 0.0) -> int:
        per_month = PLANS[plan] * (1 - discount)
        if interval == "year":
            return int(round(per_month * 10))  # two months free on annual
        return int(round(per_month * count))

    def simulate_paid(self, cust: Customer, sub_id: str, plan: str, seats: int, interval: str, count: int,
                      start: float, discounted: bool) -> tuple[float | None, bool]:
        """Emits the paid periods of one subscription; returns (end day or None if live, voluntary?)."""
        rng = self.rng
        months_per_cycle = 12 if interval == "year" else count
        hazard = 1 / (1 + math.exp(3.4 + 1.3 * cust.health))  # monthly cancel probability
        # Decide the cancellation month up front, so the drift before it can be simulated.
        month, cancel_month = 0, None
        horizon = int((self.days - start) / MONTH) + 2
        for m in range(1, horizon + 1):
            if rng.random() < hazard:
                cancel_month = m
                break
        if cancel_month is not None and interval == "year":
            cancel_month = months_per_cycle * math.ceil(cancel_month / months_per_cycle)  # at renewal
        cancel_day = start + cancel_month * MONTH if cancel_month else None

        state = {"plan": plan, "seats": seats, "status": "active",
                 "discount": 0.2 if discounted else 0.0}

        def emit(at: float) -> None:
            if cust.periods and cust.periods[-1].subscription_id == sub_id and cust.periods[-1].end is None:
                cust.periods[-1].end = at
            cust.periods.append(Period(sub_id, state["plan"], state["status"],
                                       self.price(state["plan"], interval, count, state["discount"]),
                                       state["seats"], interval, count, at))

        emit(start)
        paused_until = None
        while True:
            month += 1
            at = start + month * MONTH
            if at >= self.days:
                return None, False
            if cancel_day is not None and at >= cancel_day - 0.001:
                cust.periods[-1].end = at
                return at, True
            pre_churn = cancel_day is not None and cancel_day - at <= PRE_CHURN_DAYS
            changed = False
            if paused_until is not None and at >= paused_until:
                state["status"], paused_until, changed = "active", None, True
            if discounted and month == 3:
                state["discount"], changed = 0.0, True
            # seats and plan
            r = rng.random()
            if pre_churn and state["seats"] > 1 and r < 0.5:
                state["seats"] = max(1, state["seats"] - rng.randint(1, max(1, state["seats"] // 3)))
                changed = True
            elif not pre_churn and r < 0.06 + 0.03 * max(cust.health, 0):
                state["seats"] += rng.randint(1, max(1, state["seats"] // 4))
                changed = True
            elif not pre_churn and r > 0.975:
                state["seats"] = max(1, state["seats"] - 1)
                changed = True
            p_idx = PLAN_ORDER.index(state["plan"])
            r = rng.random()
            if not pre_churn and cust.health > 0 and r < 0.02 and p_idx < 2:
                state["plan"], changed = PLAN_ORDER[p_idx + 1], True
            elif (pre_churn and r < 0.15 or r < 0.01) and p_idx > 0:
                state["plan"], changed = PLAN_ORDER[p_idx - 1], True
            if paused_until is None and not pre_churn and rng.random() < 0.004:
                state["status"], paused_until, changed = "paused", at + rng.choice([MONTH, 2 * MONTH]), True
            if changed:
                emit(at)
            # billing cycle: invoice, payment, maybe a failure and past_due
            if state["status"] != "paused" and month % months_per_cycle == 0:
                outcome = self.bill(cust, sub_id, at, interval, count, state, pre_churn)
                if outcome == "involuntary":  # past_due for 14 days, then the subscription ends
                    state["status"] = "past_due"
                    emit(at + 0.01)
                    if at + 14 >= self.days:
                        return None, False
                    cust.periods[-1].end = at + 14
                    return at + 14, False
                if outcome is not None:  # recovered after `outcome` days of past_due
                    state["status"] = "past_due"
                    emit(at + 0.01)
                    state["status"] = "active"
                    if at + outcome < self.days:
                        emit(at + outcome)
            if rng.random() < (0.25 if pre_churn else 0.06) * (1 + math.log1p(state["seats"]) / 3):
                self.ticket(cust, at + rng.uniform(0, MONTH), pre_churn)

    def bill(self, cust: Customer, sub_id: str, at: float, interval: str, count: int, state: dict,
             pre_churn: bool) -> str | float | None:
        """An invoice and its payment attempts. Returns None (paid), days until recovery, or 'involuntary'."""
        rng = self.rng
        inv_id = f"in_{cust.n}_{len(self.invoices) + 1}"
        amount = self.price(state["plan"], interval, count, state["discount"]) * state["seats"]
        fails = rng.random() < (0.25 if pre_churn else 0.035)
        if not fails:
            self.invoices.append((inv_id, cust.n, sub_id, at, at + 14, cust.currency, amount, amount, "paid"))
            self.attempts.append((f"pa_{inv_id}_1", inv_id, cust.n, at + 0.002, "succeeded", None, amount))
            return None
        recovers = rng.random() < 0.75
        days = [0, 3, 7]
        recovery_day = rng.choice([1, 3, 5, 7, 9]) if recovers else None
        for k, d in enumerate(days):
            if recovery_day is not None and d >= recovery_day:
                break
            if at + d >= self.days:
                break
            self.attempts.append((f"pa_{inv_id}_{k + 1}", inv_id, cust.n, at + d + 0.002, "failed",
                                  rng.choice(FAILURE_CODES), amount))
        if recovery_day is not None and at + recovery_day < self.days:
            self.attempts.append((f"pa_{inv_id}_r", inv_id, cust.n, at + recovery_day, "succeeded", None, amount))
            self.invoices.append((inv_id, cust.n, sub_id, at, at + 14, cust.currency, amount, amount, "paid"))
            return float(recovery_day)
        status = "open" if at + 14 >= self.days else "uncollectible"
        self.invoices.append((inv_id, cust.n, sub_id, at, at + 14, cust.currency, amount, 0, status))
        return "involuntary" if not recovers else float(min(recovery_day, self.days - at))

    def ticket(self, cust: Customer, at: float, pre_churn: bool) -> None:
        rng = self.rng
        if at >= self.days:
            return
        priority = self.pick([("low", 0.3), ("normal", 0.5), ("high", 0.15), ("urgent", 0.05)] if not pre_churn
                             else [("low", 0.1), ("normal", 0.4), ("high", 0.3), ("urgent", 0.2)])
        # Support answers by priority (about nine in ten within the default targets), slower before a churn.
        mean_h = {"urgent": 0.1, "high": 0.42, "normal": 1.5, "low": 6.0}[priority] * (3 if pre_churn else 1)
        response_h = rng.expovariate(1 / mean_h)
        first_response = at + response_h / 24 if at + response_h / 24 < self.days else None
        resolved = (first_response + rng.expovariate(1 / 1.5)) if first_response is not None else None
        if resolved is not None and resolved >= self.days:
            resolved = None
        csat = None
        if resolved is not None and rng.random() < 0.7:
            mean = 2.8 if pre_churn else 4.3
            csat = max(1, min(5, int(round(rng.gauss(mean, 0.9)))))
        self.tickets.append((f"tkt_{len(self.tickets) + 1}", cust.n, at, priority, first_response, resolved, csat))

    # ----------------------------------------------------------------------------------- users and events
    def users(self) -> list[tuple]:
        """(user_n, customer_n, created day, active until day, activity, dropout day) per user."""
        rng = self.rng
        out = []
        user_n = 0
        for c in self.customers:
            n_users = min(25, max(1, c.max_seats))
            for k in range(n_users):
                user_n += 1
                created = c.signup if k == 0 else min(c.signup + rng.expovariate(1 / 45), c.end)
                activity = min(0.6, max(0.02, 0.2 + 0.07 * c.health + rng.gauss(0, 0.12) - (0.1 if k else 0)))
                dropout = created + rng.expovariate(1 / 400) if rng.random() < 0.3 else None
                out.append((user_n, c.n, created, c.end, activity, dropout))
        return out

    def events(self, users: list[tuple], events_per_active_day: float, chunk: int = 20000):
        """Yields numpy batches (user_n, customer_n, feature code, occurred_at µs since 2000-01-01)."""
        rng = self.np_rng
        # Per customer: the core features it adopts (healthier accounts adopt more).
        k_feat = np.zeros(self.n_customers + 1, dtype=np.int64)
        feat = np.zeros((self.n_customers + 1, len(CORE_FEATURES)), dtype=np.int16)
        health = np.array([0.0] + [c.health for c in self.customers])
        k_feat[1:] = rng.binomial(len(CORE_FEATURES), 1 / (1 + np.exp(-(0.2 + 0.9 * health[1:]))))
        k_feat = np.maximum(k_feat, 1)
        for cn in range(1, self.n_customers + 1):
            feat[cn] = rng.permutation(len(CORE_FEATURES)).astype(np.int16) + len(BASIC_EVENTS)
        churn_day = np.full(self.n_customers + 1, np.inf)
        for c in self.customers:
            if c.churn_days:
                churn_day[c.n] = c.churn_days[-1]  # drift ahead of the last voluntary cancellation
        start_offset_us = int((dt.datetime.combine(self.start_date, dt.time(), dt.UTC)
                               - PG_EPOCH).total_seconds() * 1e6)
        arr = np.array([(u, c, a, b, p, d if d is not None else np.inf) for u, c, a, b, p, d in users],
                       dtype=float).reshape(-1, 6)
        for lo in range(0, len(arr), chunk):
            block = arr[lo: lo + chunk]
            u, c, a, b, p, drop = (block[:, i] for i in range(6))
            b = np.minimum(b, drop)
            span = np.maximum(b - a, 0)
            n_cand = rng.poisson(p * span)
            uid = np.repeat(u, n_cand).astype(np.int64)
            cid = np.repeat(c, n_cand).astype(np.int64)
            day = np.floor(np.repeat(a, n_cand) + rng.random(n_cand.sum()) * np.repeat(span, n_cand))
            # Keep a candidate day with the weekday factor and the pre-churn decline.
            weekday = (day + self.start_date.weekday()) % 7
            keep = np.where(weekday >= 5, 0.35, 1.0)
            to_churn = churn_day[cid] - day
            decline = np.where((to_churn > 0) & (to_churn <= PRE_CHURN_DAYS),
                               0.12 + 0.88 * to_churn / PRE_CHURN_DAYS, 1.0)
            keep = keep * decline
            mask = rng.random(len(day)) < keep
            uid, cid, day, decline = uid[mask], cid[mask], day[mask], decline[mask]
            per_day = 1 + rng.poisson(max(events_per_active_day - 1, 0) * decline)
            uid, cid, day = np.repeat(uid, per_day), np.repeat(cid, per_day), np.repeat(day, per_day)
            decline = np.repeat(decline, per_day)
            # Event name: basic half the time, else one of the account's features (fewer when declining).
            usable = np.maximum(1, np.round(k_feat[cid] * np.where(decline < 1, 0.5 + 0.5 * decline, 1)))
            pick = np.floor(rng.random(len(cid)) * usable).astype(np.int64)
            code = np.where(rng.random(len(cid)) < 0.5, rng.integers(0, len(BASIC_EVENTS), len(cid)),
                            feat[cid, pick])
            seconds = rng.integers(6 * 3600, 22 * 3600, len(cid))  # office-ish hours, UTC
            occurred = start_offset_us + (day.astype(np.int64) * 86400 + seconds) * 1_000_000
            yield uid, cid, code.astype(np.int16), occurred

    def fx_rates(self) -> list[tuple]:
        rng = random.Random(self.rng.random())
        out = []
        for currency, rate in (("EUR", 1.08), ("GBP", 1.26)):
            for d in range(self.days + 1):
                rate *= math.exp(rng.gauss(0, 0.004))
                out.append((self.start_date + dt.timedelta(days=d), currency, f"{rate:.6f}"))
        return out

    def acquisition_spend(self) -> list[tuple]:
        """(month, channel, amount_cents, currency): each month's marketing spend, about 420.00 per signup split
        over three channels (events paid in EUR), drawn apart from the rest so it changes no other table."""
        rng = random.Random(f"spend:{self.seed}")
        signups: dict[dt.date, int] = {}
        for c in self.customers:
            month = (self.start_date + dt.timedelta(days=int(c.signup))).replace(day=1)
            signups[month] = signups.get(month, 0) + 1
        channels = (("ads", 0.55, "USD", 1.0), ("content", 0.25, "USD", 1.0), ("events", 0.20, "EUR", 1 / 1.08))
        return [(month, channel, round(n * 42000 * share * per_usd * rng.uniform(0.8, 1.2)), currency)
                for month, n in sorted(signups.items()) for channel, share, currency, per_usd in channels]
