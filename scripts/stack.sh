#!/usr/bin/env bash
# The development stack behind nginx, in one command (infra-dev/docker-compose.yml):
#
#   ./scripts/stack.sh up      build the images (reusing built layers), start PostgreSQL, the
#                              backend replicas, the frontend and nginx, wait until every
#                              replica is ready, print the URL; exits non-zero if it is not
#   ./scripts/stack.sh down    stop and remove the containers; the volumes (database, datasets,
#                              models, logs) stay for the next `up`
#   ./scripts/stack.sh logs [-f] [service...]   the containers' logs
#   ./scripts/stack.sh ps      the containers and their health
#   ./scripts/stack.sh build   only build the images
#
# Settings (environment):
#   STACK_PORT          port on this host where nginx answers (8080)
#   BACKEND_REPLICAS    backend replicas (2)
#   STACK_PROJECT       compose project name, the prefix of containers and volumes (toxiclf-dev)
#   STACK_ENV_FILE      compose env file (infra-dev/.env; made from .env.dev.template with a
#                       random POSTGRES_PASSWORD when missing)
#   STACK_TIMEOUT_S     how long `up` waits for the stack to be ready (900)
#   IMAGE_MODE, NLTK_DATA_SRC, ...   see scripts/build-images.sh
# Without Docker, as root, scripts/docker-setup.sh installs it and starts the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT="$(pwd)"

COMPOSE_FILE="$REPO_ROOT/infra-dev/docker-compose.yml"
STACK_PORT="${STACK_PORT:-8080}"
STACK_PROJECT="${STACK_PROJECT:-toxiclf-dev}"
STACK_ENV_FILE="${STACK_ENV_FILE:-$REPO_ROOT/infra-dev/.env}"
STACK_TIMEOUT_S="${STACK_TIMEOUT_S:-900}"
URL="http://127.0.0.1:$STACK_PORT"

say() { printf '[stack] %s\n' "$*" >&2; }
compose() {
  HTTP_PORT="$STACK_PORT" docker compose -p "$STACK_PROJECT" -f "$COMPOSE_FILE" \
    --env-file "$STACK_ENV_FILE" "$@"
}

ensure_docker() {
  if ! docker info >/dev/null 2>&1 || ! docker compose version >/dev/null 2>&1; then
    bash "$REPO_ROOT/scripts/docker-setup.sh"
  fi
}

ensure_env_file() {
  if [ ! -f "$STACK_ENV_FILE" ]; then
    say "making $STACK_ENV_FILE from infra-dev/.env.dev.template"
    mkdir -p "$(dirname "$STACK_ENV_FILE")"
    (umask 077 && cp "$REPO_ROOT/infra-dev/.env.dev.template" "$STACK_ENV_FILE")
  fi
  if grep -q '^POSTGRES_PASSWORD=$' "$STACK_ENV_FILE"; then
    local password
    password="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
    sed -i "s/^POSTGRES_PASSWORD=\$/POSTGRES_PASSWORD=$password/" "$STACK_ENV_FILE"
  fi
}

set_env_value() {  # set_env_value NAME VALUE: in the env file, replacing or adding the line
  if grep -q "^$1=" "$STACK_ENV_FILE"; then
    sed -i "s|^$1=.*|$1=$2|" "$STACK_ENV_FILE"
  else
    printf '%s=%s\n' "$1" "$2" >>"$STACK_ENV_FILE"
  fi
}

build() {
  local assignments
  assignments="$(bash "$REPO_ROOT/scripts/build-images.sh")"
  # PYTHON_IMAGE, POSTGRES_IMAGE, NGINX_IMAGE: what build-images.sh pulled or made. Kept in
  # the env file too, so plain `docker compose --env-file ...` commands use the same images.
  while IFS='=' read -r name value; do
    case "$name" in
      PYTHON_IMAGE|POSTGRES_IMAGE|NGINX_IMAGE)
        export "$name=$value"
        [ -f "$STACK_ENV_FILE" ] && set_env_value "$name" "$value"
        ;;
    esac
  done <<<"$assignments"
}

ready_everywhere() {
  # Through nginx first, then each replica in its own container (nginx picks one at random).
  python3 - "$URL" 2>/dev/null <<'EOF' || return 1
import sys, urllib.request
for path in ("/nginx-health", "/ready", "/"):
    with urllib.request.urlopen(sys.argv[1] + path, timeout=5) as response:
        assert response.status == 200, (path, response.status)
EOF
  local replicas index
  replicas="$(compose ps -q backend | wc -l)"
  [ "$replicas" -ge 1 ] || return 1
  for index in $(seq 1 "$replicas"); do
    compose exec -T --index "$index" backend python -c \
      "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)" \
      >/dev/null 2>&1 || return 1
  done
}

up() {
  ensure_docker
  ensure_env_file
  set_env_value HTTP_PORT "$STACK_PORT"  # plain compose commands then keep nginx's port
  build
  local started
  started=$(date +%s)
  say "starting $STACK_PROJECT on port $STACK_PORT"
  if ! compose up -d --no-build --wait --wait-timeout "$STACK_TIMEOUT_S" >&2; then
    compose ps -a >&2 || true
    compose logs --tail=40 >&2 || true
    say "the stack did not become healthy"
    exit 1
  fi
  local deadline=$((started + STACK_TIMEOUT_S))
  until ready_everywhere; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      compose ps -a >&2 || true
      compose logs --tail=40 backend >&2 || true
      say "the backends did not become ready within ${STACK_TIMEOUT_S}s"
      exit 1
    fi
    sleep 1
  done
  say "ready in $(($(date +%s) - started)) s"
  echo "$URL"
}

# In a function, read whole before it runs: editing this file meanwhile cannot derail it.
main() {
  local command="${1:-}"
  [ $# -gt 0 ] && shift
  case "$command" in
    up) up ;;
    down)
      ensure_docker
      [ -f "$STACK_ENV_FILE" ] || ensure_env_file
      compose down "$@"
      ;;
    logs)
      [ -f "$STACK_ENV_FILE" ] || ensure_env_file
      compose logs --tail="${LOG_TAIL:-200}" "$@"
      ;;
    ps)
      [ -f "$STACK_ENV_FILE" ] || ensure_env_file
      compose ps -a "$@"
      ;;
    build)
      ensure_docker
      build
      ;;
    *)
      echo "usage: $0 up|down|logs [-f] [service...]|ps|build" >&2
      exit 2
      ;;
  esac
}

main "$@"
