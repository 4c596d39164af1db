"""
### db_restore_drill_monthly: restore the database as it was at a random moment of the window

Monthly (the 15th, 06:00 UTC), severity **P0**. The weekly `db_restore_drill` proves the newest backups; this one
proves the rest of the promise, that any moment of the last `PITR_WINDOW_DAYS` restores: it picks a moment at
random between the oldest base backup's end and the newest archived WAL (the same moment on every try of one run),
restores the base backup before it, replays WAL to it in a scratch server, and proves it by the marks (committed by
the moment: present; after: absent). RPO and RTO against the targets, in `saas_ops.restore_drills` like every
drill. To restore a moment of your choosing, trigger `db_restore_drill` with its form.
"""

import pendulum
from airflow.sdk import Param, dag

from saas_ops import alerts
from saas_ops.backups.drill import restore_drill
from saas_ops.tasks import migrate_outputs


@dag(schedule="0 6 15 * *", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P0", owner="data-platform", tags=["backup"], retries=1),
     params={"method": Param("physical", type="string", enum=["physical"], title="Method"),
             "target_time": Param("random", type="string", title="Restore to",
                                  description="random: a moment of the window; or ISO 8601 with a zone")})
def db_restore_drill_monthly():
    migrate_outputs() >> restore_drill() >> alerts.failure_backstop()


db_restore_drill_monthly()
