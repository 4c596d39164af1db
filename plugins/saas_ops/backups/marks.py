"""The marks a point-in-time drill is proven by: rows written into saas_db's `saas_ops_pitr.marks` through a role
that can write nothing else, each with its commit time; and closing a WAL segment so that they are archived now."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from saas_ops.backups import archiving
from saas_ops.backups.pg_tools import BackupError


def write_mark(note: str) -> tuple[int, dt.datetime]:
    """A mark in saas_db, written through the marks role; returns its id and commit time."""
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        conn.execute(f"SET LOCAL ROLE {archiving.MARKS_ROLE}")
        mark_id = conn.execute("INSERT INTO saas_ops_pitr.marks (note) VALUES (%s) RETURNING mark_id",
                               (note,)).fetchone()[0]
        conn.commit()
        committed = conn.execute("SELECT pg_xact_commit_timestamp(xmin) FROM saas_ops_pitr.marks WHERE mark_id = %s",
                                 (mark_id,)).fetchone()[0]
    return mark_id, committed


def close_segment(timeout_s: float = 90) -> None:
    """Closes the current WAL segment and waits until every closed one is archived (and filed, in the local
    folder), so that what was committed until now can be restored without waiting for archive_timeout."""
    from saas_ops import db

    write_mark("closing a segment")  # pg_switch_wal does nothing when no WAL was written since the last switch
    with db.connect(db.SOURCE_CONN_ID, autocommit=True) as conn:
        conn.execute("SELECT pg_switch_wal()")
        deadline = time.monotonic() + timeout_s  # the archiver pauses a minute after failures in a row
        while conn.execute("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'").fetchone()[0]:
            if time.monotonic() > deadline:
                raise BackupError(f"the closed WAL segments were not archived within {timeout_s:.0f} s: "
                                  "see pg_stat_archiver and the server's log")
            time.sleep(0.2)
    archive = archiving.open_archive()
    if isinstance(archive, archiving.LocalArchive):
        archive.cron()


def archive_through(lsn: str) -> None:
    """Closes the WAL segment holding `lsn` when it is not archived yet, so that replay can reach it now rather
    than after archive_timeout."""
    from saas_ops import db

    with db.connect(db.SOURCE_CONN_ID) as conn:
        archived = conn.execute("SELECT coalesce(substr(last_archived_wal, 9) >= substr(pg_walfile_name(%s::pg_lsn "
                                "+ 1), 9), false) FROM pg_stat_archiver", (lsn,)).fetchone()[0]
    if not archived:
        close_segment()


def marks_committed(conn: Any) -> dict[int, dt.datetime]:
    """Every mark in `conn`'s database (saas_db, or a restore of it) with its commit time."""
    return dict(conn.execute("SELECT mark_id, pg_xact_commit_timestamp(xmin) FROM saas_ops_pitr.marks").fetchall())
