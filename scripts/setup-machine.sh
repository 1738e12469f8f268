#!/usr/bin/env bash
# Make a fresh Debian machine ready to test (and demo) asgi.deploy:
#   - Debian packages: docker.io, debootstrap, QEMU (only when missing)
#   - a Docker daemon (started in the background when none answers)
#   - .venv with the pinned tools of requirements-dev.txt, and sslyze and
#     galaxy-importer in virtualenvs of their own (tests/tools/requirements-*.txt)
#   - the systemd test images for Debian 12 and 13, built offline and cached
# Every step is skipped when already done, so a second run costs seconds.
#
# Usage: scripts/setup-machine.sh [debian12 debian13 ...]
set -euo pipefail

cd "$(dirname "$0")/.."
distros=("$@")
[ ${#distros[@]} -gt 0 ] || distros=(debian12 debian13)

step() { printf '\n==> %s\n' "$*"; }

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
# The vm scenario boots a real Debian kernel under QEMU's software emulation.
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v qemu-img >/dev/null || need_pkgs+=(qemu-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  step "Installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need_pkgs[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  step "Starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/asgi-deploy-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || {
    echo "dockerd did not come up; see /var/log/asgi-deploy-dockerd.log" >&2
    tail -20 /var/log/asgi-deploy-dockerd.log >&2
    exit 1
  }
fi

venv_from() {  # venv_from DIR REQUIREMENTS: (re)create DIR when the file changed
  local stamp="$1/.requirements.sha256" want
  want="$(sha256sum "$2" | cut -d' ' -f1)"
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  step "Creating $1 from $2"
  python3 -m venv "$1"
  "$1/bin/pip" install -q --upgrade pip
  "$1/bin/pip" install -q -r "$2"
  echo "$want" > "$stamp"
}
venv_from .venv requirements-dev.txt
venv_from .tmp/sslyze-venv tests/tools/requirements-sslyze.txt
venv_from .tmp/importer-venv tests/tools/requirements-importer.txt

# The collection must sit under ansible_collections/asgi/deploy for Ansible to
# load it by its name from this checkout.
mkdir -p .tmp/collections/ansible_collections/asgi
ln -sfn "$PWD" .tmp/collections/ansible_collections/asgi/deploy

for distro in "${distros[@]}"; do
  step "Test image for $distro"
  tests/images/build.sh "$distro"
done
