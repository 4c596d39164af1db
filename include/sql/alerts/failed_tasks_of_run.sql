-- How many tasks of a run have failed so far (the storm hold sends one message for many).
SELECT count(DISTINCT task_id) FROM {schema}.alert_log
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND kind = 'task_failure'
