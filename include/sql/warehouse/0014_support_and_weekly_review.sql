-- saas_support's outputs (SPEC support_daily, support_sla_daily, support_account_daily), its state, the SLA
-- alerts it sent, and the weekly reviews saas_weekly_review sent (issue 25).

-- Per day and priority ('all': every priority), what the support queue did that day.
CREATE TABLE {schema}.support_daily (
    day date NOT NULL,
    priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent', 'all')),
    opened integer NOT NULL,
    first_responded integer NOT NULL,
    resolved integer NOT NULL,
    backlog integer NOT NULL,                  -- open at the end of the day
    first_response_p50_s double precision,     -- over the tickets first responded to that day
    first_response_p90_s double precision,
    resolution_p50_s double precision,         -- over the tickets resolved that day
    resolution_p90_s double precision,
    csat_mean numeric,                         -- over the tickets resolved that day with a rating
    csat_responses integer NOT NULL,
    csat_response_rate numeric,                -- csat_responses / resolved
    PRIMARY KEY (day, priority)
);

-- Per day, priority and plan (the account's plan when the ticket was opened; '(none)' without one), the
-- tickets whose first-response target expired that day.
CREATE TABLE {schema}.support_sla_daily (
    day date NOT NULL,
    priority text NOT NULL,
    plan_id text NOT NULL,
    due integer NOT NULL,
    met integer NOT NULL,
    breached integer NOT NULL,
    attainment numeric,                        -- met / due
    PRIMARY KEY (day, priority, plan_id)
);

-- Per day, each account with an open ticket, a ticket opened that day or a breach in the 30 days to it.
CREATE TABLE {schema}.support_account_daily (
    day date NOT NULL,
    customer_id text NOT NULL,
    opened integer NOT NULL,
    open_tickets integer NOT NULL,
    breaches_30d integer NOT NULL,             -- first-response targets expired in the 30 days and not met
    last_csat integer,                         -- the rating of its latest resolved ticket with one
    mrr_cents bigint NOT NULL,                 -- its MRR on the day (saas_mrr's customer_mrr_changes)
    PRIMARY KEY (day, customer_id)
);
CREATE INDEX support_account_daily_customer_idx ON {schema}.support_account_daily (customer_id, day);

-- The tickets as the last build read them (with the plan at opening and the first-response deadline): a run
-- compares saas_db with it to find the first day a late or corrected ticket changes, anywhere in history.
CREATE TABLE {schema}.support_ticket_state (
    ticket_id text PRIMARY KEY,
    customer_id text NOT NULL,
    created_at timestamptz NOT NULL,
    priority text NOT NULL,
    plan_id text NOT NULL,
    first_response_at timestamptz,
    resolved_at timestamptz,
    csat integer,
    response_due_at timestamptz NOT NULL
);

-- One Slack line per ticket about to breach or past its first-response target: the tickets already named.
CREATE TABLE {schema}.support_sla_alerts (
    ticket_id text PRIMARY KEY,
    customer_id text NOT NULL,
    response_due_at timestamptz NOT NULL,      -- after alerted_at: named while about to breach
    run_id text NOT NULL,
    alerted_at timestamptz NOT NULL
);

-- One review per ISO week (its Monday): a rerun of the week sends nothing.
CREATE TABLE {schema}.weekly_reviews (
    week_start date PRIMARY KEY,
    run_id text NOT NULL,
    recipients text[] NOT NULL,
    channels_sent text[] NOT NULL DEFAULT '{{}}',
    sent_at timestamptz NOT NULL DEFAULT now()
);
