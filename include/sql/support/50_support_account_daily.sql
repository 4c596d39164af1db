-- support_account_daily: each account with a ticket open at the day's end, a ticket opened that day, or a
-- first-response target breached in the 30 days to it; with the rating of its latest resolved ticket that has
-- one, and its MRR on the day (the latest of saas_mrr's customer_mrr_changes). Every account's rows from
-- `all_from` (the days after the watermark, or an older interval rerun), and before that only the rows of the
-- accounts whose tickets changed, from the first day a change moves.
CREATE TEMP TABLE sup_account_scope ON COMMIT DROP AS
SELECT customer_id, min(changes_from) AS from_day
FROM (SELECT customer_id, changes_from FROM sup_changed
      UNION ALL
      SELECT old_customer_id, changes_from FROM sup_changed) c
WHERE customer_id IS NOT NULL AND changes_from < %(all_from)s
GROUP BY customer_id;
ANALYZE sup_account_scope;

DELETE FROM {schema}.support_account_daily WHERE day BETWEEN %(all_from)s AND %(day)s;
DELETE FROM {schema}.support_account_daily t
USING sup_account_scope s
WHERE t.customer_id = s.customer_id AND t.day >= s.from_day AND t.day < %(all_from)s;

CREATE TEMP TABLE sup_ratings ON COMMIT DROP AS
SELECT customer_id, resolved_at, ticket_id, csat FROM sup_tickets WHERE csat IS NOT NULL AND resolved_at IS NOT NULL;
CREATE INDEX ON sup_ratings (customer_id, resolved_at DESC, ticket_id DESC);
ANALYZE sup_ratings;

INSERT INTO {schema}.support_account_daily (day, customer_id, opened, open_tickets, breaches_30d, last_csat,
                                            mrr_cents)
WITH tickets AS (  -- each ticket with the first day its account's rows are rewritten
    SELECT t.*, coalesce(s.from_day, %(all_from)s::date) AS from_day
    FROM sup_tickets t
    LEFT JOIN sup_account_scope s USING (customer_id)
), marks AS (
    SELECT customer_id, created_at::date AS day, 1 AS opened, 0 AS open, 0 AS breach
    FROM tickets
    WHERE created_at >= from_day AND created_at < %(day_end)s
    UNION ALL  -- open at the end of each day from its opening to the day before its resolution
    SELECT customer_id, d::date, 0, 1, 0
    FROM tickets,
         generate_series(greatest(created_at::date, from_day),
                         least(coalesce(resolved_at::date - 1, %(day)s::date), %(day)s::date), interval '1 day') d
    WHERE created_at < %(day_end)s AND (resolved_at IS NULL OR resolved_at::date > from_day)
    UNION ALL  -- a breach counts on its deadline's day and the 29 days after
    SELECT customer_id, d::date, 0, 0, 1
    FROM tickets,
         generate_series(greatest(response_due_at::date, from_day),
                         least(response_due_at::date + 29, %(day)s::date), interval '1 day') d
    WHERE %(responses_known)s AND response_due_at < %(day_end)s AND response_due_at::date + 29 >= from_day
      AND (first_response_at IS NULL OR first_response_at > response_due_at)
), accounts AS (
    SELECT day, customer_id, sum(opened) AS opened, sum(open) AS open_tickets, sum(breach) AS breaches_30d
    FROM marks
    GROUP BY day, customer_id
)
SELECT a.day, a.customer_id, a.opened, a.open_tickets, a.breaches_30d, r.csat, coalesce(m.mrr_cents, 0)
FROM accounts a
LEFT JOIN LATERAL (SELECT csat FROM sup_ratings r
                   WHERE r.customer_id = a.customer_id AND r.resolved_at < a.day + 1
                   ORDER BY r.resolved_at DESC, r.ticket_id DESC LIMIT 1) r ON true
LEFT JOIN LATERAL (SELECT mrr_cents FROM {schema}.customer_mrr_changes m
                   WHERE m.customer_id = a.customer_id AND m.day <= a.day
                   ORDER BY m.day DESC LIMIT 1) m ON true;
