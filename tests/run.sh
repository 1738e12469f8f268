#!/usr/bin/env bash
# The whole test suite: lint, ansible-test sanity, unit tests, and every
# Molecule scenario on its distros. Prints each stage's time and result, and
# the summed test counts last. Expects scripts/setup-machine.sh to have run.
#
# Environment:
#   ASGI_DISTROS     distros for the full-matrix scenarios (default: debian12 debian13)
#   ASGI_SCENARIOS   scenarios to run (default: all, in the order below)
set -uo pipefail

cd "$(dirname "$0")/.."
root="$PWD"
export PATH="$root/.venv/bin:$PATH"
export PY_COLORS=0 NO_COLOR=1 ANSIBLE_FORCE_COLOR=false
# Wide enough that pytest's summary line of a failed test keeps its assertion.
export COLUMNS=240
export ANSIBLE_COLLECTIONS_PATH="$root/.tmp/collections"
logs="$root/.tmp/logs"
rm -rf "$logs" && mkdir -p "$logs"

all_distros="${ASGI_DISTROS:-debian12 debian13}"
first_distro="${all_distros%% *}"
last_distro="${all_distros##* }"
# scenario → distros. The full matrix where the distro matters (packages,
# systemd, Python); one distro where the scenario proves orchestration.
declare -A matrix=(
  [capacity]="$all_distros"
  # The other distro's proof of the whole single-host stack (packages, Caddy,
  # TLS, the units, a deploy) is acme's converge and verify; default, the
  # longest scenario, runs once.
  [default]="$first_distro"
  [acme]="$last_distro"
  [cluster]="$first_distro"
  [validation]="$first_distro"
  [faults]="$first_distro"
  # A QEMU guest booted from tests/images/build-vm.sh: Debian 12 only.
  [vm]=debian12
)
# demo (the README's `make demo`) and galaxy (build, install, deploy the
# installed collection) are not Molecule scenarios.
order=(vm capacity validation demo galaxy acme default faults cluster)
read -r -a scenarios <<< "${ASGI_SCENARIOS-${order[*]}}"

results=()
failed=0
total_passed=0
total_failed=0

count() {  # add the counts of pytest's closing line(s) in log $1
  local p f
  read -r p f < <(awk '/^=+ .*(passed|failed|error).* in [0-9.]+s/ {
      for (i = 2; i <= NF; i++) {
        if ($i ~ /^passed/) p += $(i - 1)
        if ($i ~ /^(failed|error)/) f += $(i - 1)
      }
    } END { print p + 0, f + 0 }' "$1")
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
}

stage() {  # stage NAME COMMAND...
  local name="$1"; shift
  local log="$logs/${name//[^a-zA-Z0-9_.-]/_}.log"
  local start=$SECONDS rc
  printf '\n==> %s\n' "$name"
  "$@" >"$log" 2>&1
  rc=$?
  local took=$((SECONDS - start))
  if [ $rc -eq 0 ]; then
    results+=("$(printf '%-28s %-5s %5ss' "$name" ok "$took")")
  else
    results+=("$(printf '%-28s %-5s %5ss  (log: %s)' "$name" FAIL "$took" "${log#"$root"/}")")
    failed=$((failed + 1))
    tail -60 "$log"
  fi
  local failed_before=$total_failed
  count "$log"
  # A failed stage with no failed test in it (lint, a broken converge) counts too.
  if [ $rc -ne 0 ] && [ $total_failed -eq $failed_before ]; then
    total_failed=$((total_failed + 1))
  fi
  printf '    %s in %ss\n' "$([ $rc -eq 0 ] && echo ok || echo FAILED)" "$took"
}

sanity() {
  # ansible-test needs the collection at ansible_collections/asgi/deploy in a
  # real directory; copy the tracked and new files there.
  # The copy lives outside this checkout: inside it, ansible-test would ask
  # git for the file list, and git ignores .tmp.
  local base
  base="$(mktemp -d "${TMPDIR:-/tmp}/asgi-deploy-sanity.XXXXXX")"
  local tree="$base/ansible_collections/asgi/deploy"
  mkdir -p "$tree"
  git ls-files -co --exclude-standard | tar --ignore-failed-read -cf - -T - 2>/dev/null | tar -xf - -C "$tree"
  # ansible-test downloads get-pip.py from a host outside PyPI; use ours.
  mkdir -p ~/.ansible/test/cache
  cp tests/tools/get_pip.py ~/.ansible/test/cache/get_pip_24_2.py
  (cd "$tree" && ansible-test sanity --python 3.11 --color no)
  local rc=$?
  rm -rf "$base"
  return $rc
}

unit() {
  PYTHONPATH="$root/.tmp/collections" pytest -p no:cacheprovider tests/unit
}

inventories() {
  # The example inventories a user copies must parse and fit the playbooks.
  local inventory playbook app
  for inventory in inventories/*/; do
    for playbook in site.yml playbooks/rollback.yml playbooks/restore.yml playbooks/status.yml; do
      ansible-playbook --syntax-check -i "$inventory" "$playbook" || return 1
    done
  done
  # The fleet's apps, each from its own file.
  for app in examples/fleet-apps/*.yml; do
    for playbook in site.yml playbooks/remove.yml; do
      ansible-playbook --syntax-check -i inventories/fleet -e "@$app" "$playbook" || return 1
    done
  done
}

demo() {
  # The README's first command, as a newcomer runs it: twice (the second run
  # must change nothing), each ending with an HTTPS answer from the app.
  export ASGI_DEMO_NAME=asgi-demo-test ASGI_DEMO_PORT=18643
  local out rc=1
  scripts/demo.sh clean
  if scripts/demo.sh && out="$(scripts/demo.sh)"; then
    echo "$out"
    if grep -q 'changed=0 ' <<< "$out" && grep -q '"app":"asgi.deploy example"' <<< "$out"; then
      rc=0
    else
      echo "the second demo run changed something or got no answer" >&2
    fi
  fi
  scripts/demo.sh clean
  return $rc
}

galaxy() {
  # Install like a user with only ansible-core: build the tarball, check it
  # carries no test or dev files, install it with the dependencies galaxy.yml
  # declares, resolved offline from the collections the dev environment has
  # (Galaxy is out of reach here), into a virtualenv without the `ansible`
  # package; then deploy edge + app + db (PostgreSQL needs
  # community.postgresql) with the installed collection's playbook
  # (asgi.deploy.site). An undeclared dependency fails the deploy here.
  local dir="$root/.tmp/galaxy" tarball listing core="$root/.tmp/galaxy-core"
  rm -rf "$dir" && mkdir -p "$dir/collections" "$dir/test-collections"
  ansible-galaxy collection build --output-path "$dir" || return 1
  tarball="$(ls "$dir"/asgi-deploy-*.tar.gz)"
  listing="$(tar -tzf "$tarball")"
  if grep -E '^(molecule|tests|\.ci|scripts|benchmarks|\.config|\.hypothesis|\.pytest_cache)/|__pycache__' <<< "$listing"; then
    echo "the tarball carries test or dev files (above)" >&2
    return 1
  fi
  for wanted in roles/app/tasks/main.yml roles/caddy/tasks/main.yml playbooks/site.yml \
      plugins/filter/uvicorn_workers.py examples/app/app/main.py; do
    grep -qx "$wanted" <<< "$listing" || { echo "the tarball lacks $wanted" >&2; return 1; }
  done
  # Galaxy's own import checks, on the tarball a user would upload.
  local imported
  imported="$(cd "$dir" && PATH="$root/.tmp/importer-venv/bin:$PATH" \
    GALAXY_IMPORTER_CONFIG="$root/tests/tools/galaxy-importer.cfg" \
    "$root/.tmp/importer-venv/bin/python" -m galaxy_importer.main "$tarball" 2>&1)" || { echo "$imported"; return 1; }
  echo "$imported" | grep -v '^Loading'
  if grep -q '^ERROR' <<< "$imported"; then
    echo "galaxy-importer refused the collection (above)" >&2
    return 1
  fi
  local want_core
  want_core="$(grep '^ansible-core==' requirements-dev.txt)"
  if [ "$(cat "$core/.requirement" 2>/dev/null)" != "$want_core" ]; then
    rm -rf "$core" && python3 -m venv "$core" && "$core/bin/pip" install -q "$want_core" || return 1
    echo "$want_core" > "$core/.requirement"
  fi
  if "$core/bin/python" -c 'import ansible_collections' 2>/dev/null; then
    echo "$core has collections beside ansible-core; it must not" >&2
    return 1
  fi
  # Each declared dependency from the dev environment's copy (a directory source).
  local bundled
  bundled="$(python3 -c 'import ansible, os; print(os.path.join(os.path.dirname(os.path.dirname(ansible.__file__)), "ansible_collections"))')"
  {
    printf 'collections:\n  - name: %s\n    type: file\n' "$tarball"
    python3 -c 'import yaml, sys; [print(n) for n in (yaml.safe_load(open("galaxy.yml"))["dependencies"] or {})]' |
      while read -r dependency; do
        printf '  - name: %s/%s\n    type: dir\n' "$bundled" "${dependency//.//}"
      done
  } > "$dir/requirements.yml"
  cat "$dir/requirements.yml"
  # Only the new path: with the checkout on the path, galaxy would call it installed.
  ANSIBLE_COLLECTIONS_PATH="$dir/collections" "$core/bin/ansible-galaxy" collection install --offline \
    -r "$dir/requirements.yml" -p "$dir/collections" || return 1
  [ -f "$dir/collections/ansible_collections/asgi/deploy/playbooks/site.yml" ] || return 1
  # The test's own tool, apart from what a user installs: the docker connection.
  ANSIBLE_COLLECTIONS_PATH="$dir/test-collections" "$core/bin/ansible-galaxy" collection install --offline --no-deps \
    -p "$dir/test-collections" "$bundled/community/docker" || return 1
  "$core/bin/ansible-doc" -l asgi.deploy -t module
  "$core/bin/ansible-doc" -l asgi.deploy -t filter
  ASGI_DEMO_NAME=asgi-galaxy-test ASGI_DEMO_PORT=18644 ASGI_DEMO_PLAYBOOK=asgi.deploy.site ASGI_DEMO_DB=1 \
    ASGI_DEMO_VENV="$core" ASGI_DEMO_COLLECTIONS="$dir/collections:$dir/test-collections" scripts/demo.sh
  local rc=$?
  ASGI_DEMO_NAME=asgi-galaxy-test scripts/demo.sh clean
  return $rc
}

selected() {  # whether a stage runs: the checks always, a scenario when asked for
  case "$1" in
    yamllint|ansible-lint|changelog|sanity|unit|inventories) return 0 ;;
  esac
  [[ " ${scenarios[*]} " == *" $1 "* ]]
}

run() {  # run STAGE: a check, demo, galaxy, or a scenario on each of its distros
  case "$1" in
    yamllint) stage yamllint yamllint --strict . ;;
    ansible-lint) stage ansible-lint ansible-lint --offline ;;
    changelog) stage changelog antsibull-changelog lint ;;
    sanity|unit|inventories|demo|galaxy) stage "$1" "$1" ;;
    *)
      local distro
      for distro in ${matrix[$1]:-$first_distro}; do
        stage "molecule $1 $distro" env MOLECULE_DISTRO="$distro" molecule test -s "$1"
      done
      ;;
  esac
}

lane_count=0
lanes() {  # lanes "STAGE..." ...: each argument a lane of stages, side by side
  local lane stages name entry f p t
  local -a names wanted pids=()
  for stages in "$@"; do
    read -r -a names <<< "$stages"
    wanted=()
    for name in "${names[@]}"; do
      selected "$name" && wanted+=("$name")
    done
    [ "${#wanted[@]}" -gt 0 ] || continue
    lane="$logs/lane-$lane_count"
    printf '\n==> lane %d: %s\n' "$lane_count" "${wanted[*]}"
    (
      results=() failed=0 total_passed=0 total_failed=0
      for name in "${wanted[@]}"; do
        run "$name"
      done
      printf '%s\n' "${results[@]}" > "$lane.results"
      echo "$failed $total_passed $total_failed" > "$lane.counts"
    ) > "$lane.out" 2>&1 &
    pids+=("$lane:$!")
    lane_count=$((lane_count + 1))
  done
  for entry in "${pids[@]}"; do
    # Each lane's output, result and counts join this run's, in lane order.
    wait "${entry##*:}"
    lane="${entry%:*}"
    cat "$lane.out"
    mapfile -t -O "${#results[@]}" results < "$lane.results"
    read -r f p t < "$lane.counts"
    failed=$((failed + f)) total_passed=$((total_passed + p)) total_failed=$((total_failed + t))
  done
}

# The machine has 2 CPUs and every stage is CPU-bound. The three scenarios
# that count requests under load (cluster, default, faults) each run in a
# phase of their own, beside a lane that times nothing: cluster beside the
# checks, capacity and galaxy; default beside the vm, whose emulator keeps
# one CPU; faults beside validation, demo and acme. Beside faults' lane and
# the checks, cluster took 976 s, against 610 s alone (2026-12-05); beside
# three lanes default's 30 s health timeouts failed (2026-12-03).
lanes "cluster" "yamllint ansible-lint changelog sanity unit inventories capacity galaxy"
lanes "default" "vm"
lanes "faults" "validation demo acme"

# The rows the fault-injecting tests wrote (molecule/resources/tests/asgi_faults.py).
if grep -qh '^fault-table |' "$logs"/*.log; then
  printf '\nhost | fault | expected | observed | outcome\n'
  grep -h '^fault-table |' "$logs"/*.log | cut -d'|' -f2- | sed 's/^ *//'
fi

# The failed tests by name, next to the table: CI shows only the end of the output.
if grep -qhE '^(FAILED|ERROR) [^ ]+::' "$logs"/*.log; then
  printf '\nfailed tests:\n'
  grep -hE '^(FAILED|ERROR) [^ ]+::' "$logs"/*.log | cut -c1-400
fi

printf '\n%-28s %-5s %6s\n' stage result time
printf '%s\n' "${results[@]}"
# The budget on an idle machine: a loaded or fresh CI runner (90 minutes) then
# still has room. Over it, the suite has grown and needs trimming.
budget=2400
printf 'total %ss of the %ss budget (%s %%)%s\n\n' "$SECONDS" "$budget" "$((SECONDS * 100 / budget))" \
  "$([ "$SECONDS" -gt "$budget" ] && echo ' - over budget: trim or speed up a scenario')"
echo "tests: $total_passed passed, $total_failed failed"
[ $failed -eq 0 ]
