#!/usr/bin/env bash
# `msinet test` on a video beside the image job on the same frames saved as PNG images: frames per
# second of each and their ratio, at two input sizes, one run each on this machine.
#   scripts/bench_video.sh [FRAMES] [HxW of the clip] [THREADS] [NETWORK SIZES]
#   (defaults 60, 240x320, 2, "48x64 240x320")
# Needs build/msinet (scripts/setup.sh) and the ffmpeg command (scripts/setup.sh --tests), which
# makes the clip (its test pattern, MPEG-4) and exports its frames. Random weights: the network's
# cost does not depend on them.
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-60}
clip_size=${2:-240x320}
threads=${3:-2}
sizes=${4:-48x64 240x320}
msinet=${MSINET_BUILD_DIR:-build}/msinet
[ -x "$msinet" ] || { echo "bench_video: no $msinet; run scripts/setup.sh first" >&2; exit 2; }
command -v ffmpeg > /dev/null || {
  echo "bench_video: no ffmpeg command; apt-get install ffmpeg (or scripts/setup.sh --tests)" >&2
  exit 2
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
h=${clip_size%x*}
w=${clip_size#*x}

"$msinet" bench -q --threads "$threads" --sizes 48x64 --batches 1 --iters 1 --test-images 0 \
  --skip plans,accuracy,train,pipeline --save-weights "$work/random.msinet" > /dev/null
ffmpeg -loglevel error -f lavfi -i "testsrc=size=${w}x${h}:rate=25" -frames:v "$frames" \
  -c:v mpeg4 -q:v 3 "$work/clip.mp4"
mkdir "$work/frames"
ffmpeg -loglevel error -i "$work/clip.mp4" "$work/frames/f%05d.png"

seconds() {  # runs msinet test with the given arguments; prints the wall-clock seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$msinet" test -q --device cpu --threads "$threads" --weights "$work/random.msinet" "$@" \
    --results-dir "$work/results"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

printf '%-9s %-22s %8s %10s\n' size job seconds frames/s
for size in $sizes; do
  v=$(seconds -p "$work/clip.mp4" -o "$work/out-video-$size" --size "$size")
  i=$(seconds -p "$work/frames" -o "$work/out-images-$size" --size "$size")
  printf '%-9s %-22s %8.2f %10.1f\n' "$size" "video ($frames frames)" "$v" "$(echo "$frames / $v" | bc -l)"
  printf '%-9s %-22s %8.2f %10.1f\n' "$size" "images (same frames)" "$i" "$(echo "$frames / $i" | bc -l)"
  printf '%-9s %-22s %8.2f\n' "$size" "video / images speed" "$(echo "$i / $v" | bc -l)"
done
echo "(clip ${clip_size}, ${threads} threads, whole process including start-up and weights)"
