"""First-response targets (the SLA_POLICIES setting) and the Slack line naming the tickets of paying accounts
that are about to breach theirs or have breached it, each ticket once, highest MRR first."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

PRIORITIES = ("urgent", "high", "normal", "low")
_ENTRY = re.compile(r"(?:(?P<plan>[^:=]+):)?(?P<priority>[a-z]+)=(?P<amount>\d+(?:\.\d+)?)(?P<unit>s|m|h|d)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_LISTED = 25  # tickets named in one Slack message; the rest are counted


@dataclass(frozen=True)
class Policies:
    """First-response target in seconds per priority, and per (plan, priority) where a plan has its own."""

    targets: dict[str, int]
    plan_targets: dict[tuple[str, str], int]

    def target_s(self, priority: str, plan_id: str) -> int:
        return self.plan_targets.get((plan_id, priority), self.targets[priority])

    def params(self) -> dict[str, list[Any]]:
        """The policies as the SQL files take them: parallel arrays, plan null for a priority's own target."""
        rows = [(p, None, s) for p, s in self.targets.items()] + [(p, plan, s)
                                                                  for (plan, p), s in self.plan_targets.items()]
        return {"policy_priorities": [r[0] for r in rows], "policy_plans": [r[1] for r in rows],
                "policy_seconds": [r[2] for r in rows]}

    def longest_s(self) -> int:
        return max([*self.targets.values(), *self.plan_targets.values()])


def parse_policies(text: str) -> Policies:
    """'urgent=15m,high=1h,normal=4h,low=24h,enterprise:urgent=10m' -> Policies: a target for each priority,
    then any plan's own (`plan:priority=duration`); durations in s, m, h or d. A clear error otherwise."""
    targets: dict[str, int] = {}
    plan_targets: dict[tuple[str, str], int] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        match = _ENTRY.fullmatch(entry)
        if not match or match["priority"] not in PRIORITIES:
            raise ValueError(f"SLA_POLICIES entry {entry!r} is not priority=duration or plan:priority=duration "
                             f"(priority one of {', '.join(PRIORITIES)}; duration like 15m, 4h, 1d)")
        seconds = round(float(match["amount"]) * _UNIT_SECONDS[match["unit"]])
        if seconds <= 0:
            raise ValueError(f"SLA_POLICIES entry {entry!r}: a target must be longer than 0")
        if match["plan"] is None:
            targets[match["priority"]] = seconds
        else:
            plan_targets[(match["plan"].strip(), match["priority"])] = seconds
    missing = [p for p in PRIORITIES if p not in targets]
    if missing:
        raise ValueError(f"SLA_POLICIES has no target for {', '.join(missing)} (every priority needs one; a plan "
                         "may override it)")
    return Policies(targets, plan_targets)


def policies_from_settings() -> Policies:
    from saas_ops import config

    return parse_policies(config.setting("SLA_POLICIES"))


def _span(delta: dt.timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def alert_waiting_tickets(now: dt.datetime, *, dag_id: str, run_id: str) -> list[str]:
    """Names in one Slack line each ticket of a paying account still without a first response whose target
    passed in the last ALERT_LOOKBACK_DAYS days or passes within SLA_WARNING_MINUTES, unless an earlier alert
    named it; highest MRR first. Returns the tickets named."""
    from saas_ops import alerts, config, contract, db
    from saas_ops.incremental import ALERT_LOOKBACK_DAYS

    policies = policies_from_settings()
    warning = dt.timedelta(minutes=config.setting("SLA_WARNING_MINUTES"))
    lookback = dt.timedelta(days=ALERT_LOOKBACK_DAYS)
    source_schema, schema = config.schema_name("SOURCE_SCHEMA"), config.schema_name("OUTPUT_SCHEMA")
    with db.source() as src:
        absent = contract.check_source(src, source_schema)["absent_optional_columns"].get("support_tickets", [])
        if "first_response_at" in absent:
            print("support_tickets has no first_response_at column: no ticket is known to be answered, so no SLA "
                  "alert is sent")
            return []
        columns = contract.optional_columns({"support_tickets": absent})["support_tickets"]
        rows = db.fetch_sql_file(src, "support/extract_tickets.sql", {
            "quarantined_ticket_ids": [], "waiting_since": now - lookback - dt.timedelta(seconds=policies.longest_s())},
            schema=source_schema, **columns)
    waiting = []
    for ticket_id, customer_id, created_at, raw_priority, _, _, _, raw_plan in rows:
        # read as 20_checked_tickets.sql reads them; a ticket it leaves out is in data_quality_issues
        priority, plan_id = (raw_priority or "").strip().lower(), (raw_plan or "").strip() or "(none)"
        if priority not in PRIORITIES or customer_id is None or created_at > now:
            continue
        due = created_at + dt.timedelta(seconds=policies.target_s(priority, plan_id))
        if now - lookback <= due < now + warning:
            waiting.append((ticket_id, customer_id, created_at, priority, plan_id, due))
    if not waiting:
        print(f"no ticket of an account is past or within {_span(warning)} of its first-response target")
        return []
    with db.warehouse() as wh:
        mrr = dict(db.fetch_sql_file(wh, "support/current_mrr.sql",
                                     {"customer_ids": sorted({w[1] for w in waiting})}, schema=schema))
        paying = sorted((w for w in waiting if mrr.get(w[1], 0) > 0), key=lambda w: (-mrr[w[1]], w[5], w[0]))
        claimed = {row[0] for row in db.fetch_sql_file(wh, "support/claim_ticket_alerts.sql", {
            "ticket_ids": [w[0] for w in paying], "customer_ids": [w[1] for w in paying],
            "due_ats": [w[5] for w in paying], "run_id": run_id, "now": now},
            schema=schema)}
        new = [w for w in paying if w[0] in claimed]
        if not new:
            print(f"{len(paying)} waiting ticket(s) of paying accounts, all named by an earlier alert")
            return []
        names = contract.customer_names([w[1] for w in new[:MAX_LISTED]])
        currency = config.setting("REPORTING_CURRENCY")
        lines = [f"• {names.get(customer_id, customer_id)} ({alerts.money(mrr[customer_id], currency)} MRR, plan "
                 f"{plan_id}): {priority} ticket {ticket_id} opened {created_at:%Y-%m-%d %H:%M} UTC, "
                 + (f"breached {_span(now - due)} ago" if due <= now else f"breaches in {_span(due - now)}")
                 for ticket_id, customer_id, created_at, priority, plan_id, due in new[:MAX_LISTED]]
        if len(new) > MAX_LISTED:
            lines.append(f"• … and {len(new) - MAX_LISTED} more: SELECT * FROM {schema}.support_sla_alerts "
                         f"WHERE run_id = '{run_id}'")
        breached = sum(1 for w in new if w[5] <= now)
        alert = alerts.Alert(kind="business", severity="P2", dag_id=dag_id, run_id=f"{run_id}:sla",
                             title=f"{dag_id}: {len(new)} ticket(s) of paying accounts waiting for a first response "
                                   f"({breached} past the target, {len(new) - breached} about to be), highest "
                                   "MRR first", details=lines)
        if not alerts.dispatch(alert):
            wh.rollback()  # nothing went out: the next run names them again
            raise RuntimeError("the SLA alert reached no channel; its tickets stay unclaimed")
    print(alert.text())
    return [w[0] for w in new]
