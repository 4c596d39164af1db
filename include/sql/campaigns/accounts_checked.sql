-- Accounts whose name or owner's name may not go into an email, and why.
UPDATE camp_customers c SET unusable = v.unusable
FROM unnest(%(customer_ids)s::text[], %(unusable)s::text[]) AS v(customer_id, unusable)
WHERE c.customer_id = v.customer_id
