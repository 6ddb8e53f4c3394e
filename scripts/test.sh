#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite:
#   Debian packages (nginx, chromium, postgresql) when run as root and missing,
#   the project with its dev extra, a PostgreSQL server for the PostgreSQL half of the suite,
#   Docker and the stack's images for the container tests (scripts/docker-setup.sh,
#   scripts/build-images.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pg_lsclusters >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
  else
    echo "missing system packages: ${need[*]}; run: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[dev]"

if [ -z "${TEST_POSTGRES_ADMIN_URL:-}" ]; then
  TEST_POSTGRES_ADMIN_URL="$(bash scripts/start-test-postgres.sh)"
  export TEST_POSTGRES_ADMIN_URL
fi
if [ -z "${NLTK_DATA:-}" ] && [ -d ../shared/nltk_data ]; then
  NLTK_DATA="$(cd ../shared/nltk_data && pwd)"
  export NLTK_DATA
fi
# Container tests (tests/containers): Docker (engine, compose plugin, debootstrap) and the
# images. A cold image build takes minutes, so it runs in the background while the rest of the
# suite does; the container tests run last and first wait for it (IMAGE_BUILD_DONE_FILE gets
# the build's exit status). Done for the whole suite, or when the arguments name them.
if [ $# -eq 0 ] || [[ " $* " == *containers* ]]; then
  containers_started=$(date +%s)
  if bash scripts/docker-setup.sh; then
    # Only a daemon that docker-setup.sh started itself (its recorded pid) is stopped again.
    trap 'bash scripts/docker-setup.sh stop' EXIT
    mkdir -p var/build-logs
    IMAGE_BUILD_DONE_FILE="$(pwd)/var/build-logs/background-build.status"
    export IMAGE_BUILD_DONE_FILE
    rm -f "$IMAGE_BUILD_DONE_FILE"
    (
      started=$(date +%s)
      status=0
      bash scripts/build-images.sh >/dev/null 2>var/build-logs/background-build.err || status=$?
      echo "image build (background): exit $status after $(($(date +%s) - started)) s" >&2
      echo "$status" >"$IMAGE_BUILD_DONE_FILE"
    ) &
  else
    echo "Docker is not usable here; the container tests will fail and say why" >&2
  fi
  echo "container setup (Docker; images building in the background): $(($(date +%s) - containers_started)) s" >&2
fi
# Static gates first: they answer in seconds, the suite in tens of minutes.
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy --strict backend toxiclf_logging toxiclf_csv
python3 -m mypy frontend
# The default run includes the slow reliability cases (1,000+ fuzz cases, the 60 s load test);
# with arguments, pytest gets exactly those (e.g. `-k datasets`, or `-m "not slow"`).
if [ $# -eq 0 ]; then
  set -- -m "slow or not slow"
fi
python3 -m pytest -q "$@"
