"""
### churn_score: every paying account's churn risk, health and drivers, daily

Runs when both `saas_mrr` and `saas_engagement` have published their day (assets `saas_ops.mrr` and
`saas_ops.engagement`), and scores the day they closed with the champion model from `churn_train`:
every account paying at the end of that day gets a churn probability, a risk band (`high` / `medium` /
`low`, thresholds from the champion's evaluation), a health score 0-100 (the share of accounts that were
riskier), and its three top drivers in words ("no activity for 12 days"). Rows go to
`saas_ops.churn_scores`, replacing that day's rows.

Then one Slack digest lists the accounts that entered the high band, by MRR at risk. With no champion yet
the scoring task scores nothing and says so (trigger `churn_train` first), but still publishes the day, so
`reengagement_campaigns` runs without its `high_risk` campaign.
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts, assets
from saas_ops.churn.scoring import churn_risk_alerts, score_churn
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule=assets.MRR & assets.ENGAGEMENT, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=1, doc_md=__doc__, **alerts.dag_policy(severity="P2", owner="data-science", tags=["churn"]))
def churn_score():
    scores = score_churn()
    [check_source_contract(), migrate_outputs()] >> scores
    churn_risk_alerts(scores) >> alerts.failure_backstop()


churn_score()
