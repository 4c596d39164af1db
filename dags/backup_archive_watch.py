"""
### backup_archive_watch: how much of saas_db one would lose now

Every 15 minutes, severity **P1** (P0 past twice the target). Writes a mark into `saas_ops_pitr.marks` in saas_db
(through a role that can write nothing else: the point-in-time drills prove restores by them), files the WAL the
local Barman server received, and measures the **RPO**: how old the newest archived WAL is when WAL was written
since (`pg_stat_archiver`), the WAL the source keeps for the archive or a replication slot, and Barman's own check.
Writes `saas_ops.backup_rpo` and alerts when the RPO is over `RPO_TARGET_MINUTES` (60), the archive command fails,
the archive cannot be read, or kept WAL passes `WAL_RETAINED_MAX_MB`.
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts
from saas_ops.backups.rpo import watch_archive
from saas_ops.tasks import migrate_outputs


@dag(schedule="*/15 * * * *", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P1", owner="data-platform", tags=["backup"], retries=1))
def backup_archive_watch():
    migrate_outputs() >> watch_archive() >> alerts.failure_backstop()


backup_archive_watch()
