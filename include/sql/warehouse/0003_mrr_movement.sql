-- The SPEC's movement of one customer between two points of a series, in one place for the daily and the
-- monthly tables. `paid_before`: the customer had MRR at an earlier point of the same series.
-- A plain SQL expression, so PostgreSQL inlines it into the queries that call it.
CREATE FUNCTION {schema}.mrr_movement(previous_cents bigint, mrr_cents bigint, paid_before boolean)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN previous_cents = 0 AND mrr_cents > 0 THEN CASE WHEN paid_before THEN 'reactivation' ELSE 'new' END
        WHEN previous_cents > 0 AND mrr_cents = 0 THEN 'churn'
        WHEN mrr_cents > previous_cents THEN 'expansion'
        WHEN mrr_cents < previous_cents THEN 'contraction'
    END
$$;
