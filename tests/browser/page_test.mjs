// The page of `msinet serve` in a real browser: Debian's Chromium, headless, driven by
// puppeteer-core (tests/node), with a fake camera that plays a video made here.
//   node tests/browser/page_test.mjs --msinet BUILD/msinet [--work-dir DIR] [--chromium PATH]
// Makes random weights (`msinet bench --save-weights`) and a photo, starts `msinet serve` on a
// free port, then checks: the page loads with no console errors and no failed requests; an
// upload gives an overlay and a map of the photo's size; the downloaded map PNG has exactly the
// pixels `msinet test --format png` writes; the .npy and overlay downloads are well formed; live
// mode on the camera gives maps and a positive FPS at two presets; an HTTP error is shown on the
// page; the screenshots are of the expected size and not blank. Screenshots are also copied to
// $MSINET_SCREENSHOT_DIR when it is set. Exits 0 only when every check passed; anything missing
// (Chromium, puppeteer-core, the serve command) is a failure, never a skip.
import { spawn, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as png from './png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const started = Date.now();

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function log(...args) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...args);
}

let failures = 0;
function check(ok, what, detail = '') {
  if (ok) {
    log(`ok   ${what}`);
  } else {
    failures++;
    console.error(`FAIL ${what}${detail ? ': ' + detail : ''}`);
  }
  return ok;
}

function fatal(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

const msinet = option('msinet') && path.resolve(option('msinet'));
if (!msinet || !fs.existsSync(msinet)) fatal(`no msinet binary (--msinet ${msinet}); build the msinet target`);
const chromium = option('chromium', process.env.MSINET_CHROMIUM || '/usr/bin/chromium');
if (!fs.existsSync(chromium)) {
  fatal(`Chromium not found at ${chromium}: install Debian's chromium package ` +
    '(apt-get install --no-install-recommends chromium, or scripts/setup.sh --tests)');
}
let puppeteer;
try {
  puppeteer = (await import(path.join(here, '../node/node_modules/puppeteer-core/lib/esm/puppeteer/puppeteer-core.js'))).default;
} catch (e) {
  fatal(`puppeteer-core is not installed (npm ci --ignore-scripts --prefix tests/node): ${e.message}`);
}

const workRoot = path.resolve(option('work-dir', os.tmpdir()));
fs.mkdirSync(workRoot, { recursive: true });
const work = fs.mkdtempSync(path.join(workRoot, 'browser-page-'));
const downloads = path.join(work, 'downloads');
fs.mkdirSync(downloads);
const SIZE = '48x64';  // the server's default size and the size of the upload check
const TOKEN = `page-test-${process.pid}`;  // the server asks for it; the page keeps it per session

// ---- inputs made here ---------------------------------------------------------------------

// A photo-like PNG: gradients, a bright disc and a dark bar, 150 x 200 (not a multiple of 8).
function writePhoto(file, width, height) {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      const inDisc = (x - 130) ** 2 + (y - 60) ** 2 < 28 ** 2;
      const inBar = x > 30 && x < 70 && y > 90 && y < 130;
      rgb[i] = inDisc ? 250 : inBar ? 20 : Math.round((255 * x) / width);
      rgb[i + 1] = inDisc ? 220 : inBar ? 30 : Math.round((255 * y) / height);
      rgb[i + 2] = inDisc ? 40 : inBar ? 90 : (x * y) % 256;
    }
  }
  fs.writeFileSync(file, png.encodeRgb(width, height, rgb));
}

// A YUV4MPEG2 clip for Chromium's fake camera: 320 x 240, 10 fps, a bright disc circling over a
// gradient (Chromium plays it in a loop).
function writeY4m(file, frames) {
  const W = 320, H = 240;
  const parts = [Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) {
    const cx = 160 + 90 * Math.cos((2 * Math.PI * f) / frames);
    const cy = 120 + 60 * Math.sin((2 * Math.PI * f) / frames);
    const y = Buffer.alloc(W * H), u = Buffer.alloc((W / 2) * (H / 2)), v = Buffer.alloc((W / 2) * (H / 2));
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const disc = (c - cx) ** 2 + (r - cy) ** 2 < 35 ** 2;
        y[r * W + c] = disc ? 235 : 40 + Math.round((120 * c) / W);
      }
    }
    for (let r = 0; r < H / 2; r++) {
      for (let c = 0; c < W / 2; c++) {
        const disc = (2 * c - cx) ** 2 + (2 * r - cy) ** 2 < 35 ** 2;
        u[r * (W / 2) + c] = disc ? 60 : 128 + Math.round((60 * r) / (H / 2)) - 30;
        v[r * (W / 2) + c] = disc ? 200 : 128;
      }
    }
    parts.push(Buffer.from('FRAME\n'), y, u, v);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

function run(args) {
  log('$ msinet', args.join(' '));
  return execFileSync(msinet, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

// The same, in the background: resolves to null, or to the error.
function runInBackground(args) {
  log('$ msinet', args.join(' '), '&');
  return new Promise((resolve) => {
    execFile(msinet, args, { cwd: work }, (e, stdout, stderr) =>
      resolve(e ? new Error(`msinet ${args[0]} failed: ${e.message}\n${stdout}${stderr}`) : null));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const photo = path.join(work, 'photo.png');
writePhoto(photo, 200, 150);
const video = path.join(work, 'camera.y4m');
writeY4m(video, 30);
const weights = path.join(work, 'random.msinet');
try {
  run(['bench', '--save-weights', weights, '--skip', 'plans,accuracy,train,pipeline',
    '--test-images', '0', '--sizes', SIZE, '--batches', '1', '--iters', '1', '--precision', 'fp32',
    '--device', 'cpu', '--threads', '2', '--results-dir', path.join(work, 'results')]);
} catch (e) {
  fatal(`msinet failed: ${e.message}\n${e.stdout || ''}${e.stderr || ''}`);
}
// The map the page's PNG download must equal: `msinet test` on the same photo and size, while
// the server starts.
const expectedMap = path.join(work, 'expected', 'photo.png');
const expectedRun = runInBackground(['test', '--weights', weights, '--size', SIZE, '--format', 'png',
  '--device', 'cpu', '--threads', '2', '-p', photo, '-o', path.join(work, 'expected')]);

// ---- the server ---------------------------------------------------------------------------

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const serverLog = fs.openSync(path.join(work, 'serve.log'), 'w');
const server = spawn(msinet, ['serve', '--weights', weights, '--size', SIZE, '--host', '127.0.0.1',
  '--port', String(port), '--token', TOKEN, '--device', 'cpu', '--threads', '2'],
{ cwd: work, stdio: ['ignore', serverLog, serverLog] });
let serverExit = null;
server.on('exit', (code, signal) => { serverExit = signal || code; });
let browser = null;

function serverOutput() {
  return fs.readFileSync(path.join(work, 'serve.log'), 'utf8');
}

async function cleanUp() {
  if (browser) await browser.close().catch(() => {});
  if (serverExit === null) {
    server.kill('SIGTERM');
    for (let i = 0; i < 50 && serverExit === null; i++) await sleep(100);
    if (serverExit === null) server.kill('SIGKILL');
  }
}

async function waitForServer() {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (serverExit !== null) throw new Error(`msinet serve exited (${serverExit}):\n${serverOutput()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`msinet serve did not answer /healthz within 60 s:\n${serverOutput()}`);
}

// ---- screenshots --------------------------------------------------------------------------

// A PNG's pixels: the standard deviation of its grey levels, over the whole or a box.
function greySpread(img, box = { x: 0, y: 0, width: img.width, height: img.height }) {
  let n = 0, sum = 0, sq = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const i = (y * img.width + x) * img.channels;
      const g = img.channels >= 3 ? (img.data[i] + img.data[i + 1] + img.data[i + 2]) / 3 : img.data[i];
      n++;
      sum += g;
      sq += g * g;
    }
  }
  return Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2));
}

const VIEW = { width: 1280, height: 900 };

async function screenshot(page, name) {
  const file = path.join(work, `${name}.png`);
  await page.screenshot({ path: file });
  const copyDir = process.env.MSINET_SCREENSHOT_DIR;
  if (copyDir) {
    fs.mkdirSync(copyDir, { recursive: true });
    fs.copyFileSync(file, path.join(copyDir, `${name}.png`));
  }
  const img = png.decode(fs.readFileSync(file));
  check(img.width === VIEW.width && img.height === VIEW.height, `screenshot ${name} is ${VIEW.width}x${VIEW.height}`,
    `${img.width}x${img.height}`);
  check(greySpread(img) > 10, `screenshot ${name} is not blank`, `grey spread ${greySpread(img).toFixed(2)}`);
  // The map as it appears on screen is not one flat colour.
  const r = await page.$eval('#map', (el) => {
    const b = el.getBoundingClientRect();
    return { x: Math.ceil(b.x) + 2, y: Math.ceil(b.y) + 2, width: Math.floor(b.width) - 4, height: Math.floor(b.height) - 4 };
  });
  const box = {
    x: r.x, y: r.y,
    width: Math.max(1, Math.min(r.width, img.width - r.x)), height: Math.max(1, Math.min(r.height, img.height - r.y)),
  };
  const spread = greySpread(img, box);
  check(spread > 1, `screenshot ${name}: the map area is not uniform`, `grey spread ${spread.toFixed(3)} in ${JSON.stringify(box)}`);
  return file;
}

// ---- the page -----------------------------------------------------------------------------

// The map canvas: size and the spread of its grey levels.
function canvasInfo(page, id) {
  return page.$eval(id, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0, sq = 0;
    for (let i = 0; i < d.length; i += 4) { sum += d[i]; sq += d[i] * d[i]; }
    const n = d.length / 4;
    return { width: c.width, height: c.height, spread: Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2)) };
  });
}

async function waitForDownload(name) {
  const file = path.join(downloads, name);
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && !fs.existsSync(`${file}.crdownload`)) {
      await sleep(100);
      return fs.readFileSync(file);
    }
    await sleep(100);
  }
  throw new Error(`no download ${name} in ${downloads} (found: ${fs.readdirSync(downloads).join(', ')})`);
}

function parseNpy(buf) {
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error('not a .npy file');
  const len = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + len);
  const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(header);
  return { header, height: Number(shape[1]), width: Number(shape[2]), values: (buf.length - 10 - len) / 4 };
}

async function livePreset(page, preset, label, counts) {
  await page.select('#preset', preset);
  const before = counts.get(preset) || 0;
  await page.click('#live');
  await page.waitForFunction(
    () => /^FPS: \d+(\.\d+)?$/.test(document.querySelector('#fps').textContent) &&
      Number(document.querySelector('#fps').textContent.slice(5)) > 0,
    { timeout: 60000 });
  // At least three maps of this preset came back.
  const deadline = Date.now() + 60000;
  while ((counts.get(preset) || 0) - before < 3 && Date.now() < deadline) await sleep(100);
  check((counts.get(preset) || 0) - before >= 3, `live ${label} (${preset}): three maps or more`,
    `${(counts.get(preset) || 0) - before}`);
  const fps = await page.$eval('#fps', (e) => e.textContent);
  check(Number(fps.slice(5)) > 0, `live ${label}: positive FPS`, fps);
  const map = await canvasInfo(page, '#map');
  check(map.width === 320 && map.height === 240, `live ${label}: the map has the camera's size 320x240`,
    `${map.width}x${map.height}`);
  check(map.spread > 0.5, `live ${label}: the map is not uniform`, `spread ${map.spread.toFixed(3)}`);
  log(`live ${label}: ${fps}, ${await page.$eval('#latency', (e) => e.textContent)}`);
  return fps;
}

async function main() {
  await waitForServer();
  log(`msinet serve is up at ${url}`);

  const args = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`, '--disable-dev-shm-usage', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-default-apps',
    '--disable-sync', '--disable-features=Translate,OptimizationHints,MediaRouter'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');  // Chromium refuses root otherwise
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args, defaultViewport: VIEW });
  log(`browser: ${await browser.version()}`);
  const cdp = await browser.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });

  const page = await browser.newPage();
  const consoleErrors = [];
  const failedRequests = [];
  const saliencyCounts = new Map();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.url()}: HTTP ${r.status()}`);
    const m = /\/v1\/saliency\?size=(\d+x\d+)&format=npy/.exec(r.url());
    if (m && r.status() === 200) saliencyCounts.set(m[1], (saliencyCounts.get(m[1]) || 0) + 1);
  });

  // Loads, and shows what /v1/models says.
  await page.evaluateOnNewDocument((t) => sessionStorage.setItem('msinet-token', t), TOKEN);
  await page.goto(url, { waitUntil: 'networkidle0' });
  await page.waitForFunction(() => document.querySelector('#model').textContent !== 'model: …', { timeout: 10000 });
  const model = await page.$eval('#model', (e) => e.textContent);
  check(model.startsWith('model: salicon · default size 48x64 · cpu'), 'the page shows the model (with the token)', model);
  check(await page.title() === 'MSI-Net saliency', 'the page has its title');

  // Upload: overlay and map at the photo's size.
  await page.select('#preset', SIZE);
  await (await page.$('#file')).uploadFile(photo);
  await page.waitForFunction(() => !document.querySelector('#download-map').disabled, { timeout: 30000 });
  const overlay = await canvasInfo(page, '#overlay');
  const map = await canvasInfo(page, '#map');
  check(overlay.width === 200 && overlay.height === 150, 'upload: the overlay has the photo\'s size 200x150', `${overlay.width}x${overlay.height}`);
  check(map.width === 200 && map.height === 150, 'upload: the map has the photo\'s size 200x150', `${map.width}x${map.height}`);
  check(map.spread > 0.5, 'upload: the map is not uniform', `spread ${map.spread.toFixed(3)}`);
  check(overlay.spread > 5, 'upload: the overlay shows the photo', `spread ${overlay.spread.toFixed(3)}`);
  const latency = await page.$eval('#latency', (e) => e.textContent);
  check(/^latency: \d+ ms · server \d+(\.\d+)? ms/.test(latency), 'upload: round-trip and server latency shown', latency);
  log(`upload: ${latency}; status "${await page.$eval('#status', (e) => e.textContent)}"`);

  // The map PNG download has exactly the pixels of `msinet test --format png`.
  await page.click('#download-map');
  const mapBytes = await waitForDownload('photo_map.png');
  const testError = await expectedRun;
  if (testError) throw testError;
  if (!fs.existsSync(expectedMap)) throw new Error(`msinet test wrote no ${expectedMap}`);
  const expectedBytes = fs.readFileSync(expectedMap);
  const got = png.decode(mapBytes);
  const want = png.decode(expectedBytes);
  const samePixels = got.width === want.width && got.height === want.height &&
    got.channels === want.channels && got.data.equals(want.data);
  check(samePixels, 'download: the map PNG has the pixels of msinet test --format png',
    `${got.width}x${got.height}x${got.channels} vs ${want.width}x${want.height}x${want.channels}`);
  if (samePixels) log(`download: the map PNG is ${mapBytes.equals(expectedBytes) ? '' : 'not '}byte-equal too`);

  await page.click('#download-npy');
  const npy = parseNpy(await waitForDownload('photo_map.npy'));
  check(npy.width === 200 && npy.height === 150 && npy.values === 200 * 150 && /'<f4'/.test(npy.header),
    'download: the .npy is float32 150x200', npy.header.trim());

  await page.select('#colormap', 'viridis');
  await page.$eval('#opacity', (e) => { e.value = '70'; e.dispatchEvent(new Event('input')); });
  await page.click('#download-overlay');
  const jpeg = await waitForDownload('photo_overlay.jpeg');
  check(jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg.length > 1000, 'download: the overlay is a JPEG', `${jpeg.length} bytes`);
  await page.select('#colormap', 'inferno');
  await page.$eval('#opacity', (e) => { e.value = '50'; e.dispatchEvent(new Event('input')); });
  // The page's overlay at inferno and 50% is the server's own (overlay=1&alpha=0.5, lossless as
  // PNG) up to rounding: the page blends the .npy map, the server its float map.
  const res = await fetch(`${url}/v1/saliency?size=${SIZE}&overlay=1&alpha=0.5&format=png`, {
    method: 'POST', body: fs.readFileSync(photo),
    headers: { 'Content-Type': 'image/png', Authorization: `Bearer ${TOKEN}` },
  });
  check(res.ok, 'the server makes an overlay (overlay=1&alpha=0.5&format=png)', `HTTP ${res.status}`);
  if (res.ok) {
    const server = png.decode(Buffer.from(await res.arrayBuffer()));
    const mine = Buffer.from(await page.$eval('#overlay', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let text = '';
      for (let i = 0; i < d.length; i += 8192) text += String.fromCharCode(...d.subarray(i, i + 8192));
      return btoa(text);
    }), 'base64');
    let worst = 0, total = 0;
    for (let i = 0, j = 0; i < server.data.length; i += server.channels, j += 4) {
      for (let k = 0; k < 3; k++) {
        const d = Math.abs(server.data[i + k] - mine[j + k]);
        worst = Math.max(worst, d);
        total += d;
      }
    }
    const mean = total / (3 * server.width * server.height);
    check(server.width === 200 && server.height === 150 && worst <= 3 && mean < 0.5,
      'the page\'s inferno overlay matches the server\'s', `${server.width}x${server.height}, largest difference ${worst}, mean ${mean.toFixed(3)}`);
    log(`overlay: the page's and the server's differ by ${worst} at most, ${mean.toFixed(3)} on average`);
  }
  await screenshot(page, 'upload');

  // The same photo pasted from the clipboard and dropped on the drop zone; a camera snapshot.
  const photoBase64 = fs.readFileSync(photo).toString('base64');
  for (const [how, name] of [['paste', 'pasted.png'], ['drop', 'dropped.png']]) {
    await page.evaluate((how, name, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'image/png' }));
      if (how === 'paste') document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
      else document.querySelector('#drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, how, name, photoBase64);
    const stem = name.replace('.png', '');
    await page.waitForFunction((stem) => document.querySelector('#status').textContent.startsWith(`${stem}:`), { timeout: 30000 }, stem);
    const m = await canvasInfo(page, '#map');
    check(m.width === 200 && m.height === 150 && m.spread > 0.5, `${how}: a map of the photo's size`, `${m.width}x${m.height}, spread ${m.spread.toFixed(3)}`);
  }
  await page.click('#snapshot');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('snapshot:'), { timeout: 30000 });
  const snap = await canvasInfo(page, '#map');
  check(snap.width === 320 && snap.height === 240 && snap.spread > 0.5, 'snapshot: a map of the camera\'s size 320x240',
    `${snap.width}x${snap.height}, spread ${snap.spread.toFixed(3)}`);

  // Live mode on the fake camera at two presets.
  await livePreset(page, '48x64', 'very low', saliencyCounts);
  await screenshot(page, 'live-very-low');
  await page.click('#live');  // stop
  await sleep(300);
  await livePreset(page, '120x160', 'medium', saliencyCounts);
  await screenshot(page, 'live-medium');
  await page.click('#live');
  await sleep(500);

  check(consoleErrors.length === 0, 'no console errors or warnings', consoleErrors.join('\n'));
  check(failedRequests.length === 0, 'no failed requests', failedRequests.join('\n'));

  // An error from the server is shown with its HTTP status and body (a size that is not a
  // multiple of 8; the console error Chromium logs for it is expected here).
  await page.$eval('#preset', (s) => { s.add(new Option('bad', '50x50')); s.value = '50x50'; });
  await (await page.$('#file')).uploadFile(photo);
  await page.waitForFunction(() => !document.querySelector('#error').hidden, { timeout: 20000 });
  const error = await page.$eval('#error', (e) => e.textContent);
  check(/^HTTP 4\d\d: \S/.test(error), 'an HTTP error is shown with its status and body', error);

  // Without the token the server refuses, and the page says that it needs one.
  await page.$eval('#token', (e) => { e.value = ''; e.dispatchEvent(new Event('change')); });
  await page.waitForFunction(() => /needs a token/.test(document.querySelector('#model').textContent), { timeout: 10000 });
  check(await page.evaluate(() => sessionStorage.getItem('msinet-token')) === '', 'the cleared token is forgotten');
  await page.$eval('#preset', (s) => { s.value = '48x64'; });
  await (await page.$('#file')).uploadFile(photo);
  await page.waitForFunction(() => /^HTTP 401/.test(document.querySelector('#error').textContent), { timeout: 20000 });
  check(true, 'a request without the token shows HTTP 401');
}

try {
  await main();
} catch (e) {
  failures++;
  console.error(`FAIL ${e.stack || e}`);
  console.error(`--- msinet serve output ---\n${serverOutput()}`);
} finally {
  await cleanUp();
}
log(`${failures ? failures + ' check(s) failed' : 'all checks passed'} (work folder ${work})`);
if (!failures && !process.argv.includes('--keep')) fs.rmSync(work, { recursive: true, force: true });
process.exit(failures ? 1 : 0);
