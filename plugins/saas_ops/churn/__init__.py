"""Churn: point-in-time features, the model, training and scoring (DAGs churn_train, churn_score)."""
