"""A deterministic, believable B2B SaaS history in the source schema (`app`), loaded with COPY.

    python -m dev.demo_data --dsn postgresql://... [--customers 5000] [--months 24] [--seed 7]
                                 [--end 2026-11-23] [--events-per-active-day 1.3] [--schema app]

Same --seed, --customers, --months and --end give the same rows. What it simulates, per customer:

- signs up (more later in the history than early: the business grows), in one of three segments that set
  the plan mix and seats; pays in USD, EUR or GBP by country; 60% start with a 14-day trial, which converts
  or lapses;
- plans starter / growth / enterprise, billed monthly (most), quarterly (month × 3) or annually, priced per
  seat; 15% get a 20% discount for the first three months;
- month by month: seats grow or shrink, plans are upgraded or downgraded, payments fail (past_due) and
  mostly recover, some pause, some cancel; 20% of the churned come back months later (reactivation);
- a latent health drives churn, and in the 60 days before a voluntary cancellation the account drifts:
  fewer active users and events, fewer core features, seats dropped, more failed payments, more and
  more urgent tickets with worse CSAT. Churn is learnable from the signals but noisy, as in life;
- users (one per seat, up to 25), product events on active days (fewer at weekends), invoices and
  payment attempts per billing cycle, support tickets, and daily fx_rates for EUR and GBP;
- and the optional acquisition_spend: each month's marketing spend by channel, about 420.00 per signup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
import time
from typing import Any

import numpy as np

from dev.demo_simulation import (
    COMPANY_A,
    COMPANY_B,
    CUSTOMER_DIGITS,
    CUSTOMER_PREFIX,
    EVENT_DIGITS,
    EVENT_ID_PREFIX,
    EVENT_NAMES,
    FIRST,
    LAST,
    OWNERS,
    USER_DIGITS,
    USER_PREFIX,
    Customer,
    Simulation,
    customer_id,
    user_id,
)


def _copy_text(cur: Any, table: str, columns: list[str], rows: Any) -> int:
    """COPY rows (tuples; None -> NULL) into table in text format."""
    count = 0
    buf = io.StringIO()

    def cell(v: Any) -> str:  # the generator writes no tabs, newlines or backslashes: no escaping needed
        return "\\N" if v is None else str(v)

    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            buf.write("\t".join(cell(v) for v in row))
            buf.write("\n")
            count += 1
            if count % 50000 == 0:
                copy.write(buf.getvalue())
                buf.seek(0)
                buf.truncate()
        copy.write(buf.getvalue())
    return count


def _ascii_ids(prefix: bytes, numbers: np.ndarray, digits: int) -> np.ndarray:
    """Fixed-width ids such as b'usr_00000042' for a vector of numbers, without a Python loop."""
    out = np.empty((len(numbers), len(prefix) + digits), dtype=np.uint8)
    out[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    for k in range(digits):
        out[:, len(prefix) + digits - 1 - k] = 48 + (numbers // 10**k) % 10
    return out


def _copy_events_binary(cur: Any, table: str, batches: Any, first_event_n: int = 1) -> int:
    """Binary COPY of events straight from numpy: fixed-width ids and the event name make each row a
    fixed-size record per event name, so a batch becomes bytes without touching Python per row."""
    total = 0
    with cur.copy(f"COPY {table} (event_id, user_id, customer_id, event_name, occurred_at, properties) "
                  "FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00")
        for uid, cid, code, occurred in batches:
            event_n = np.arange(first_event_n + total, first_event_n + total + len(uid), dtype=np.int64)
            total += len(uid)
            for c, name in enumerate(EVENT_NAMES):
                sel = code == c
                if not sel.any():
                    continue
                name_b = name.encode()
                row = np.dtype([("n", ">i2"), ("l1", ">i4"), ("eid", "S" + str(len(EVENT_ID_PREFIX) + EVENT_DIGITS)),
                                ("l2", ">i4"), ("uid", "S" + str(len(USER_PREFIX) + USER_DIGITS)),
                                ("l3", ">i4"), ("cid", "S" + str(len(CUSTOMER_PREFIX) + CUSTOMER_DIGITS)),
                                ("l4", ">i4"), ("name", "S" + str(len(name_b))),
                                ("l5", ">i4"), ("at", ">i8"), ("l6", ">i4")])
                rows = np.empty(int(sel.sum()), dtype=row)
                rows["n"] = 6
                rows["l1"], rows["l2"], rows["l3"] = row["eid"].itemsize, row["uid"].itemsize, row["cid"].itemsize
                rows["l4"], rows["l5"], rows["l6"] = len(name_b), 8, -1  # properties: NULL
                rows["eid"] = _ascii_ids(EVENT_ID_PREFIX, event_n[sel], EVENT_DIGITS).view(row["eid"]).ravel()
                rows["uid"] = _ascii_ids(USER_PREFIX, uid[sel], USER_DIGITS).view(row["uid"]).ravel()
                rows["cid"] = _ascii_ids(CUSTOMER_PREFIX, cid[sel], CUSTOMER_DIGITS).view(row["cid"]).ravel()
                rows["name"] = name_b
                rows["at"] = occurred[sel]
                copy.write(rows.tobytes())
        copy.write(b"\xff\xff")
    return total


def account_owner(c: Customer) -> tuple[str | None, str | None]:
    """Mid-market and enterprise accounts have a named owner in customer success; SMB has none."""
    if c.segment == "smb":
        return None, None
    name, handle = OWNERS[c.n % len(OWNERS)]
    return name, f"{handle}@saas-ops.invalid"


def load(dsn: str, *, customers: int = 5000, months: int = 24, seed: int = 7, end: dt.date | None = None,
         events_per_active_day: float = 1.3, schema: str = "app", verbose: bool = True) -> dict[str, int]:
    """Replaces `schema` in the database at `dsn` with a generated history; returns row counts per table."""
    import psycopg

    from saas_ops.db import compose, read_sql

    end = end or dt.datetime.now(dt.UTC).date()
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if verbose:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", flush=True)

    sim = Simulation(customers, months, seed, end)
    sim.run()
    users = sim.users()
    say(f"simulated {customers:,} customers over {months} months ending {end}")
    ts = sim.ts
    counts: dict[str, int] = {}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(compose("DROP SCHEMA IF EXISTS {schema} CASCADE", schema=schema))
        cur.execute(compose(read_sql("contract/app_schema.sql"), schema=schema))
        q = f'"{schema}"'
        rng = random.Random(seed + 1)
        counts["customers"] = _copy_text(cur, f"{q}.customers", ["customer_id", "name", "created_at", "country",
                                         "segment", "account_owner_name", "account_owner_email"], (
            (customer_id(c.n), f"{COMPANY_A[c.n % len(COMPANY_A)]} {COMPANY_B[(c.n // 16) % len(COMPANY_B)]} {c.n}",
             ts(c.signup), c.country, c.segment, *account_owner(c)) for c in sim.customers))
        counts["users"] = _copy_text(cur, f"{q}.users", ["user_id", "customer_id", "email", "name", "created_at",
                                     "email_opt_out"], (
            (user_id(u), customer_id(c), f"user{u}@customer{c}.example", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
             ts(created), "t" if rng.random() < 0.05 else "f") for u, c, created, *_ in users))
        counts["subscription_periods"] = _copy_text(cur, f"{q}.subscription_periods", [
            "subscription_id", "customer_id", "plan_id", "status", "currency", "amount_cents", "quantity",
            "billing_interval", "interval_count", "valid_from", "valid_to", "trial_ends_at"], (
            (p.subscription_id, customer_id(c.n), p.plan, p.status, c.currency, p.amount_cents, p.quantity, p.interval,
             p.interval_count, ts(p.start), ts(p.end) if p.end is not None else None,
             ts(p.trial_ends_at) if p.trial_ends_at is not None else None)
            for c in sim.customers for p in c.periods))
        counts["invoices"] = _copy_text(cur, f"{q}.invoices", ["invoice_id", "customer_id", "subscription_id",
                                        "issued_at", "due_at", "currency", "amount_due_cents", "amount_paid_cents",
                                        "status"], (
            (i, customer_id(c), s, ts(at), ts(due), cur_, due_c, paid, st)
            for i, c, s, at, due, cur_, due_c, paid, st in sim.invoices))
        counts["payment_attempts"] = _copy_text(cur, f"{q}.payment_attempts", ["attempt_id", "invoice_id",
                                                "customer_id", "attempted_at", "status", "failure_code",
                                                "amount_cents"], (
            (a, i, customer_id(c), ts(at), st, code, amt) for a, i, c, at, st, code, amt in sim.attempts))
        counts["support_tickets"] = _copy_text(cur, f"{q}.support_tickets", ["ticket_id", "customer_id",
                                               "created_at", "priority", "first_response_at", "resolved_at",
                                               "csat"], (
            (t, customer_id(c), ts(at), pr, ts(fr) if fr is not None else None, ts(rs) if rs is not None else None, cs)
            for t, c, at, pr, fr, rs, cs in sim.tickets))
        counts["fx_rates"] = _copy_text(cur, f"{q}.fx_rates", ["rate_date", "currency", "rate_to_reporting"],
                                        sim.fx_rates())
        cur.execute(compose(read_sql("contract/app_acquisition_spend.sql"), schema=schema))
        counts["acquisition_spend"] = _copy_text(cur, f"{q}.acquisition_spend", ["month", "channel", "amount_cents",
                                                 "currency"], sim.acquisition_spend())
        say("loaded customers, users, subscriptions, invoices, payments, tickets, fx rates, acquisition spend")
        # Events: binary COPY straight into the table; its key and indexes are built once afterwards.
        # events_per_active_day 0 leaves them out (for work that needs none, such as MRR).
        cur.execute(compose("ALTER TABLE {schema}.events DROP CONSTRAINT events_pkey", schema=schema))
        counts["events"] = (_copy_events_binary(cur, f"{q}.events", sim.events(users, events_per_active_day))
                            if events_per_active_day > 0 else 0)
        say(f"loaded {counts['events']:,} events")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        cur.execute(compose("ALTER TABLE {schema}.events ADD PRIMARY KEY (event_id)", schema=schema))
        cur.execute(compose(read_sql("contract/app_indexes.sql"), schema=schema))
        say("built keys and indexes")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(compose("ANALYZE {schema}.events", schema=schema))
    say("done: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True, help="PostgreSQL to load (the schema is replaced)")
    parser.add_argument("--customers", type=int, default=5000, help="customers to simulate (100 to 1,000,000)")
    parser.add_argument("--months", type=int, default=24, help="months of history ending at --end")
    parser.add_argument("--seed", type=int, default=7, help="random seed: same seed, same rows")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=None,
                        help="last day of history (default today, UTC)")
    parser.add_argument("--events-per-active-day", type=float, default=1.3,
                        help="mean events per user on a day they are active (0: no events)")
    parser.add_argument("--schema", default="app", help="source schema to (re)create")
    args = parser.parse_args(argv)
    load(args.dsn, customers=args.customers, months=args.months, seed=args.seed, end=args.end,
         events_per_active_day=args.events_per_active_day, schema=args.schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
