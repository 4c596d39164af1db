-- low_adoption: paying or trialing accounts at least 14 days old on the sending day (the day + 1) that used fewer
-- than %(min_features)s core features in the 30 days to the day. At most one a month per account (the key is the
-- sending month).
SELECT live.customer_id, NULL::text, to_char(%(send_day)s::date, 'YYYY-MM'),
       jsonb_build_object(
           'features_used', coalesce(e.features_used_30d, 0),
           'features_total', cardinality(%(features)s::text[]),
           'min_features', %(min_features)s,
           'account_age_days', %(send_day)s::date - c.created_at::date,
           'unused_features', ARRAY(
               SELECT f FROM unnest(%(features)s::text[]) WITH ORDINALITY AS core(f, n)
               WHERE NOT EXISTS (SELECT 1 FROM {schema}.account_feature_daily a
                                 WHERE a.customer_id = live.customer_id AND a.feature = core.f
                                   AND a.day > %(day)s::date - 30 AND a.day <= %(day)s)
               ORDER BY core.n LIMIT 3))
FROM camp_live_accounts live
JOIN camp_customers c ON c.customer_id = live.customer_id
LEFT JOIN {schema}.account_engagement_daily e ON e.day = %(day)s AND e.customer_id = live.customer_id
WHERE c.created_at::date <= %(send_day)s::date - 14
  AND coalesce(e.features_used_30d, 0) < %(min_features)s
