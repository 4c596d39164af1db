-- The accounts of the day's candidates, whose names go into emails.
SELECT customer_id, name, account_owner_name FROM camp_customers
WHERE customer_id IN (SELECT customer_id FROM camp_candidates)
