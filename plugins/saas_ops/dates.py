"""The one place that says which day a run closes (SPEC: a run closes the day before its logical date)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def day_closed(context: Any) -> dt.date:
    """The day a run brings its outputs up to: the UTC date of its logical date minus one day.

    A run without a logical date (asset-triggered) uses its ``run_after``. Never ``data_interval_start``:
    in Airflow 3 a cron schedule's data interval is a single instant.
    """
    when = context.get("logical_date") or context["dag_run"].run_after
    return when.astimezone(dt.UTC).date() - dt.timedelta(days=1)
