#!/usr/bin/env bash
# Build the systemd test image for one Debian release, offline: debootstrap from
# Debian's mirror, then `docker import`. No registry is needed.
# The tag carries a hash of this script, so a changed recipe builds anew and an
# unchanged one costs nothing (the image is found by tag and reused).
#
# Usage: tests/images/build.sh debian12|debian13   (prints the image tag)
set -euo pipefail

distro="${1:?usage: $0 debian12|debian13}"
case "$distro" in
  debian12) suite=bookworm ;;
  debian13) suite=trixie ;;
  *) echo "unknown distro '$distro': use debian12 or debian13" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "$0")" && pwd)"
recipe_hash="$(sha256sum "$here/build.sh" | cut -c1-12)"
tag="asgi-deploy/${distro}:${recipe_hash}"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi

root="$(mktemp -d /var/tmp/asgi-deploy-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT

# minbase keeps the image small; systemd is PID 1 in the containers, python3 and
# sudo are what Ansible needs on a target, ca-certificates lets tasks verify TLS,
# iproute2 gives Ansible the host's addresses (every cloud image has it).
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,python3,sudo,ca-certificates,iproute2 \
  "$suite" "$root" http://deb.debian.org/debian >&2

# A container has no consoles or hardware to wait for: mask the units that would
# hang or fail the boot, so `systemctl is-system-running` reaches "running".
for unit in getty@.service serial-getty@.service console-getty.service \
    systemd-udevd.service systemd-udev-trigger.service systemd-firstboot.service \
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
    systemd-remount-fs.service systemd-modules-load.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
rm -f "$root/etc/machine-id" && : > "$root/etc/machine-id"
# Keep the apt lists debootstrap fetched: roles then update them only when stale.
apt_clean_hook="$root/etc/apt/apt.conf.d/docker-clean"
rm -f "$apt_clean_hook"

tar -C "$root" -c . | docker import \
  --change 'ENV container=docker' \
  --change 'CMD ["/lib/systemd/systemd"]' \
  - "$tag" >&2
docker tag "$tag" "asgi-deploy/${distro}:latest"
echo "$tag"
