"""The assets that chain the pack's DAGs, declared once (MRR and engagement -> scoring -> campaigns;
scoring's model-health check -> retraining; backup -> drill).

Names only: an Asset with a URI scheme makes Airflow discover every provider to normalise it at each parse
of a DAG file.
"""

from airflow.sdk import Asset

MRR = Asset(name="saas_ops.mrr")
ENGAGEMENT = Asset(name="saas_ops.engagement")
CHURN_SCORES = Asset(name="saas_ops.churn_scores")
CHURN_RETRAIN = Asset(name="saas_ops.churn_retrain_requested")  # the model-health check asks churn_train to run
BACKUP = Asset(name="saas_ops.backup")
