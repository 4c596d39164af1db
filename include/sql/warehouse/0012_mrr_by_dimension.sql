-- saas_mrr's month-end MRR, paying customers and movements by plan, billing interval, segment and country (issue
-- 25, SPEC mrr_by_dimension_monthly); value '(none)' where the customer has none. The sums of each dimension's
-- values equal mrr_monthly's.
CREATE TABLE {schema}.mrr_by_dimension_monthly (
    month date NOT NULL,
    dimension text NOT NULL CHECK (dimension IN ('plan', 'billing_interval', 'segment', 'country')),
    value text NOT NULL,
    mrr_cents bigint NOT NULL,
    paying_customers integer NOT NULL,
    new_cents bigint NOT NULL,
    expansion_cents bigint NOT NULL,
    contraction_cents bigint NOT NULL,
    churn_cents bigint NOT NULL,
    reactivation_cents bigint NOT NULL,
    PRIMARY KEY (month, dimension, value)
);
