"""
### churn_train: a leak-free churn model that earns its place

Weekly, Sunday 04:00 UTC, and whenever churn_score's model-health check asks for it (asset
`saas_ops.churn_retrain_requested`, published only with `CHURN_AUTO_RETRAIN` on). Builds a point-in-time
training set in SQL: for every account paying at weekly observation dates over the last
`CHURN_TRAINING_MONTHS` months, 26 signals computed only from data before that date (MRR and its change,
plan, seats, activity and its trend, core features, failed payments, overdue invoices, tickets, CSAT,
first-response time) and the label "MRR reaches 0 within `CHURN_HORIZON_DAYS` days". Three kinds are
fitted on the earlier training dates and tuned on the later ones (the last fifth): gradient boosting (a
small grid of settings, each with early stopping on those dates), a logistic-regression baseline, and
their blend, each calibrated (sigmoid) there; the kind with the best AUC on the tuning dates is the
candidate. Every kind is then measured (AUC, PR-AUC, lift in the top decile, Brier score, calibration) on
the latest `CHURN_EVAL_WEEKS` weeks, which neither trained nor chose anything.

The new model becomes **champion** only when it beats the current champion on the same evaluation dates
by `CHURN_PROMOTION_MARGIN` AUC; otherwise it is kept as a **challenger** and the run says why. The
artifact and its model card go to `backup_storage` (S3, or the local folder); `saas_ops.churn_models`
holds its metrics, SHA-256 and the decision. A rerun for the same day reuses that day's model.
"""

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag

from saas_ops import alerts, assets
from saas_ops.churn.training import train_churn_model
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 4 * * 0", timezone="UTC"),
                                  assets=assets.CHURN_RETRAIN),
     start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P3", owner="data-science", tags=["churn"]))
def churn_train():
    [check_source_contract(), migrate_outputs()] >> train_churn_model() >> alerts.failure_backstop()


churn_train()
