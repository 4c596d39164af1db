"""
### ops_watchdog: the alarm for silence

Hourly. Alerts (Slack and email, P1) when:

- an output's **watermark** (the last day it is complete through) is older than its DAG's schedule allows;
- the newest **good backup** is older than `BACKUP_MAX_AGE_HOURS`, smaller than `BACKUP_MIN_BYTES`, or
  shrank under `BACKUP_MAX_SHRINK` of the previous one;
- the newest **passed restore drill** is older than `DRILL_MAX_AGE_DAYS`.

Failure callbacks cannot report a run that never started or a worker that was killed; this DAG can.
The same set of problems alerts once per UTC day, not every hour. Tables: `saas_ops.watermarks`,
`saas_ops.backups`, `saas_ops.restore_drills`; what was sent: `saas_ops.alert_log`.
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts
from saas_ops.ops.watchdog import check_freshness
from saas_ops.tasks import migrate_outputs


@dag(schedule="@hourly", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P1", owner="data-platform", tags=["ops"], retries=1))
def ops_watchdog():
    migrate_outputs() >> check_freshness() >> alerts.failure_backstop()


ops_watchdog()
