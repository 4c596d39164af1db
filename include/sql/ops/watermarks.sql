-- How far each output is complete, and how late it may be.
SELECT output, dag_id, watermark_day, max_lag_hours FROM {schema}.watermarks ORDER BY output
