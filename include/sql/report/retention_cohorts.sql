-- The retention table: the cohorts of the last 12 months, each month after signup.
SELECT to_char(cohort_month, 'YYYY-MM'), months_since, cohort_size, retention_rate::float
FROM {schema}.retention_cohorts
WHERE cohort_month > (SELECT max(cohort_month) FROM {schema}.retention_cohorts) - interval '12 months'
ORDER BY 1, 2
