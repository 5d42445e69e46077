// The MSI-Net page: sends an image (file, drop, paste, camera) to POST /v1/saliency, draws the
// map it returns (.npy, float32 in [0, 1]) and an overlay of it on the image, and offers both for
// download. Plain browser JavaScript, no libraries, nothing fetched from elsewhere.
'use strict';

// 256 RGB entries each (hex), the tables OpenCV's applyColorMap uses, so that the inferno overlay
// here matches the one the server (and `msinet test --overlay`) makes.
const COLORMAPS = {
  inferno: [
    '00000401000501010601010802010a02020c02020e03021004031204031405041706041907051b08051d09061f0a0722',
    '0b07240c08260d08290e092b10092d110a30120a32140b34150b37160b39180c3c190c3e1b0c411c0c431e0c451f0c48',
    '210c4a230c4c240c4f260c51280b53290b552b0b572d0b592f0a5b310a5c320a5e340a5f3609613809623909633b0964',
    '3d09653e0966400a67420a68440a68450a69470b6a490b6a4a0c6b4c0c6b4d0d6c4f0d6c510e6c520e6d540f6d550f6d',
    '57106e59106e5a116e5c126e5d126e5f136e61136e62146e64156e65156e67166e69166e6a176e6c186e6d186e6f196e',
    '71196e721a6e741a6e751b6e771c6d781c6d7a1d6d7c1d6d7d1e6d7f1e6c801f6c82206c84206b85216b87216b88226a',
    '8a226a8c23698d23698f24699025689225689326679526679727669827669a28659b29649d29649f2a63a02a63a22b62',
    'a32c61a52c60a62d60a82e5fa92e5eab2f5ead305dae305cb0315bb1325ab3325ab43359b63458b73557b93556ba3655',
    'bc3754bd3853bf3952c03a51c13a50c33b4fc43c4ec63d4dc73e4cc83f4bca404acb4149cc4248ce4347cf4446d04545',
    'd24644d34743d44842d54a41d74b3fd84c3ed94d3dda4e3cdb503bdd513ade5238df5337e05536e15635e25734e35933',
    'e45a31e55c30e65d2fe75e2ee8602de9612bea632aeb6429eb6628ec6726ed6925ee6a24ef6c23ef6e21f06f20f1711f',
    'f1731df2741cf3761bf37819f47918f57b17f57d15f67e14f68013f78212f78410f8850ff8870ef8890cf98b0bf98c0a',
    'f98e09fa9008fa9207fa9407fb9606fb9706fb9906fb9b06fb9d07fc9f07fca108fca309fca50afca60cfca80dfcaa0f',
    'fcac11fcae12fcb014fcb216fcb418fbb61afbb81dfbba1ffbbc21fbbe23fac026fac228fac42afac62df9c72ff9c932',
    'f9cb35f8cd37f8cf3af7d13df7d340f6d543f6d746f5d949f5db4cf4dd4ff4df53f4e156f3e35af3e55df2e661f2e865',
    'f2ea69f1ec6df1ed71f1ef75f1f179f2f27df2f482f3f586f3f68af4f88ef5f992f6fa96f8fb9af9fc9dfafda1fcffa4',
  ].join(''),
  viridis: [
    '44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769',
    '48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a',
    '472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85',
    '4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b',
    '3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d',
    '33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e',
    '2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e',
    '26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d',
    '21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88',
    '1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81',
    '28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74',
    '3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863',
    '5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d',
    '84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32',
    'addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a',
    'd8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725',
  ].join(''),
  jet: [
    '00008000008400008800008c00009000009400009800009c0000a00000a40000a80000ac0000b00000b40000b80000bc',
    '0000c00000c40000c80000cc0000d00000d40000d80000dc0000e00000e40000e80000ec0000f00000f40000f80000fc',
    '0000ff0004ff0008ff000cff0010ff0014ff0018ff001cff0020ff0024ff0028ff002cff0030ff0034ff0038ff003cff',
    '0040ff0044ff0048ff004cff0050ff0054ff0058ff005cff0060ff0064ff0068ff006cff0070ff0074ff0078ff007cff',
    '0080ff0084ff0088ff008cff0090ff0094ff0098ff009cff00a0ff00a4ff00a8ff00acff00b0ff00b4ff00b8ff00bcff',
    '00c0ff00c4ff00c8ff00ccff00d0ff00d4ff00d8ff00dcff00e0ff00e4ff00e8ff00ecff00f0ff00f4ff00f8ff00fcff',
    '02fffe06fffa0afff60efff212ffee16ffea1affe61effe222ffde26ffda2affd62effd232ffce36ffca3affc63effc2',
    '42ffbe46ffba4affb64effb252ffae56ffaa5affa65effa262ff9e66ff9a6aff966eff9272ff8e76ff8a7aff867eff82',
    '82ff7e86ff7a8aff768eff7292ff6e96ff6a9aff669eff62a2ff5ea6ff5aaaff56aeff52b2ff4eb6ff4abaff46beff42',
    'c2ff3ec6ff3acaff36ceff32d2ff2ed6ff2adaff26deff22e2ff1ee6ff1aeaff16eeff12f2ff0ef6ff0afaff06feff01',
    'fffc00fff800fff400fff000ffec00ffe800ffe400ffe000ffdc00ffd800ffd400ffd000ffcc00ffc800ffc400ffc000',
    'ffbc00ffb800ffb400ffb000ffac00ffa800ffa400ffa000ff9c00ff9800ff9400ff9000ff8c00ff8800ff8400ff8000',
    'ff7c00ff7800ff7400ff7000ff6c00ff6800ff6400ff6000ff5c00ff5800ff5400ff5000ff4c00ff4800ff4400ff4000',
    'ff3c00ff3800ff3400ff3000ff2c00ff2800ff2400ff2000ff1c00ff1800ff1400ff1000ff0c00ff0800ff0400ff0000',
    'fc0000f80000f40000f00000ec0000e80000e40000e00000dc0000d80000d40000d00000cc0000c80000c40000c00000',
    'bc0000b80000b40000b00000ac0000a80000a40000a000009c00009800009400009000008c0000880000840000800000',
  ].join(''),
};
const luts = {};
function lut(name) {
  if (!luts[name]) {
    const t = new Uint8Array(768);
    for (let i = 0; i < 768; i++) {
      t[i] = name === 'grey' ? Math.floor(i / 3) : parseInt(COLORMAPS[name].substr(2 * i, 2), 16);
    }
    luts[name] = t;
  }
  return luts[name];
}

const $ = (id) => document.getElementById(id);
const ui = {
  file: $('file'), drop: $('drop'), preset: $('preset'), snapshot: $('snapshot'), live: $('live'),
  colormap: $('colormap'), opacity: $('opacity'), opacityValue: $('opacity-value'),
  token: $('token'), map: $('map'), overlay: $('overlay'), video: $('video'), camera: $('camera'),
  downloadMap: $('download-map'), downloadOverlay: $('download-overlay'),
  downloadNpy: $('download-npy'), status: $('status'), fps: $('fps'), latency: $('latency'),
  error: $('error'), model: $('model'),
};

// The last result: what was sent (for the PNG download), the source picture, the map.
const state = { blob: null, name: 'image', source: null, map: null, npy: null };
let live = false;
let stream = null;

// ---- server -------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}${body ? ': ' + body.trim() : ''}`);
    this.status = status;
  }
}

function authHeaders() {
  const t = ui.token.value.trim();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

async function saliency(blob, format) {
  const url = `/v1/saliency?size=${encodeURIComponent(ui.preset.value)}&format=${format}`;
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST', body: blob,
    headers: { 'Content-Type': blob.type || 'application/octet-stream', ...authHeaders() },
  });
  if (!res.ok) throw new HttpError(res.status, await res.text());
  const bytes = await res.arrayBuffer();
  return {
    bytes,
    roundTrip: performance.now() - started,
    server: res.headers.get('X-Msinet-Latency-Ms'),
    batch: res.headers.get('X-Msinet-Batch-Size'),
  };
}

async function showModel() {
  try {
    const res = await fetch('/v1/models', { headers: authHeaders() });
    if (!res.ok) throw new HttpError(res.status, await res.text());
    const info = await res.json();
    const size = info.input_size ? `${info.input_size.height}x${info.input_size.width}` : null;
    const parts = [
      info.dataset && `model: ${info.dataset}`,
      size && `default size ${size}`,
      info.device,
      info.precision,
      info.batch_size && `batches of up to ${info.batch_size}`,
    ].filter(Boolean);
    ui.model.textContent = parts.length ? parts.join(' · ') : JSON.stringify(info);
    ui.model.title = JSON.stringify(info, null, 2);
  } catch (e) {
    ui.model.textContent = e.status === 401
      ? 'model: this server needs a token; enter it below'
      : `model: unknown (${e.message})`;
  }
}

// ---- .npy ---------------------------------------------------------------------------------

// A NumPy .npy file of a 2-D little-endian float32 array: { width, height, data }.
function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error('not a .npy file');
  const view = new DataView(buffer);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\((\d+),\s*(\d+),?\s*\)/.exec(header);
  if (!descr || descr[1] !== '<f4') throw new Error(`.npy: dtype ${descr && descr[1]}, not <f4`);
  if (!fortran || fortran[1] !== 'False') throw new Error('.npy: Fortran order is not supported');
  if (!shape) throw new Error(`.npy: not a 2-D array (${header.trim()})`);
  const height = Number(shape[1]);
  const width = Number(shape[2]);
  const offset = start + headerLen;
  if (buffer.byteLength < offset + 4 * width * height) throw new Error('.npy: data is short');
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(offset + 4 * i, true);
  return { width, height, data };
}

// ---- drawing ------------------------------------------------------------------------------

function mapLevels(map) {
  const u8 = new Uint8ClampedArray(map.data.length);
  for (let i = 0; i < u8.length; i++) u8[i] = Math.round(map.data[i] * 255);
  return u8;
}

function drawMap() {
  const { map } = state;
  const levels = mapLevels(map);
  ui.map.width = map.width;
  ui.map.height = map.height;
  const ctx = ui.map.getContext('2d', { willReadFrequently: true });
  const img = ctx.createImageData(map.width, map.height);
  for (let i = 0; i < levels.length; i++) {
    img.data.set([levels[i], levels[i], levels[i], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

// The picture blended with the coloured map, opaque as the map is salient: with s = level / 255,
// (1 - a s) * picture + a s * colour, as the server does.
function drawOverlay() {
  const { map, source } = state;
  const { width, height } = map;
  ui.overlay.width = width;
  ui.overlay.height = height;
  const ctx = ui.overlay.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  const img = ctx.getImageData(0, 0, width, height);
  const levels = mapLevels(map);
  const table = lut(ui.colormap.value);
  const a = Number(ui.opacity.value) / 100;
  for (let i = 0; i < levels.length; i++) {
    const c = 3 * levels[i];
    const as = (a * levels[i]) / 255;
    for (let k = 0; k < 3; k++) {
      img.data[4 * i + k] = Math.round((1 - as) * img.data[4 * i + k] + as * table[c + k]);
    }
  }
  ctx.putImageData(img, 0, 0);
}

function redraw() {
  ui.opacityValue.textContent = `${ui.opacity.value}%`;
  if (state.map) drawOverlay();
}

// ---- status -------------------------------------------------------------------------------

function setStatus(text) {
  ui.status.textContent = text;
}

function showError(e) {
  ui.error.textContent = e.message || String(e);
  ui.error.hidden = false;
  setStatus('error');
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function showLatency(r) {
  const server = r.server !== null ? ` · server ${Number(r.server).toFixed(1)} ms` : '';
  const batch = r.batch !== null ? ` · batch ${r.batch}` : '';
  ui.latency.textContent = `latency: ${r.roundTrip.toFixed(0)} ms${server}${batch}`;
}

// ---- one image ----------------------------------------------------------------------------

async function analyse(blob, source, name) {
  const r = await saliency(blob, 'npy');
  state.blob = blob;
  state.name = name;
  state.source = source;
  state.npy = r.bytes;
  state.map = parseNpy(r.bytes);
  drawMap();
  drawOverlay();
  showLatency(r);
  for (const b of [ui.downloadMap, ui.downloadOverlay, ui.downloadNpy]) b.disabled = false;
  return r;
}

async function analyseFile(file) {
  if (!file) return;
  if (live) stopLive();
  clearError();
  setStatus(`sending ${file.name || 'image'}…`);
  try {
    const source = await createImageBitmap(file);
    const stem = (file.name || 'pasted').replace(/\.[^.]*$/, '') || 'image';
    await analyse(file, source, stem);
    setStatus(`${stem}: ${state.map.width}×${state.map.height} map at ${ui.preset.value}`);
  } catch (e) {
    showError(e);
  }
}

// ---- camera -------------------------------------------------------------------------------

async function startCamera() {
  if (stream) return;
  if (!navigator.mediaDevices) throw new Error('the camera needs a secure page (https or localhost)');
  stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  ui.video.srcObject = stream;
  ui.camera.hidden = false;
  await ui.video.play();
  if (!ui.video.videoWidth) {
    await new Promise((resolve) => ui.video.addEventListener('loadedmetadata', resolve, { once: true }));
  }
}

// The current camera frame as a canvas and a JPEG blob.
async function grabFrame() {
  const canvas = document.createElement('canvas');
  canvas.width = ui.video.videoWidth;
  canvas.height = ui.video.videoHeight;
  canvas.getContext('2d').drawImage(ui.video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
  return { canvas, blob };
}

async function snapshot() {
  if (live) stopLive();
  clearError();
  try {
    await startCamera();
    const { canvas, blob } = await grabFrame();
    await analyse(blob, canvas, 'snapshot');
    setStatus(`snapshot: ${canvas.width}×${canvas.height} map at ${ui.preset.value}`);
  } catch (e) {
    showError(e);
  }
}

async function startLive() {
  if (live) return;
  live = true;
  clearError();
  ui.live.textContent = 'Stop live';
  ui.live.setAttribute('aria-pressed', 'true');
  ui.fps.textContent = 'FPS: –';
  setStatus('live: starting the camera…');
  try {
    await startCamera();
  } catch (e) {
    stopLive();
    showError(e);
    return;
  }
  const times = [];  // completion times of the last frames, for the FPS figure
  while (live) {
    try {
      const { canvas, blob } = await grabFrame();
      if (!live) break;
      await analyse(blob, canvas, 'live');
    } catch (e) {
      showError(e);
      stopLive();
      break;
    }
    const now = performance.now();
    times.push(now);
    while (times.length > 10) times.shift();
    if (times.length > 1) {
      const fps = (1000 * (times.length - 1)) / (now - times[0]);
      ui.fps.textContent = `FPS: ${fps.toFixed(1)}`;
    }
    setStatus(`live at ${ui.preset.value}`);
  }
}

function stopLive() {
  live = false;
  ui.live.textContent = 'Start live';
  ui.live.setAttribute('aria-pressed', 'false');
  setStatus('live stopped');
}

// ---- downloads ----------------------------------------------------------------------------

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function downloadMap() {
  clearError();
  try {
    const r = await saliency(state.blob, 'png');
    save(new Blob([r.bytes], { type: 'image/png' }), `${state.name}_map.png`);
  } catch (e) {
    showError(e);
  }
}

function downloadOverlay() {
  ui.overlay.toBlob((blob) => save(blob, `${state.name}_overlay.jpeg`), 'image/jpeg', 0.95);
}

function downloadNpy() {
  save(new Blob([state.npy], { type: 'application/octet-stream' }), `${state.name}_map.npy`);
}

// ---- wiring -------------------------------------------------------------------------------

ui.file.addEventListener('change', () => {
  analyseFile(ui.file.files[0]);
  ui.file.value = '';  // so that choosing the same file again sends it again
});
ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  analyseFile(e.dataTransfer.files[0]);
});
document.addEventListener('paste', (e) => {
  const item = [...e.clipboardData.items].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
  if (item) {
    e.preventDefault();
    analyseFile(item.getAsFile());
  }
});
ui.snapshot.addEventListener('click', snapshot);
ui.live.addEventListener('click', () => (live ? stopLive() : startLive()));
ui.colormap.addEventListener('change', redraw);
ui.opacity.addEventListener('input', redraw);
ui.token.value = sessionStorage.getItem('msinet-token') || '';
ui.token.addEventListener('change', () => {
  sessionStorage.setItem('msinet-token', ui.token.value.trim());
  showModel();
});
ui.downloadMap.addEventListener('click', downloadMap);
ui.downloadOverlay.addEventListener('click', downloadOverlay);
ui.downloadNpy.addEventListener('click', downloadNpy);
showModel();
