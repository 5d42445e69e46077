#!/usr/bin/env bash
# Fuzzes every parser of untrusted bytes (tests/fuzz, README "Fuzzing") with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer:
#   scripts/fuzz.sh [SECONDS] [TARGET...]    (default: 60 seconds each, every target)
# Builds build-fuzz/ (clang, no LibTorch) when stale, writes fresh seeds, replays each target's
# regression inputs (tests/fuzz/regressions/<target>/), then fuzzes it for SECONDS and prints
# seconds, executions and findings per target. A finding (crash, sanitizer report, escaped
# exception, leak, timeout, memory blow-up) is saved as build-fuzz/fuzz/<target>/findings/*;
# the exit status is 1 when there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
case "$seconds" in '' | *[!0-9]*)
  echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2
  exit 2
  ;;
esac

build=${MSINET_FUZZ_BUILD_DIR:-build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DMSINET_FUZZ=ON -DMSINET_BUILD_TESTS=OFF >&2
fi
cmake --build "$build" -j"$(nproc)" >&2

read -r -a all_targets < "$build/fuzz_targets.txt"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

work="$build/fuzz"
bin="$build/tests/fuzz"
rm -rf "$work/seeds"
"$bin/fuzz_make_seeds" ../shared . "$work/seeds"

# A C allocation over 1 GB returns null, as malloc does when memory is short, so that libraries
# which check for it (matio, libpng) are not reported; in C++ (operator new) it is a finding.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=1024}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=0
printf '%-14s %8s %12s %9s\n' target seconds executions findings
for t in "${targets[@]}"; do
  if [ ! -x "$bin/fuzz_$t" ]; then
    echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
  dir="$work/$t"
  rm -rf "$dir/findings"
  mkdir -p "$dir/corpus" "$dir/findings" "$work/seeds/$t"
  # Every input that once crashed, first: a fixed bug must stay fixed.
  regressions="tests/fuzz/regressions/$t"
  if compgen -G "$regressions/*" > /dev/null; then
    if ! "$bin/fuzz_$t" -artifact_prefix="$dir/findings/" "$regressions"/* > "$dir/regressions.log" 2>&1; then
      echo "fuzz.sh: $t fails on a regression input; see $dir/regressions.log" >&2
      failed=1
    fi
  fi
  start=$(date +%s)
  status=0
  "$bin/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$dir/findings/" "$dir/corpus" "$work/seeds/$t" > "$dir/fuzz.log" 2>&1 ||
    status=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
  findings=$(find "$dir/findings" -type f | wc -l)
  printf '%-14s %8s %12s %9s\n' "$t" "$elapsed" "${execs:-?}" "$findings"
  if [ "$status" != 0 ] || [ "$findings" != 0 ]; then
    echo "fuzz.sh: $t found a problem; see $dir/fuzz.log and $dir/findings/" >&2
    failed=1
  fi
done
exit "$failed"
