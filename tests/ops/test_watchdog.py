"""ops_watchdog end to end: stale outputs, a missing or shrunken backup and an old drill alert once a day."""

from __future__ import annotations

import datetime as dt

from saas_ops.ops import watchdog
from tests.harness.dag_runs import pack_dag

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
LIMITS = watchdog.Limits(max_lag_hours=36, backup_max_age_hours=30, backup_min_bytes=1024, backup_max_shrink=0.5,
                         drill_max_age_days=8)


def test_watermark_age_counts_from_the_end_of_its_day():
    # mrr_daily complete through 2026-03-08: its day ended 2026-03-09 00:00, 33 h before NOW: fresh.
    # engagement_daily through 2026-03-07: 57 h old, over 36 h. churn_scores allows 200 h: fresh.
    rows = [("mrr_daily", "saas_mrr", dt.date(2026, 3, 8), None),
            ("engagement_daily", "saas_engagement", dt.date(2026, 3, 7), None),
            ("churn_models", "churn_train", dt.date(2026, 3, 2), 200)]
    problems = watchdog.stale_watermarks(rows, NOW, 36)
    assert [(p.key, p.message) for p in problems] == [
        ("stale:engagement_daily", "engagement_daily (built by saas_engagement) is complete only through "
                                   "2026-03-07: 57.0 h old, 36.0 h allowed")]


def test_backups_too_old_too_small_or_shrunk():
    good = [("b2", NOW - dt.timedelta(hours=5), 900_000), ("b1", NOW - dt.timedelta(hours=29), 1_000_000)]
    assert watchdog.backup_problems(good, NOW, LIMITS) == []
    shrunk = [("b2", NOW - dt.timedelta(hours=40), 400_000), ("b1", NOW - dt.timedelta(hours=64), 1_000_000)]
    assert [p.key for p in watchdog.backup_problems(shrunk, NOW, LIMITS)] == ["backup:old", "backup:shrank"]
    assert [p.key for p in watchdog.backup_problems([("b", NOW, 10)], NOW, LIMITS)] == ["backup:small"]
    assert [p.key for p in watchdog.backup_problems([], NOW, LIMITS)] == ["backup:none"]


def test_the_dag_alerts_once_per_day_for_the_same_problems(warehouse, receivers):
    warehouse.execute("DELETE FROM saas_ops.watermarks")
    warehouse.execute("DELETE FROM saas_ops.backups")
    warehouse.execute("DELETE FROM saas_ops.restore_drills")
    warehouse.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id = 'ops_watchdog'")
    warehouse.execute("INSERT INTO saas_ops.watermarks (output, dag_id, watermark_day) VALUES "
                      "('mrr_daily', 'saas_mrr', '2026-03-01')")
    warehouse.execute("INSERT INTO saas_ops.backups (backup_id, started_at, finished_at, bytes, status) VALUES "
                      "('bk-1', '2026-03-10 01:00Z', '2026-03-10 01:10Z', 5000000, 'succeeded')")
    warehouse.execute("INSERT INTO saas_ops.restore_drills (drill_id, backup_id, started_at, finished_at, status) "
                      "VALUES ('dr-1', 'bk-1', '2026-02-20 03:00Z', '2026-02-20 03:20Z', 'passed')")
    warehouse.commit()

    dag = pack_dag("ops_watchdog")
    first = dag.test(logical_date=NOW)
    second = dag.test(logical_date=NOW + dt.timedelta(hours=1))

    assert first.state == "success" and second.state == "success"
    texts = receivers["slack"].texts()
    assert len(texts) == 1, texts  # the second hour found the same problems: held
    assert texts[0].startswith(":red_circle: [P1] ops_watchdog: 2 freshness problem(s)")
    # mrr_daily through 2026-03-01 ended 2026-03-02 00:00: 201 h before 09:00 on 2026-03-10.
    assert "mrr_daily (built by saas_mrr) is complete only through 2026-03-01: 201.0 h old, 36.0 h allowed" in texts[0]
    assert "newest passed restore drill dr-1 finished 437.7 h ago, 192.0 h allowed" in texts[0]
    assert len(receivers["resend"].emails) == 1
