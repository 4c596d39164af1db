"""saas_ops: the logic of the SaaS operations DAG pack. DAG files in dags/ only wire these modules together.

Module tops stay light (no pandas, scikit-learn or database drivers at import) because Airflow's DAG
processor imports the DAG files, and through them this package, on every parse.
"""
