-- Claims the tickets an SLA alert is about to name: those no earlier alert named (once per ticket).
INSERT INTO {schema}.support_sla_alerts (ticket_id, customer_id, response_due_at, breached, run_id)
SELECT * FROM unnest(%(ticket_ids)s::text[], %(customer_ids)s::text[], %(due_ats)s::timestamptz[],
                     %(breached)s::boolean[], array_fill(%(run_id)s::text, ARRAY[cardinality(%(ticket_ids)s::text[])]))
ON CONFLICT (ticket_id) DO NOTHING
RETURNING ticket_id
