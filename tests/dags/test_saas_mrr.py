"""saas_mrr end to end with dag.test(): scheduled runs, a full refresh, the data-quality line, the revenue
alert sent once, the watermark and the asset that churn_score waits on."""

from __future__ import annotations

import datetime as dt

from tests.harness import scenarios
from tests.harness.builds import reset_revenue
from tests.harness.dag_runs import asset_events, logical_date, pack_dag
from tests.harness.revenue_by_hand import BAD_PERIODS, HAND_FX, HAND_PERIODS


def test_scheduled_runs_a_full_refresh_and_one_alert_per_day(databases, warehouse, receivers):
    warehouse.autocommit = True  # the test's reads must not hold locks while a full refresh truncates
    scenarios.reset_source(databases["app"])
    scenarios.load(databases["app"], HAND_PERIODS + BAD_PERIODS, HAND_FX)
    reset_revenue(warehouse)
    warehouse.execute("DELETE FROM saas_ops.alert_claims WHERE dag_id = 'saas_mrr'")
    warehouse.commit()
    events_before = asset_events("saas_ops.mrr")

    # First run (2026-02-01 02:00) closes 01-31 and builds all history.
    assert pack_dag("saas_mrr").test(logical_date=logical_date("2026-02-01", 2)).state == "success"
    assert warehouse.execute("SELECT day, mrr_cents, paying_customers FROM saas_ops.mrr_daily "
                             "ORDER BY day DESC LIMIT 1").fetchone() == (dt.date(2026, 1, 31), 68920, 10)
    texts = receivers["slack"].texts()
    assert len(texts) == 1 and texts[0].startswith(
        ":warning: [P2] saas_mrr: 7 source row(s) broke the contract and were left out of MRR "
        "(subscription_periods 7)"), texts
    (run_id,) = warehouse.execute("SELECT DISTINCT run_id FROM saas_ops.data_quality_issues").fetchone()
    assert f"See: SELECT * FROM saas_ops.data_quality_issues WHERE run_id = '{run_id}'" in texts[0]

    # Next run closes 02-03: I's cancellation takes 80.00 of 732.53 (10.9%), 224× January's daily churn mean. The
    # source did not change: its bad rows are not read, nor announced, again.
    assert pack_dag("saas_mrr").test(logical_date=logical_date("2026-02-04", 2)).state == "success"
    texts = receivers["slack"].texts()
    assert len(texts) == 2, texts
    alert = texts[1]
    assert alert.startswith(":chart_with_downwards_trend: [P2] saas_mrr: MRR fell 10.9% and churn 224.0× its "
                            "28-day mean on 2026-02-03")
    for line in ("• MRR 652.53 USD on 2026-02-03, -80.00 USD from the day before",
                 "• threshold: a fall of more than 3% in a day",
                 "• churned MRR 80.00 USD; 28-day mean 0.36 USD; threshold 3×",
                 "  – Account I (I): churn, -80.00 USD"):
        assert line in alert, alert
    assert warehouse.execute("SELECT watermark_day FROM saas_ops.watermarks WHERE output = 'mrr_monthly'"
                             ).fetchone() == (dt.date(2026, 2, 3),)

    # A full refresh by hand rebuilds the same rows, lists the 7 bad rows again for its run, and sends neither the
    # 02-03 alert nor the data-quality line again (no row is new).
    before = warehouse.execute("SELECT * FROM saas_ops.mrr_daily ORDER BY day").fetchall()
    assert pack_dag("saas_mrr").test(logical_date=logical_date("2026-02-04", 7),
                                     run_conf={"full_refresh": True}).state == "success"
    assert warehouse.execute("SELECT * FROM saas_ops.mrr_daily ORDER BY day").fetchall() == before
    assert warehouse.execute("SELECT count(DISTINCT run_id), count(*) FROM saas_ops.data_quality_issues"
                             ).fetchone() == (2, 14)
    assert len(receivers["slack"].texts()) == 2
    assert asset_events("saas_ops.mrr") - events_before == 3
