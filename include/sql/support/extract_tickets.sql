-- Runs on saas_db. The tickets but those quarantined (with `waiting_since`: only those still waiting for a first
-- response that were opened since then), each with the plan of the account when it was opened: of the
-- subscription periods in force then, the one with the highest price per month (a tie: the first plan_id).
SELECT DISTINCT ON (t.ticket_id) t.ticket_id::text, t.customer_id::text, t.created_at, t.priority::text,
       {first_response_at}, {resolved_at}, {csat}, p.plan_id::text
FROM {schema}.support_tickets t
LEFT JOIN {schema}.subscription_periods p
    ON p.customer_id::text = t.customer_id::text AND p.valid_from <= t.created_at
   AND (p.valid_to IS NULL OR p.valid_to > t.created_at)
WHERE t.ticket_id::text <> ALL(%(quarantined_ticket_ids)s::text[])
  AND (%(waiting_since)s::timestamptz IS NULL
       OR ({first_response_at} IS NULL AND {resolved_at} IS NULL AND t.created_at >= %(waiting_since)s))
ORDER BY t.ticket_id,
         p.amount_cents * p.quantity * CASE p.billing_interval WHEN 'day' THEN 365 WHEN 'week' THEN 52 ELSE 1 END
             / (nullif(p.interval_count, 0) * CASE p.billing_interval WHEN 'month' THEN 1 ELSE 12 END)
             DESC NULLS LAST,
         p.plan_id
