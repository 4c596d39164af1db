-- churn_score's daily check of its champion (issue 23): how the scores whose horizon has closed turned out,
-- and how far the day's accounts have moved from the ones the model learned from.
CREATE TABLE {schema}.churn_model_health (
    day date NOT NULL,                    -- the day scored and checked
    model_version text NOT NULL,          -- the champion that scored it
    realised_day date NOT NULL,           -- the scored day judged: day − horizon, whose outcome is now known
    realised_model_versions text[],       -- the model(s) whose scores of realised_day are judged
    accounts integer,                     -- scored on realised_day
    churned integer,                      -- of them, churned within the horizon
    auc double precision,                 -- realised, of realised_day's scores (null without churned and kept)
    lift_top_decile double precision,
    calibration_error double precision,   -- count-weighted mean gap between predicted and observed, 10 bins
    calibration jsonb,                    -- those 10 bins
    auc_7d double precision,              -- mean realised AUC of the closed days in the 7 days to realised_day
    auc_30d double precision,             -- the same over 30 days
    churned_7d integer,                   -- churned accounts behind auc_7d (the AUC alert needs enough of them)
    psi jsonb NOT NULL,                   -- population stability per signal and for churn_probability
    top_signals text[] NOT NULL,          -- the champion's most important signals (their drift alerts)
    alerts jsonb NOT NULL DEFAULT '[]',   -- the conditions found, each with a key and a text
    recommendation text,
    checked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, model_version)
);
