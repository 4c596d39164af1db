-- One table's row count and content checksum: the sum of a 64-bit hash of each row's text, so it does not
-- depend on the rows' order on disk (a restore writes them in another). hashtextextended is stable across
-- PostgreSQL versions (hash partitioning relies on it).
SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text
FROM {schema}.{table} t
