#!/usr/bin/env bash
# Make a fresh Debian machine ready to test (and demo) asgi.deploy:
#   - Debian packages: docker.io, debootstrap, QEMU (only when missing)
#   - a Docker daemon (started in the background when none answers)
#   - .venv with the pinned tools of requirements-dev.txt, and sslyze and
#     galaxy-importer in virtualenvs of their own (tests/tools/requirements-*.txt),
#     installed by uv (the pinned one of requirements-dev.txt)
#   - the systemd test images for Debian 12 and 13, built offline and cached,
#     and (with no distro named) the vm scenario's disk image
# Every step is skipped when already done, so a second run costs seconds. The
# virtualenvs and the images are made side by side: they wait on different
# things (the package index, Debian's mirror).
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

# uv installs a virtualenv's packages in seconds where pip takes minutes; the
# version requirements-dev.txt pins, from the index, into a folder of its own.
uv_pin="$(grep '^uv==' requirements-dev.txt)"
uv=.tmp/uv/bin/uv
if [ "$(cat .tmp/uv/.requirement 2>/dev/null)" != "$uv_pin" ]; then
  step "Installing $uv_pin"
  rm -rf .tmp/uv && python3 -m venv .tmp/uv && .tmp/uv/bin/pip install -q "$uv_pin"
  echo "$uv_pin" > .tmp/uv/.requirement
fi

venv_from() {  # venv_from DIR REQUIREMENTS: (re)create DIR when the file changed
  local stamp="$1/.requirements.sha256" want
  want="$(sha256sum "$2" | cut -d' ' -f1)"
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  step "Creating $1 from $2"
  rm -rf "$1"
  python3 -m venv "$1"
  # The machine's CA bundle: the index may sit behind a TLS-intercepting proxy.
  UV_NATIVE_TLS=1 UV_NO_PROGRESS=1 "$uv" pip install -q --python "$1/bin/python" -r "$2"
  echo "$want" > "$stamp"
}

pids=()
venv_from .venv requirements-dev.txt & pids+=($!)
venv_from .tmp/sslyze-venv tests/tools/requirements-sslyze.txt & pids+=($!)
venv_from .tmp/importer-venv tests/tools/requirements-importer.txt & pids+=($!)
for distro in "${distros[@]}"; do
  { step "Test image for $distro"; tests/images/build.sh "$distro"; } & pids+=($!)
done
# For the whole suite (no distro named), the vm scenario's disk image too: built
# here beside the others, the vm scenario, the longest lane, does not wait on it.
if [ $# -eq 0 ]; then
  { step "Disk image for the vm scenario"; tests/images/build-vm.sh >/dev/null; } & pids+=($!)
fi
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
[ "$failed" -eq 0 ] || { echo "setup failed (above)" >&2; exit 1; }

# The collection must sit under ansible_collections/asgi/deploy for Ansible to
# load it by its name from this checkout.
mkdir -p .tmp/collections/ansible_collections/asgi
ln -sfn "$PWD" .tmp/collections/ansible_collections/asgi/deploy
