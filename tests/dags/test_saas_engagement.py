"""saas_engagement end to end with dag.test(): a scheduled run builds all history, reports bad events in one
Slack line, sends a DAU-drop alert once however often the run repeats, and publishes its asset."""

from __future__ import annotations

import datetime as dt

from tests import scenarios
from tests.conftest import REPO, load_dag
from tests.scenarios import utc
from tests.test_engagement import reset_warehouse


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(2, 30), dt.UTC)


def saas_engagement():
    return load_dag(REPO / "dags" / "saas_engagement.py", "saas_engagement")


def asset_events() -> int:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(select(func.count()).select_from(AssetEvent).join(
            AssetModel, AssetModel.id == AssetEvent.asset_id).where(AssetModel.name == "saas_ops.engagement"))


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
    reset_warehouse(warehouse)
    warehouse.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id = 'saas_engagement'")
    before = asset_events()

    assert saas_engagement().test(logical_date=at("2026-02-05")).state == "success"  # closes 02-04
    assert warehouse.execute("SELECT count(*), min(day), max(day) FROM saas_ops.engagement_daily").fetchone() == \
        (35, dt.date(2026, 1, 1), dt.date(2026, 2, 4))
    texts = receivers["slack"].texts()
    assert len(texts) == 1 and ("saas_engagement: 1 source row(s) broke the contract and were left out of "
                                "engagement (events 1)") in texts[0], texts
    assert asset_events() == before + 1

    assert saas_engagement().test(logical_date=at("2026-02-06")).state == "success"  # closes 02-05
    texts = receivers["slack"].texts()
    assert len(texts) == 2, texts
    assert "saas_engagement: DAU 1 on 2026-02-05 (Thursday) is 20% of the same weekday's 4-week mean 5" in texts[1]
    assert warehouse.execute("SELECT dau, wau, mau FROM saas_ops.engagement_daily WHERE day = '2026-02-05'"
                             ).fetchone() == (1, 5, 5)

    assert saas_engagement().test(logical_date=at("2026-02-06")).state == "success"  # the same interval again
    assert len(receivers["slack"].texts()) == 2  # no second alert
    assert asset_events() == before + 3
