"""Marks around a moment, and the physical drills' rows: what the point-in-time tests prove restores by."""

from __future__ import annotations

import datetime as dt
import time

from saas_ops.backups import marks


def marks_around(label: str) -> tuple[int, dt.datetime, int]:
    """Two marks with a moment between them, each over a second away: (first, moment, second)."""
    first, _ = marks.write_mark(f"{label} first")
    time.sleep(1.2)
    moment = dt.datetime.now(dt.UTC)
    time.sleep(1.2)
    second, _ = marks.write_mark(f"{label} second")
    return first, moment, second


def drills(warehouse):
    return {r[0]: r for r in warehouse.execute(
        "SELECT drill_id, status, method, target_time, rpo_seconds, rto_seconds, kept_at, checks, error "
        "FROM saas_ops.restore_drills WHERE method = 'physical'").fetchall()}
