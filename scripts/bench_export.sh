#!/usr/bin/env bash
# msinet's forward pass beside ONNX Runtime's on the same network, exported by `msinet export`:
# same random weights, same input size, same threads, batch 1, one run on this machine.
#   scripts/bench_export.sh [HxW] [THREADS] [RUNS]    (defaults 240x320, 2, 5)
# Needs build/msinet (scripts/setup.sh) and the Node packages of tests/node (scripts/test.sh
# installs them). Prints one table; times are medians after a warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-240x320}
threads=${2:-2}
runs=${3:-5}
msinet=${MSINET_BUILD_DIR:-build}/msinet
[ -x "$msinet" ] || { echo "bench_export: no $msinet; run scripts/setup.sh first" >&2; exit 2; }
[ -d tests/node/node_modules/onnxruntime-node ] || {
  echo "bench_export: no tests/node/node_modules; run scripts/test.sh (or npm ci --ignore-scripts --prefix tests/node)" >&2
  exit 2
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$msinet" bench -q --threads "$threads" --sizes "$size" --batches 1 --precision fp32 \
  --iters "$runs" --test-images 0 --skip ablation,accuracy,train,pipeline \
  --save-weights "$work/random.msinet" --json "$work/bench.json" > "$work/bench.txt"
"$msinet" export -q --weights "$work/random.msinet" -f onnx -o "$work/dynamic.onnx"
"$msinet" export -q --weights "$work/random.msinet" -f onnx --size "$size" -o "$work/fixed.onnx"
node tests/node/run_model.js ort "$work/dynamic.onnx" --bench "$size" --runs "$runs" \
  --threads "$threads" > "$work/ort_dynamic.json"
node tests/node/run_model.js ort "$work/fixed.onnx" --bench "$size" --runs "$runs" \
  --threads "$threads" > "$work/ort_fixed.json"

node - "$work" "$size" "$threads" <<'JS'
const fs = require('fs');
const [dir, size, threads] = process.argv.slice(2);
const bench = JSON.parse(fs.readFileSync(`${dir}/bench.json`));
const ort = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8').trim().split('\n').pop());
const rows = [];
// bench's comparison times its own runtime and the plain LibTorch loop side by side.
const label = { msinet: 'msinet runtime', plain: 'msinet plain LibTorch loop (NCHW conv2d + ReLU)' };
for (const f of bench.compare) {
  if (f.batch === 1 && f.precision === 'fp32') rows.push([label[f.variant] || f.variant, f.ms_per_image]);
}
const dyn = ort('ort_dynamic.json'), fixed = ort('ort_fixed.json');
rows.push([`ONNX Runtime ${dyn.version}, dynamic-size export`, dyn.ms_median]);
rows.push([`ONNX Runtime ${fixed.version}, --size ${size} export`, fixed.ms_median]);
const base = rows[0][1];
console.log(`forward pass, ${size}, batch 1, fp32, ${threads} thread(s); machine: ${bench.machine}`);
console.log('| run | ms per image | relative to the first row |');
console.log('| --- | --- | --- |');
for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)}x |`);
JS
