#!/usr/bin/env bash
# Style and static checks, run by the test suite (ctest labels 'lint'):
#   scripts/lint.sh format        every tracked C++ file is clang-formatted (.clang-format)
#   scripts/lint.sh tidy [BUILD]  clang-tidy (.clang-tidy) on the sources of the areas that parse
#                                 quickly (util, config, fetch, weights), with
#                                 BUILD/compile_commands.json (default build/)
# LibTorch's, OpenCV's and CLI11's headers make one clang-tidy run of a file take up to a minute
# on two cores, so the areas that include them are left to the compiler's warnings (-Wall
# -Wextra); how many files were checked is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in
  format)
    mapfile -t files < <(git ls-files -- '*.cpp' '*.h')
    clang-format --dry-run --Werror "${files[@]}"
    echo "clang-format: ${#files[@]} files formatted"
    ;;
  tidy)
    build=${2:-build}
    if [ ! -f "$build/compile_commands.json" ]; then
      echo "lint: no $build/compile_commands.json; configure with cmake first" >&2
      exit 2
    fi
    mapfile -t files < <(git ls-files -- 'src/util/*.cpp' 'src/config/*.cpp' 'src/fetch/*.cpp' \
      'src/weights/*.cpp')
    log=$(mktemp)
    status=0
    printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 2 clang-tidy -p "$build" --quiet \
      >"$log" 2>&1 || status=$?
    grep -vE '^[0-9]+ warnings? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter' \
      "$log" >&2 || true
    rm -f "$log"
    if [ "$status" != 0 ]; then
      echo "clang-tidy: problems found (see above)" >&2
      exit 1
    fi
    echo "clang-tidy: ${#files[@]} sources checked, no problems"
    ;;
  *)
    echo "usage: scripts/lint.sh format | tidy [BUILD_DIR]" >&2
    exit 2
    ;;
esac
