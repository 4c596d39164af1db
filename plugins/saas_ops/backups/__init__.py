"""Backups: pg tools, dump and manifest, retention, restore drills (DAGs db_backup, db_restore_drill)."""
