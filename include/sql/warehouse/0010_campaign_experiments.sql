-- reengagement_campaigns' experiments (issue 24): every recipient of a campaign is assigned an arm, and a
-- held-out one is recorded with status `holdout` and never emailed; campaign_outcomes then measures what
-- happened to each arm.
--   arm      treatment or holdout (null: suppressed, never assigned); rows written before this were all treated
--   variant  the email's variant (`default` while a campaign has one)
ALTER TABLE {schema}.email_sends
    ADD COLUMN arm text CHECK (arm IN ('treatment', 'holdout')),
    ADD COLUMN variant text;
UPDATE {schema}.email_sends SET arm = 'treatment', variant = 'default' WHERE status <> 'suppressed';
ALTER TABLE {schema}.email_sends DROP CONSTRAINT email_sends_status_check;
ALTER TABLE {schema}.email_sends ADD CONSTRAINT email_sends_status_check
    CHECK (status IN ('queued', 'sent', 'failed', 'suppressed', 'dry_run', 'holdout'));

-- Where a recipient falls in [0, 1) for a campaign: the first 32 bits of md5(campaign:recipient:salt). Stable
-- across days and reruns; another salt (CAMPAIGN_ASSIGNMENT_SALT) starts a new experiment.
CREATE FUNCTION {schema}.assignment_bucket(campaign text, recipient text, salt text) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('x' || left(md5(campaign || ':' || recipient || ':' || salt), 8))::bit(32)::bigint / 4294967296.0 $$;

-- Per campaign, variant, arm and cohort day (the day the recipients were queued or held out): how many there
-- were, how many did what the campaign is for within window_days after it, and the MRR their accounts still
-- paid at the end of the window (each account once).
CREATE TABLE {schema}.campaign_outcomes (
    campaign text NOT NULL,
    variant text NOT NULL,
    arm text NOT NULL CHECK (arm IN ('treatment', 'holdout')),
    cohort_day date NOT NULL,
    eligible integer NOT NULL,
    converted integer NOT NULL,
    mrr_retained_cents bigint NOT NULL,
    window_days integer NOT NULL,
    measured_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign, variant, arm, cohort_day)
);
