"""Product engagement: activity, lifecycle, retention cohorts, feature adoption (DAG saas_engagement)."""
