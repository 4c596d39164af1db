-- Each account's MRR now: the latest of saas_mrr's customer_mrr_changes (0 for an account never paying).
SELECT ids.customer_id, coalesce(m.mrr_cents, 0)
FROM unnest(%(customer_ids)s::text[]) ids(customer_id)
LEFT JOIN LATERAL (SELECT mrr_cents FROM {schema}.customer_mrr_changes c
                   WHERE c.customer_id = ids.customer_id ORDER BY c.day DESC LIMIT 1) m ON true
