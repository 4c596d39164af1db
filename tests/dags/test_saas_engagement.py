"""saas_engagement end to end with dag.test(): a scheduled run builds all history, reports bad events in one
Slack line, sends a DAU-drop alert once however often the run repeats, and publishes its asset."""

from __future__ import annotations

import datetime as dt

from tests.harness import scenarios
from tests.harness.builds import reset_engagement
from tests.harness.dag_runs import asset_events, carried_days, logical_date, pack_dag
from tests.harness.scenarios import utc


def test_daily_runs_a_dau_drop_alert_once_and_the_asset(databases, warehouse, receivers):
    """Five users active every day from 01-01 to 02-04; on 02-05 (a Thursday) only one: DAU 1 against a
    4-week Thursday mean of 5, below the default threshold of 60%."""
    warehouse.autocommit = True
    users = [(f"u{i}", "A", "2025-12-01") for i in range(1, 6)]
    events, n = [], 0
    day = dt.date(2026, 1, 1)
    while day <= dt.date(2026, 2, 5):
        for user_id, _, _ in users[: 1 if day == dt.date(2026, 2, 5) else 5]:
            n += 1
            events.append((f"e{n}", user_id, "A", "login", utc(day.isoformat(), 10)))
        day += dt.timedelta(days=1)
    events.append(("bad1", "nobody", "A", "login", utc("2026-01-15", 9)))
    scenarios.reset_source(databases["app"])
    scenarios.load_activity(databases["app"], ["A"], users, events)
    reset_engagement(warehouse)
    warehouse.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id = 'saas_engagement'")
    before = asset_events("saas_ops.engagement")

    # closes 02-04
    assert pack_dag("saas_engagement").test(logical_date=logical_date("2026-02-05", 2, 30)).state == "success"
    assert warehouse.execute("SELECT count(*), min(day), max(day) FROM saas_ops.engagement_daily").fetchone() == \
        (35, dt.date(2026, 1, 1), dt.date(2026, 2, 4))
    texts = receivers["slack"].texts()
    assert len(texts) == 1 and ("saas_engagement: 1 source row(s) broke the contract and were left out of "
                                "engagement (events 1)") in texts[0], texts
    assert asset_events("saas_ops.engagement") == before + 1
    assert carried_days("saas_ops.engagement")[-1] == "2026-02-04"  # the day churn_score, triggered, closes

    # closes 02-05
    assert pack_dag("saas_engagement").test(logical_date=logical_date("2026-02-06", 2, 30)).state == "success"
    texts = receivers["slack"].texts()
    assert len(texts) == 2, texts
    assert "saas_engagement: DAU 1 on 2026-02-05 (Thursday) is 20% of the same weekday's 4-week mean 5" in texts[1]
    assert warehouse.execute("SELECT dau, wau, mau FROM saas_ops.engagement_daily WHERE day = '2026-02-05'"
                             ).fetchone() == (1, 5, 5)

    # the same interval again
    assert pack_dag("saas_engagement").test(logical_date=logical_date("2026-02-06", 2, 30)).state == "success"
    assert len(receivers["slack"].texts()) == 2  # no second alert
    assert asset_events("saas_ops.engagement") == before + 3
    assert carried_days("saas_ops.engagement")[-2:] == ["2026-02-05", "2026-02-05"]
