-- Every alert, in alert_log: what was sent, or held, and why.
INSERT INTO {schema}.alert_log (dag_id, run_id, task_id, try_number, kind, severity, summary)
VALUES (%(dag_id)s, %(run_id)s, %(task_id)s, %(try_number)s, %(kind)s, %(severity)s, %(summary)s)
RETURNING alert_id
