-- Contract checks on the rows read (SPEC "Source tables"). A row that breaks the contract is left out of MRR
-- and reported (22_issues.sql, 25_report_issues.sql) with its key and reason; the run goes on. What later
-- steps read goes into unlogged work tables {schema}.mrr_work_*, which a second session reads too (see
-- mrr.build).
-- Parameters: s_day (S), e_day (E), reporting (currency code), reuses_month_rows.

-- The customers this run read, in a daily run inside one month (Window.reuses_month_rows), which rewrites
-- only their month rows and keeps everyone else's. Other runs rewrite every row: empty, and not computed.
CREATE UNLOGGED TABLE {schema}.mrr_work_affected WITH (autovacuum_enabled = false) AS
SELECT DISTINCT customer_id
FROM {schema}.mrr_work_raw_periods WHERE customer_id IS NOT NULL AND %(reuses_month_rows)s;
ANALYZE {schema}.mrr_work_affected;

-- fx_rates: a usable rate per currency and day.
CREATE UNLOGGED TABLE {schema}.mrr_work_fx_checks WITH (autovacuum_enabled = false) AS
SELECT f.*,
       CASE
           WHEN f.rate_date IS NULL THEN 'rate_date is null'
           WHEN f.currency IS NULL THEN 'currency is null'
           WHEN f.rate_to_reporting IS NULL OR f.rate_to_reporting <= 0
               THEN 'rate_to_reporting must be > 0, got ' || coalesce(f.rate_to_reporting::text, 'null')
           WHEN count(*) OVER (PARTITION BY upper(f.currency), f.rate_date) > 1
               THEN 'more than one rate for the same currency and day'
       END AS reason
FROM {schema}.mrr_work_raw_fx f;

CREATE TEMP TABLE mrr_fx_good ON COMMIT DROP AS
SELECT upper(currency) AS currency, rate_date, rate_to_reporting AS rate
FROM {schema}.mrr_work_fx_checks WHERE reason IS NULL;
CREATE INDEX ON mrr_fx_good (currency, rate_date);
ANALYZE mrr_fx_good;

-- The rate in force on each day of [S-1, E] (latest rate on or before the day); 1 for the reporting currency.
-- Each rate is expanded over the days until the next one; a currency has no row before its first rate.
CREATE UNLOGGED TABLE {schema}.mrr_work_fx_daily (currency text, day date, rate numeric, previous_rate numeric,
                                                PRIMARY KEY (currency, day)) WITH (autovacuum_enabled = false);
INSERT INTO {schema}.mrr_work_fx_daily
SELECT currency, day, rate, lag(rate) OVER (PARTITION BY currency ORDER BY day)  -- days are consecutive
FROM (
    SELECT currency, d.day::date AS day, rate
    FROM (SELECT currency, rate_date, rate,
                 lead(rate_date, 1, %(e_day)s::date + 1) OVER (PARTITION BY currency ORDER BY rate_date) AS next_date
          FROM mrr_fx_good WHERE currency <> %(reporting)s) r
    CROSS JOIN generate_series(greatest(rate_date, %(s_day)s::date - 1), least(next_date - 1, %(e_day)s::date),
                               interval '1 day') d(day)
    UNION ALL
    SELECT %(reporting)s, d.day::date, 1
    FROM generate_series(%(s_day)s::date - 1, %(e_day)s::date, interval '1 day') d(day)
) daily;
ANALYZE {schema}.mrr_work_fx_daily;

-- A paying period in a foreign currency counts from the currency's first rate on (day by day, as above).
CREATE UNLOGGED TABLE {schema}.mrr_work_first_rate WITH (autovacuum_enabled = false) AS
SELECT currency, min(rate_date) AS first_rate FROM mrr_fx_good GROUP BY currency;

-- Row by row: missing values, unknown codes, impossible numbers, a period that ends before it starts.
-- counts_from: the first day a good row counts (its valid_from, or its currency's first rate). A view: the
-- three statements that read it (two below, one in 22_issues.sql) each read it once, which costs less
-- than writing every row again (at 1M customers, 3.1M rows: 12 s).
CREATE VIEW {schema}.mrr_work_period_checks AS
SELECT c.*,
       CASE WHEN c.reason IS NOT NULL THEN NULL
            WHEN upper(c.currency) = %(reporting)s THEN c.valid_from::date
            WHEN f.first_rate IS NOT NULL THEN greatest(c.valid_from::date, f.first_rate) END AS counts_from
FROM (
    SELECT r.*,
           CASE
               WHEN r.subscription_id IS NULL THEN 'subscription_id is null'
               WHEN r.customer_id IS NULL THEN 'customer_id is null'
               WHEN r.valid_from IS NULL THEN 'valid_from is null'
               WHEN r.status IS NULL OR r.status NOT IN ('trialing', 'active', 'past_due', 'paused')
                   THEN 'unknown status ' || quote_nullable(r.status)
                        || ' (expected trialing, active, past_due or paused)'
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
               WHEN r.valid_to < r.valid_from
                   THEN 'valid_to ' || to_char(r.valid_to, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' is before valid_from'
           END AS reason
    FROM {schema}.mrr_work_raw_periods r
) c
LEFT JOIN {schema}.mrr_work_first_rate f ON f.currency = upper(c.currency);

-- Periods of one subscription must not overlap. Both rows of an overlap are reported and left out on the
-- days both are in force (which one is right is for the billing system to say). Day by day, so a run
-- that reads only some days reaches the same figures as a full refresh. Empty periods cannot overlap.
CREATE UNLOGGED TABLE {schema}.mrr_work_overlaps WITH (autovacuum_enabled = false) AS
SELECT row_n
FROM (
    SELECT row_n,
           max(coalesce(valid_to, 'infinity')) OVER (PARTITION BY subscription_id ORDER BY valid_from, row_n
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > valid_from
           OR lead(valid_from) OVER (PARTITION BY subscription_id ORDER BY valid_from, row_n)
               < coalesce(valid_to, 'infinity') AS is_overlap
    FROM {schema}.mrr_work_period_checks
    WHERE reason IS NULL AND valid_to IS DISTINCT FROM valid_from
) o
WHERE is_overlap;
ANALYZE {schema}.mrr_work_overlaps;
