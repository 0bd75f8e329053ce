#!/usr/bin/env bash
# A small Debian VM that proves the build sandbox where most instructors grade: cgroup v2 with
# systemd's cgroup driver, Debian trixie's kernel and Python's Docker SDK, with the Engine (docker.io,
# docker-cli, docker-buildx, containerd, runc) of ENGINE's suite: trixie's 26.1 or sid's 28.5. From
# Debian's packages alone. (A sid root file system does not install under Debian 12's debootstrap:
# its initramfs-tools fails; sid's engine on trixie's system does.) It writes, into OUT:
#   vmlinuz, initrd.img   trixie's kernel and initrd (booted by qemu, KVM or not)
#   rootfs.img            an ext4 root file system, used read-only as the base of a throwaway overlay
# At boot the VM mounts two 9p shares, `src` (read-only) and `out` (writable), runs out/run.sh,
# writes out/rc and powers off: tests/vm/ drives it. Needs root, debootstrap and e2fsprogs.
# Usage: make-image.sh OUT [ENGINE]          ENGINE: trixie (the default) or sid
set -euo pipefail
out=$1
engine=${2:-trixie}
mkdir -p "$out"
work=$(mktemp -d /var/tmp/dockerlab-vm-XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

packages=systemd-sysv,udev,dbus,kmod,iproute2,iptables,ca-certificates,e2fsprogs
packages+=,linux-image-amd64,initramfs-tools
packages+=,python3,python3-docker,busybox-static
engine_packages="docker.io docker-cli docker-buildx containerd runc"
[ "$engine" = trixie ] && packages+=,${engine_packages// /,}
debootstrap --variant=minbase --include="$packages" trixie "$root" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2; echo "make-image: debootstrap trixie failed" >&2; exit 1; }
if [ "$engine" != trixie ]; then
  # the engine from ENGINE's suite, from the mirror debootstrap used; sid's Release can be past its
  # Valid-Until date here. Nothing is started in the chroot.
  mirror=$(awk '$1 == "deb" { print $2; exit }' "$root/etc/apt/sources.list")
  echo "deb $mirror $engine main" >"$root/etc/apt/sources.list.d/engine.list"
  printf '#!/bin/sh
exit 101
' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  {
    chroot "$root" apt-get -o Acquire::Check-Valid-Until=false update &&
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y --no-install-recommends -t "$engine" $engine_packages
  } >"$work/engine.log" 2>&1 || { tail -n 20 "$work/engine.log" >&2; echo "make-image: $engine's engine failed to install" >&2; exit 1; }
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/apt/sources.list.d/engine.list"
fi

echo dockerlab-vm >"$root/etc/hostname"
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$root/etc/fstab"
mkdir -p "$root/etc/docker" "$root/src" "$root/out"
# systemd's driver is the default on cgroup v2; written down so that the VM proves that driver. A
# newer engine stores images in containerd, as Engine 29 does by default on a new install.
if [ "$engine" = trixie ]; then
  echo '{"exec-opts": ["native.cgroupdriver=systemd"], "storage-driver": "overlay2"}' >"$root/etc/docker/daemon.json"
else
  echo '{"exec-opts": ["native.cgroupdriver=systemd"], "features": {"containerd-snapshotter": true}}' >"$root/etc/docker/daemon.json"
fi
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
