-- Runs on saas_db. The support tickets every DAG leaves out, with the reason: a ticket_id several rows hold.
SELECT ticket_id::text, count(*) || ' rows hold this ticket_id: all are left out'
FROM {schema}.support_tickets
WHERE NOT %(key_is_unique)s AND ticket_id IS NOT NULL
GROUP BY ticket_id
HAVING count(*) > 1
