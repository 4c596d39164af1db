-- The objects a restore must bring back: ('sequences', name, last value), ('indexes', name, null) and
-- ('constraints', table.name, null), outside the system schemas and extensions.
SELECT 'sequences', schemaname || '.' || sequencename, last_value::text
FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'indexes', schemaname || '.' || indexname, NULL
FROM pg_indexes
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg\_%'
UNION ALL
SELECT 'constraints', n.nspname || '.' || c.relname || '.' || k.conname, NULL
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1, 2
