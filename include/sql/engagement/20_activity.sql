-- Report the events that broke the contract, and replace the window's days of the activity state.
-- Parameters: run_id, dag_id, from_day, day.
DELETE FROM {schema}.data_quality_issues
WHERE run_id = %(run_id)s AND dag_id = %(dag_id)s AND table_name = 'events';
INSERT INTO {schema}.data_quality_issues (run_id, "check", row_key, dag_id, table_name, reason)
SELECT %(run_id)s, 'events_contract', coalesce(event_id, 'null'), %(dag_id)s, 'events', reason
FROM eng_bad_events
ON CONFLICT DO NOTHING;

DELETE FROM {schema}.user_activity_daily WHERE day BETWEEN %(from_day)s::date AND %(day)s::date;
INSERT INTO {schema}.user_activity_daily (day, customer_id, user_id, events, last_event_at)
SELECT day, customer_id, user_id, events, last_event_at
FROM eng_raw_activity
WHERE user_id IS NOT NULL
  AND day >= %(from_day)s::date;  -- days read again for late events that did not change are kept as stored

DELETE FROM {schema}.account_feature_daily WHERE day BETWEEN %(from_day)s::date AND %(day)s::date;
INSERT INTO {schema}.account_feature_daily (day, customer_id, feature, events)
SELECT day, customer_id, feature, events
FROM eng_raw_activity
WHERE feature IS NOT NULL AND day >= %(from_day)s::date;
