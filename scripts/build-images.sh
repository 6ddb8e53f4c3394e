#!/usr/bin/env bash
# Build the images the compose stacks run, reusing every layer already built:
#   toxiclf-backend and toxiclf-frontend from this checkout (both Dockerfiles start with the
#   same dependency layers, so the second build takes them from the first), on a Python base,
#   plus the PostgreSQL and nginx images the stacks use.
#
# Base images come from a registry when one answers (python:3.11-slim-bookworm,
# postgres:15-bookworm, nginx:1.27-alpine) and are otherwise made here ("registry-less"; also
# for air-gapped hosts that reach a Debian mirror): Debian bookworm from Debian's packages
# (debootstrap, then `docker import`, with this host's CA bundle
# so TLS through the host's proxies verifies), then Python 3.11, PostgreSQL 15 and nginx on it
# from Debian's packages, with the official images' environment variables and templates
# (docker/local/*). An image that is already there is never pulled or built again.
#
# Prints the image names for compose on stdout (PYTHON_IMAGE=..., POSTGRES_IMAGE=...,
# NGINX_IMAGE=..., BACKEND_IMAGE=..., FRONTEND_IMAGE=...); progress goes to stderr.
#
#   IMAGE_MODE       auto (default: registry when it answers, else local), registry or local
#   BACKEND_IMAGE    tag of the backend image (toxiclf-backend:dev), FRONTEND_IMAGE likewise
#   NLTK_DATA_SRC    folder with NLTK data for the frontend image (default: $NLTK_DATA,
#                    ../shared/nltk_data, ~/nltk_data, /usr/share/nltk_data); what it lacks is
#                    downloaded during the build when the network allows
#   DEBIAN_MIRROR    Debian mirror for the local base (http://deb.debian.org/debian)
#   REBUILD_BASES=1  build the local base images again even if they exist
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT="$(pwd)"

IMAGE_MODE="${IMAGE_MODE:-auto}"
BACKEND_IMAGE="${BACKEND_IMAGE:-toxiclf-backend:dev}"
FRONTEND_IMAGE="${FRONTEND_IMAGE:-toxiclf-frontend:dev}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REGISTRY_PYTHON=python:3.11-slim-bookworm
REGISTRY_POSTGRES=postgres:15-bookworm
REGISTRY_NGINX=nginx:1.27-alpine
LOCAL_DEBIAN=toxiclf-local/debian:bookworm
LOCAL_PYTHON=toxiclf-local/python:3.11-bookworm
LOCAL_POSTGRES=toxiclf-local/postgres:15-bookworm
LOCAL_NGINX=toxiclf-local/nginx:1.22-bookworm
LOG_DIR="${BUILD_LOG_DIR:-$REPO_ROOT/var/build-logs}"
mkdir -p "$LOG_DIR"
# The classic builder: BuildKit would fetch its Dockerfile frontend from a registry, and the
# engine's BuildKit needs a buildx plugin that air-gapped hosts may not have.
export DOCKER_BUILDKIT=0

say() { printf '[build-images] %s\n' "$*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
seconds() { date +%s; }

# --- base images: present, pulled, or made here ---------------------------------------------
registry_state=unknown  # becomes up or down after the first pull attempt
pull() {
  [ "$IMAGE_MODE" = local ] && return 1
  [ "$registry_state" = down ] && return 1
  say "pulling $1"
  if timeout "${PULL_TIMEOUT_S:-60}" docker pull -q "$1" >/dev/null 2>"$LOG_DIR/pull.err"; then
    registry_state=up
    return 0
  fi
  say "no registry answers ($(tail -n 1 "$LOG_DIR/pull.err")): building base images locally"
  registry_state=down
  if [ "$IMAGE_MODE" = registry ]; then
    say "IMAGE_MODE=registry and $1 cannot be pulled"
    exit 1
  fi
  return 1
}

build_debian() {
  if have_image "$LOCAL_DEBIAN" && [ "${REBUILD_BASES:-0}" != 1 ]; then return; fi
  if [ "$(id -u)" != 0 ]; then
    say "making the Debian base needs root (debootstrap); run as root or pull from a registry"
    exit 1
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "no registry answers and debootstrap is missing: apt-get install -y debootstrap"
    exit 1
  fi
  local started rootfs
  started=$(seconds)
  rootfs="$(mktemp -d /tmp/toxiclf-rootfs.XXXXXX)"
  say "making $LOCAL_DEBIAN with debootstrap from $DEBIAN_MIRROR"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$DEBIAN_MIRROR" \
    >"$LOG_DIR/debian.log" 2>&1
  # This host's CA bundle, so TLS through its proxies verifies inside builds and containers;
  # kept in /usr/local/share/ca-certificates, it survives update-ca-certificates runs.
  if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/local/share/ca-certificates/host-bundle.crt"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  fi
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main
EOF
  # Like Debian's official images: no recommends, no caches left in layers.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log "$rootfs"/tmp/*
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$LOCAL_DEBIAN" >/dev/null
  rm -rf "$rootfs"
  say "$LOCAL_DEBIAN ready in $(($(seconds) - started)) s"
}

build_local() {  # build_local <image> <docker/local/ folder>
  if have_image "$1" && [ "${REBUILD_BASES:-0}" != 1 ]; then return; fi
  local started
  started=$(seconds)
  say "building $1 from Debian's packages"
  if ! docker build --network host --build-arg "DEBIAN_IMAGE=$LOCAL_DEBIAN" -t "$1" \
      "docker/local/$2" >"$LOG_DIR/$2.log" 2>&1; then
    tail -n 30 "$LOG_DIR/$2.log" >&2
    say "building $1 failed; whole log: $LOG_DIR/$2.log"
    return 1
  fi
  say "$1 ready in $(($(seconds) - started)) s"
}

choose() {  # choose <registry image> <local image> <docker/local/ folder>: prints the one used
  if [ "$IMAGE_MODE" != local ] && have_image "$1"; then echo "$1"; return; fi
  if [ "$IMAGE_MODE" = local ] || ! pull "$1"; then
    echo "$2"
    return
  fi
  echo "$1"
}

# --- NLTK data for the frontend image -------------------------------------------------------
stage_nltk_data() {
  local target="$REPO_ROOT/docker/nltk_data" source="${NLTK_DATA_SRC:-}"
  if [ -z "$source" ]; then
    for candidate in ${NLTK_DATA:+${NLTK_DATA//:/ }} "$REPO_ROOT/../shared/nltk_data" "$HOME/nltk_data" \
        /usr/share/nltk_data /usr/local/share/nltk_data; do
      if [ -d "$candidate" ]; then source="$candidate"; break; fi
    done
  fi
  find "$target" -mindepth 1 ! -name README.md -delete 2>/dev/null || true
  if [ -n "$source" ] && [ -d "$source" ]; then
    say "NLTK data for the frontend image from $source"
    cp -R "$source"/. "$target"/
  else
    say "no local NLTK data folder: the frontend build downloads it if the network allows"
  fi
}

# --- the app images -------------------------------------------------------------------------
build_app() {  # build_app <component> <tag> <python image>
  local started
  started=$(seconds)
  say "building $2"
  if ! docker build --network host --build-arg "PYTHON_IMAGE=$3" -f "$1/Dockerfile" -t "$2" . \
      >"$LOG_DIR/$1.log" 2>&1; then
    tail -n 30 "$LOG_DIR/$1.log" >&2
    say "building $2 failed; whole log: $LOG_DIR/$1.log"
    return 1
  fi
  say "$2 ready in $(($(seconds) - started)) s"
}

# In a function, read whole before it runs: editing this file mid-build cannot derail it.
main() {
  total_started=$(seconds)
  # Ask the registry once (choose runs in subshells): pull the first missing registry image.
  if [ "$IMAGE_MODE" != local ]; then
    for image in "$REGISTRY_PYTHON" "$REGISTRY_POSTGRES" "$REGISTRY_NGINX"; do
      if ! have_image "$image"; then
        pull "$image" || true
        break
      fi
    done
  fi
  python_image=$(choose "$REGISTRY_PYTHON" "$LOCAL_PYTHON" python)
  postgres_image=$(choose "$REGISTRY_POSTGRES" "$LOCAL_POSTGRES" postgres)
  nginx_image=$(choose "$REGISTRY_NGINX" "$LOCAL_NGINX" nginx)
  case "$python_image$postgres_image$nginx_image" in
    *toxiclf-local/*) build_debian ;;
  esac

  # PostgreSQL and nginx build beside the app images: they wait on the mirror, not the CPU.
  side_pids=()
  [ "$postgres_image" = "$LOCAL_POSTGRES" ] && { build_local "$LOCAL_POSTGRES" postgres & side_pids+=($!); }
  [ "$nginx_image" = "$LOCAL_NGINX" ] && { build_local "$LOCAL_NGINX" nginx & side_pids+=($!); }
  [ "$python_image" = "$LOCAL_PYTHON" ] && build_local "$LOCAL_PYTHON" python
  stage_nltk_data
  build_app backend "$BACKEND_IMAGE" "$python_image"
  build_app frontend "$FRONTEND_IMAGE" "$python_image"
  for pid in "${side_pids[@]}"; do wait "$pid"; done
  say "all images ready in $(($(seconds) - total_started)) s"

  echo "PYTHON_IMAGE=$python_image"
  echo "POSTGRES_IMAGE=$postgres_image"
  echo "NGINX_IMAGE=$nginx_image"
  echo "BACKEND_IMAGE=$BACKEND_IMAGE"
  echo "FRONTEND_IMAGE=$FRONTEND_IMAGE"
}

main "$@"
