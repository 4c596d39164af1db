-- failed_payment succeeds when the invoice of the dunning email is paid (a succeeded payment attempt,
-- extract_invoice_payments.sql) in (cohort day, cohort day + window], in UTC days.
SELECT r.idempotency_key,
       EXISTS (SELECT 1 FROM camp_invoice_paid p
               WHERE p.invoice_id = r.variables->>'invoice_id'
                 AND p.paid_at >= (r.day + 1)::timestamp AT TIME ZONE 'UTC'
                 AND p.paid_at < (r.day + %(window_days)s + 1)::timestamp AT TIME ZONE 'UTC')
FROM camp_outcome_recipients r
