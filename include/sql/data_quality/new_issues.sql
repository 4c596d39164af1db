-- Per source table, the rows a run reported in data_quality_issues that no other run of its DAG had reported:
-- what its Slack line calls new (a row re-read by later runs is listed by each, announced once).
SELECT table_name, count(*)
FROM {schema}.data_quality_issues i
WHERE i.run_id = %(run_id)s AND i.dag_id = %(dag_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.data_quality_issues e
                  WHERE e.dag_id = i.dag_id AND e."check" = i."check" AND e.row_key = i.row_key
                    AND e.run_id <> i.run_id)
GROUP BY table_name
ORDER BY 1
