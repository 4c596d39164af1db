# The pack on the official Airflow image, with exactly the locked dependencies.
# Build: docker build -t saas-ops-airflow .
FROM apache/airflow:3.3.2-python3.12

# Airflow's own image already holds apache-airflow 3.3.2; the lock pins the same version, so pip keeps
# it and adds the providers, pandas, scikit-learn and the rest at the versions CI tested.
COPY --chown=airflow:0 requirements.lock /requirements.lock
RUN pip install --no-cache-dir -r /requirements.lock

# Same layout as the repository: Airflow imports `saas_ops` from plugins/ (on its sys.path), and the
# package finds include/ beside plugins/ through SAAS_OPS_HOME.
ENV SAAS_OPS_HOME=/opt/airflow
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 include/ /opt/airflow/include/
