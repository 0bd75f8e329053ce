#!/usr/bin/env bash
# Make sure a Docker engine answers. Honours DOCKER_HOST. On Debian or Ubuntu as root, installs
# Debian's docker.io (and debootstrap, for offline base images) and starts dockerd when needed.
# Idempotent: returns at once when an engine already answers.
set -euo pipefail

log=/var/log/dockerlab-dockerd.log

answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

explain() {
  cat >&2 <<MSG
dockerlab: no Docker engine answers${DOCKER_HOST:+ at DOCKER_HOST=$DOCKER_HOST}.
  $1
  Install Docker Engine (Linux: your distribution's docker.io package, or Docker's own packages;
  macOS/Windows: Docker Desktop), start it, check that 'docker version' shows a Server section,
  then run this command again.
MSG
  exit 1
}

is_debian() { [ -r /etc/os-release ] && grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release; }

apt_install() {
  local apt_log=/var/log/dockerlab-apt.log
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    explain "apt-get could not install $* (its log is above, and in $apt_log)."
  fi
}

# Tools the offline base images need; cheap to check every time.
if is_debian && [ "$(id -u)" = 0 ] && ! command -v debootstrap >/dev/null; then
  echo "dockerlab: installing debootstrap (for offline base images)" >&2
  apt_install debootstrap
fi
# A static busybox: the grader's own tools for looking inside images that have no shell (distroless)
if is_debian && [ "$(id -u)" = 0 ] && [ ! -x /bin/busybox ]; then
  echo "dockerlab: installing busybox-static (to look inside shell-less images)" >&2
  apt_install busybox-static
fi

if answers; then exit 0; fi

case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
  unix:///var/run/docker.sock) ;;
  *) explain "DOCKER_HOST points at another engine; this script only starts a local one." ;;
esac
[ "$(id -u)" = 0 ] || explain "Starting an engine needs root (try: sudo $0), or ask your administrator."

if ! command -v dockerd >/dev/null; then
  is_debian || explain "This machine is not Debian or Ubuntu, so the engine is not installed automatically."
  echo "dockerlab: installing Debian's docker.io" >&2
  apt_install docker.io ca-certificates iptables
fi

echo "dockerlab: starting dockerd (log: $log)" >&2
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl start docker || true
fi
if ! answers; then
  setsid dockerd >"$log" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  answers && exit 0
  sleep 0.5
done
tail -n 20 "$log" >&2 || true
explain "dockerd was started but did not answer within 30 s; its log is above."
