#!/usr/bin/env bash
# Installs what is missing (with the test dependencies), builds, runs the whole test suite, then
# fuzzes every parser briefly (scripts/fuzz.sh, 10 seconds a target; MSINET_FUZZ_SECONDS).
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
build_dir=${MSINET_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600 "$@"
scripts/fuzz.sh "${MSINET_FUZZ_SECONDS:-10}"
