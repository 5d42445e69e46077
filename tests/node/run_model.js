// Runs a model written by `msinet export` in an independent runtime and writes its maps.
//   node run_model.js ort  MODEL.onnx  INPUT.npy OUTPUT.npy [--layout nchw|nhwc] [--threads N]
//   node run_model.js tfjs MODEL_DIR   INPUT.npy OUTPUT.npy
//   node run_model.js ort  MODEL.onnx  --bench HxW [--batch N] [--runs N] [--threads N] [--layout ...]
// INPUT.npy is float32 [N, H, W, 3] (RGB, 0..255); OUTPUT.npy is float32 [N, H, W] ([H, W]
// when N is 1, as `msinet test --format npy` writes one map).
// Prints one JSON line: the runtime, its version, the model's metadata and the time per run.
// The TF.js model is loaded over HTTP from a server on 127.0.0.1, as a browser would load it.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True")) {
    throw new Error(`${file}: expected a C-order float32 array, header ${header}`);
  }
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim())
    .map((s) => parseInt(s, 10));
  const offset = 10 + headerLen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function nhwcToNchw({ shape, data }) {
  const [n, h, w, c] = shape;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; ++b) {
    for (let y = 0; y < h; ++y) {
      for (let x = 0; x < w; ++x) {
        for (let k = 0; k < c; ++k) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
      }
    }
  }
  return { shape: [n, c, h, w], data: out };
}

function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

async function runOrt(model, args) {
  const ort = require('onnxruntime-node');
  const threads = parseInt(option(args, '--threads', '0'), 10);
  const layout = option(args, '--layout', 'nchw');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const bench = option(args, '--bench', null);
  let input;
  if (bench) {
    const [h, w] = bench.split('x').map((s) => parseInt(s, 10));
    const batch = parseInt(option(args, '--batch', '1'), 10);
    const data = new Float32Array(batch * h * w * 3);
    for (let i = 0; i < data.length; ++i) data[i] = (i * 7919) % 256;
    input = { shape: [batch, h, w, 3], data };
  } else {
    input = readNpy(args[0]);
  }
  const [n, h, w] = input.shape;
  const fed = layout === 'nchw' ? nhwcToNchw(input) : input;
  const feeds = { input: new ort.Tensor('float32', fed.data, fed.shape) };
  const runs = bench ? parseInt(option(args, '--runs', '5'), 10) : 1;
  await session.run(feeds);  // warm-up: the first run plans memory
  const times = [];
  let result;
  for (let r = 0; r < runs; ++r) {
    const t0 = process.hrtime.bigint();
    result = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (!bench) writeNpy(args[1], n === 1 ? [h, w] : [n, h, w], result.output.data);
  times.sort((a, b) => a - b);
  return { runtime: 'onnxruntime-node', version: ort.env.versions.node, ms_median: times[times.length >> 1],
           ms_min: times[0], runs };
}

async function runTfjs(dir, args) {
  const tf = require('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://localhost').pathname).slice(1);
    const file = path.join(dir, path.basename(name));
    if (path.basename(name) !== name || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200);
    res.end(fs.readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const model = await tf.loadGraphModel(`http://127.0.0.1:${server.address().port}/model.json`);
    const input = readNpy(args[0]);
    const [n, h, w] = input.shape;
    const x = tf.tensor4d(input.data, input.shape, 'float32');
    const t0 = process.hrtime.bigint();
    const y = model.predict(x);
    const data = await y.data();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (y.shape.join() !== [n, h, w, 1].join()) throw new Error(`output shape ${y.shape}, expected ${[n, h, w, 1]}`);
    writeNpy(args[1], n === 1 ? [h, w] : [n, h, w], Float32Array.from(data));
    return { runtime: '@tensorflow/tfjs', version: tf.version.tfjs, backend: tf.getBackend(),
             inputs: model.inputs.map((i) => i.name), outputs: model.outputs.map((o) => o.name),
             metadata: model.metadata, ms_median: ms, runs: 1 };
  } finally {
    server.close();
  }
}

async function main() {
  const [runtime, model, ...rest] = process.argv.slice(2);
  const report = runtime === 'ort' ? await runOrt(model, rest)
    : runtime === 'tfjs' ? await runTfjs(model, rest)
      : null;
  if (!report) throw new Error('usage: run_model.js ort|tfjs MODEL INPUT.npy OUTPUT.npy');
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(`run_model.js: ${e.stack || e}`);
  process.exit(1);
});
