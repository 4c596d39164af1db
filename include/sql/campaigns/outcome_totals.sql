-- Each campaign's outcomes per variant and arm, summed over the cohorts since %(since)s.
SELECT campaign, variant, arm, sum(eligible), sum(converted), sum(mrr_retained_cents)
FROM {schema}.campaign_outcomes
WHERE cohort_day >= %(since)s
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
