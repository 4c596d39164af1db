"""
### saas_support: the support queue, first-response SLAs and CSAT, daily

Runs when `saas_mrr` has published its day (asset `saas_ops.mrr`: the accounts' MRR comes from it) and closes
that day. It reads every ticket of `support_tickets` (with the account's plan when each was opened), compares
them with what the last run read, and brings these tables (schema `saas_ops`) up to date in one transaction,
from the last watermark or from the first day a late or corrected ticket changes:

- `support_daily`: per day and priority (and `all`): tickets opened, first responded to, resolved; the backlog
  open at the day's end; first-response and resolution times (median, p90); CSAT mean and response rate;
- `support_sla_daily`: per day, priority and plan, the tickets whose first-response target (`SLA_POLICIES`:
  urgent 15 min, high 1 h, normal 4 h, low 24 h, and any plan's own) expired that day: met, breached
  (answered late or still unanswered), attainment;
- `support_account_daily`: per day, the accounts with open tickets or recent breaches, their last CSAT and MRR.

Then it checks the figures, moves the watermark, sends a Slack alert when a priority's attainment on a new day
fell below `SLA_ATTAINMENT_ALERT`, and names in one Slack line each ticket of a paying account past or near its
target (highest MRR first; each ticket once; `support_sla_watch` does the same every 15 minutes). Tickets that
break the contract are left out and listed in `saas_ops.data_quality_issues`. Trigger with **full_refresh** to
rebuild everything from the first ticket.
"""

import pendulum
from airflow.sdk import Param, dag

from saas_ops import alerts, assets
from saas_ops.support.metrics import attainment_alerts, build_support, check_support, waiting_ticket_alerts
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule=assets.MRR, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__,
     params={"full_refresh": Param(False, type="boolean", title="Full refresh",
                                   description="Rebuild every day from the first ticket instead of from the last "
                                               "watermark.")},
     **alerts.dag_policy(severity="P2", owner="support-ops", tags=["support"]))
def saas_support():
    summary = build_support()
    [check_source_contract(), migrate_outputs()] >> summary
    checked = check_support(summary)
    [attainment_alerts(checked), checked >> waiting_ticket_alerts()] >> alerts.failure_backstop()


saas_support()
