-- churn_train / churn_score beside the SPEC columns (added by issue 5).

-- What a training run decided and why, and what loading an artifact checks (its SHA-256 and the
-- scikit-learn version that wrote it). `evaluation_window` is the held-out observation dates.
ALTER TABLE {schema}.churn_models
    ADD COLUMN status text NOT NULL DEFAULT 'challenger' CHECK (status IN ('champion', 'challenger', 'retired')),
    ADD COLUMN decision text,
    ADD COLUMN evaluation_window daterange,
    ADD COLUMN horizon_days integer,
    ADD COLUMN artifact_sha256 text,
    ADD COLUMN sklearn_version text,
    ADD COLUMN card_uri text;

-- The MRR at risk behind a score: the account's MRR on the scored day.
ALTER TABLE {schema}.churn_scores ADD COLUMN mrr_cents bigint;
CREATE INDEX churn_scores_band_idx ON {schema}.churn_scores (day, risk_band);
