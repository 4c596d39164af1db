"""Revenue: MRR, its movements and the revenue summary (DAG saas_mrr)."""
