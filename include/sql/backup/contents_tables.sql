-- The tables whose rows a backup vouches for: every ordinary table (partitions included, partitioned
-- parents excluded: their rows are their partitions') outside the system schemas.
SELECT n.nspname, c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')  -- extension-owned
ORDER BY 1, 2
