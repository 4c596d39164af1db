# The pack on the official Airflow image, with exactly the locked dependencies.
# Build: docker build --build-arg PG_MAJOR=16 -t saas-ops-airflow .  (PG_MAJOR: saas_db's major version)
FROM apache/airflow:3.3.2-python3.12

# db_backup and db_restore_drill need pg_dump/pg_restore of the dumped server's major version (an older
# pg_dump cannot dump a newer server; a newer one writes archives an older pg_restore cannot read), and a
# physical drill starts a scratch server of that major (postgresql-<major>: postgres, pg_ctl): set
# PG_MAJOR to your saas_db's (`SHOW server_version`). From the PostgreSQL project's apt repository, which
# carries every supported major for this Debian release. They land in /usr/lib/postgresql/<major>/bin,
# where the pack looks first.
ARG PG_MAJOR=16
USER root
# pipefail: a failed download of the signing key must fail the build, not feed gpg nothing. gnupg and file stay:
# Barman encrypts the local archive with gpg and tells encrypted files by `file`.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg file \
 && curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc | gpg --dearmor -o /usr/share/keyrings/pgdg.gpg \
 && echo "deb [signed-by=/usr/share/keyrings/pgdg.gpg] https://apt.postgresql.org/pub/repos/apt $(. /etc/os-release && echo "$VERSION_CODENAME")-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" "postgresql-${PG_MAJOR}" \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

# Airflow's own image already holds apache-airflow 3.3.2; the lock pins the same version, so pip keeps
# it and adds the providers, pandas, scikit-learn, Barman and the rest at the versions CI tested. --no-deps:
# the lock is complete, and it leaves out psycopg2 (Barman's declared source build; psycopg2-binary serves).
COPY --chown=airflow:0 requirements.lock /requirements.lock
RUN pip install --no-cache-dir --no-deps -r /requirements.lock

# Same layout as the repository: Airflow imports `saas_ops` from plugins/ (on its sys.path), and the
# package finds include/ beside plugins/ through SAAS_OPS_HOME.
ENV SAAS_OPS_HOME=/opt/airflow
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 include/ /opt/airflow/include/
