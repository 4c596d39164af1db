-- saas_mrr's work tables (mrr.build): dropped after every build, and before one in case a killed run left them.
DROP VIEW IF EXISTS {schema}.mrr_work_period_checks;
DROP TABLE IF EXISTS {schema}.mrr_work_raw_periods, {schema}.mrr_work_raw_fx, {schema}.mrr_work_fx_checks,
    {schema}.mrr_work_first_rate, {schema}.mrr_work_overlaps, {schema}.mrr_work_affected,
    {schema}.mrr_work_fx_daily, {schema}.mrr_work_issues, {schema}.mrr_work_periods, {schema}.mrr_work_movements,
    {schema}.mrr_work_fx_drift;
