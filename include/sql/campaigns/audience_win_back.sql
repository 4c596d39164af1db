-- win_back: accounts whose MRR went to 0 30 days before the day (or up to 6 days earlier, so a
-- missed run catches up) and that have not come back since, paying or trialing. Keyed by the churn day.
SELECT c.customer_id, NULL::text, c.day::text,
       jsonb_build_object('churned_on', c.day, 'previous_mrr_cents', c.previous_cents,
                          'days_since', %(day)s::date - c.day)
FROM {schema}.customer_mrr_changes c
WHERE c.movement = 'churn' AND c.day BETWEEN %(day)s::date - 36 AND %(day)s::date - 30
  AND NOT EXISTS (SELECT 1 FROM {schema}.customer_mrr_changes later
                  WHERE later.customer_id = c.customer_id AND later.day > c.day AND later.day <= %(day)s)
  AND NOT EXISTS (SELECT 1 FROM camp_live_accounts live WHERE live.customer_id = c.customer_id)
