-- saas_engagement's state beside the SPEC outputs (added by issue 4): the compact activity a run reads
-- instead of the events table. A run copies only its window's events, aggregated, into these tables; every
-- 7-, 30- and 60-day figure is then computed from them.

-- One row per account, user and UTC day with at least one valid event.
CREATE TABLE {schema}.user_activity_daily (
    day date NOT NULL,
    customer_id text NOT NULL,
    user_id text NOT NULL,
    events integer NOT NULL,
    last_event_at timestamptz NOT NULL,
    PRIMARY KEY (day, customer_id, user_id)
);
CREATE INDEX user_activity_daily_user_idx ON {schema}.user_activity_daily (user_id, day);

-- One row per account, core feature and UTC day the feature was used.
CREATE TABLE {schema}.account_feature_daily (
    day date NOT NULL,
    customer_id text NOT NULL,
    feature text NOT NULL,
    events integer NOT NULL,
    PRIMARY KEY (day, customer_id, feature)
);

-- The 7-day against 30-day trend of each account (the churn model reads it): daily events over the last
-- 7 days ÷ daily events over the last 30 (1 = steady, < 1 = falling), and the share of the month's active
-- users who were active in the last week.
ALTER TABLE {schema}.account_engagement_daily ADD COLUMN events_trend numeric;
ALTER TABLE {schema}.account_engagement_daily ADD COLUMN active_users_trend numeric;
