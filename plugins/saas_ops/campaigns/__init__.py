"""Re-engagement emails: audiences, rendering, recipients and unsubscribe, sending (DAG reengagement_campaigns)."""
