-- The temporary table that receives every ticket from saas_db (COPY), in the warehouse transaction.
CREATE TEMP TABLE sup_src_tickets (ticket_id text, customer_id text, created_at timestamptz, priority text,
                                   first_response_at timestamptz, resolved_at timestamptz, csat integer,
                                   plan_id text) ON COMMIT DROP;
