-- The tickets as this build read them, for the next run's comparison (20_checked_tickets.sql): only the rows
-- that changed are replaced.
DELETE FROM {schema}.support_ticket_state s USING sup_changed c WHERE s.ticket_id = c.ticket_id;
INSERT INTO {schema}.support_ticket_state (ticket_id, customer_id, created_at, priority, plan_id, first_response_at,
                                           resolved_at, csat, response_due_at)
SELECT t.ticket_id, t.customer_id, t.created_at, t.priority, t.plan_id, t.first_response_at, t.resolved_at, t.csat,
       t.response_due_at
FROM sup_tickets t JOIN sup_changed c USING (ticket_id);
