#!/bin/sh
# Starts dockerd inside the container, listening on loopback only: with the course container sharing
# this container's network namespace, nothing else can reach it. Then loads the course's base
# images from /bases/*.tar (made with `docker save`; for classrooms without a registry).
set -eu

cgroups() {
  if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    # cgroup v2: move ourselves out of the root so that dockerd may enable controllers for children
    mkdir -p /sys/fs/cgroup/init
    xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
    sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control || true
  elif ! touch /sys/fs/cgroup/memory/.dockerlab 2>/dev/null; then
    # cgroup v1 without --privileged: the container's hierarchies are read-only; mount them again
    # read-write (needs a private cgroup namespace, CAP_SYS_ADMIN and no AppArmor confinement). The
    # old mounts are taken away, not covered: runc finds hierarchies in /proc/self/mountinfo.
    hierarchies=$(grep ' - cgroup ' /proc/self/mountinfo | awk '$5 ~ "^/sys/fs/cgroup/" {print substr($5, 16)}')
    for name in $hierarchies; do umount -l "/sys/fs/cgroup/$name"; done
    umount -l /sys/fs/cgroup
    mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
    for name in $hierarchies; do
      mkdir -p "/sys/fs/cgroup/$name"
      case "$name" in systemd) options=none,name=systemd ;; *) options=$name ;; esac
      mount -t cgroup -o "$options" cgroup "/sys/fs/cgroup/$name"
    done
  fi
}

load_bases() {
  for tar in /bases/*.tar; do
    [ -e "$tar" ] || continue
    docker load -q -i "$tar" || echo "start-engine: could not load $tar" >&2
  done
}

rm -f /run/dockerlab-engine-ready /var/run/docker.pid
cgroups
dockerd --host=unix:///var/run/docker.sock --host=tcp://127.0.0.1:2375 "$@" &
engine=$!
trap 'kill -TERM "$engine" 2>/dev/null' TERM INT
tries=0
until docker version >/dev/null 2>&1; do
  kill -0 "$engine" 2>/dev/null || { echo "start-engine: dockerd exited" >&2; exit 1; }
  tries=$((tries + 1)); [ "$tries" -lt 600 ] || { echo "start-engine: dockerd did not answer in 60 s" >&2; exit 1; }
  sleep 0.1
done
load_bases
touch /run/dockerlab-engine-ready
echo "start-engine: ready"
while kill -0 "$engine" 2>/dev/null; do wait "$engine" || true; done  # a signal ends one wait, not dockerd
