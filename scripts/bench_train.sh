#!/usr/bin/env bash
# Training speed of msinet on this machine, and the PyTorch eager peer beside it.
#   scripts/bench_train.sh [SIZES] [STEPS]
# SIZES: comma-separated HxW (default 120x160,240x320); STEPS: timed steps of the pure training
# step (default 5). Makes a synthetic dataset (MSINET_BENCH_IMAGES pairs, default 24, a quarter
# of them for validation), runs one epoch of `msinet train --init random` per configuration and
# size:
#   (a) 1 process, 2 threads, loader in the step's thread (--loader-workers 0)
#   (b) 1 process, 2 threads, prefetching loader (--loader-workers 2)
#   (c) 2 processes (Gloo), 1 thread each, --loader-workers 0
#   (d) 2 processes (Gloo), 1 thread each, --loader-workers 1
# and reads images/s and the step time from the epoch line of each run's log. Then
# `msinet bench --train --peer torch` times msinet's pure step (NCHW and channels-last) and
# tests/tools/torch_train_peer.py's in the same run. Prints markdown tables, the CPU, its
# instruction sets and the load average before and after. The CPU differs between machines: read
# the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-120x160,240x320}
steps=${2:-5}
images=${MSINET_BENCH_IMAGES:-24}
build_dir=${MSINET_BUILD_DIR:-build}
msinet="$build_dir/msinet"
python=${MSINET_PYTHON:-/usr/bin/python3}
[ -x "$msinet" ] || { echo "bench_train: build msinet first (scripts/setup.sh)" >&2; exit 2; }
[[ "$steps" =~ ^[1-9][0-9]*$ ]] || { echo "bench_train: STEPS must be a positive number" >&2; exit 2; }
[[ "$images" =~ ^[1-9][0-9]*$ ]] || { echo "bench_train: MSINET_BENCH_IMAGES must be positive" >&2; exit 2; }
IFS=, read -r -a size_list <<< "$sizes"
for s in "${size_list[@]}"; do
  [[ "$s" =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || { echo "bench_train: bad size '$s' (HxW)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/msinet-bench-train.XXXXXX")
trap 'rm -rf "$work"' EXIT

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
isa=""
for f in avx2 avx512f avx512_bf16 amx_tile amx_bf16; do
  case " ${flags#*:} " in *" $f "*) isa="$isa $f" ;; esac
done
echo "CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) core(s)"
echo "instruction sets:${isa:- none of avx2, avx512f, avx512_bf16, amx}"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "bench_train: making $images synthetic image/map pairs in $work" >&2
"$python" - "$work/data" "$images" <<'EOF'
import os, struct, sys, zlib
import numpy as np

def png(path, img):
    h, w = img.shape[:2]
    channels = 1 if img.ndim == 2 else img.shape[2]
    rows = np.concatenate([np.zeros((h, 1), np.uint8), img.reshape(h, w * channels)], axis=1)
    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))
    colour = 0 if channels == 1 else 2
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + chunk(b"IEND", b""))

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(out, "stimuli"))
os.makedirs(os.path.join(out, "maps"))
rng = np.random.default_rng(11)
h, w = 480, 640
yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
for i in range(n):
    png(os.path.join(out, "stimuli", "img%03d.png" % i), rng.integers(0, 256, (h, w, 3), np.uint8))
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    m = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (0.1 * w) ** 2))
    png(os.path.join(out, "maps", "img%03d.png" % i), (255 * m / m.max()).astype(np.uint8))
EOF
printf 'stimuli: stimuli\nsaliency: maps\nsize: %s\nvalid_fraction: 0.25\n' "${size_list[0]}" \
  > "$work/data/bench.yaml"

configs=(a b c d)
declare -A describe=(
  [a]="1 process x 2 threads, loader in the step"
  [b]="1 process x 2 threads, 2 loader workers"
  [c]="2 processes (Gloo) x 1 thread, loader in the step"
  [d]="2 processes (Gloo) x 1 thread, 1 loader worker"
)
declare -A config_args=(
  [a]="--threads 2 --loader-workers 0"
  [b]="--threads 2 --loader-workers 2"
  [c]="--nproc 2 --threads 1 --loader-workers 0"
  [d]="--nproc 2 --threads 1 --loader-workers 1"
)
declare -A rate step

echo "| config | size | images/s | step ms | images/s vs (a) |"
echo "| --- | --- | --- | --- | --- |"
for size in "${size_list[@]}"; do
  for c in "${configs[@]}"; do
    read -r -a extra <<< "${config_args[$c]}"
    log="$work/train-$c-$size.log"
    echo "bench_train: ($c) ${describe[$c]} at $size" >&2
    code=0
    "$msinet" train -d "$work/data/bench.yaml" --init random --epochs 1 --size "$size" \
      --results-dir "$work/results-$c-$size" --device cpu "${extra[@]}" > /dev/null 2> "$log" \
      || code=$?
    line=$(grep -E 'epoch [0-9]+/[0-9]+:' "$log" | tail -n 1 || true)
    r=$(grep -oE '[0-9.]+ images/s' <<< "$line" | grep -oE '^[0-9.]+' || true)
    st=$(grep -oE 'step [0-9.]+ ms' <<< "$line" | grep -oE '[0-9.]+' || true)
    if [ -z "$r" ] && [ "$code" -eq 0 ]; then
      # An epoch line without the rate: train images over the epoch's wall time (validation
      # included), marked as such.
      n=$(grep -oE '[0-9]+ train / [0-9]+ valid' "$log" | tail -n 1 | grep -oE '^[0-9]+' || true)
      secs=$(grep -oE '\(([0-9.]+) ?s[;)]' <<< "$line" | grep -oE '[0-9.]+' | tail -n 1 || true)
      if [ -n "$n" ] && [ -n "$secs" ]; then
        r="~$(awk -v n="$n" -v t="$secs" 'BEGIN { printf "%.3f", n / t }') (epoch wall)"
      fi
    fi
    if [ "$code" -ne 0 ]; then
      r="failed (exit $code: $(grep -m1 -iE 'error|unknown|not' "$log" | cut -c1-80 || true))"
      st="-"
    fi
    rate[$c,$size]=${r:--}
    step[$c,$size]=${st:--}
    ratio="-"
    if [[ "${rate[$c,$size]}" =~ ^[0-9.]+$ && "${rate[a,$size]}" =~ ^[0-9.]+$ ]]; then
      ratio=$(awk -v x="${rate[$c,$size]}" -v y="${rate[a,$size]}" 'BEGIN { printf "%.2f", x / y }')
    fi
    echo "| ($c) ${describe[$c]} | $size | ${rate[$c,$size]} | ${step[$c,$size]} | $ratio |"
  done
done
echo

echo "bench_train: msinet bench --train --peer torch at $sizes" >&2
"$msinet" bench --train --peer torch --peer-python "$python" --sizes "$sizes" --batches 1 \
  --iters "$steps" --threads 2 --device cpu --json "$work/bench.json" > "$work/bench.txt" \
  2> "$work/bench.log" || { cat "$work/bench.log" >&2; exit 1; }
"$python" - "$work/bench.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
peer = r.get("peer", {})
print("pure training step, batch 1, %d thread(s), median of the timed steps (ms); "
      "PyTorch %s eager beside it" % (r["threads"], peer.get("torch", "?")))
print()
print("| size | msinet NCHW | msinet channels-last | NCHW / ch-last | torch NCHW "
      "| torch channels-last | msinet / torch (NCHW) | best / best |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for t in r["train"]:
    best = min(t["step_ms"], t["step_ms_channels_last"])
    peer_best = min(t["peer_step_ms"], t["peer_step_ms_channels_last"])
    print("| %dx%d | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f | %.3f |" % (
        t["height"], t["width"], t["step_ms"], t["step_ms_channels_last"],
        t["step_ms"] / t["step_ms_channels_last"], t["peer_step_ms"],
        t["peer_step_ms_channels_last"], t["step_ms"] / t["peer_step_ms"], best / peer_best))
print()
print("parameters: msinet %d, peer %d; peer output shape %s" % (
    r["parameters"], peer.get("parameters", 0), peer.get("output_shape")))
EOF
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
