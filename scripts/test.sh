#!/usr/bin/env bash
# Installs what is missing (with the test dependencies), builds, and runs the whole test suite.
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
build_dir=${MSINET_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600 "$@"
