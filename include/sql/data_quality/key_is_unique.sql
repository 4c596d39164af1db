-- Runs on saas_db. Whether the database itself keeps a source table's key unique (a unique index on exactly that
-- column of a table; a view has none): then no run needs to look for rows that share a key.
SELECT EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = to_regclass(%(table)s) AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL
      AND a.attname = %(column)s
)
