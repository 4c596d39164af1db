"""The assets that chain the pack's DAGs, declared once (MRR and engagement -> scoring -> campaigns;
backup -> drill)."""

from airflow.sdk import Asset

MRR = Asset(name="saas_ops.mrr", uri="saas-ops://warehouse/mrr")
ENGAGEMENT = Asset(name="saas_ops.engagement", uri="saas-ops://warehouse/engagement")
CHURN_SCORES = Asset(name="saas_ops.churn_scores", uri="saas-ops://warehouse/churn_scores")
BACKUP = Asset(name="saas_ops.backup", uri="saas-ops://storage/backups")
