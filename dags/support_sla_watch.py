"""
### support_sla_watch: tickets about to breach their first-response target, every 15 minutes

Reads the tickets of `support_tickets` still waiting for a first response and names in one Slack line each
ticket of a paying account whose target (`SLA_POLICIES`) passed in the last 7 days or passes within
`SLA_WARNING_MINUTES`, highest MRR first, each ticket once (recorded in `saas_ops.support_sla_alerts`; the daily
`saas_support` shares that record). A daily job alone would name an urgent ticket hours after its 15 minutes.
"""

import datetime as dt

import pendulum
from airflow.sdk import dag

from saas_ops import alerts
from saas_ops.support.metrics import waiting_ticket_alerts
from saas_ops.tasks import migrate_outputs


@dag(schedule="*/15 * * * *", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=1, doc_md=__doc__,
     **alerts.dag_policy(severity="P2", owner="support-ops", tags=["support"], retries=1,
                         execution_timeout=dt.timedelta(minutes=10)))
def support_sla_watch():
    migrate_outputs() >> waiting_ticket_alerts() >> alerts.failure_backstop()


support_sla_watch()
