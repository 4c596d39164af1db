-- The optional acquisition_spend from %(metrics_from)s through the run's month; rows without a month, a
-- currency or a spend of zero or more are left out.
SELECT date_trunc('month', month)::date, upper(currency), amount_cents
FROM {schema}.acquisition_spend
WHERE month >= %(metrics_from)s AND month < date_trunc('month', %(day)s::date) + interval '1 month'
  AND currency IS NOT NULL AND amount_cents >= 0
