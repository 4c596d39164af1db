-- Runs on saas_db. Support tickets opened in the 90 days before any observation date.
SELECT customer_id, created_at, priority IN ('high', 'urgent'), {first_response_at}, {resolved_at}, {csat}
FROM {schema}.support_tickets
WHERE created_at >= %(first_t)s::date - 90 AND created_at < %(last_t)s
  AND ticket_id::text <> ALL(%(quarantined_ticket_ids)s::text[])
