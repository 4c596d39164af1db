-- Runs on saas_db. Every rate up to the day the run closes: the rate in force on a day may be older than it.
SELECT rate_date, currency, rate_to_reporting
FROM {schema}.fx_rates
WHERE rate_date <= %(day)s OR rate_date IS NULL
