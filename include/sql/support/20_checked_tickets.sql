-- The tickets this run read, checked against the contract: those that break it go to data_quality_issues with
-- their key and reason and are left out; the others get their first-response deadline from the policy of
-- their priority and plan (SLA_POLICIES: a plan's own target, else the priority's).
CREATE TEMP TABLE sup_checked ON COMMIT DROP AS
SELECT ticket_id, customer_id, created_at, lower(btrim(priority)) AS priority,
       coalesce(nullif(btrim(plan_id), ''), '(none)') AS plan_id, first_response_at, resolved_at, csat,
       CASE WHEN ticket_id IS NULL THEN 'no ticket_id'
            WHEN customer_id IS NULL THEN 'no customer_id'
            WHEN created_at IS NULL THEN 'no created_at'
            WHEN priority IS NULL OR lower(btrim(priority)) NOT IN ('low', 'normal', 'high', 'urgent')
                THEN 'priority ' || coalesce(to_json(priority)::text, 'null') || ' is not low, normal, high or urgent'
            WHEN csat NOT BETWEEN 1 AND 5 THEN 'csat ' || csat || ' is not a rating from 1 to 5'
            WHEN first_response_at < created_at THEN 'first_response_at is before created_at'
            WHEN resolved_at < created_at THEN 'resolved_at is before created_at'
            WHEN greatest(created_at, first_response_at, resolved_at) > %(now)s
                THEN 'a time after the run: ' || greatest(created_at, first_response_at, resolved_at)
       END AS reason
FROM sup_src_tickets;

INSERT INTO {schema}.data_quality_issues (run_id, "check", row_key, dag_id, table_name, reason)
SELECT %(run_id)s, 'support_ticket_checks', coalesce(ticket_id, '(no ticket_id)'), %(dag_id)s, 'support_tickets',
       reason
FROM sup_checked
WHERE reason IS NOT NULL
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE sup_tickets ON COMMIT DROP AS
WITH policies AS (
    SELECT * FROM unnest(%(policy_priorities)s::text[], %(policy_plans)s::text[], %(policy_seconds)s::int[])
        AS p(priority, plan_id, target_s)
)
SELECT c.ticket_id, c.customer_id, c.created_at, c.priority, c.plan_id, c.first_response_at, c.resolved_at,
       c.csat, c.created_at + make_interval(secs => coalesce(own.target_s, base.target_s)) AS response_due_at
FROM sup_checked c
JOIN policies base ON base.priority = c.priority AND base.plan_id IS NULL
LEFT JOIN policies own ON own.priority = c.priority AND own.plan_id = c.plan_id
WHERE c.reason IS NULL;
CREATE UNIQUE INDEX ON sup_tickets (ticket_id);
ANALYZE sup_tickets;

-- The tickets new, changed or gone since the last build, and the first day each change moves: a change to the
-- ticket's account, opening, priority, plan or deadline, from the day it was opened; a first response or a
-- resolution, from the earlier of its two days; a rating, from the day the ticket was resolved.
CREATE TEMP TABLE sup_changed ON COMMIT DROP AS
SELECT coalesce(n.ticket_id, o.ticket_id) AS ticket_id, n.customer_id, o.customer_id AS old_customer_id,
       (least(CASE WHEN (n.customer_id, n.created_at, n.priority, n.plan_id, n.response_due_at)
                        IS DISTINCT FROM (o.customer_id, o.created_at, o.priority, o.plan_id, o.response_due_at)
                   THEN least(n.created_at, o.created_at) END,
              CASE WHEN n.first_response_at IS DISTINCT FROM o.first_response_at
                   THEN least(n.first_response_at, o.first_response_at) END,
              CASE WHEN n.resolved_at IS DISTINCT FROM o.resolved_at OR n.csat IS DISTINCT FROM o.csat
                   THEN least(n.resolved_at, o.resolved_at) END))::date AS changes_from
FROM sup_tickets n
FULL JOIN {schema}.support_ticket_state o USING (ticket_id)
WHERE (n.customer_id, n.created_at, n.priority, n.plan_id, n.first_response_at, n.resolved_at, n.csat,
       n.response_due_at)
      IS DISTINCT FROM (o.customer_id, o.created_at, o.priority, o.plan_id, o.first_response_at, o.resolved_at,
                        o.csat, o.response_due_at);
