-- saas_mrr's work tables (mrr.build): dropped after every build, and before one in case a killed run left them.
DROP TABLE IF EXISTS {schema}.mrr_work_affected, {schema}.mrr_work_fx_daily, {schema}.mrr_work_issues,
    {schema}.mrr_work_periods, {schema}.mrr_work_movements, {schema}.mrr_work_fx_drift;
