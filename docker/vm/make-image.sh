#!/usr/bin/env bash
# A small Debian VM that proves the build sandbox where most instructors grade: cgroup v2 with
# systemd's cgroup driver, Debian trixie's kernel and Engine (docker.io, docker-cli, docker-buildx),
# and Python's Docker SDK, from Debian's packages alone. It writes, into OUT:
#   vmlinuz, initrd.img   trixie's kernel and initrd (booted by qemu, KVM or not)
#   rootfs.img            an ext4 root file system, used read-only as the base of a throwaway overlay
# At boot the VM mounts two 9p shares, `src` (read-only) and `out` (writable), runs out/run.sh,
# writes out/rc and powers off: tests/vm/ drives it. Needs root, debootstrap and e2fsprogs.
# Usage: make-image.sh OUT [SUITE]
set -euo pipefail
out=$1
suite=${2:-trixie}
mkdir -p "$out"
work=$(mktemp -d /var/tmp/dockerlab-vm-XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

packages=systemd-sysv,udev,dbus,kmod,iproute2,iptables,ca-certificates,e2fsprogs
packages+=,linux-image-amd64,initramfs-tools
packages+=,docker.io,docker-cli,docker-buildx,containerd,runc
packages+=,python3,python3-docker,busybox-static
debootstrap --variant=minbase --include="$packages" "$suite" "$root" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2; echo "make-image: debootstrap $suite failed" >&2; exit 1; }

echo dockerlab-vm >"$root/etc/hostname"
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$root/etc/fstab"
mkdir -p "$root/etc/docker" "$root/src" "$root/out"
# systemd's driver is the default on cgroup v2; written down so that the VM proves that driver
cat >"$root/etc/docker/daemon.json" <<'JSON'
{"exec-opts": ["native.cgroupdriver=systemd"], "storage-driver": "overlay2"}
JSON
cat >"$root/usr/local/sbin/dockerlab-vm-run" <<'SH'
#!/bin/sh
# Mount the shares, wait for the engine, run out/run.sh, keep its exit code, power off.
mount -t 9p -o trans=virtio,version=9p2000.L,ro src /src
mount -t 9p -o trans=virtio,version=9p2000.L out /out
i=0
until docker info >/dev/null 2>&1 || [ $i -ge 300 ]; do sleep 1; i=$((i + 1)); done
sh /out/run.sh >/out/log 2>&1
echo $? >/out/rc
sync
systemctl poweroff
SH
chmod 755 "$root/usr/local/sbin/dockerlab-vm-run"
cat >"$root/etc/systemd/system/dockerlab-vm-run.service" <<'UNIT'
[Unit]
Description=dockerlab: run out/run.sh, then power off
After=docker.service
Wants=docker.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/dockerlab-vm-run
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/dockerlab-vm-run.service "$root/etc/systemd/system/multi-user.target.wants/dockerlab-vm-run.service"
# nothing to wait for at boot that a VM without a network has
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

cp "$(ls "$root"/boot/vmlinuz-* | sort | tail -n 1)" "$out/vmlinuz.new"
cp "$(ls "$root"/boot/initrd.img-* | sort | tail -n 1)" "$out/initrd.img.new"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man
mkfs.ext4 -q -F -L root -d "$root" "$out/rootfs.img.new" 4G
for file in vmlinuz initrd.img rootfs.img; do mv "$out/$file.new" "$out/$file"; done
