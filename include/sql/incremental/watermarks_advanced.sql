-- The outputs are complete through the day: their watermarks move there together.
INSERT INTO {schema}.watermarks (output, dag_id, watermark_day, run_id, updated_at)
SELECT output, %(dag_id)s, %(day)s, %(run_id)s, now() FROM unnest(%(outputs)s::text[]) AS output
ON CONFLICT (output) DO UPDATE SET dag_id = excluded.dag_id, watermark_day = excluded.watermark_day,
    run_id = excluded.run_id, updated_at = now()
