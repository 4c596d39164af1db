-- The source rows a run leaves out, into data_quality_issues with their key and reason (a rerun of the same
-- Airflow run replaces its own report of those tables).
DELETE FROM {schema}.data_quality_issues
WHERE run_id = %(run_id)s AND dag_id = %(dag_id)s AND table_name = ANY(%(tables)s);
INSERT INTO {schema}.data_quality_issues (run_id, "check", row_key, dag_id, table_name, reason)
SELECT %(run_id)s, table_name || '_contract', row_key, %(dag_id)s, table_name, reason
FROM unnest(%(table_names)s::text[], %(row_keys)s::text[], %(reasons)s::text[]) i(table_name, row_key, reason)
ON CONFLICT DO NOTHING;
