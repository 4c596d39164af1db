"""The campaign nights before the demo's night, and what the simulated customers did about the emails.

`make demo` runs every DAG for one night, but a campaign's result needs cohorts whose window (14 days) has
closed. So after saas_engagement's first build the demo plans and renders (dry run) the campaigns of the
HISTORY_NIGHTS nights before its own, with the pack's code (`audiences.plan`, `send.send_pending`), as the
nightly runs would have. Then it models a true effect of the emails: a treatment-arm recipient of a campaign
in EMAIL_EFFECTS comes back, with that extra chance, on a day in the week after the email (one event: `login`,
or for low_adoption a core feature the account had not used); held-out recipients get nothing, so the measured
lift is about the chance times the share that would not have come back anyway. These events arrive late (they
happened weeks ago), so saas_engagement runs again with `rebuild_from` the first night, and the night's
measure_outcomes measures every closed cohort.
No effect is modelled for failed_payment and trial_ending (their results should show none); high_risk has no
history (no churn scores before the demo's night).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

HISTORY_NIGHTS = 42
# campaign -> variant -> the extra chance that a treated recipient comes back within a week of the email.
EMAIL_EFFECTS = {
    "inactive_30": {"default": 0.12, "short": 0.20},
    "inactive_60": {"default": 0.08},
    "inactive_90": {"default": 0.05},
    "win_back": {"default": 0.05},
    "low_adoption": {"default": 0.15},
}
DEMO_VARIANTS = "inactive_30:short=0.5"  # CAMPAIGN_VARIANTS in the demo: half of inactive_30's emails are short


def first_night(last_day: dt.date) -> dt.date:
    return last_day - dt.timedelta(days=HISTORY_NIGHTS)


def plan_past_nights(last_day: dt.date, say: Any = print) -> dict[str, int]:
    """Plans and renders the campaigns of the HISTORY_NIGHTS nights before `last_day`, one night after the
    other (caps and keys see the nights before); returns the emails assigned an arm, by arm."""
    from saas_ops.campaigns import send
    from saas_ops.campaigns.audiences import plan, settings_from_config

    campaigns, settings = settings_from_config()
    outbox = send.outbox_from_settings()
    arms: dict[str, int] = {}
    for nights_before in range(HISTORY_NIGHTS, 0, -1):
        day = last_day - dt.timedelta(days=nights_before)
        result = plan(day, run_id=f"demo_history__{day}", schema=outbox.schema, source_schema=outbox.source_schema,
                      campaigns=campaigns, settings=settings)
        send.send_pending(day, outbox)
        for by_status in result["rows"].values():
            for status, count in by_status.items():
                arm = "holdout" if status == "holdout" else None if status == "suppressed" else "treatment"
                if arm:
                    arms[arm] = arms.get(arm, 0) + count
    say(f"planned and rendered the campaigns of {HISTORY_NIGHTS} nights ({first_night(last_day)} .. "
        f"{last_day - dt.timedelta(days=1)}): {arms.get('treatment', 0):,} emails, {arms.get('holdout', 0):,} "
        "held out")
    return arms


def chance(seed: int, key: str) -> float:
    """A stable uniform number in [0, 1) for a recipient's row: the same demo gives the same responses."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64


def responses(wh: Any, schema: str, last_day: dt.date, seed: int, features: list[str]) -> dict[str, tuple]:
    """Per email_sends key of a treated recipient who came back because of the email (up to `last_day`), the
    event: (event_id, user_id, customer_id, event_name, occurred_at)."""
    rows = wh.execute(
        f"SELECT s.idempotency_key, s.campaign, s.variant, s.day, s.user_id, s.customer_id, "
        f"(SELECT f FROM unnest(%(features)s::text[]) WITH ORDINALITY AS core(f, n) "
        f" WHERE NOT EXISTS (SELECT 1 FROM {schema}.account_feature_daily a WHERE a.customer_id = s.customer_id "
        f"   AND a.feature = core.f AND a.day > s.day - 30 AND a.day <= s.day) ORDER BY core.n LIMIT 1) "
        f"FROM {schema}.email_sends s WHERE s.arm = 'treatment' AND s.campaign = ANY(%(campaigns)s) "
        f"AND s.day BETWEEN %(first)s AND %(last)s ORDER BY s.idempotency_key",
        {"features": features, "campaigns": list(EMAIL_EFFECTS), "first": first_night(last_day),
         "last": last_day - dt.timedelta(days=1)}).fetchall()
    events = {}
    for key, campaign, variant, day, user_id, customer_id, unused_feature in rows:
        u = chance(seed, key)
        if u >= EMAIL_EFFECTS[campaign].get(variant, 0.0):
            continue
        came_back = day + dt.timedelta(days=1 + int(chance(seed + 1, key) * 7))  # the send day or the six after
        if came_back > last_day:
            continue  # not yet happened on the demo's night
        name = unused_feature if campaign == "low_adoption" and unused_feature else "login"
        at = dt.datetime.combine(came_back, dt.time(9), dt.UTC) + dt.timedelta(minutes=int(u * 1e6) % 600)
        events[key] = (f"evt_email_{hashlib.sha256(key.encode()).hexdigest()[:16]}", user_id, customer_id, name, at)
    return events


def add_responses(app: str, warehouse: str, last_day: dt.date, seed: int, say: Any = print) -> int:
    """Writes the modelled responses into saas_db's events (arriving late, as real events do)."""
    import psycopg

    from saas_ops import config

    schema, source_schema = config.schema_name("OUTPUT_SCHEMA"), config.schema_name("SOURCE_SCHEMA")
    with psycopg.connect(warehouse) as wh:
        events = responses(wh, schema, last_day, seed, config.core_features())
    with psycopg.connect(app) as src, src.cursor() as cur:
        with cur.copy(f"COPY {source_schema}.events (event_id, user_id, customer_id, event_name, occurred_at) "
                      "FROM STDIN") as copy:
            for event in events.values():
                copy.write_row(event)
    say(f"modelled the emails' effect: {len(events):,} treated recipients came back (events arriving late)")
    return len(events)
