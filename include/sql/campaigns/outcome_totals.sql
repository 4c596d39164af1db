-- Each campaign's outcomes per variant and arm, summed over the cohorts since %(since)s, with the first of them.
SELECT campaign, variant, arm, sum(eligible), sum(converted), sum(mrr_retained_cents), min(cohort_day)
FROM {schema}.campaign_outcomes
WHERE cohort_day >= %(since)s
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
