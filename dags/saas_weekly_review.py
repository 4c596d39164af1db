"""
### saas_weekly_review: the week's figures to Slack and by email, Mondays

Every Monday at 07:00 UTC (after the night's DAGs) it reviews the ISO week that ended the day before, from the
pack's outputs: MRR and its movements, NRR/GRR, logo churn, quick ratio and LTV of the last whole month; DAU,
WAU, MAU and stickiness; the accounts in and entering the high churn-risk band and the MRR at risk; the week's
campaign emails and the campaigns' measured effects; tickets, backlog, first-response SLA attainment and CSAT;
backups and restore drills. A short message goes to Slack and the whole review, as an HTML email with a text
part, to `REVIEW_EMAILS` (Resend, else SMTP, else the outbox folder), with a link to the SaaS Ops page
(`OPS_PAGE_URL`). Each week is sent once (`saas_ops.weekly_reviews`): a rerun, or a run triggered by hand later
that week, sends nothing. A figure whose DAG has not built the week reads n/a, and the review says which DAG is
behind.
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts
from saas_ops.ops.weekly_review import send_weekly_review
from saas_ops.tasks import migrate_outputs


@dag(schedule="0 7 * * 1", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P3", owner="data-platform", tags=["review"]))
def saas_weekly_review():
    migrate_outputs() >> send_weekly_review() >> alerts.failure_backstop()


saas_weekly_review()
