-- The newest cohort day campaign_outcomes has measured.
SELECT max(cohort_day) FROM {schema}.campaign_outcomes
