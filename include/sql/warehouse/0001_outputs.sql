-- The output schema (SPEC "Output tables") and the pack's own bookkeeping tables.
-- Grain: as each table's key says. `{schema}` is the OUTPUT_SCHEMA setting (default saas_ops).

-- Bookkeeping: how far each output is built, and what alerts went out.
CREATE TABLE {schema}.watermarks (
    output text PRIMARY KEY,               -- an output table, e.g. mrr_daily
    dag_id text NOT NULL,
    watermark_day date NOT NULL,           -- outputs are complete through this day
    run_id text,
    max_lag_hours integer,                 -- how stale it may get (set by its DAG); null: WATCHDOG_MAX_LAG_HOURS
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {schema}.alert_log (
    alert_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    task_id text,
    try_number integer,
    kind text NOT NULL,                    -- task_failure, dag_failure, retry, backstop, deadline, watchdog
    severity text NOT NULL,
    summary text NOT NULL,
    channels_sent text[] NOT NULL DEFAULT '{{}}',
    held boolean NOT NULL DEFAULT false,   -- true: a storm hold kept it from the channels
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_log_run_idx ON {schema}.alert_log (dag_id, run_id);

-- One row per (DAG run, channel) that received a failure message: the storm hold claims it first.
CREATE TABLE {schema}.alert_claims (
    dag_id text NOT NULL,
    run_id text NOT NULL,
    channel text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dag_id, run_id, channel)
);

CREATE TABLE {schema}.data_quality_issues (
    run_id text NOT NULL,
    "check" text NOT NULL,
    row_key text NOT NULL,
    dag_id text NOT NULL,
    table_name text NOT NULL,
    reason text NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, "check", row_key)
);

CREATE TABLE {schema}.mrr_daily (
    day date PRIMARY KEY,
    mrr_cents bigint NOT NULL,
    arr_cents bigint NOT NULL,
    paying_customers integer NOT NULL,
    new_cents bigint NOT NULL,
    expansion_cents bigint NOT NULL,
    contraction_cents bigint NOT NULL,
    churn_cents bigint NOT NULL,
    reactivation_cents bigint NOT NULL
);

CREATE TABLE {schema}.customer_mrr_monthly (
    month date NOT NULL,
    customer_id text NOT NULL,
    mrr_cents bigint NOT NULL,
    previous_mrr_cents bigint NOT NULL,
    movement text CHECK (movement IN ('new', 'expansion', 'contraction', 'churn', 'reactivation')),
    PRIMARY KEY (month, customer_id)
);

CREATE TABLE {schema}.mrr_monthly (
    month date PRIMARY KEY,
    mrr_cents bigint NOT NULL,
    arr_cents bigint NOT NULL,
    paying_customers integer NOT NULL,
    arpa_cents bigint,
    new_cents bigint NOT NULL,
    expansion_cents bigint NOT NULL,
    contraction_cents bigint NOT NULL,
    churn_cents bigint NOT NULL,
    reactivation_cents bigint NOT NULL,
    net_new_cents bigint NOT NULL,
    logo_churn_rate numeric,
    gross_mrr_churn_rate numeric,
    nrr numeric,
    grr numeric
);

CREATE TABLE {schema}.engagement_daily (
    day date PRIMARY KEY,
    dau integer NOT NULL,
    wau integer NOT NULL,
    mau integer NOT NULL,
    stickiness numeric,
    new_users integer NOT NULL,
    returning_users integer NOT NULL,
    resurrected_users integer NOT NULL,
    dormant_users integer NOT NULL
);

CREATE TABLE {schema}.account_engagement_daily (
    day date NOT NULL,
    customer_id text NOT NULL,
    active_users_7d integer NOT NULL,
    active_users_30d integer NOT NULL,
    events_7d integer NOT NULL,
    events_30d integer NOT NULL,
    features_used_30d integer NOT NULL,
    last_active_at timestamptz,
    PRIMARY KEY (day, customer_id)
);

CREATE TABLE {schema}.retention_cohorts (
    cohort_month date NOT NULL,
    months_since integer NOT NULL,
    cohort_size integer NOT NULL,
    retained integer NOT NULL,
    retention_rate numeric,
    PRIMARY KEY (cohort_month, months_since)
);

CREATE TABLE {schema}.feature_adoption (
    day date NOT NULL,
    feature text NOT NULL,
    accounts_30d integer NOT NULL,
    adoption_rate numeric,
    PRIMARY KEY (day, feature)
);

CREATE TABLE {schema}.churn_models (
    model_version text PRIMARY KEY,
    trained_at timestamptz NOT NULL,
    training_window daterange NOT NULL,
    metrics jsonb NOT NULL,
    artifact_uri text NOT NULL,
    is_champion boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX churn_models_one_champion ON {schema}.churn_models (is_champion) WHERE is_champion;

CREATE TABLE {schema}.churn_scores (
    day date NOT NULL,
    customer_id text NOT NULL,
    model_version text NOT NULL,
    churn_probability double precision NOT NULL,
    risk_band text NOT NULL CHECK (risk_band IN ('low', 'medium', 'high')),
    top_drivers jsonb NOT NULL,
    health_score integer NOT NULL CHECK (health_score BETWEEN 0 AND 100),
    PRIMARY KEY (day, customer_id)
);

CREATE TABLE {schema}.email_sends (
    idempotency_key text PRIMARY KEY,
    campaign text NOT NULL,
    user_id text NOT NULL,
    customer_id text NOT NULL,
    period_key text NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'suppressed', 'dry_run')),
    provider_message_id text,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);

CREATE TABLE {schema}.email_suppressions (
    email text PRIMARY KEY,
    reason text NOT NULL CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'manual')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {schema}.backups (
    backup_id text PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    uri text,
    bytes bigint,
    sha256 text,
    format text,
    server_version text,
    tables jsonb,
    status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed'))
);

CREATE TABLE {schema}.restore_drills (
    drill_id text PRIMARY KEY,
    backup_id text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    rto_seconds double precision,
    status text NOT NULL,
    checks jsonb,
    CHECK (status IN ('running', 'passed', 'failed'))
);
