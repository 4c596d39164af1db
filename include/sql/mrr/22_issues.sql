-- The rows 20_checks.sql found breaking the contract, keyed by subscription and start (a period) or by
-- currency and day (a rate), for 25_report_issues.sql to write to data_quality_issues in the output
-- transaction. Run by the second session while the first computes the periods (21_periods.sql, see
-- mrr.build).
CREATE UNLOGGED TABLE {schema}.mrr_work_issues WITH (autovacuum_enabled = false) AS
WITH flagged AS (  -- one pass over the rows; a row can break more than one rule
    SELECT *
    FROM (SELECT subscription_id, valid_from, currency, reason,
                 row_n IN (SELECT row_n FROM {schema}.mrr_work_overlaps) AS in_overlap,
                 reason IS NULL AND status IN ('active', 'past_due') AND amount_cents > 0
                     AND counts_from IS DISTINCT FROM valid_from::date AS no_rate
          FROM {schema}.mrr_work_period_checks) c
    WHERE reason IS NOT NULL OR in_overlap OR no_rate
)
SELECT "check", 'subscription_periods' AS table_name,
       coalesce(subscription_id, 'null') || ' from '
           || coalesce(to_char(valid_from, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'null') AS row_key,
       reason
FROM (
    SELECT 'subscription_periods_contract' AS "check", subscription_id, valid_from, reason
    FROM flagged WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'subscription_periods_overlap', subscription_id, valid_from,
           'overlaps another period of subscription ' || subscription_id
           || ' (left out on the days both are in force)'
    FROM flagged WHERE in_overlap
    UNION ALL
    SELECT 'subscription_periods_fx_rate', subscription_id, valid_from,
           'no fx_rates rate for ' || upper(currency) || ' on or before ' || valid_from::date
           || ' (left out until ' || upper(currency) || ' has one)'
    FROM flagged WHERE no_rate
) periods
UNION ALL
SELECT 'fx_rates_contract', 'fx_rates',
       coalesce(upper(currency), 'null') || ' on ' || coalesce(rate_date::text, 'null'), reason
FROM {schema}.mrr_work_fx_checks WHERE reason IS NOT NULL;
