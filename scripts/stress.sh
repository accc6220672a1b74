#!/usr/bin/env bash
# `npm run test:stress`: the whole test suite while two busy loops take a core each, as on a busy
# 2-core CI machine. A test that fails here but passes alone races the clock: give it a limit it
# controls (an upstream that waits until released), not a shorter timeout. Arguments go to `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

busy=()
stop_busy() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_busy EXIT
for _ in 1 2; do
  # A shell loop with no system calls: pure CPU, nice 0 like the tests.
  sh -c 'while :; do :; done' &
  busy+=("$!")
done
echo "test:stress: busy loops ${busy[*]} running beside the suite"
npm test -- "$@"
