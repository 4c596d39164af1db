-- Each index of the tables: its table's name, the statement that drops it and the one that recreates it (a primary
-- key or unique constraint as such, so that its name and ON CONFLICT keep working). format()'s percent sign is doubled.
SELECT t.relname,
       CASE WHEN c.conname IS NULL THEN format('DROP INDEX %%s', i.indexrelid::regclass)
            ELSE format('ALTER TABLE %%s DROP CONSTRAINT %%I', i.indrelid::regclass, c.conname) END,
       CASE WHEN c.conname IS NULL THEN pg_get_indexdef(i.indexrelid)
            ELSE format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', i.indrelid::regclass, c.conname,
                        pg_get_constraintdef(c.oid)) END
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')
WHERE i.indrelid = ANY (%(tables)s::regclass[])
ORDER BY i.indexrelid
