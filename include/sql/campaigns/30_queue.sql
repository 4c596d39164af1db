-- Turns camp_candidates into email_sends rows, in one statement per step:
-- 1. each candidate's recipient (an account-level candidate goes to the account's first user) and, when it
--    must not be sent, why: opted out, or what campaigns.check_recipients found (on the suppression list, no
--    usable address, a name that may not go into an email);
-- 2. suppressed candidates are recorded as `suppressed` with the reason (a later run that finds the reason
--    gone, the source fixed or the user opted in again, queues the key after all);
-- 3. of the rest, a user already emailed (queued, sent, dry-run or failed) in the last %(cap_days)s days is
--    skipped, a user with several candidates gets the one of the highest priority, and at most %(run_cap)s
--    emails are queued per day (counting what a previous run of the same day queued, so a rerun adds
--    nothing). Skipped candidates are not recorded: they come back while their campaign still applies.
-- 4. each queued recipient is assigned an arm by assignment_bucket(campaign, user, salt): below
--    %(holdout_share)s it is held out (status `holdout`, never emailed). Suppressions and both caps come first,
--    so the arms are alike; a holdout counts for the frequency cap like an email. The rest of the same bucket,
--    stretched over [0, 1), picks the recipient's variant (CAMPAIGN_VARIANTS; `default` beyond their shares).
CREATE TEMP TABLE camp_resolved ON COMMIT DROP AS
WITH first_user AS (
    SELECT DISTINCT ON (customer_id) customer_id, user_id
    FROM camp_users
    ORDER BY customer_id, created_at, user_id
)
SELECT c.campaign, array_position(%(priority)s::text[], c.campaign) AS priority, c.customer_id, u.user_id,
       c.period_key, c.campaign || ':' || u.user_id || ':' || c.period_key AS idempotency_key,
       c.facts || jsonb_build_object('first_name', nullif(split_part(btrim(u.name), ' ', 1), ''),
                                     'account_name', coalesce(cu.name, c.customer_id), 'owner_name', cu.account_owner_name) AS variables,
       CASE WHEN u.email_opt_out THEN 'opted out (users.email_opt_out)'
            ELSE coalesce(u.unusable, cu.unusable)
       END AS suppressed_because
FROM camp_candidates c
LEFT JOIN first_user f ON c.user_id IS NULL AND f.customer_id = c.customer_id
JOIN camp_users u ON u.user_id = coalesce(c.user_id, f.user_id)
LEFT JOIN camp_customers cu ON cu.customer_id = c.customer_id;

INSERT INTO {schema}.email_sends AS e (idempotency_key, campaign, user_id, customer_id, period_key, status, error,
                                       day, run_id, variables)
SELECT idempotency_key, campaign, user_id, customer_id, period_key, 'suppressed', suppressed_because, %(day)s,
       %(run_id)s, variables
FROM camp_resolved
WHERE suppressed_because IS NOT NULL
ON CONFLICT (idempotency_key) DO UPDATE SET error = excluded.error, variables = excluded.variables
    WHERE e.status = 'suppressed';

WITH eligible AS (
    SELECT DISTINCT ON (r.user_id) r.*
    FROM camp_resolved r
    WHERE r.suppressed_because IS NULL
      AND NOT EXISTS (SELECT 1 FROM {schema}.email_sends e
                      WHERE e.idempotency_key = r.idempotency_key AND e.status <> 'suppressed')
      AND NOT EXISTS (SELECT 1 FROM {schema}.email_sends e
                      WHERE e.user_id = r.user_id AND e.status <> 'suppressed'
                        AND e.day > %(day)s::date - %(cap_days)s AND e.day <= %(day)s)
    ORDER BY r.user_id, r.priority, r.idempotency_key
), room AS (
    SELECT greatest(%(run_cap)s - count(*), 0) AS n
    FROM {schema}.email_sends WHERE day = %(day)s AND status <> 'suppressed'
)
INSERT INTO {schema}.email_sends AS e (idempotency_key, campaign, user_id, customer_id, period_key, status, day,
                                       run_id, variables, arm, variant)
SELECT idempotency_key, campaign, user_id, customer_id, period_key,
       CASE WHEN held_out THEN 'holdout' ELSE 'queued' END, %(day)s, %(run_id)s, variables,
       CASE WHEN held_out THEN 'holdout' ELSE 'treatment' END,
       CASE WHEN held_out THEN 'default' ELSE coalesce(
           (SELECT v.name
            FROM unnest(%(variant_campaigns)s::text[], %(variant_names)s::text[], %(variant_upper)s::float8[])
                 AS v(campaign, name, upper)
            WHERE v.campaign = chosen.campaign
              AND (chosen.bucket - %(holdout_share)s) / (1 - %(holdout_share)s) < v.upper
            ORDER BY v.upper LIMIT 1), 'default') END
FROM (SELECT *, bucket < %(holdout_share)s AS held_out
      FROM (SELECT *, {schema}.assignment_bucket(campaign, user_id, %(salt)s) AS bucket
            FROM eligible
            ORDER BY priority, customer_id, user_id
            LIMIT (SELECT n FROM room)) capped) chosen
ON CONFLICT (idempotency_key) DO UPDATE SET status = excluded.status, error = NULL, day = excluded.day,
    run_id = excluded.run_id, variables = excluded.variables, created_at = now(), arm = excluded.arm,
    variant = excluded.variant
    WHERE e.status = 'suppressed';
