"""Development tooling, not deployed: the embedded PostgreSQL, the demo and its data, a local Airflow."""
