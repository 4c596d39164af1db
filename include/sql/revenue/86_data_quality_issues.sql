-- The source rows this run read that break the contract (30_checked_rows.sql), into data_quality_issues with
-- their key and reason. A rerun of the same Airflow run replaces its own report.
DELETE FROM {schema}.data_quality_issues
WHERE run_id = %(run_id)s AND dag_id = %(dag_id)s AND table_name IN ('subscription_periods', 'fx_rates', 'acquisition_spend');
INSERT INTO {schema}.data_quality_issues (run_id, "check", row_key, dag_id, table_name, reason)
SELECT %(run_id)s, "check", row_key, %(dag_id)s, table_name, reason
FROM mrr_issues
ON CONFLICT DO NOTHING;
