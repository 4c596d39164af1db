-- Claims the tickets an SLA alert is about to name: those no earlier alert named (once per ticket).
INSERT INTO {schema}.support_sla_alerts (ticket_id, customer_id, response_due_at, run_id, alerted_at)
SELECT ticket_id, customer_id, response_due_at, %(run_id)s, %(now)s
FROM unnest(%(ticket_ids)s::text[], %(customer_ids)s::text[], %(due_ats)s::timestamptz[])
    AS t(ticket_id, customer_id, response_due_at)
ON CONFLICT (ticket_id) DO NOTHING
RETURNING ticket_id
