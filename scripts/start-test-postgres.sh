#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster and make a superuser role for the test suite.
# Prints the admin URL the tests use to create one database per test server.
set -euo pipefail

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "PostgreSQL is not installed: apt-get install -y postgresql" >&2
  exit 1
fi
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_createcluster "$version" main >/dev/null
  cluster="$version main"
fi
# shellcheck disable=SC2086
pg_ctlcluster $cluster start >/dev/null 2>&1 || true  # it prints "already running" to stdout
port=$(pg_lsclusters --no-header | awk 'NR==1 {print $3}')
for _ in $(seq 1 30); do
  su postgres -c "psql -p $port -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $port -qtAc \"DO \\\$\\\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'toxiclf_test') THEN
    CREATE ROLE toxiclf_test LOGIN SUPERUSER PASSWORD 'toxiclf_test';
  END IF; END \\\$\\\$;\"" >/dev/null
echo "postgresql+psycopg://toxiclf_test:toxiclf_test@127.0.0.1:$port/postgres"
