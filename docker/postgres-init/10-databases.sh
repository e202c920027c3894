#!/usr/bin/env bash
# First start of an empty PostgreSQL data directory only (docker-entrypoint-initdb.d):
# two databases, each owned by its own login role, so a leaked application password does not
# open Airflow's metadata and the other way round. Passwords come from the environment
# (docker/.env), never from this file.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v resotrack_pw="$RESOTRACK_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE ROLE resotrack LOGIN PASSWORD :'resotrack_pw';
CREATE DATABASE airflow OWNER airflow ENCODING 'UTF8';
CREATE DATABASE resotrack OWNER resotrack ENCODING 'UTF8';
REVOKE ALL ON DATABASE airflow FROM PUBLIC;
REVOKE ALL ON DATABASE resotrack FROM PUBLIC;
SQL
