-- Feature adoption on the last day built, most used first.
SELECT feature, accounts_30d, adoption_rate::float
FROM {schema}.feature_adoption
WHERE day = (SELECT max(day) FROM {schema}.feature_adoption)
ORDER BY accounts_30d DESC, feature
