"""
### db_restore_drill: prove that a backup restores

Weekly (Saturday 05:00 UTC), and by hand: **Trigger DAG** shows a form. Severity **P0**.

With the method blank (as on the schedule) it drills the newest dump *and* the newest base backup, each the way
below; `db_restore_drill_monthly` restores a random moment of the window.

**Physical** (once `db_backup` took a base backup): the newest base backup before `target_time` is
restored by Barman into a scratch folder, WAL is replayed to the target in a scratch server on 127.0.0.1, and the
marks prove it (committed by the target: present; after: absent). RPO = target − the newest restored commit, RTO =
restore + replay, against `RTO_TARGET_MINUTES`. `keep_restored` leaves it running; `stop` stops it.

**Logical**:

1. Picks the backup (`latest` good one by default, or a `backup_id` from `saas_ops.backups`).
2. Reads its manifest from storage and checks it against the `backups` row; downloads the dump and checks
   its size and SHA-256 **before** restoring (a flipped byte in a dump can restore without an error).
3. `pg_restore` (parallel) into a fresh scratch database on `restore_target` (a connection; without it,
   the server of `saas_db`). The restoring role needs CREATEDB there.
4. Proves it: every table present with the manifest's row count and content checksum, sequences' last
   values, every index and constraint.
5. Writes `saas_ops.restore_drills` (each check with expected and actual, RTO = download + restore, RPO =
   the backup's age), drops the scratch database unless `keep_database`, and posts a Slack summary. A
   failed check fails the task at once: a P0 alert. Errors on the way (storage unreachable) are retried.
"""

import pendulum
from airflow.sdk import Param, dag

from saas_ops import alerts
from saas_ops.backups.drill import restore_drill
from saas_ops.tasks import migrate_outputs


@dag(schedule="0 5 * * 6", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P0", owner="data-platform", tags=["backup"], retries=1),
     params={
         "backup_id": Param("latest", type="string", title="Backup",
                            description="backup_id from saas_ops.backups, or latest for the newest good backup"),
         "target_conn_id": Param("restore_target", type="string", title="Restore into",
                                 description="Airflow connection of the server to restore into; when it does not "
                                             "exist, the server of saas_db"),
         "method": Param("", type="string", enum=["", "physical", "logical"], title="Method",
                         description="physical: a base backup and WAL replayed to the target time in a scratch "
                                     "server; logical: a dump into a scratch database; blank: the newest of each "
                                     "kind there is (a target_time: physical)"),
         "target_time": Param("", type="string", title="Restore to (physical)",
                              description="ISO 8601 with a zone, e.g. 2026-12-07T16:59:00+00:00 (just before a bad "
                                          "statement); random: a moment of the window; blank: the newest backup, "
                                          "to its manifest's WAL position (every table's checksum proven) or its end"),
         "keep_restored": Param(False, type="boolean", title="Keep the restored server (physical)",
                                description="leave it running on 127.0.0.1 after it is proven, its port in the log "
                                            "and on the SaaS Ops page, to read lost rows back"),
         "stop": Param(False, type="boolean", title="Stop kept restores",
                       description="only stop the restored servers earlier drills kept, and remove their files"),
         "keep_database": Param(False, type="boolean", title="Keep the scratch database",
                                description="leave the restored database in place to inspect it (drop it yourself "
                                            "afterwards); by default it is dropped, even when a check fails"),
     })
def db_restore_drill():
    migrate_outputs() >> restore_drill() >> alerts.failure_backstop()


db_restore_drill()
