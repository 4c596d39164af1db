-- high_risk: accounts that entered the high churn-risk band on the day (camp_entered_high holds the
-- rows of churn/entered_high_band.sql, the accounts churn_score's Slack digest lists). Their first user gets
-- a check-in signed with the account owner's name; the owner gets a Slack line. Keyed by the day entered.
SELECT customer_id, NULL::text, %(day)s::text,
       jsonb_build_object('mrr_cents', mrr_cents, 'churn_probability', round(churn_probability::numeric, 3),
                          'health_score', health_score)
FROM camp_entered_high
