-- reengagement_campaigns beside the SPEC columns (added by issue 6): the outbox's bookkeeping.
--   day        the closing day of the run that queued the email (frequency cap, per-run cap, reports)
--   variables  the figures the email is rendered with (no address: the address is read from saas_db when
--              it is sent, so an opt-out in between still counts)
--   batch_key  the Idempotency-Key of the Resend batch the email was first sent in. Written before the
--              request, so a run killed mid-request resends exactly that batch under the same key.
ALTER TABLE {schema}.email_sends
    ADD COLUMN day date,
    ADD COLUMN run_id text,
    ADD COLUMN variables jsonb,
    ADD COLUMN batch_key text,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN first_attempt_at timestamptz,
    ADD COLUMN last_attempt_at timestamptz;

CREATE INDEX email_sends_user_day_idx ON {schema}.email_sends (user_id, day);
CREATE INDEX email_sends_day_campaign_idx ON {schema}.email_sends (day, campaign);
CREATE INDEX email_sends_pending_idx ON {schema}.email_sends (batch_key, idempotency_key)
    WHERE status IN ('queued', 'failed');
