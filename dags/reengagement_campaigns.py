"""
### reengagement_campaigns: the right email to the right person, exactly once, through Resend

Runs when `churn_score` has published its day (asset `saas_ops.churn_scores`), for the day it closed.
`plan_emails` finds each switched-on campaign's audience (SQL in `include/sql/campaigns/`) and queues its
emails in `saas_ops.email_sends`: `failed_payment` (dunning on day 0, 3 and 7), `trial_ending` (week one,
the day before the last, the last day), `high_risk` (a check-in from the account owner), `win_back` (30 days
after churn), `inactive_90` / `_60` / `_30`, `low_adoption`. Opt-outs and the suppression list are recorded as
`suppressed`; a user gets at most one campaign email per `EMAIL_FREQUENCY_CAP_DAYS` (the first campaign in
`CAMPAIGNS` that applies), and a day at most `EMAIL_MAX_PER_RUN`.

`send_emails` sends them in batches of 100 with one-click unsubscribe headers; every email is recorded before
it is sent and marked with Resend's id after, so a rerun sends nothing twice. **Without a `resend_default`
key, or with `EMAIL_DRY_RUN`, nothing is sent**: emails are rendered to `<LOCAL_DIR>/outbox/emails/` and
marked `dry_run`. Then account owners get a Slack line for each check-in sent in their name.

Each campaign holds out `CAMPAIGN_HOLDOUT_SHARE` of its recipients (status `holdout`, never emailed), and
`measure_outcomes` writes `saas_ops.campaign_outcomes` once a cohort's window has closed, and logs each
campaign's lift over its holdout with a 95% interval.
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts, assets
from saas_ops.campaigns.tasks import campaign_alerts, measure_outcomes, plan_emails, send_emails
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule=assets.CHURN_SCORES, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=1, doc_md=__doc__, **alerts.dag_policy(severity="P2", owner="growth", tags=["campaigns"]))
def reengagement_campaigns():
    planned = plan_emails()
    [check_source_contract(), migrate_outputs()] >> planned
    sent = send_emails(planned)
    [campaign_alerts(sent), measure_outcomes(sent)] >> alerts.failure_backstop()


reengagement_campaigns()
