"""
### saas_engagement: activity, lifecycle, retention cohorts, feature adoption and account signals

Daily at 02:30 UTC; a run closes the day before its logical date. It reads only the window's `events`
from saas_db (from the last watermark; the first run reads all history) and brings these tables (schema
`saas_ops`) up to date in one transaction:

- `engagement_daily`: DAU, WAU, MAU, stickiness (DAU/MAU) and the lifecycle of the day's users (new,
  returning, resurrected) and of the dormant ones;
- `account_engagement_daily`: per account, active users and events over 7 and 30 days, core features used
  in 30 days, last activity and the 7-day/30-day trends (the churn model's signals);
- `feature_adoption`: per core feature (setting `CORE_FEATURES`), the accounts that used it in 30 days;
- `retention_cohorts`: users by signup month, and how many were active each month after.

Then it checks the figures' invariants, moves the watermark, publishes the `saas_ops.engagement` asset, and
alerts Slack when DAU fell below `DAU_DROP_ALERT` × the same weekday's 4-week mean. Events that break the
contract are left out and listed in `saas_ops.data_quality_issues`.

Every run also reads again the events of the `ENGAGEMENT_LATE_DAYS` (3) days before the day it closes, so
events that reach `saas_db` late by up to that many days are counted. For older late events, trigger with
**rebuild_from** (a day: everything from it is rebuilt), or with **full_refresh** to rebuild everything from
the first event.
"""


import pendulum
from airflow.sdk import Param, dag

from saas_ops import alerts
from saas_ops.engagement.metrics import build_engagement, check_engagement, engagement_alerts
from saas_ops.tasks import check_source_contract, migrate_outputs


@dag(schedule="30 2 * * *", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__,
     params={"full_refresh": Param(False, type="boolean", title="Full refresh",
                                   description="Rebuild every day from the first event instead of from the last "
                                               "watermark (reads the whole events table)."),
             "rebuild_from": Param(None, type=["null", "string"], format="date", title="Rebuild from",
                                   description="Rebuild every day from this one (YYYY-MM-DD), for events that "
                                               "arrived later than ENGAGEMENT_LATE_DAYS.")},
     **alerts.dag_policy(severity="P2", owner="data-platform", tags=["engagement"]))
def saas_engagement():
    summary = build_engagement()
    [check_source_contract(), migrate_outputs()] >> summary
    engagement_alerts(check_engagement(summary)) >> alerts.failure_backstop()


saas_engagement()
