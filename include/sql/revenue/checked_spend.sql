-- acquisition_spend's rows that break the contract: listed in mrr_issues with their key and reason (written by
-- 86_data_quality_issues.sql), and left out of the spend. The months are normalised to their first day.
INSERT INTO mrr_issues ("check", table_name, row_key, reason)
SELECT 'acquisition_spend_contract', 'acquisition_spend',
       coalesce(to_char(month, 'YYYY-MM-DD'), 'null') || ' ' || coalesce(channel, 'null'), reason
FROM (SELECT month, channel,
             CASE WHEN month IS NULL THEN 'month is null'
                  WHEN currency IS NULL OR currency !~ '^[A-Za-z][A-Za-z][A-Za-z]$'
                      THEN 'currency is not a 3-letter code'
                  WHEN amount_cents IS NULL THEN 'amount_cents is null'
                  WHEN amount_cents < 0 THEN 'amount_cents is negative'
                  WHEN amount_cents >= 1e13 THEN 'amount_cents is beyond what a month can cost' END AS reason
      FROM mrr_spend) s
WHERE reason IS NOT NULL;
DELETE FROM mrr_spend
WHERE month IS NULL OR currency IS NULL OR currency !~ '^[A-Za-z][A-Za-z][A-Za-z]$' OR amount_cents IS NULL
   OR amount_cents < 0 OR amount_cents >= 1e13;
UPDATE mrr_spend SET month = date_trunc('month', month)::date, currency = upper(currency);
