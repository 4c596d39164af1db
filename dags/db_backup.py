"""
### db_backup: a nightly dump of saas_db that a drill can prove

Nightly, 01:00 UTC, severity **P0**. `pg_dump` of `saas_db` (custom format, `-Z1`; directory format with
parallel jobs through `BACKUP_FORMAT`) by the pg_dump of the server's own major version, streamed into
`backup_storage` (S3 with server-side encryption and an upload checksum, or the local folder
`<LOCAL_DIR>/storage`) with its SHA-256 computed on the way.

In the same snapshot as the dump it records every table's row count and content checksum, the sequences,
indexes and constraints: the **manifest**, stored beside the dump (`backups/<backup_id>/manifest.json`)
and in `saas_ops.backups`. A backup that failed says why in `backups.error` and leaves nothing in storage.

Then `check_backup` alerts (without failing) when the backup is much smaller than the previous one or a
table lost most of its rows, and retention (`BACKUP_KEEP_DAILY` / `_WEEKLY` / `_MONTHLY`, 7/4/12) deletes
old backups, but never before a newer backup has passed a restore drill (`db_restore_drill`).

Beside the dump, `base_backup` takes a **Barman base backup** (daily: `BASE_BACKUP_EVERY_DAYS`) when continuous
archiving is set up: with the archived WAL it restores to any moment after it (`backup_archive_watch`, README).
"""

import pendulum
from airflow.sdk import dag

from saas_ops import alerts
from saas_ops.backups.base_backups import base_backup
from saas_ops.backups.dump import apply_backup_retention, backup_database, check_backup
from saas_ops.tasks import migrate_outputs


@dag(schedule="0 1 * * *", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, max_active_runs=1,
     doc_md=__doc__, **alerts.dag_policy(severity="P0", owner="data-platform", tags=["backup"], retries=1))
def db_backup():
    backup = backup_database()
    migrations = migrate_outputs()
    migrations >> backup
    retention = check_backup(backup) >> apply_backup_retention()
    [retention, migrations >> base_backup()] >> alerts.failure_backstop()


db_backup()
