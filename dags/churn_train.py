"""
### churn_train: a leak-free churn model that earns its place

Weekly, Sunday 04:00 UTC. Builds a point-in-time training set in SQL: for every account paying at weekly
observation dates over the last `CHURN_TRAINING_MONTHS` months, 26 signals computed only from data before
that date (MRR and its change, plan, seats, activity and its trend, core features, failed payments,
overdue invoices, tickets, CSAT, first-response time) and the label "MRR reaches 0 within
`CHURN_HORIZON_DAYS` days". It trains a gradient-boosted model and a logistic-regression baseline on the
earlier dates, calibrates them, and evaluates both (AUC, PR-AUC, lift in the top decile, Brier score,
calibration) on the latest `CHURN_EVAL_WEEKS` weeks, which it never trained on.

The new model becomes **champion** only when it beats the current champion on the same evaluation dates
by `CHURN_PROMOTION_MARGIN` AUC; otherwise it is kept as a **challenger** and the run says why. The
artifact and its model card go to `backup_storage` (S3, or the local folder); `saas_ops.churn_models`
holds its metrics, SHA-256 and the decision. A rerun for the same day reuses that day's model.
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts
from saas_ops.churn.training import train_churn_model
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule="0 4 * * 0", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P3", owner="data-science", tags=["churn"]))
def churn_train():
    [check_source_contract(), migrate_outputs()] >> train_churn_model() >> alerts.failure_backstop()


churn_train()
