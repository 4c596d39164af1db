-- The point-in-time feature rows: one per account paying at the end of the day before an observation date
-- t (churn_obs_dates), built only from what was known before t:
-- - MRR from saas_ops.customer_mrr_changes (its value on t−1, t−31, t−91);
-- - activity from saas_ops.account_engagement_daily on t−1 (its 7- and 30-day figures end on t−1);
-- - plan, seats and payment state from the paying periods in force at t, and 30 days before;
-- - payments, overdue invoices and tickets from the 30/90 days before t, each judged as of t (a ticket
--   answered after t was unanswered at t).
-- `churned` is the SPEC's label: MRR reaches 0 on a day in [t, t + horizon − 1]; null while that is not yet
-- known (t + horizon − 1 after the MRR watermark `label_until`). `treated`: a campaign email of the treatment
-- arm went to the account in those days (queued on t − 1 .. t + horizon − 2, sent the day after), so its
-- label may be the email's doing; training leaves such rows out (their held-out peers stay in).
CREATE TEMP TABLE churn_mrr_spans ON COMMIT DROP AS
SELECT customer_id, from_day, to_day, mrr_cents
FROM (SELECT customer_id, day AS from_day, mrr_cents,
             coalesce(lead(day) OVER (PARTITION BY customer_id ORDER BY day), 'infinity') AS to_day
      FROM {schema}.customer_mrr_changes WHERE day < %(last_t)s) s
WHERE to_day > %(first_t)s::date - 91;
CREATE INDEX ON churn_mrr_spans (customer_id);
ANALYZE churn_obs_dates;
ANALYZE churn_mrr_spans;

CREATE TEMP TABLE churn_obs ON COMMIT DROP AS
SELECT s.customer_id, d.t, s.mrr_cents
FROM churn_obs_dates d JOIN churn_mrr_spans s ON s.from_day <= d.t - 1 AND s.to_day > d.t - 1
WHERE s.mrr_cents > 0;
ANALYZE churn_obs;

CREATE TEMP TABLE churn_features ON COMMIT DROP AS
WITH mrr_before AS (
    SELECT o.customer_id, o.t,
           coalesce(max(s.mrr_cents) FILTER (WHERE s.to_day > o.t - 31), 0) AS mrr_30d_ago,
           coalesce(max(s.mrr_cents) FILTER (WHERE s.from_day <= o.t - 91 AND s.to_day > o.t - 91), 0) AS mrr_90d_ago
    FROM churn_obs o JOIN churn_mrr_spans s ON s.customer_id = o.customer_id AND s.from_day <= o.t - 31
    GROUP BY 1, 2
), periods AS (
    SELECT o.customer_id, o.t,
           (array_agg(p.plan_id ORDER BY p.amount_cents * p.quantity DESC, p.plan_id)
               FILTER (WHERE p.valid_to IS NULL OR p.valid_to >= o.t))[1] AS plan_id,
           (array_agg(p.billing_interval ORDER BY p.amount_cents * p.quantity DESC, p.plan_id)
               FILTER (WHERE p.valid_to IS NULL OR p.valid_to >= o.t))[1] AS billing_interval,
           coalesce(sum(p.quantity) FILTER (WHERE p.valid_to IS NULL OR p.valid_to >= o.t), 0) AS seats,
           coalesce(sum(p.quantity) FILTER (WHERE p.valid_from < o.t - 30), 0) AS seats_30d_ago,
           coalesce(bool_or(p.status = 'past_due') FILTER (WHERE p.valid_to IS NULL OR p.valid_to >= o.t), false)
               AS past_due
    FROM churn_obs o JOIN churn_src_periods p
      ON p.customer_id = o.customer_id AND p.valid_from < o.t
     AND (p.valid_to IS NULL OR p.valid_to >= o.t - 30)
    GROUP BY 1, 2
), payments AS (
    SELECT p.customer_id, d.t, sum(p.failed) FILTER (WHERE p.day >= d.t - 30) AS failed_30d, sum(p.failed) AS failed_90d
    FROM churn_src_payments p JOIN churn_obs_dates d ON d.t > p.day AND d.t <= p.day + 90
    GROUP BY 1, 2
), invoices AS (
    SELECT i.customer_id, d.t, count(*) AS overdue_invoices
    FROM churn_src_invoices i JOIN churn_obs_dates d ON d.t > i.due_at AND d.t <= i.due_at + interval '90 days'
    WHERE i.paid_at IS NULL OR i.paid_at >= d.t
    GROUP BY 1, 2
), tickets AS (
    SELECT k.customer_id, d.t,
           count(*) FILTER (WHERE k.created_at >= d.t - 30) AS tickets_30d,
           count(*) AS tickets_90d,
           count(*) FILTER (WHERE k.urgent) AS urgent_tickets_90d,
           count(*) FILTER (WHERE k.first_response_at IS NULL OR k.first_response_at >= d.t) AS unanswered_tickets,
           avg(k.csat) FILTER (WHERE k.resolved_at < d.t) AS csat_90d,
           avg(extract(epoch FROM k.first_response_at - k.created_at) / 3600) FILTER (WHERE k.first_response_at < d.t)
               AS first_response_hours_90d
    FROM churn_src_tickets k JOIN churn_obs_dates d ON d.t > k.created_at AND d.t <= k.created_at + interval '90 days'
    GROUP BY 1, 2
), labels AS (
    SELECT o.customer_id, o.t
    FROM churn_obs o JOIN {schema}.customer_mrr_changes c
      ON c.customer_id = o.customer_id AND c.movement = 'churn' AND c.day >= o.t AND c.day < o.t + %(horizon)s
    GROUP BY 1, 2
), treated AS (
    SELECT o.customer_id, o.t
    FROM churn_obs o JOIN {schema}.email_sends e
      ON e.customer_id = o.customer_id AND e.arm = 'treatment' AND e.status = 'sent'
     AND e.day >= o.t - 1 AND e.day <= o.t + %(horizon)s - 2
    GROUP BY 1, 2
)
SELECT o.customer_id, o.t,
       CASE WHEN o.t + %(horizon)s - 1 <= %(label_until)s THEN l.customer_id IS NOT NULL END AS churned,
       tr.customer_id IS NOT NULL AS treated,
       (o.t - 1) - (cu.created_at AT TIME ZONE 'UTC')::date AS tenure_days,
       o.mrr_cents,
       round(o.mrr_cents::numeric / nullif(mb.mrr_30d_ago, 0) - 1, 4)::float8 AS mrr_change_30d,
       round(o.mrr_cents::numeric / nullif(mb.mrr_90d_ago, 0) - 1, 4)::float8 AS mrr_change_90d,
       p.plan_id, p.billing_interval,
       coalesce(p.seats, 0) AS seats,
       coalesce(p.seats, 0) - coalesce(p.seats_30d_ago, 0) AS seats_change_30d,
       coalesce(p.past_due, false)::int AS past_due,
       coalesce(a.active_users_7d, 0) AS active_users_7d,
       coalesce(a.active_users_30d, 0) AS active_users_30d,
       a.active_users_trend::float8 AS active_users_trend,
       coalesce(a.events_7d, 0) AS events_7d,
       coalesce(a.events_30d, 0) AS events_30d,
       a.events_trend::float8 AS events_trend,
       coalesce((o.t - 1) - (a.last_active_at AT TIME ZONE 'UTC')::date, 31) AS days_since_last_activity,
       coalesce(a.features_used_30d, 0) AS features_used_30d,
       coalesce(pay.failed_30d, 0)::int AS failed_payments_30d,
       coalesce(pay.failed_90d, 0)::int AS failed_payments_90d,
       coalesce(inv.overdue_invoices, 0)::int AS overdue_invoices,
       coalesce(tk.tickets_30d, 0)::int AS tickets_30d,
       coalesce(tk.tickets_90d, 0)::int AS tickets_90d,
       coalesce(tk.urgent_tickets_90d, 0)::int AS urgent_tickets_90d,
       coalesce(tk.unanswered_tickets, 0)::int AS unanswered_tickets,
       round(tk.csat_90d, 3)::float8 AS csat_90d,
       round(tk.first_response_hours_90d, 2)::float8 AS first_response_hours_90d
FROM churn_obs o
LEFT JOIN churn_src_customers cu ON cu.customer_id = o.customer_id
LEFT JOIN mrr_before mb ON mb.customer_id = o.customer_id AND mb.t = o.t
LEFT JOIN periods p ON p.customer_id = o.customer_id AND p.t = o.t
LEFT JOIN {schema}.account_engagement_daily a ON a.customer_id = o.customer_id AND a.day = o.t - 1
LEFT JOIN payments pay ON pay.customer_id = o.customer_id AND pay.t = o.t
LEFT JOIN invoices inv ON inv.customer_id = o.customer_id AND inv.t = o.t
LEFT JOIN tickets tk ON tk.customer_id = o.customer_id AND tk.t = o.t
LEFT JOIN labels l ON l.customer_id = o.customer_id AND l.t = o.t
LEFT JOIN treated tr ON tr.customer_id = o.customer_id AND tr.t = o.t;
