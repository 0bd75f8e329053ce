#!/usr/bin/env bash
# An engine of another Debian release, run as Docker-in-Docker beside the host's engine: what the
# engine matrix (tests/matrix) grades on. Debian's own packages of that release (docker.io,
# docker-cli, docker-buildx, containerd, runc), installed by debootstrap and imported as IMAGE,
# started by docker/learner-engine/start-engine.sh. Needs root, debootstrap and a docker CLI.
# Usage: make-engine.sh SUITE IMAGE        e.g. make-engine.sh trixie dockerlab/matrix-engine:trixie
set -euo pipefail
suite=$1
image=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /var/tmp/dockerlab-engine-XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
packages=ca-certificates,iptables,docker.io,docker-cli,docker-buildx,containerd,runc
# debootstrap checks the release's signature, not its Valid-Until date (sid's can be past it here)
debootstrap --variant=minbase --include="$packages" "$suite" "$root" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2; echo "make-engine: debootstrap $suite failed" >&2; exit 1; }
install -m 755 "$here/../learner-engine/start-engine.sh" "$root/usr/local/bin/start-engine"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man
version=$(chroot "$root" dpkg-query -W -f '${Version}' docker.io)
tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENTRYPOINT ["start-engine"]' --change 'VOLUME /var/lib/docker' \
  --change "LABEL org.dockerlab.matrix-engine=$suite org.dockerlab.matrix-engine.version=$version" - "$image" >/dev/null
echo "$image: Debian $suite's docker.io $version"
