-- Whose addresses the candidates need: the users named, and every user of an account-level candidate.
SELECT coalesce(array_agg(DISTINCT user_id) FILTER (WHERE user_id IS NOT NULL), '{{}}'),
       coalesce(array_agg(DISTINCT customer_id) FILTER (WHERE user_id IS NULL), '{{}}')
FROM camp_candidates
