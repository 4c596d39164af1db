"""
### churn_score: every paying account's churn risk, health and drivers, daily

Runs when both `saas_mrr` and `saas_engagement` have published their day (assets `saas_ops.mrr` and
`saas_ops.engagement`), and scores the day they closed with the champion model from `churn_train`:
every account paying at the end of that day gets a churn probability, a risk band (`high` / `medium` /
`low`, thresholds from the champion's evaluation), a health score 0-100 (the share of accounts that were
riskier), and its three top drivers in words ("no activity for 12 days"). Rows go to
`saas_ops.churn_scores`, replacing that day's rows.

Then one Slack digest lists the accounts that entered the high band, by MRR at risk, and the model-health
check writes `saas_ops.churn_model_health`: the realised AUC, lift and calibration of the scores made
`CHURN_HORIZON_DAYS` ago (their outcome is now known) with 7- and 30-day trends, and the drift (PSI) of every
signal and of the score since the champion was trained. A new problem (realised AUC under
`CHURN_MIN_REALISED_AUC`, PSI over `CHURN_PSI_ALERT` for a top signal or the score) sends one Slack alert (P2)
recommending a retrain; with `CHURN_AUTO_RETRAIN` on, it also publishes the asset
`saas_ops.churn_retrain_requested`, which runs `churn_train`. With no champion yet
the scoring task scores nothing and says so (trigger `churn_train` first), but still publishes the day, so
`reengagement_campaigns` runs without its `high_risk` campaign.
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts, assets
from saas_ops.churn.health import check_model_health, request_retrain, retrain_wanted
from saas_ops.churn.scoring import churn_risk_alerts, score_churn
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule=assets.MRR & assets.ENGAGEMENT, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=1, doc_md=__doc__, **alerts.dag_policy(severity="P2", owner="data-science", tags=["churn"]))
def churn_score():
    scores = score_churn()
    [check_source_contract(), migrate_outputs()] >> scores
    health = check_model_health(scores)
    retrain_wanted(health) >> request_retrain()
    [churn_risk_alerts(scores), health] >> alerts.failure_backstop()


churn_score()
