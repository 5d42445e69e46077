#!/usr/bin/env bash
# Throughput and latency of `msinet serve` under load (wrk), with batching on and off, and the
# server's peak memory after many requests.
#   scripts/bench_serve.sh [HxW] [SECONDS] [REQUESTS] [RSS_HxW]
# Random weights (the network is what is measured, not its accuracy) at the input size HxW
# (default 48x64); each of 1, 8 and 32 concurrent connections runs SECONDS (default 8) against a
# server with --batch-size 8 --batch-wait-ms 5 (batching on) and --batch-size 1 (off); then a
# fresh server with batching on answers REQUESTS (default 10000) requests at the input size
# RSS_HxW (default 16x16, so that 10000 requests take minutes, not an hour, on two cores) from 8
# connections and its peak resident memory (VmHWM) is read from /proc. Needs wrk and curl
# (apt-get install wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-48x64}
seconds=${2:-8}
requests=${3:-10000}
rss_size=${4:-16x16}
build_dir=${MSINET_BUILD_DIR:-build}
msinet="$build_dir/msinet"
[ -x "$msinet" ] || { echo "bench_serve: build msinet first (scripts/setup.sh)" >&2; exit 2; }
command -v wrk > /dev/null || { echo "bench_serve: needs wrk (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/msinet-bench-serve.XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2> /dev/null || true; wait "$server" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$msinet" bench --save-weights "$work/w.msinet" --sizes 32x32 --batches 1 --iters 1 \
  --test-images 0 --skip plans,accuracy,train,pipeline > /dev/null 2>&1
# A 240x320 photo-like PNG (gradients and noise).
/usr/bin/python3 - "$work/photo.png" <<'PY'
import struct, sys, zlib
import numpy as np
rng = np.random.default_rng(3)
h, w = 240, 320
y = np.linspace(0, 255, h)[:, None] * np.ones((1, w))
x = np.ones((h, 1)) * np.linspace(0, 255, w)[None, :]
rgb = np.stack([y, x, rng.uniform(0, 255, (h, w))], axis=2).astype(np.uint8)
rows = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1)
def chunk(t, body):
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))
PY

cat > "$work/post.lua" <<'LUA'
-- POSTs the image of BENCH_IMAGE; prints a summary line for bench_serve.sh.
local f = assert(io.open(os.getenv("BENCH_IMAGE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.path = "/v1/saliency?size=" .. os.getenv("BENCH_SIZE")
wrk.headers["Content-Type"] = "application/octet-stream"
function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read +
              summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %.1f %.1f %.1f %d\n", summary.requests,
                         summary.requests / (summary.duration / 1e6),
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
LUA

start_server() {  # start_server BATCH_SIZE: starts msinet serve, sets $server and $port
  "$msinet" serve -q --weights "$work/w.msinet" --port 0 --batch-size "$1" \
    --batch-wait-ms 5 --http-threads 64 --queue 256 > "$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 600); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.log")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  cat "$work/serve.log" >&2
  exit 1
}
stop_server() {
  kill -TERM "$server"
  wait "$server" || true
  server=""
}
load() {  # load CONNECTIONS SECONDS: prints "requests rps p50_ms p99_ms errors"
  local threads=$(( $1 < 4 ? $1 : 4 ))
  BENCH_IMAGE="$work/photo.png" BENCH_SIZE=$size \
    wrk -t "$threads" -c "$1" -d "$2s" --timeout 30s -s "$work/post.lua" "http://127.0.0.1:$port" |
    sed -n 's/^RESULT //p'
}

echo "msinet serve, input $size, a 240x320 PNG per request, $(nproc) cores, wrk ${seconds}s per row"
printf '%-9s %11s %10s %10s %10s %8s\n' batching connections requests/s p50_ms p99_ms errors
for mode in on off; do
  batch=8
  [ "$mode" = off ] && batch=1
  start_server "$batch"
  load 4 2 > /dev/null  # warm up
  for c in 1 8 32; do
    read -r n rps p50 p99 bad < <(load "$c" "$seconds")
    printf '%-9s %11s %10s %10s %10s %8s\n' "$mode" "$c" "$rps" "$p50" "$p99" "$bad"
  done
  stop_server
done

start_server 8
# wrk runs for its whole duration whatever its threads do, so the answers are counted on the
# server's /metrics and wrk is stopped once there are enough.
answered() {
  curl -s "http://127.0.0.1:$port/metrics" |
    sed -n 's|^msinet_requests_total{route="/v1/saliency",code="200"} ||p'
}
t0=$(date +%s.%N)
BENCH_IMAGE="$work/photo.png" BENCH_SIZE=$rss_size \
  wrk -t 4 -c 8 -d 3600s --timeout 30s -s "$work/post.lua" "http://127.0.0.1:$port" > /dev/null &
wrk_pid=$!
until [ "$(answered)" -ge "$requests" ] 2> /dev/null; do sleep 1; done
n=$(answered)
t1=$(date +%s.%N)
kill "$wrk_pid"
wait "$wrk_pid" 2> /dev/null || true
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server/status")
rps=$(/usr/bin/python3 -c "print(f'{$n / ($t1 - $t0):.1f}')")
echo "peak RSS (VmHWM) of the server after $n requests at $rss_size (batching on, 8 connections):" \
  "$((hwm / 1024)) MiB ($rps requests/s)"
stop_server
