#!/usr/bin/python3
"""MSI-Net forward pass with TensorFlow 1 semantics, in NumPy alone (float64 throughout).

Written from the network description (reference-semantics.md, section 1), independently of the
C++ model: NHWC activations, HWIO kernels exactly as stored, "same" convolutions by im2col and a
matrix product, TF's SAME max-pool (right/bottom padding), TF1's legacy resize_bilinear.

  tf_reference_forward.py --weights-json MODEL.json --image IMG.png --out MAP.npy
                          [--pixels-out PIX.npy]
      Reads TF.js weights (float32, float16, or uint8/uint16-quantized: q * scale + min),
      decodes the 8-bit PNG (or reads an HxWx3 uint8 .npy of RGB pixels), runs the network and
      writes the normalised map (H x W, float64) to MAP.npy; --pixels-out also writes the decoded
      RGB pixels (H x W x 3, uint8). Prints one line of statistics of the map.
  tf_reference_forward.py --self-test
      Checks every op on small arrays with hand-computed results; exits 1 on any mismatch.
"""

import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np

# Per-channel constant subtracted from R, G, B (Caffe's BGR means, applied to RGB).
RGB_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)

# (scope, kernel size, dilation, in channels, out channels), reference-semantics.md section 1.
LAYERS = [
    ("conv1/conv1_1", 3, 1, 3, 64),
    ("conv1/conv1_2", 3, 1, 64, 64),
    ("conv2/conv2_1", 3, 1, 64, 128),
    ("conv2/conv2_2", 3, 1, 128, 128),
    ("conv3/conv3_1", 3, 1, 128, 256),
    ("conv3/conv3_2", 3, 1, 256, 256),
    ("conv3/conv3_3", 3, 1, 256, 256),
    ("conv4/conv4_1", 3, 1, 256, 512),
    ("conv4/conv4_2", 3, 1, 512, 512),
    ("conv4/conv4_3", 3, 1, 512, 512),
    ("conv5/conv5_1", 3, 2, 512, 512),
    ("conv5/conv5_2", 3, 2, 512, 512),
    ("conv5/conv5_3", 3, 2, 512, 512),
    ("aspp/conv1_1", 1, 1, 1280, 256),
    ("aspp/conv1_2", 3, 4, 1280, 256),
    ("aspp/conv1_3", 3, 8, 1280, 256),
    ("aspp/conv1_4", 3, 12, 1280, 256),
    ("aspp/conv1_5", 1, 1, 1280, 256),
    ("aspp/conv2", 1, 1, 1280, 256),
    ("decoder/conv1", 3, 1, 256, 128),
    ("decoder/conv2", 3, 1, 128, 64),
    ("decoder/conv3", 3, 1, 64, 32),
    ("decoder/conv4", 3, 1, 32, 1),
]

# Bytes of one im2col block (bounds memory; the product itself is BLAS).
IM2COL_BYTES = 48 << 20


# ---------------------------------------------------------------- weights (TF.js)


def read_tfjs(json_path):
    """All tensors of a TF.js model.json (or bare manifest) as float32 arrays, by name."""
    with open(json_path, "r", encoding="utf-8") as f:
        doc = json.load(f)
    manifest = doc["weightsManifest"] if isinstance(doc, dict) else doc
    base = os.path.dirname(os.path.abspath(json_path))
    tensors = {}
    for group in manifest:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            n = int(np.prod(shape, dtype=np.int64))
            q = w.get("quantization")
            if q is None:
                dt = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4")}[w["dtype"]]
                raw = np.frombuffer(data, dtype=dt, count=n, offset=offset)
                vals = raw.astype(np.float32)
            elif q["dtype"] in ("uint8", "uint16"):
                dt = np.dtype("u1") if q["dtype"] == "uint8" else np.dtype("<u2")
                raw = np.frombuffer(data, dtype=dt, count=n, offset=offset)
                # tfjs-core decodeWeights: JavaScript (double) arithmetic into a Float32Array.
                vals = (raw.astype(np.float64) * float(q["scale"]) + float(q["min"])).astype(np.float32)
            elif q["dtype"] == "float16":
                dt = np.dtype("<f2")
                raw = np.frombuffer(data, dtype=dt, count=n, offset=offset)
                vals = raw.astype(np.float32)
            else:
                raise SystemExit("unsupported quantization dtype " + str(q["dtype"]))
            offset += n * dt.itemsize
            tensors[w["name"]] = vals.reshape(shape)
        if offset != len(data):
            raise SystemExit("%s: the shards hold %d bytes, the manifest describes %d" % (json_path, len(data), offset))
    return tensors


def msinet_weights(tensors):
    """{scope: (kernel HWIO float64, bias float64)} for the 23 layers; checks names and shapes."""
    suffix = LAYERS[0][0] + "/kernel"
    candidates = [name for name in tensors if name.endswith(suffix)]
    if not candidates:
        raise SystemExit("no tensor named '*%s'" % suffix)
    prefix = min(candidates, key=len)[: -len(suffix)]
    out = {}
    for scope, k, _, cin, cout in LAYERS:
        kern = tensors.get(prefix + scope + "/kernel")
        bias = tensors.get(prefix + scope + "/bias")
        if kern is None or bias is None:
            raise SystemExit("missing " + prefix + scope + "/kernel or /bias")
        if kern.shape != (k, k, cin, cout) or bias.shape != (cout,):
            raise SystemExit("%s: shapes %s %s, expected %s %s" % (scope, kern.shape, bias.shape, (k, k, cin, cout), (cout,)))
        out[scope] = (kern.astype(np.float64), bias.astype(np.float64))
    return out


# ---------------------------------------------------------------- PNG (stdlib zlib)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(path):
    """An 8-bit, non-interlaced grey, RGB or RGBA PNG as H x W x 3 uint8 RGB."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(path + ": not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(ctype + body) != struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]:
            raise SystemExit(path + ": CRC mismatch in chunk " + ctype.decode("latin-1"))
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise SystemExit("%s: only 8-bit non-interlaced grey/RGB/RGBA PNG (depth %d, colour %d, interlace %d)" % (path, depth, colour, interlace))
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise SystemExit(path + ": wrong amount of image data")
    bpp = channels
    img = np.zeros((height, stride), dtype=np.uint8)
    prior = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1)
        if ftype == 0:
            cur = line.copy()
        elif ftype == 1:
            cur = np.add.accumulate(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif ftype == 2:
            cur = line + prior
        elif ftype in (3, 4):
            f, up, cur_l = line.tolist(), prior.tolist(), [0] * stride
            for x in range(stride):
                left = cur_l[x - bpp] if x >= bpp else 0
                if ftype == 3:
                    pred = (left + up[x]) // 2
                else:
                    pred = _paeth(left, up[x], up[x - bpp] if x >= bpp else 0)
                cur_l[x] = (f[x] + pred) & 0xFF
            cur = np.array(cur_l, dtype=np.uint8)
        else:
            raise SystemExit("%s: unknown PNG filter %d" % (path, ftype))
        img[y] = cur
        prior = cur
    img = img.reshape(height, width, channels)
    if channels == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def encode_png(rgb, filters):
    """A PNG of H x W x 3 uint8 `rgb`, row y filtered with filters[y % len(filters)] (self-test)."""
    h, w, _ = rgb.shape
    rows = []
    prev = [0] * (w * 3)
    for y in range(h):
        cur = rgb[y].reshape(-1).tolist()
        ft = filters[y % len(filters)]
        out = []
        for x in range(w * 3):
            a = cur[x - 3] if x >= 3 else 0
            b = prev[x]
            c = prev[x - 3] if x >= 3 else 0
            pred = [0, a, b, (a + b) // 2, _paeth(a, b, c)][ft]
            out.append((cur[x] - pred) & 0xFF)
        rows.append(bytes([ft]) + bytes(out))
        prev = cur

    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


# ---------------------------------------------------------------- ops (NHWC, one image: H x W x C)


def conv2d_same(x, kernel, bias, dilation=1):
    """TF conv2d, stride 1, padding SAME, HWIO kernel, dilation; im2col + matrix product."""
    h, w, cin = x.shape
    k = kernel.shape[0]
    pad = dilation * (k - 1) // 2
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    kmat = kernel.reshape(k * k * cin, -1)
    out = np.empty((h, w, kmat.shape[1]), dtype=np.float64)
    rows = max(1, IM2COL_BYTES // (w * k * k * cin * 8))
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        cols = np.empty((r1 - r0, w, k * k * cin), dtype=np.float64)
        for a in range(k):
            for b in range(k):
                t = a * k + b
                cols[:, :, t * cin : (t + 1) * cin] = xp[r0 + a * dilation : r1 + a * dilation, b * dilation : b * dilation + w, :]
        out[r0:r1] = (cols.reshape(-1, k * k * cin) @ kmat).reshape(r1 - r0, w, -1)
    return out + bias


def relu(x):
    return np.maximum(x, 0.0)


def max_pool_2x2_valid(x):
    """max_pool, ksize 2, stride 2, VALID."""
    h, w, c = x.shape
    x = x[: h // 2 * 2, : w // 2 * 2]
    return x.reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))


def max_pool_2x2_same_stride1(x):
    """max_pool, ksize 2, stride 1, SAME: one cell of -inf padding on the right and bottom."""
    xp = np.pad(x, ((0, 1), (0, 1), (0, 0)), constant_values=-np.inf)
    return np.maximum(np.maximum(xp[:-1, :-1], xp[1:, :-1]), np.maximum(xp[:-1, 1:], xp[1:, 1:]))


def resize_bilinear_legacy(x, out_h, out_w):
    """TF1 resize_bilinear(align_corners=False, half_pixel_centers=False)."""
    in_h, in_w, _ = x.shape

    def axis(in_n, out_n):
        scale = np.float32(in_n) / np.float32(out_n)
        src = np.arange(out_n, dtype=np.float32) * scale
        lo = np.floor(src).astype(np.int64)
        hi = np.minimum(lo + 1, in_n - 1)
        return lo, hi, (src - lo).astype(np.float64)

    ylo, yhi, fy = axis(in_h, out_h)
    xlo, xhi, fx = axis(in_w, out_w)
    fx = fx[None, :, None]
    top = x[ylo][:, xlo] + (x[ylo][:, xhi] - x[ylo][:, xlo]) * fx
    bottom = x[yhi][:, xlo] + (x[yhi][:, xhi] - x[yhi][:, xlo]) * fx
    return top + (bottom - top) * fy[:, None, None]


def upsample2(x):
    return resize_bilinear_legacy(x, 2 * x.shape[0], 2 * x.shape[1])


def normalise(m):
    m = m - m.min()
    return m / (1e-7 + m.max())


# ---------------------------------------------------------------- the network


def forward(rgb, weights):
    """RGB H x W x 3, 0..255 (uint8 pixels, or float32 ones resized and padded) -> the
    normalised map, H x W, float64."""
    spec = {scope: (dil, weights[scope]) for scope, _, dil, _, _ in LAYERS}

    def conv(scope, x, activation=True):
        dil, (kern, bias) = spec[scope]
        y = conv2d_same(x, kern, bias, dil)
        return relu(y) if activation else y

    x = (rgb.astype(np.float32) - RGB_MEAN).astype(np.float64)
    x = conv("conv1/conv1_2", conv("conv1/conv1_1", x))
    x = max_pool_2x2_valid(x)
    x = conv("conv2/conv2_2", conv("conv2/conv2_1", x))
    x = max_pool_2x2_valid(x)
    x = conv("conv3/conv3_3", conv("conv3/conv3_2", conv("conv3/conv3_1", x)))
    p3 = max_pool_2x2_valid(x)
    x = conv("conv4/conv4_3", conv("conv4/conv4_2", conv("conv4/conv4_1", p3)))
    p4 = max_pool_2x2_same_stride1(x)
    x = conv("conv5/conv5_3", conv("conv5/conv5_2", conv("conv5/conv5_1", p4)))
    p5 = max_pool_2x2_same_stride1(x)
    enc = np.concatenate([p3, p4, p5], axis=2)

    b1 = conv("aspp/conv1_1", enc)
    b2 = conv("aspp/conv1_2", enc)
    b3 = conv("aspp/conv1_3", enc)
    b4 = conv("aspp/conv1_4", enc)
    pooled = enc.mean(axis=(0, 1), keepdims=True)
    b5 = conv("aspp/conv1_5", pooled)  # 1x1 kernel: SAME and VALID coincide
    b5 = resize_bilinear_legacy(b5, enc.shape[0], enc.shape[1])
    x = conv("aspp/conv2", np.concatenate([b1, b2, b3, b4, b5], axis=2))

    x = conv("decoder/conv1", upsample2(x))
    x = conv("decoder/conv2", upsample2(x))
    x = conv("decoder/conv3", upsample2(x))
    x = conv("decoder/conv4", x, activation=False)
    return normalise(x[:, :, 0])


# ---------------------------------------------------------------- self-test


def self_test():
    failures = []

    def check(name, got, want, tol=1e-12):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape or not np.allclose(got, want, rtol=0, atol=tol):
            failures.append("%s:\n got  %s\n want %s" % (name, got.tolist(), want.tolist()))

    # x2 upsampling, legacy coordinates: out[2k] = in[k], out[2k+1] = (in[k] + in[k+1]) / 2.
    a = np.array([[1.0, 2.0, 3.0]])[:, :, None]
    check("upsample 1x3", upsample2(a)[:, :, 0], [[1, 1.5, 2, 2.5, 3, 3]] * 2)
    a = np.array([[0.0, 2.0], [4.0, 6.0]])[:, :, None]
    check("upsample 2x2", upsample2(a)[:, :, 0], [[0, 1, 2, 2], [2, 3, 4, 4], [4, 5, 6, 6], [4, 5, 6, 6]])
    a = np.array([[[1.0, -1.0], [3.0, 5.0]]])  # 1x2, two channels
    check("upsample channels", upsample2(a), [[[1, -1], [2, 2], [3, 5], [3, 5]]] * 2)
    a = np.array([[[7.0, -2.0]]])  # 1x1 -> 3x4 is a broadcast
    check("resize 1x1", resize_bilinear_legacy(a, 3, 4), np.tile(a, (3, 4, 1)))
    # 3 -> 4 (scale 0.75): src 0, 0.75, 1.5, 2.25 -> 0, 7.5, 15, 20.
    a = np.array([[0.0, 10.0, 20.0]])[:, :, None]
    check("resize 3->4", resize_bilinear_legacy(a, 1, 4)[:, :, 0], [[0, 7.5, 15, 20]])

    # Max-pools.
    a = np.array([[1.0, 5.0], [3.0, 2.0]])[:, :, None]
    check("pool same", max_pool_2x2_same_stride1(a)[:, :, 0], [[5, 5], [3, 2]])
    a = -np.array([[1.0, 5.0], [3.0, 2.0]])[:, :, None]
    check("pool same negative", max_pool_2x2_same_stride1(a)[:, :, 0], [[-1, -2], [-2, -2]])
    a = np.arange(16.0).reshape(4, 4)[:, :, None]
    check("pool valid", max_pool_2x2_valid(a)[:, :, 0], [[5, 7], [13, 15]])
    a = np.arange(30.0).reshape(5, 6)[:, :, None]
    check("pool valid odd", max_pool_2x2_valid(a)[:, :, 0], [[7, 9, 11], [19, 21, 23]])

    # Convolutions: 3x3 box sum, zero padding.
    a = np.arange(1.0, 10.0).reshape(3, 3)[:, :, None]
    ones = np.ones((3, 3, 1, 1))
    check("conv box", conv2d_same(a, ones, np.zeros(1))[:, :, 0], [[12, 21, 16], [27, 45, 33], [24, 39, 28]])
    # Cross-correlation orientation and dilation: a kernel with only tap (0, 0) shifts by d.
    a = np.arange(25.0).reshape(5, 5)[:, :, None]
    k = np.zeros((3, 3, 1, 1))
    k[0, 0] = 1.0
    want = np.zeros((5, 5))
    want[2:, 2:] = a[:3, :3, 0]
    check("conv dilation 2", conv2d_same(a, k, np.array([0.5]), 2)[:, :, 0], want + 0.5)
    k = np.zeros((3, 3, 1, 1))
    k[2, 1] = 1.0  # reads x[i + 1, j]
    want = np.zeros((5, 5))
    want[:4] = a[1:, :, 0]
    check("conv tap below", conv2d_same(a, k, np.zeros(1))[:, :, 0], want)
    # Channels: HWIO [.., in, out]; out0 = in0 + 10 in1, out1 = -in1, 1x1 kernel.
    a = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    k = np.array([[[[1.0, 0.0], [10.0, -1.0]]]])
    check("conv channels", conv2d_same(a, k, np.array([0.0, 1.0])), [[[21, -1], [43, -3]]])
    # im2col in several blocks equals one block.
    global IM2COL_BYTES
    rng = np.random.default_rng(1)
    a = rng.standard_normal((9, 7, 4))
    k = rng.standard_normal((3, 3, 4, 5))
    one = conv2d_same(a, k, np.zeros(5), 2)
    saved, IM2COL_BYTES = IM2COL_BYTES, 1
    many = conv2d_same(a, k, np.zeros(5), 2)
    IM2COL_BYTES = saved
    check("conv blocks", many, one)
    # ... and a direct loop.
    direct = np.zeros((9, 7, 5))
    for i in range(9):
        for j in range(7):
            for p in range(3):
                for q in range(3):
                    y, x = i + 2 * (p - 1), j + 2 * (q - 1)
                    if 0 <= y < 9 and 0 <= x < 7:
                        direct[i, j] += a[y, x] @ k[p, q]
    check("conv direct", one, direct, 1e-9)

    # Normalisation and mean.
    check("normalise", normalise(np.array([2.0, 4.0, 6.0])), [0, 2 / (4 + 1e-7), 4 / (4 + 1e-7)])
    px = np.array([[[104, 117, 124]]], dtype=np.uint8)
    check("mean", px.astype(np.float32) - RGB_MEAN, [[[104 - 103.939, 117 - 116.779, 124 - 123.68]]], 1e-5)

    # PNG: every filter type round-trips; grey and RGB.
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        rgb = rng.integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
        path = os.path.join(tmp, "t.png")
        with open(path, "wb") as f:
            f.write(encode_png(rgb, [0, 1, 2, 3, 4, 4, 3]))
        check("png filters", decode_png(path), rgb, 0)

        # TF.js: float32 and uint8 entries in one group, two shards.
        q = np.array([0, 1, 255], dtype=np.uint8)
        f32 = np.array([1.5, -2.0], dtype="<f4")
        blob = f32.tobytes() + q.tobytes()
        with open(os.path.join(tmp, "s1"), "wb") as f:
            f.write(blob[:5])
        with open(os.path.join(tmp, "s2"), "wb") as f:
            f.write(blob[5:])
        doc = {"weightsManifest": [{"paths": ["s1", "s2"], "weights": [
            {"name": "a", "shape": [2], "dtype": "float32"},
            {"name": "b", "shape": [3, 1], "dtype": "float32",
             "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}}]}]}
        with open(os.path.join(tmp, "model.json"), "w") as f:
            json.dump(doc, f)
        t = read_tfjs(os.path.join(tmp, "model.json"))
        check("tfjs float32", t["a"], [1.5, -2.0], 0)
        check("tfjs uint8", t["b"], [[-1.0], [-0.5], [126.5]], 0)

    # The layer table adds up to MSI-Net's 24,934,209 parameters.
    n = sum(k * k * cin * cout + cout for _, k, _, cin, cout in LAYERS)
    check("parameters", n, 24934209, 0)

    for f in failures:
        print("FAIL", f)
    print("self-test: %d checks failed" % len(failures))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights-json")
    ap.add_argument("--image")
    ap.add_argument("--out")
    ap.add_argument("--pixels-out")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not (args.weights_json and args.image and args.out):
        ap.error("--weights-json, --image and --out are required")
    weights = msinet_weights(read_tfjs(args.weights_json))
    if args.image.endswith(".npy"):
        rgb = np.load(args.image)
    else:
        rgb = decode_png(args.image)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise SystemExit("%s: expected H x W x 3 uint8 RGB" % args.image)
    if args.pixels_out:
        np.save(args.pixels_out, rgb)
    m = forward(rgb, weights)
    np.save(args.out, m)
    print("map %dx%d min %.6g max %.6g mean %.6g std %.6g" % (m.shape[0], m.shape[1], m.min(), m.max(), m.mean(), m.std()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
