-- Runs on saas_db. Does events have an index that starts with occurred_at (each run reads one window)?
SELECT EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = to_regclass(%(events_table)s) AND a.attname = 'occurred_at'
)
