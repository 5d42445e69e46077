#!/usr/bin/env bash
# Peak memory of `msinet test` on many photos of mixed sizes: shows that memory is bounded in
# bytes (inflight_memory_mb, max_image_megapixels), not in images.
#   scripts/bench_memory.sh [IMAGES] [HxW] [INFLIGHT_MB]
# IMAGES photos (default 2000) are made from 40 distinct PNGs between 0.1 and 24 megapixels
# (hard links), run through `msinet test` with random weights at the network size HxW (default
# 64x96: the network is not what is measured), and compared with a run on the smallest photo
# alone. Prints the peak resident memory of each run (GNU time), the images per second and the
# ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-2000}
size=${2:-64x96}
inflight_mb=${3:-2048}
build_dir=${MSINET_BUILD_DIR:-build}
msinet="$build_dir/msinet"
[ -x "$msinet" ] || { echo "bench_memory: build msinet first (scripts/setup.sh)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/msinet-bench-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "bench_memory: making $images photos of mixed sizes in $work" >&2
/usr/bin/python3 - "$work/distinct" <<'EOF'
import os, struct, sys, zlib
import numpy as np

def png(path, rgb):
    h, w, _ = rgb.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1)
    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + chunk(b"IEND", b""))

out = sys.argv[1]
os.makedirs(out)
rng = np.random.default_rng(7)
megapixels = np.geomspace(0.1, 24.0, 40)
for i, mp in enumerate(megapixels):
    aspect = rng.uniform(0.5, 2.0)
    h = max(8, int(round((mp * 1e6 / aspect) ** 0.5)))
    w = max(8, int(round(h * aspect)))
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
    rgb = np.stack([np.broadcast_to(y, (h, w)), np.broadcast_to(x, (h, w)),
                    np.full((h, w), 60 + 4 * i, np.float32)], axis=2).astype(np.uint8)
    png(os.path.join(out, "p%02d_%dx%d.png" % (i, h, w)), rgb)
EOF
mkdir -p "$work/photos"
distinct=("$work"/distinct/*.png)
for ((k = 0; k < images; ++k)); do
  ln "${distinct[k % ${#distinct[@]}]}" "$work/photos/$(printf 'img%05d.png' "$k")"
done
"$msinet" bench --save-weights "$work/w.msinet" --sizes 32x32 --batches 1 --iters 1 \
  --test-images 0 --skip plans,accuracy,train,pipeline > /dev/null 2>&1

run() {  # run NAME INPUT: peak RSS (KiB) and wall seconds of `msinet test` on INPUT
  local stats="$work/$1.time"
  MSINET_INFLIGHT_MEMORY_MB=$inflight_mb /usr/bin/time -f '%M %e' -o "$stats" \
    "$msinet" test -q --weights "$work/w.msinet" --size "$size" --format jpg -p "$2" \
    -o "$work/maps-$1" > "$work/$1.log" 2>&1 || { cat "$work/$1.log" >&2; exit 1; }
  cat "$stats"
}
read -r small_kb small_s < <(run one "${distinct[0]}")
read -r all_kb all_s < <(run all "$work/photos")
largest=$(basename "${distinct[-1]}" .png)
echo "msinet test, network $size, inflight_memory_mb $inflight_mb, $(nproc) cores"
echo "  1 photo (${distinct[0]##*/}):      peak RSS $((small_kb / 1024)) MiB"
echo "  $images photos (0.1-24 MP, largest ${largest#*_}): peak RSS $((all_kb / 1024)) MiB," \
  "$(/usr/bin/python3 -c "print(f'{$images / $all_s:.1f}')") images/s"
echo "  ratio: $(/usr/bin/python3 -c "print(f'{$all_kb / $small_kb:.2f}')")x the single small photo"
