#!/usr/bin/env bash
# Build the Debian 12 disk image that the `vm` scenario boots under QEMU, offline
# from Debian's mirror: debootstrap a root file system with a kernel, SSH and a
# sudo user, then write it into an ext4 image without a loop mount.
# Cached by a hash of this script: an unchanged recipe costs nothing.
#
# Usage: tests/images/build-vm.sh   (prints the image folder)
# The folder holds disk.raw, vmlinuz, initrd.img and the SSH key (id_ed25519) of
# the user `deploy`, who may sudo without a password, as on a cloud VM.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
recipe_hash="$(sha256sum "$here/build-vm.sh" | cut -c1-12)"
cache="${ASGI_VM_CACHE:-/var/cache/asgi-deploy/vm}"
out="$cache/debian12-$recipe_hash"

if [ -f "$out/disk.raw" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

# udev and kmod load the virtio drivers; systemd-networkd brings up the NIC with
# DHCP from QEMU's user network; python3 and sudo are what Ansible needs.
debootstrap --variant=minbase \
  --include=linux-image-amd64,systemd-sysv,udev,kmod,dbus,openssh-server,python3,sudo,ca-certificates,iproute2 \
  bookworm "$root" http://deb.debian.org/debian >&2

echo asgi-vm > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 asgi-vm\n' > "$root/etc/hosts"
# No fsck pass: the disk is a fresh copy-on-write overlay on every run, and
# under software emulation each boot-time job costs many seconds.
printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' > "$root/etc/fstab"
cat > "$root/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Name=en*

[Network]
DHCP=yes
EOF
# QEMU's user network answers DNS at this fixed address.
echo 'nameserver 10.0.2.3' > "$root/etc/resolv.conf"
chroot "$root" systemctl enable systemd-networkd >&2
# e2scrub_reap cleans snapshots an online fsck left: none here, and it cost
# 20 s of a loaded emulated boot.
chroot "$root" systemctl mask e2scrub_reap.service >&2
rm -f "$root/etc/machine-id" && : > "$root/etc/machine-id"

chroot "$root" useradd --create-home --shell /bin/bash deploy
echo 'deploy ALL=(ALL) NOPASSWD:ALL' > "$root/etc/sudoers.d/deploy"
chmod 0440 "$root/etc/sudoers.d/deploy"
ssh-keygen -q -t ed25519 -N '' -C asgi-deploy-vm -f "$work/id_ed25519"
install -d -m 0700 -o 1000 -g 1000 "$root/home/deploy/.ssh"
install -m 0600 -o 1000 -g 1000 "$work/id_ed25519.pub" "$root/home/deploy/.ssh/authorized_keys"

# An initramfs with only what this VM's disk needs (Debian's default carries
# most modules: more to decompress and probe, slowly, under emulation).
printf 'MODULES=list\n' > "$root/etc/initramfs-tools/conf.d/asgi-vm.conf"
printf 'virtio_pci\nvirtio_blk\next4\n' >> "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all >&2

# The kernel and initramfs boot directly (-kernel/-initrd): no boot loader.
cp "$(readlink -f "$root/vmlinuz")" "$work/vmlinuz"
cp "$(readlink -f "$root/initrd.img")" "$work/initrd.img"
rm -rf "$root/var/cache/apt/archives"/*.deb

mkfs.ext4 -q -L root -d "$root" "$work/disk.raw" 4G >&2
rm -rf "$root"
mv "$work" "$out"
trap - EXIT
echo "$out"
