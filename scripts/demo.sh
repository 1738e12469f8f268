#!/usr/bin/env bash
# Deploy the bundled example app to a local systemd container standing in for
# a VM, and show it answering over HTTPS through Caddy on 127.0.0.1.
#   scripts/demo.sh          set up (first time), deploy, request
#   scripts/demo.sh clean    remove the demo container
# For the suite: ASGI_DEMO_NAME/PORT (the container), ASGI_DEMO_VENV (where
# ansible-playbook comes from), ASGI_DEMO_COLLECTIONS, ASGI_DEMO_PLAYBOOK, and
# ASGI_DEMO_DB=1 to make the container the db host too (PostgreSQL, so the
# run needs community.postgresql).
set -euo pipefail

cd "$(dirname "$0")/.."
name="${ASGI_DEMO_NAME:-asgi-demo}"
port="${ASGI_DEMO_PORT:-8443}"
work=".tmp/${name}"

if [ "${1:-}" = clean ]; then
  docker rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
  echo "demo removed"
  exit 0
fi

start=$SECONDS
scripts/setup-machine.sh debian12 >/dev/null
# The checkout by default; tests point these at an installed collection.
export PATH="${ASGI_DEMO_VENV:-$PWD/.venv}/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="${ASGI_DEMO_COLLECTIONS:-$PWD/.tmp/collections}"
playbook="${ASGI_DEMO_PLAYBOOK:-site.yml}"
mkdir -p "$work"

# A demo VM from before the firewall cannot have one: start it anew.
if docker container inspect "$name" >/dev/null 2>&1 &&
   ! docker container inspect -f '{{.HostConfig.CapAdd}}' "$name" | grep -q NET_ADMIN; then
  docker rm -f "$name" >/dev/null
fi
if ! docker container inspect "$name" >/dev/null 2>&1; then
  echo "==> Starting the demo VM (a systemd container, 1 GiB)"
  # NET_ADMIN: the deploy gives the VM its own firewall (nftables).
  docker run -d --name "$name" --hostname "$name" --memory 1g \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    --stop-signal SIGRTMIN+3 -p "127.0.0.1:$port:443" \
    asgi-deploy/debian12:latest /lib/systemd/systemd >/dev/null
  # This network reaches PyPI through a TLS-intercepting proxy: the VM must
  # trust the same CAs as this machine (a real VM elsewhere needs nothing).
  docker cp /etc/ssl/certs/ca-certificates.crt "$name:/usr/local/share/ca-certificates/controller-bundle.crt"
fi
docker start "$name" >/dev/null
# Until systemd in the container has booted (its bus is not up at first).
for _ in $(seq 1 60); do
  case "$(docker exec "$name" systemctl is-system-running --wait 2>/dev/null)" in
    running|degraded) break ;;
  esac
  sleep 1
done
docker exec "$name" update-ca-certificates >/dev/null 2>&1

cat > "$work/inventory.yml" <<INVENTORY
# The demo VM. For a real VM, replace the connection line with
#   ansible_host: <its address>
# and the domain with its public name (tls: acme).
all:
  hosts:
    $name:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: auto_silent
  children:
    app: {hosts: {$name: }}
    edge: {hosts: {$name: }}
$(if [ "${ASGI_DEMO_DB:-}" = 1 ]; then cat <<DB
    db: {hosts: {$name: }}
DB
else cat <<DB
    # No database host: an empty group, which the playbooks' "db" matches
    # without a warning.
    db: {}
DB
fi)
  vars:
$(if [ "${ASGI_DEMO_DB:-}" = 1 ]; then cat <<DB
    postgresql_password: demo-only-password
    app_secret_env:
      DATABASE_URL: postgresql+psycopg://app:demo-only-password@$name/app
DB
fi)
    app_migrate_command: alembic upgrade head
    app_health_path: /health
    caddy_sites:
      - domains: [localhost]
        tls: internal
    caddy_fetch_root_ca_to: $PWD/$work/caddy-root.crt
INVENTORY

echo "==> ansible-playbook $playbook"
ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_HOST_PATTERN_MISMATCH=ignore \
  ansible-playbook -i "$work/inventory.yml" "$playbook" | grep -E '^(PLAY RECAP|[a-z0-9-]+ +: ok=)|fatal|FAILED!'

echo
echo "==> curl --cacert $work/caddy-root.crt https://localhost:$port/"
curl --silent --show-error --fail --cacert "$work/caddy-root.crt" "https://localhost:$port/"
echo
echo
echo "The example app answers at https://localhost:$port/ (Caddy's root: $work/caddy-root.crt)."
echo "Done in $((SECONDS - start))s. Remove the demo with: make demo-clean"
