-- Gives a claim back when sending failed, so that a retry may send.
DELETE FROM {schema}.alert_claims WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND channel = %(channel)s
