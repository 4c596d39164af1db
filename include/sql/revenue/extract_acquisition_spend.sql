-- The optional acquisition_spend from %(metrics_from)s through the run's month, as it is: checked_spend.sql
-- reports and leaves out the rows that break the contract.
SELECT month, channel, currency, amount_cents
FROM {schema}.acquisition_spend
WHERE (month >= %(metrics_from)s AND month < date_trunc('month', %(day)s::date) + interval '1 month')
   OR month IS NULL
