-- One table's row count and content checksum: the sum of a 64-bit hash of each row, so it does not depend
-- on the rows' order on disk (a restore writes them in another). The row's values are hashed directly
-- when every column type can be (by_values, from contents_tables.sql), else the row's text. Both hash
-- functions are stable across PostgreSQL versions (hash partitioning relies on them).
SELECT count(*),
       coalesce(sum(CASE WHEN %(by_values)s THEN hash_record_extended(t, 0) ELSE hashtextextended(t::text, 0) END),
                0)::text
FROM {schema}.{table} t
