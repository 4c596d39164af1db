"""The one place that says which day a run closes (SPEC: a run closes the day before its logical date), and the
day an asset's event carries to the runs it triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any

DAY_KEY = "day"  # in an asset event's extra: the day the producing run closed


def day_closed(context: Any) -> dt.date:
    """The day a run brings its outputs up to: the UTC date of its logical date minus one day.

    A run without a logical date (asset-triggered) closes the day its triggering events carry (each asset's
    newest, the earliest across assets), so an upstream run that finishes after midnight is not taken for the
    next day's; events without one (an asset event made by hand) fall back to its ``run_after``. Never
    ``data_interval_start``: in Airflow 3 a cron schedule's data interval is a single instant.
    """
    when = context.get("logical_date")
    if when is not None:
        return when.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    carried = day_carried(context.get("triggering_asset_events") or {})
    return carried or context["dag_run"].run_after.astimezone(dt.UTC).date() - dt.timedelta(days=1)


def day_carried(events: Any) -> dt.date | None:
    """The earliest across assets of each asset's newest carried day; None when no event carries one."""
    newest = []
    for asset in events:
        days = [dt.date.fromisoformat(e.extra[DAY_KEY]) for e in events[asset] if (e.extra or {}).get(DAY_KEY)]
        if days:
            newest.append(max(days))
    return min(newest, default=None)


def carry_day(context: Any, day: dt.date) -> None:
    """Puts the day this run closed on the event of every asset the task publishes, for the runs it triggers."""
    for asset in context["task"].outlets:
        context["outlet_events"][asset].extra = {DAY_KEY: day.isoformat()}
