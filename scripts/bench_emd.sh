#!/usr/bin/env bash
# Cost of the EMD metric per image: `msinet eval --metrics emd` on synthetic maps of the common
# fixation map sizes, as the log line "emd: X ms per image over N images" reports it.
#   scripts/bench_emd.sh [IMAGES] [SIZES] [--check]
# IMAGES pairs per size (default 20) of smooth maps (Gaussian blobs, as blurred fixations and
# predictions look), SIZES comma-separated HxW (default 480x640,600x800). --check also solves
# every pair as a linear programme (tests/tools/emd_reference.py), once rounded as FastEMD
# rounds it and once not (slow from 600x800 on), and prints the largest relative differences
# from msinet's value.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-20}
sizes=${2:-480x640,600x800}
check=${3:-}
build_dir=${MSINET_BUILD_DIR:-build}
msinet="$build_dir/msinet"
[ -x "$msinet" ] || { echo "bench_emd: build msinet first (scripts/setup.sh)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/msinet-bench-emd.XXXXXX")
trap 'rm -rf "$work"' EXIT

for size in ${sizes//,/ }; do
  dir="$work/$size"
  /usr/bin/python3 - "$dir" "$size" "$images" <<'EOF'
import os, sys
import numpy as np

out, size, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
h, w = (int(v) for v in size.split("x"))
rng = np.random.default_rng(1)
y, x = np.mgrid[0:h, 0:w]

def blobs(k, sigma):
    m = np.zeros((h, w))
    for _ in range(k):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        m += rng.uniform(0.5, 1.5) * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma**2))
    return m.astype(np.float32)

for sub in ("pred", "maps"):
    os.makedirs(os.path.join(out, sub))
for i in range(n):
    np.save(os.path.join(out, "pred", "%03d.npy" % i), blobs(8, 0.05 * min(h, w)))
    np.save(os.path.join(out, "maps", "%03d.npy" % i), blobs(6, 0.04 * min(h, w)))
EOF
  echo "== $size: $images images" >&2
  "$msinet" eval --pred "$dir/pred" --maps "$dir/maps" --metrics emd --csv "$dir/emd.csv" \
    2>&1 | grep -E "emd: " || { echo "bench_emd: no timing line" >&2; exit 1; }
  if [ "$check" = "--check" ]; then
    /usr/bin/python3 - "$dir" <<'EOF'
import csv, os, sys
import numpy as np
sys.path.insert(0, "tests/tools")
from emd_reference import emd

d = sys.argv[1]
worst = {True: 0.0, False: 0.0}
absolute = 0.0
with open(os.path.join(d, "emd.csv")) as f:
    for row in csv.DictReader(f):
        name = row["image"]
        s = np.load(os.path.join(d, "pred", name + ".npy")).astype(np.float64)
        g = np.load(os.path.join(d, "maps", name + ".npy")).astype(np.float64)
        for rounded in (True, False):
            want = emd(s, g, fastemd=rounded)[2]
            worst[rounded] = max(worst[rounded], abs(float(row["emd"]) - want) / max(1.0, want))
        absolute = max(absolute, abs(float(row["emd"]) - want))
print("largest relative difference from the linear programme: %.2g with FastEMD's rounding, "
      "%.2g (%.2g absolute) without" % (worst[True], worst[False], absolute))
EOF
  fi
done
