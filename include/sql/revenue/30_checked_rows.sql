-- The contract checks (SPEC "Source tables") on the rows read: fx_rates and the changed customers'
-- subscription_periods. A row that breaks the contract is left out of MRR and listed in mrr_issues with its key
-- and reason (86_data_quality_issues.sql); the run goes on. A value the pack's arithmetic cannot add up is such
-- a row: at most 10^13 cents a month per period, and rates up to 10^5.

-- fx_rates: a usable rate per currency and day.
CREATE TEMP TABLE mrr_fx_checks ON COMMIT DROP AS
SELECT upper(f.currency) AS currency, f.rate_date, f.rate_to_reporting AS rate,
       CASE
           WHEN f.rate_date IS NULL THEN 'rate_date is null'
           WHEN f.currency IS NULL THEN 'currency is null'
           WHEN f.rate_to_reporting IS NULL OR f.rate_to_reporting <= 0
               THEN 'rate_to_reporting must be > 0, got ' || coalesce(f.rate_to_reporting::text, 'null')
           WHEN f.rate_to_reporting > 1e5
               THEN 'rate_to_reporting ' || f.rate_to_reporting || ' is beyond what the pack converts (at most 100000)'
           WHEN count(*) OVER (PARTITION BY upper(f.currency), f.rate_date) > 1
               THEN 'more than one rate for the same currency and day'
       END AS reason
FROM mrr_raw_fx f;

-- The first usable rate of each currency: a paying period in it counts from that day on.
CREATE TEMP TABLE mrr_new_first_rates ON COMMIT DROP AS
SELECT currency, min(rate_date) AS first_rate FROM mrr_fx_checks WHERE reason IS NULL GROUP BY currency;

-- subscription_periods, row by row: missing values, unknown codes, impossible or absurd numbers, a period that
-- ends before it starts.
CREATE TEMP TABLE mrr_period_checks ON COMMIT DROP AS
SELECT r.*, upper(r.currency) AS currency_code,
       CASE
           WHEN r.subscription_id IS NULL THEN 'subscription_id is null'
           WHEN r.customer_id IS NULL THEN 'customer_id is null'
           WHEN r.valid_from IS NULL THEN 'valid_from is null'
           WHEN r.status IS NULL OR r.status NOT IN ('trialing', 'active', 'past_due', 'paused')
               THEN 'unknown status ' || quote_nullable(r.status) || ' (expected trialing, active, past_due or paused)'
           WHEN r.billing_interval IS NULL OR r.billing_interval NOT IN ('day', 'week', 'month', 'year')
               THEN 'unknown billing_interval ' || quote_nullable(r.billing_interval)
                    || ' (expected day, week, month or year)'
           WHEN r.currency IS NULL THEN 'currency is null'
           WHEN r.amount_cents IS NULL THEN 'amount_cents is null'
           WHEN r.amount_cents < 0 THEN 'negative amount_cents ' || r.amount_cents
           WHEN r.quantity IS NULL OR r.quantity < 1 OR r.quantity <> trunc(r.quantity)
               THEN 'quantity must be a whole number >= 1, got ' || coalesce(r.quantity::text, 'null')
           WHEN r.interval_count IS NULL OR r.interval_count < 1 OR r.interval_count <> trunc(r.interval_count)
               THEN 'interval_count must be a whole number >= 1, got ' || coalesce(r.interval_count::text, 'null')
           WHEN r.amount_cents * r.quantity * CASE r.billing_interval WHEN 'week' THEN 52 WHEN 'day' THEN 365 ELSE 1 END
                / (r.interval_count * CASE r.billing_interval WHEN 'month' THEN 1 ELSE 12 END) > 1e13
               THEN 'amount_cents ' || r.amount_cents || ' x quantity ' || r.quantity
                    || ' is beyond what the pack adds up (at most 10^13 cents a month)'
           WHEN r.valid_to < r.valid_from
               THEN 'valid_to ' || to_char(r.valid_to, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' is before valid_from'
       END AS reason
FROM mrr_raw_periods r;

-- Periods of one subscription must not overlap. Both rows of an overlap are reported and left out on the days
-- both are in force (which one is right is for the billing system to say). Empty periods cannot overlap.
CREATE TEMP TABLE mrr_overlaps ON COMMIT DROP AS
SELECT row_n
FROM (
    SELECT row_n,
           max(coalesce(valid_to, 'infinity')) OVER (PARTITION BY customer_id, subscription_id ORDER BY valid_from, row_n
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > valid_from
           OR lead(valid_from) OVER (PARTITION BY customer_id, subscription_id ORDER BY valid_from, row_n)
               < coalesce(valid_to, 'infinity') AS is_overlap
    FROM mrr_period_checks
    WHERE reason IS NULL AND valid_to IS DISTINCT FROM valid_from
) o
WHERE is_overlap;
ALTER TABLE mrr_overlaps ADD PRIMARY KEY (row_n);

-- The rows left out (or left out on some days), keyed by subscription and start, or by currency and day.
CREATE TEMP TABLE mrr_issues ON COMMIT DROP AS
SELECT "check", 'subscription_periods' AS table_name,
       coalesce(subscription_id, 'null') || ' from '
           || coalesce(to_char(valid_from, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'null') AS row_key,
       reason
FROM (
    SELECT 'subscription_periods_contract' AS "check", subscription_id, valid_from, reason
    FROM mrr_period_checks WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'subscription_periods_overlap', c.subscription_id, c.valid_from,
           'overlaps another period of subscription ' || c.subscription_id
           || ' (left out on the days both are in force)'
    FROM mrr_period_checks c JOIN mrr_overlaps o USING (row_n)
    UNION ALL
    SELECT 'subscription_periods_fx_rate', c.subscription_id, c.valid_from,
           'no fx_rates rate for ' || c.currency_code || ' on or before ' || c.valid_from::date
           || ' (left out until ' || c.currency_code || ' has one)'
    FROM mrr_period_checks c
    LEFT JOIN mrr_new_first_rates f ON f.currency = c.currency_code
    WHERE c.reason IS NULL AND c.status IN ('active', 'past_due') AND c.amount_cents > 0
      AND c.currency_code <> %(reporting)s AND (f.first_rate IS NULL OR f.first_rate > c.valid_from::date)
) periods
UNION ALL
SELECT 'fx_rates_contract', 'fx_rates', coalesce(currency, 'null') || ' on ' || coalesce(rate_date::text, 'null'),
       reason
FROM mrr_fx_checks WHERE reason IS NOT NULL;
