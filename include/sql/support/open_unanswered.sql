-- Runs on saas_db. The tickets still waiting for a first response that were opened since a time, with the plan
-- of the account when each was opened (as extract_tickets.sql picks it).
SELECT DISTINCT ON (t.ticket_id) t.ticket_id::text, t.customer_id::text, t.created_at,
       lower(btrim(t.priority::text)), coalesce(nullif(btrim(p.plan_id::text), ''), '(none)')
FROM {schema}.support_tickets t
LEFT JOIN {schema}.subscription_periods p
    ON p.customer_id::text = t.customer_id::text AND p.valid_from <= t.created_at
   AND (p.valid_to IS NULL OR p.valid_to > t.created_at)
WHERE {first_response_at} IS NULL AND {resolved_at} IS NULL
  AND t.created_at >= %(opened_since)s AND t.created_at <= %(now)s AND t.customer_id IS NOT NULL
ORDER BY t.ticket_id,
         p.amount_cents * p.quantity * CASE p.billing_interval WHEN 'day' THEN 365 WHEN 'week' THEN 52 ELSE 1 END
             / (nullif(p.interval_count, 0) * CASE p.billing_interval WHEN 'month' THEN 1 ELSE 12 END)
             DESC NULLS LAST,
         p.plan_id
