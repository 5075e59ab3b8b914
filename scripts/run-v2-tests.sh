#!/usr/bin/env bash
# run-v2-tests.sh [TEST.js ...] — run compiled test files on a pure cgroup v2 kernel, in a
# throwaway VM (../shared/vm/run-in-vm.sh), and exit with the tests' exit status.
#
# Default test file: dist/test/integration/cgroups-v2.test.js. Paths are relative to the
# project root (or absolute, or relative to the caller's directory when they exist there).
# Build first (node-gyp and tsc): the VM sees this checkout read-write at the same path and
# the rest of the host read-only, so it runs exactly what was built here (but the VM's /tmp
# is its own: test files must live in the checkout).
# Root only. Installs the VM's prerequisites when missing (Debian: qemu-system-x86,
# busybox-static, xz-utils). Slow without KVM (15-40x); run focused files, not the suite.
#
# Knobs: everything run-in-vm.sh takes (VM_ACCEL, VM_MEM, VM_CPUS, VM_CACHE, VM_DEBUG, ...);
#   VM_TIMEOUT defaults to 1800 s here so a hung VM cannot hang CI;
#   RUN_IN_VM=path of run-in-vm.sh (default ../shared/vm/run-in-vm.sh from the project root);
#   NODE_TEST_ARGS=extra `node --test` options (default: one file at a time, 10 min per test).
# Exit status: the tests' status; 125 when the tests could not be started (missing build,
# missing prerequisites); run-in-vm.sh's status (255) when the VM itself failed.
set -euo pipefail

caller_dir=$PWD
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
vm_script=${RUN_IN_VM:-../shared/vm/run-in-vm.sh}
export VM_TIMEOUT=${VM_TIMEOUT:-1800}
marker="run-v2-tests: VM up"

fail() {
  echo "run-v2-tests: $*" >&2
  exit 125
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (the VM's 9p share passes ownership through, and the tests need root)"
[ -x "$vm_script" ] || fail "cannot find the VM runner at $vm_script (set RUN_IN_VM)"

# Prerequisites, as in run-in-vm.sh's header. A first run also needs the apt lists, to
# download the kernel package behind linux-image-amd64.
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
command -v xz >/dev/null || missing+=(xz-utils)
need_lists=false
if [ ! -e "${VM_CACHE:-/var/cache/run-in-vm}/vmlinux" ] &&
  ! apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-[0-9]'; then
  need_lists=true
fi
if [ "${#missing[@]}" -gt 0 ] || $need_lists; then
  echo "run-v2-tests: installing: ${missing[*]:-(apt lists only)}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update || fail "apt-get update failed"
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get install -y "${missing[@]}" || fail "apt-get install ${missing[*]} failed"
  fi
fi

# Test files: checked here, where a missing build is a one-line error rather than a VM boot.
[ "$#" -gt 0 ] || set -- dist/test/integration/cgroups-v2.test.js
files=()
for f in "$@"; do
  if [ "${f#/}" = "$f" ] && [ ! -e "$f" ] && [ -e "$caller_dir/$f" ]; then f=$caller_dir/$f; fi
  [ -f "$f" ] || fail "no test file $f (build first: npx tsc -p tsconfig.json)"
  files+=("$f")
done
[ -e build/Release/nlc_addon.node ] || [ -e build-cmake/Release/nlc_addon.node ] ||
  fail "the addon is not built (npm run build:native)"

node_args=${NODE_TEST_ARGS:---test-concurrency=1 --test-timeout=600000}
# The marker line doubles as the boot time: the VM's uptime when the command starts.
cmd=$(printf 'echo "%s after $(cut -d" " -f1 /proc/uptime) s (kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers))"\n' "$marker")
cmd+=$'\n'$(printf 'exec node --test %s --test-reporter=spec' "$node_args")
cmd+=$(printf ' %q' "${files[@]}")

echo "run-v2-tests: booting a cgroup v2 VM (accel ${VM_ACCEL:-auto}) for: ${files[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
set +e
"$vm_script" "$cmd" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))

if ! grep -q "^$marker" "$log"; then
  echo "run-v2-tests: the VM could not start or died before running the tests (run-in-vm.sh exit $rc, after ${elapsed} s); rerun with VM_DEBUG=1 to see the kernel" >&2
  [ "$rc" -ne 0 ] || rc=255
  exit "$rc"
fi
if [ "$rc" -eq 255 ]; then
  echo "run-v2-tests: the VM ended without the tests' status (a kernel panic, or VM_TIMEOUT=$VM_TIMEOUT s ran out) after ${elapsed} s" >&2
else
  echo "run-v2-tests: tests exited with status $rc (VM boot + tests: ${elapsed} s)"
fi
exit "$rc"
