"""
### saas_mrr: MRR, its movements and the revenue summary

Daily at 02:00 UTC; a run closes the day before its logical date. It brings these tables (schema
`saas_ops`) up to date from the last watermark, in one transaction (the first run builds all history):

- `mrr_daily`: MRR, ARR, paying customers and the day's movements (new, expansion, contraction, churn,
  reactivation);
- `customer_mrr_monthly`: each customer's month-end MRR against the month before, and its movement;
- `mrr_monthly`: the month's MRR, ARR, ARPA, movements, net new MRR, logo churn, gross MRR churn, NRR, GRR;
- `customer_mrr_changes`: the accounts behind each day's movements.

Every run also finds what changed in `subscription_periods` and `fx_rates` since the figures were written,
anywhere in history (a late row, a retroactive end, a correction, a deletion, a late rate), and restates the
days and months it affects; a Slack line says which. Then it checks the bridge (start + new + reactivation +
expansion − contraction − churn = end) for every day and month it wrote, moves the watermark, publishes the
`saas_ops.mrr` asset, and alerts Slack when MRR fell more than `MRR_DROP_ALERT` in a day or churn spiked over
`CHURN_SPIKE_FACTOR` × its 28-day mean. Source rows that break the contract are left out and listed in
`saas_ops.data_quality_issues`.

Trigger with **full_refresh** to rebuild everything from the earliest subscription period. Lateness is
watched by `ops_watchdog` (the watermark), not by a DeadlineAlert: in Airflow 3.3.2 a DAG with one cannot be
run by `dag.test()` / `airflow dags test` (marking the run successful fails).
"""


import pendulum
from airflow.sdk import Param, dag

from saas_ops import alerts
from saas_ops.revenue.mrr import build_mrr, check_mrr_bridge, revenue_alerts
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule="0 2 * * *", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__,
     params={"full_refresh": Param(False, type="boolean", title="Full refresh",
                                   description="Rebuild every day from the earliest subscription period "
                                               "instead of from the last watermark.")},
     **alerts.dag_policy(severity="P2", owner="data-platform", tags=["revenue"]))
def saas_mrr():
    summary = build_mrr()
    [check_source_contract(), migrate_outputs()] >> summary
    revenue_alerts(check_mrr_bridge(summary)) >> alerts.failure_backstop()


saas_mrr()
