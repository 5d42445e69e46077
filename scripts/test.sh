#!/usr/bin/env bash
# Installs what is missing (with the test dependencies), builds, runs the whole test suite, then
# fuzzes every parser briefly (scripts/fuzz.sh, 5 seconds a target; MSINET_FUZZ_SECONDS).
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
build_dir=${MSINET_BUILD_DIR:-build}
status=0
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600 "$@" || status=$?
# A test that cannot run on this machine (no bf16 instructions, no CUDA) is not a pass: name
# each one with its reason.
log="$build_dir/Testing/Temporary/LastTest.log"
if [ -f "$log" ] && grep -q ': Skipped$' "$log"; then
  echo "==== NOT CHECKED on this machine (skipped, not passed):" >&2
  awk '/^[0-9]+\/[0-9]+ Testing: / { name = $3 }
       /: Skipped$/ { getline reason; print "  " name ": " reason }' "$log" >&2
fi
scripts/fuzz.sh "${MSINET_FUZZ_SECONDS:-5}" || status=$?
exit "$status"
