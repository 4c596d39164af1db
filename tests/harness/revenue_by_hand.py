"""The revenue scenario worked out by hand: twelve accounts over January to March 2026, rows that break the
contract, and every figure saas_mrr must produce from them (tests/revenue/test_mrr.py, tests/dags/)."""

from __future__ import annotations

from decimal import Decimal

from tests.harness.scenarios import period

# Twelve accounts, Jan-Mar 2026, USD unless said. MRR per account (value at the end of each day):
HAND_PERIODS = [
    # A: annual plan, 1,200.00 a year from 01-10 -> 100.00 a month
    period("a", "A", 120000, "2026-01-10", interval="year"),
    # B: 3 seats x 29.00, then 5 seats from 10:00 on 02-15 (in force at the end of 02-15): 87.00 -> 145.00
    period("b", "B", 2900, "2026-01-01", "2026-02-15", quantity=3, to_hour=10),
    period("b", "B", 2900, "2026-02-15", quantity=5, from_hour=10),
    # C: quarterly, 20% discount already in the amount (237.00 x 0.8 = 189.60 a quarter) -> 63.20 from 01-20
    period("c", "C", 18960, "2026-01-20", interval_count=3),
    # D: a trial that converts on 01-19 -> 49.00
    period("d", "D", 4900, "2026-01-05", "2026-01-19", status="trialing"),
    period("d", "D", 4900, "2026-01-19"),
    # E: a trial that lapses: never any MRR
    period("e", "E", 4900, "2026-01-07", "2026-01-21", status="trialing"),
    # F: 50.00, paused 02-10 .. 03-10 (same subscription)
    period("f", "F", 5000, "2026-01-01", "2026-02-10"),
    period("f", "F", 5000, "2026-02-10", "2026-03-10", status="paused"),
    period("f", "F", 5000, "2026-03-10"),
    # G: past_due counts: 30.00 all along
    period("g", "G", 3000, "2026-01-01", "2026-02-05"),
    period("g", "G", 3000, "2026-02-05", "2026-02-12", status="past_due"),
    period("g", "G", 3000, "2026-02-12"),
    # H: upgrade and downgrade in one month: 100.00, 200.00 from 02-08, 150.00 from 02-20
    period("h", "H", 10000, "2026-01-01", "2026-02-08"),
    period("h", "H", 20000, "2026-02-08", "2026-02-20"),
    period("h", "H", 15000, "2026-02-20"),
    # I: cancels on 02-03, comes back with a new subscription on 03-15 at 90.00
    period("i1", "I", 8000, "2026-01-01", "2026-02-03"),
    period("i2", "I", 9000, "2026-03-15"),
    # J: two subscriptions: 20.00 monthly, plus 10.00 a week from 02-01 (x 52 / 12 = 43.333 -> 43.33)
    period("j1", "J", 2000, "2026-01-01"),
    period("j2", "J", 1000, "2026-02-01", interval="week"),
    # K: 100.00 EUR a month; EUR is 1.10 USD, then 1.20 from 02-10: 110.00 -> 120.00 USD
    period("k", "K", 10000, "2026-01-01", currency="EUR"),
    # L: 0.30 a year = 0.025 a month, rounded once, half away from zero -> 0.03 from 03-01
    period("l", "L", 30, "2026-03-01", interval="year"),
    # M: only mid-January (01-05 .. 01-25) and again from 03-05, 10.00: no MRR at any month end before March
    period("m1", "M", 1000, "2026-01-05", "2026-01-25"),
    period("m2", "M", 1000, "2026-03-05"),
]
HAND_FX = [("2025-12-01", "EUR", "1.10"), ("2026-02-10", "EUR", "1.20")]
# Rows that break the contract: reported, left out of MRR (customers X1..X6 never get any).
BAD_PERIODS = [
    period("x1", "X1", -500, "2026-01-03"),
    period("x2", "X2", 1000, "2026-01-03", interval="fortnight"),
    period("x3", "X3", 1000, "2026-01-03", status="canceled"),
    period("x4", "X4", 1000, "2026-01-15", "2026-01-10"),
    period("x5", "X5", 1000, "2026-01-01", "2026-02-01"),  # these two overlap on every day they cover
    period("x5", "X5", 1000, "2026-01-01", "2026-02-01", from_hour=12),
    period("x6", "X6", 1000, "2026-01-03", currency="JPY"),
]

# The day's movements, worked out from the table above: (new, expansion, contraction, churn, reactivation,
# change in paying customers). Every other day: none.
HAND_MOVEMENTS = {
    "2026-01-01": (47700, 0, 0, 0, 0, 7),   # B 87 + F 50 + G 30 + H 100 + I 80 + J 20 + K 110 (100 EUR x 1.10)
    "2026-01-05": (1000, 0, 0, 0, 0, 1),    # M
    "2026-01-10": (10000, 0, 0, 0, 0, 1),   # A
    "2026-01-19": (4900, 0, 0, 0, 0, 1),    # D converts
    "2026-01-20": (6320, 0, 0, 0, 0, 1),    # C
    "2026-01-25": (0, 0, 0, 1000, 0, -1),   # M leaves
    "2026-02-01": (0, 4333, 0, 0, 0, 0),    # J's second subscription
    "2026-02-03": (0, 0, 0, 8000, 0, -1),   # I cancels
    "2026-02-08": (0, 10000, 0, 0, 0, 0),   # H upgrades
    "2026-02-10": (0, 1000, 0, 5000, 0, -1),  # K: EUR 1.10 -> 1.20; F pauses
    "2026-02-15": (0, 5800, 0, 0, 0, 0),    # B adds 2 seats
    "2026-02-20": (0, 0, 5000, 0, 0, 0),    # H downgrades
    "2026-03-01": (3, 0, 0, 0, 0, 1),       # L
    "2026-03-05": (0, 0, 0, 0, 1000, 1),    # M is back (daily series: it paid in January)
    "2026-03-10": (0, 0, 0, 0, 5000, 1),    # F resumes
    "2026-03-15": (0, 0, 0, 0, 9000, 1),    # I is back
}
# Month ends: 01-31 68,920 (10 paying), 02-28 72,053 (8), 03-31 87,056 (12).
HAND_MONTHS = [
    # month, mrr, paying, arpa, new, expansion, contraction, churn, reactivation, net_new,
    # logo churn, gross MRR churn, nrr, grr
    ("2026-01-01", 68920, 10, 6892, 68920, 0, 0, 0, 0, 68920, None, None, None, None),
    # Feb: B +58, H +50, J +43.33, K +10 (rate); F and I churn; 2 of 10 logos; (80 + 50) / 689.20 lost;
    # NRR = what January's payers pay at the end of February: 720.53 / 689.20. ARPA 720.53 / 8 = 90.06625.
    ("2026-02-01", 72053, 8, 9007, 0, 16133, 0, 13000, 0, 3133,
     Decimal("0.200000"), Decimal("0.188624"), Decimal("1.045459"), Decimal("0.811376")),
    # Mar: L new, M new (no earlier month end with MRR), F and I reactivate. ARPA 870.56 / 12 = 72.5466.
    ("2026-03-01", 87056, 12, 7255, 1003, 0, 0, 0, 14000, 15003,
     Decimal("0.000000"), Decimal("0.000000"), Decimal("1.000000"), Decimal("1.000000")),
]
