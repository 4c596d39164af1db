-- Each candidate user's address in its normal form, and why it may not be emailed (NULL: it may).
UPDATE camp_users u SET address = v.address, unusable = v.unusable
FROM unnest(%(user_ids)s::text[], %(addresses)s::text[], %(unusable)s::text[]) AS v(user_id, address, unusable)
WHERE u.user_id = v.user_id
