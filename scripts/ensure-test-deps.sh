#!/usr/bin/env bash
# The system packages the tests use, installed when this machine lets us (root with apt-get), listed
# with the command to install them when it does not. The first step of `npm test`; CI (`.ci/run`)
# gets them the same way, through `npm test`. Tests whose packages are still missing say so and do
# not run (runtime/test/helpers/requirements.ts); the rest run.
#
#   scripts/ensure-test-deps.sh          install what is missing if root with apt-get, else list it
#   scripts/ensure-test-deps.sh --check  only list what is missing (exit 1 if anything is)
#
# Add a package here when a test needs a new one, and name the same package in that test's requirement.
set -uo pipefail

check_only=false
[ "${1:-}" = "--check" ] && check_only=true

host_arch=$(uname -m)
missing=()
need() { # need PACKAGE TEST...: PACKAGE is missing unless one of the TESTs succeeds
  local package=$1; shift
  local test
  for test in "$@"; do
    if eval "$test" >/dev/null 2>&1; then return 0; fi
  done
  missing+=("$package")
}

# A stdio MCP server with no Node in its image (sea.test.ts, bad-input.test.ts, ...).
need python3 'command -v python3'
# A statically linked stdio server in C for the bridge-portability test.
need gcc 'command -v gcc'
need libc6-dev "[ -f /usr/lib/${host_arch}-linux-gnu/libc.a ]"
# The admin page in a real browser.
need chromium '[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]'
# Persistence tests start their own PostgreSQL server.
need postgresql 'ls /usr/lib/postgresql/*/bin/postgres'
if [ "$host_arch" = x86_64 ]; then
  # The arm64 bridge, built from the arm64 Node and run under emulation: qemu-user runs it (and the
  # arm64 Node that writes its SEA blob), qemu-user-static is what the kernel runs for an arm64
  # program inside a chroot that holds nothing else; the cross compiler builds the static arm64 server;
  # Debian's arm64 libraries (multiarch) are the ones the arm64 bridge copies beside itself.
  need qemu-user 'command -v qemu-aarch64'
  need qemu-user-static '[ -x /usr/bin/qemu-aarch64-static ]'
  need gcc-aarch64-linux-gnu 'command -v aarch64-linux-gnu-gcc'
  need libc6-dev-arm64-cross '[ -f /usr/aarch64-linux-gnu/lib/libc.a ]'
  need libc6:arm64 '[ -e /lib/ld-linux-aarch64.so.1 ]'
  need libstdc++6:arm64 '[ -e /usr/lib/aarch64-linux-gnu/libstdc++.so.6 ]'
  need libgcc-s1:arm64 '[ -e /usr/lib/aarch64-linux-gnu/libgcc_s.so.1 ]'
fi

# Root installs directly; a user with password-less sudo (a GitHub runner) through sudo.
can_install=false
as_root=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); fi
if { [ "$(id -u)" = 0 ] || [ ${#as_root[@]} -gt 0 ]; } && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then can_install=true; fi

if [ ${#missing[@]} -gt 0 ]; then
  if $check_only || ! $can_install; then
    echo "ensure-test-deps: missing system packages: ${missing[*]}" >&2
    echo "ensure-test-deps: install them with: sudo apt-get install -y ${missing[*]}$(printf '%s\n' "${missing[@]}" | grep -q ':arm64' && echo ' (after: sudo dpkg --add-architecture arm64 && sudo apt-get update)')" >&2
    echo "ensure-test-deps: the tests that need them will report that they did not run" >&2
    $check_only && exit 1
  else
    echo "ensure-test-deps: installing ${missing[*]}"
    if printf '%s\n' "${missing[@]}" | grep -q ':arm64' && ! dpkg --print-foreign-architectures | grep -qx arm64; then
      "${as_root[@]}" dpkg --add-architecture arm64 || exit 1
    fi
    "${as_root[@]}" apt-get update -qq || exit 1
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || exit 1
  fi
fi

# Emulated arm64 programs inside a chroot: the kernel must hand arm64 ELF files to qemu-aarch64-static,
# opened when registered (flag F) so the chroot need not contain it. Debian registers it through
# systemd or binfmt-support, which a container usually lacks; register it directly when we can.
if [ "$host_arch" = x86_64 ] && [ "$(id -u)" = 0 ] && [ -x /usr/bin/qemu-aarch64-static ] && ! $check_only; then
  # (As root only: the chroot test that needs it runs as root only.)
  binfmt=/proc/sys/fs/binfmt_misc
  [ -e $binfmt/register ] || mount -t binfmt_misc binfmt_misc $binfmt 2>/dev/null || true
  if [ -e $binfmt/register ] && [ ! -e $binfmt/qemu-aarch64 ]; then
    echo ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
      > $binfmt/register 2>/dev/null && echo "ensure-test-deps: registered qemu-aarch64-static for arm64 programs (binfmt_misc)"
  fi
  [ -e $binfmt/qemu-aarch64 ] || echo "ensure-test-deps: cannot register arm64 emulation with binfmt_misc here; the arm64 chroot test will not run" >&2
fi
exit 0
