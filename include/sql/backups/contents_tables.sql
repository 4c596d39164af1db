-- The tables whose rows a backup vouches for: every ordinary table (partitions included, partitioned
-- parents excluded: their rows are their partitions') outside the system schemas and extensions, and
-- whether each of its column types has a default hash operator class (then the checksum hashes the row's
-- values directly, faster than hashing its text; see table_checksum.sql).
SELECT n.nspname, c.relname,
       coalesce((SELECT bool_and(EXISTS (SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                                         WHERE am.amname = 'hash' AND oc.opcdefault AND oc.opcintype = a.atttypid))
                 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), true) AS by_values
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')  -- extension-owned
ORDER BY 1, 2
