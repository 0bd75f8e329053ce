#!/usr/bin/env bash
# The first score on a machine with nothing installed: a Debian 12 container that has only Python 3,
# venv and git (as the reference machine has before set-up), a fresh clone of this checkout's HEAD,
# then `./dev grade`: the engine installed and started inside it (Docker-in-Docker), the venv made,
# Lab 01's base images made (offline: their stand-ins), and the reference graded. Each line of its
# output is printed with the seconds since the clone began; the last line is the total.
#   benchmarks/first_score.sh
# Needs a local engine with debian:bookworm-slim (`dockerlab images prepare`) and root. The host's pip
# and apt configuration, and the local folders they name, are lent read-only, so the container
# installs from where this machine does.
set -euo pipefail
cd "$(dirname "$0")/.."
name=dockerlab-first-score
work=/var/tmp/dockerlab-first-score
docker rm -f "$name" >/dev/null 2>&1 || true
rm -rf "$work" && mkdir -p "$work/docker"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
lent=()
for path in /etc/pip.conf "$HOME/.config/pip" /etc/apt/sources.list.d/debian.sources; do
  [ -e "$path" ] && lent+=(-v "$path:${path/#$HOME//root}:ro")
done
for folder in $(cat /etc/pip.conf "$HOME/.config/pip/pip.conf" 2>/dev/null | grep -oE '/opt/[A-Za-z0-9._-]+' | sort -u); do
  [ -d "$folder" ] && lent+=(-v "$folder:$folder:ro")
done
# the engine inside needs what the matrix engines get (tests/matrix/engines.py), not --privileged
docker run -d --name "$name" --label org.dockerlab.test.first-score=1 --cgroupns private \
  --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --security-opt systempaths=unconfined -v "$work/docker:/var/lib/docker" -v "$PWD:/src:ro" \
  -v /etc/ssl/certs/ca-certificates.crt:/host-ca.crt:ro "${lent[@]}" debian:bookworm-slim sleep infinity >/dev/null
echo "preparing the machine: Python 3, venv and git (not timed)" >&2
docker exec "$name" bash -c 'rm -f /etc/apt/sources.list.d/debian.sources.dpkg-dist; apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv git ca-certificates >/dev/null \
  && cp /host-ca.crt /etc/ssl/certs/ca-certificates.crt && git config --global --add safe.directory "*"'
# a container's cgroup v1 hierarchies are read-only: mounted again, as docker/learner-engine/start-engine.sh does
docker exec "$name" bash -c '[ -e /sys/fs/cgroup/cgroup.controllers ] && exit 0
  h=$(grep " - cgroup " /proc/self/mountinfo | awk "\$5 ~ \"^/sys/fs/cgroup/\" {print substr(\$5, 16)}")
  for n in $h; do umount -l "/sys/fs/cgroup/$n"; done; umount -l /sys/fs/cgroup
  mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
  for n in $h; do mkdir -p "/sys/fs/cgroup/$n"; case $n in systemd) o=none,name=systemd;; *) o=$n;; esac
    mount -t cgroup -o "$o" cgroup "/sys/fs/cgroup/$n"; done'
docker exec "$name" bash -c 'start=$(date +%s.%N)
  since() { python3 -c "import time; print(f\"{time.time() - $start:7.1f}\")"; }
  cd /root && git clone -q /src dockerlab && cd dockerlab
  ./dev grade 2>&1 | while IFS= read -r line; do echo "$(since) $line"; done
  echo "first score: $(since) s from the clone"'
