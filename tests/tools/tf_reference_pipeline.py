#!/usr/bin/python3
"""MSI-Net's test-time image pipeline with TensorFlow 1 semantics, in NumPy alone.

Written from reference-semantics.md, section 2, independently of the C++ pipeline: the
aspect-preserving resize (TF1 resize_area or legacy resize_bicubic, both align_corners=True, in
float32 as TF computes them), padding with 126, the forward pass of tf_reference_forward.py
(float64), and the inverse resize (overfull) and centre crop back to the image's size.

  tf_reference_pipeline.py --weights-json MODEL.json --size HxW --image IMG.png --out MAP.npy
                           [--image IMG2.png --out MAP2.npy ...]
      Reads TF.js weights once, then for each image: decodes the 8-bit PNG, resizes it to fit
      H x W, pads it, runs the network, restores the map to the image's size and writes it
      divided by 255 (h x w, float64, in [0, 1]) to the matching --out, as `msinet test
      --format npy` does. Prints one line per image: the sizes, the resize used each way and
      statistics of the map.
  tf_reference_pipeline.py --self-test
      Checks the resizes, padding and crop on small arrays with hand-computed results; exits 1
      on any mismatch.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tf_reference_forward import decode_png, forward, msinet_weights, read_tfjs  # noqa: E402

PAD_VALUE = 126  # stimuli are padded with this constant (maps with 0)

# Keys' cubic convolution with A = -0.75, tabulated at t = i / 1024, i = 0..1024 (TF1's
# resize_bicubic): W0[i] = w0(t) for the taps next to the sample, W1[i] = w1(t) for the outer ones.
CUBIC_A = -0.75
CUBIC_TABLE = 1024
_t = np.arange(CUBIC_TABLE + 1, dtype=np.float64) / CUBIC_TABLE
CUBIC_W0 = (((CUBIC_A + 2) * _t - (CUBIC_A + 3)) * _t * _t + 1).astype(np.float32)
CUBIC_W1 = ((((CUBIC_A * (_t + 1) - 5 * CUBIC_A) * (_t + 1)) + 8 * CUBIC_A) * (_t + 1) - 4 * CUBIC_A).astype(np.float32)
del _t


# ---------------------------------------------------------------- resizes (float32, H x W x C)


def resize_scale(in_n, out_n):
    """align_corners=True: (in - 1) / (out - 1), or in / out for a single output; float32."""
    if out_n > 1:
        return np.float32(in_n - 1) / np.float32(out_n - 1)
    return np.float32(in_n) / np.float32(out_n)


def _clamp(i, n):
    return min(max(i, 0), n - 1)


def area_weights(in_n, out_n):
    """TF1 resize_area along one axis: (out_n x in_n float32 weights, the scale s).

    Output o covers [o * s, (o + 1) * s); each source cell i in floor(y0) .. ceil(y1) - 1 adds
    its overlap with that window (read at the clamped index).
    """
    s = resize_scale(in_n, out_n)
    w = np.zeros((out_n, in_n), dtype=np.float32)
    for o in range(out_n):
        y0 = np.float32(o) * s
        y1 = np.float32(o + 1) * s
        for i in range(int(np.floor(y0)), int(np.ceil(y1))):
            if i < y0:
                wt = s if i + 1 > y1 else np.float32(i + 1) - y0
            else:
                wt = y1 - np.float32(i) if i + 1 > y1 else np.float32(1)
            w[o, _clamp(i, in_n)] += wt
    return w, s


def resize_area(img, out_h, out_w):
    """TF1 resize_area(align_corners=True): sum(v * wy * wx) / (sy * sx), float32."""
    wy, sy = area_weights(img.shape[0], out_h)
    wx, sx = area_weights(img.shape[1], out_w)
    rows = np.einsum("xj,ijc->ixc", wx, img.astype(np.float32))  # along x, then along y
    return np.einsum("yi,ixc->yxc", wy, rows) / (sy * sx)


def bicubic_taps(in_n, out_n):
    """Legacy TF1 resize_bicubic along one axis: per output, (i0, table index) of src = o * s."""
    s = resize_scale(in_n, out_n)
    taps = []
    for o in range(out_n):
        src = np.float32(o) * s
        i0 = int(np.floor(src))
        # lrintf: round half to even, as np.rint.
        taps.append((i0, int(np.rint((src - np.float32(i0)) * np.float32(CUBIC_TABLE)))))
    return taps


def bicubic_weights(in_n, out_n):
    """out_n x in_n float32 weights: taps i0 - 1 .. i0 + 2 (clamped) take w1(t), w0(t), w0(1-t), w1(1-t)."""
    w = np.zeros((out_n, in_n), dtype=np.float32)
    for o, (i0, k) in enumerate(bicubic_taps(in_n, out_n)):
        for i, wt in zip(range(i0 - 1, i0 + 3), (CUBIC_W1[k], CUBIC_W0[k], CUBIC_W0[CUBIC_TABLE - k], CUBIC_W1[CUBIC_TABLE - k])):
            w[o, _clamp(i, in_n)] += wt
    return w


def resize_bicubic(img, out_h, out_w):
    """TF1 resize_bicubic(align_corners=True), legacy coordinates, float32."""
    wy = bicubic_weights(img.shape[0], out_h)
    wx = bicubic_weights(img.shape[1], out_w)
    cols = np.einsum("yi,ijc->yjc", wy, img.astype(np.float32))  # along y, then along x
    return np.einsum("xj,yjc->yxc", wx, cols)


# ---------------------------------------------------------------- the pipeline


def aspect_size(h, w, th, tw, overfull=False):
    """(nh, nw): h x w scaled by min (max when overfull) of th / h, tw / w, in double precision,
    rounded half to even (Python's round on a float is)."""
    ratio = (max if overfull else min)(th / h, tw / w)
    return round(h * ratio), round(w * ratio)


def aspect_resize(img, th, tw, overfull=False):
    """The aspect-preserving resize of an H x W x C image: area when shrinking, else bicubic,
    clipped to [0, 255]. Returns (image, name of the resize used)."""
    h, w = img.shape[:2]
    nh, nw = aspect_size(h, w, th, tw, overfull)
    if h > nh or w > nw:
        out, method = resize_area(img, nh, nw), "area"
    else:
        out, method = resize_bicubic(img, nh, nw), "bicubic"
    return np.clip(out, 0, 255), method


def pad_offsets(n, target):
    """(before, after): floor and ceil of (target - n) / 2."""
    before = (target - n) // 2
    return before, target - n - before


def pad(img, th, tw, value):
    top, bottom = pad_offsets(img.shape[0], th)
    left, right = pad_offsets(img.shape[1], tw)
    return np.pad(img, ((top, bottom), (left, right), (0, 0)), constant_values=value)


def crop_offset(cur, orig):
    return (cur - orig) // 2


def centre_crop(img, h, w):
    y, x = crop_offset(img.shape[0], h), crop_offset(img.shape[1], w)
    return img[y : y + h, x : x + w]


def saliency(rgb_u8, weights, th, tw):
    """The map msinet test writes with --format npy: h x w float64, the restored map / 255.
    Also returns a description of the sizes and resizes."""
    h, w = rgb_u8.shape[:2]
    x, down = aspect_resize(rgb_u8.astype(np.float32), th, tw)
    nh, nw = x.shape[:2]
    x = pad(x, th, tw, PAD_VALUE)
    m = forward(x, weights)  # th x tw, in [0, 1]
    restored, up = aspect_resize((m.astype(np.float32) * np.float32(255))[:, :, None], h, w, overfull=True)
    ch, cw = restored.shape[:2]
    restored = centre_crop(restored, h, w)[:, :, 0]
    info = "%dx%d -%s-> %dx%d, padded to %dx%d -%s-> %dx%d, cropped to %dx%d" % (h, w, down, nh, nw, th, tw, up, ch, cw, h, w)
    return restored.astype(np.float64) / 255, info


# ---------------------------------------------------------------- self-test


def self_test():
    failures = []

    def check(name, got, want, tol=1e-6):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape or not np.allclose(got, want, rtol=0, atol=tol):
            failures.append("%s:\n got  %s\n want %s" % (name, got.tolist(), want.tolist()))

    def line(values):
        return np.array(values, dtype=np.float32)[None, :, None]

    # resize_area, 4 -> 2: s = 3 / 1 = 3. Output 0: [0, 3) takes rows 0, 1, 2 with weight 1,
    # (0 + 3 + 6) / 3 = 3. Output 1: [3, 6) takes rows 3, 4, 5, all read at row 3:
    # 3 * 12 / 3 = 12.
    check("area 4->2", resize_area(line([0, 3, 6, 12]), 1, 2)[0, :, 0], [3, 12])
    # 5 -> 3: s = 2. [0, 2): (1 + 3) / 2 = 2; [2, 4): (5 + 7) / 2 = 6; [4, 6): rows 4, 5 -> 4,
    # 2 * 9 / 2 = 9.
    check("area 5->3", resize_area(line([1, 3, 5, 7, 9]), 1, 3)[0, :, 0], [2, 6, 9])
    # 6 -> 3: s = 2.5, fractional overlaps.
    # [0, 2.5): rows 0, 1 weight 1; row 2: 2 >= y0 and 3 > 2.5, weight y1 - 2 = 0.5:
    #   (0 + 10 + 0.5 * 20) / 2.5 = 8.
    # [2.5, 5): row 2: 2 < 2.5, 3 <= 5, weight 3 - 2.5 = 0.5; rows 3, 4 weight 1:
    #   (0.5 * 20 + 30 + 40) / 2.5 = 32.
    # [5, 7.5): rows 5, 6 weight 1, row 7 weight 7.5 - 7 = 0.5, all read at row 5: 50.
    check("area 6->3", resize_area(line([0, 10, 20, 30, 40, 50]), 1, 3)[0, :, 0], [8, 32, 50])
    w, s = area_weights(6, 3)
    check("area weights 6->3", w, [[1, 1, 0.5, 0, 0, 0], [0, 0, 0.5, 1, 1, 0], [0, 0, 0, 0, 0, 2.5]], 0)
    check("area scale 6->3", s, 2.5, 0)
    # A single output averages everything: s = 3 / 1 = 3, [0, 3).
    check("area 3->1", resize_area(line([3, 6, 12]), 1, 1)[0, :, 0], [7])
    # An output window inside one cell (2 -> 4, s = 1/3): output 1 covers [1/3, 2/3) of cell 0,
    # weight s (i < y0 and i + 1 > y1): s * 10 / s = 10. (1/3 is inexact in float32: the
    # overlaps of outputs 2 and 3 miss s by an ulp, hence the tolerance.)
    check("area 2->4", resize_area(line([10, 20]), 1, 4)[0, :, 0], [10, 10, 10, 20], 1e-5)
    # 2-D, 4 x 6 -> 2 x 3, v[i, j] = r[i] + c[j] with r, c the cases above: each axis' weights
    # sum to its s, so the result is r'[y] + c'[x] = [3, 12] + [8, 32, 50]; channel 1 = 100 - v.
    r, c = np.array([0, 3, 6, 12.0]), np.array([0, 10, 20, 30, 40, 50.0])
    v = (r[:, None] + c[None, :]).astype(np.float32)
    img = np.stack([v, 100 - v], axis=2)
    want = np.array([[11, 35, 53], [20, 44, 62]])
    check("area 2-D", resize_area(img, 2, 3), np.stack([want, 100 - want], axis=2))

    # The cubic table, by hand from w0(t) = ((A+2)t - (A+3))t^2 + 1 and
    # w1(t) = ((A(t+1) - 5A)(t+1) + 8A)(t+1) - 4A, A = -0.75:
    # t = 0:    w0 = 1, w1 = (-4A + 8A) - 4A = 0; t = 1: w0 = (A+2) - (A+3) + 1 = 0,
    #           w1 = ((2A - 5A) * 2 + 8A) * 2 - 4A = 0 (samples reproduce exactly).
    # t = 0.5:  w0 = (0.625 - 2.25) * 0.25 + 1 = 0.59375;
    #           w1 = ((-1.125 + 3.75) * 1.5 - 6) * 1.5 + 3 = -0.09375.
    # t = 0.25: w0 = (0.3125 - 2.25) * 0.0625 + 1 = 0.87890625;
    #           w1 = ((-0.9375 + 3.75) * 1.25 - 6) * 1.25 + 3 = -0.10546875.
    # t = 0.75: w0 = (0.9375 - 2.25) * 0.5625 + 1 = 0.26171875;
    #           w1 = ((-1.3125 + 3.75) * 1.75 - 6) * 1.75 + 3 = -0.03515625.
    idx = [0, 256, 512, 768, 1024]
    check("cubic w0", CUBIC_W0[idx], [1, 0.87890625, 0.59375, 0.26171875, 0], 0)
    check("cubic w1", CUBIC_W1[idx], [0, -0.10546875, -0.09375, -0.03515625, 0], 0)
    # resize_bicubic, 3 -> 5: s = 2 / 4 = 0.5, src = 0, 0.5, 1, 1.5, 2. At src 0.5 (i0 = 0,
    # t = 0.5) the taps rows -1 -> 0, 0, 1, 2 take -0.09375, 0.59375, 0.59375, -0.09375:
    #   0.59375 * 10 - 0.09375 * 40 = 2.1875.
    # At src 1.5 (i0 = 1): rows 0, 1, 2, 3 -> 2: 0.59375 * 10 + 0.59375 * 40 - 0.09375 * 40 = 25.9375.
    # Integer sources give the sample itself.
    check("bicubic 3->5", resize_bicubic(line([0, 10, 40]), 1, 5)[0, :, 0], [0, 2.1875, 10, 25.9375, 40])
    # 2 -> 5: s = 0.25. src 0.25 (t = 0.25): rows -1 -> 0, 0, 1, 2 -> 1 take w1(.25), w0(.25),
    # w0(.75), w1(.75): 64 * (0.26171875 - 0.03515625) = 14.5. src 0.5: 64 * (0.59375 - 0.09375)
    # = 32. src 0.75 (t = 0.75, taps w1(.75), w0(.75), w0(.25), w1(.25)):
    # 64 * (0.87890625 - 0.10546875) = 49.5. (Linear interpolation would give 16 and 48.)
    check("bicubic 2->5", resize_bicubic(line([0, 64]), 1, 5)[0, :, 0], [0, 14.5, 32, 49.5, 64])
    # The table index is rounded, not truncated: 2 -> 4, s = float32(1/3); src 2s = 0.6666667,
    # 0.6666667 * 1024 = 682.67 -> 683; src 3s = float32(1.00000003) = 1 -> (1, 0).
    check("bicubic taps 2->4", bicubic_taps(2, 4), [(0, 0), (0, 341), (0, 683), (1, 0)], 0)
    # 2-D, 3 x 2 -> 5 x 5, v[i, j] = r[i] + c[j]: every row of weights sums to 1 here, so the
    # result is r'[y] + c'[x] with the two cases above.
    v = (np.array([0, 10, 40.0])[:, None] + np.array([0, 64.0])[None, :]).astype(np.float32)
    want = np.array([0, 2.1875, 10, 25.9375, 40])[:, None] + np.array([0, 14.5, 32, 49.5, 64])[None, :]
    check("bicubic 2-D", resize_bicubic(v[:, :, None], 5, 5)[:, :, 0], want)
    # Same size: both are the identity (s = 1).
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 255, size=(4, 5, 3)).astype(np.float32)
    check("area identity", resize_area(img, 4, 5), img, 1e-4)
    check("bicubic identity", resize_bicubic(img, 4, 5), img, 1e-4)

    # Sizes. 37 x 91 into 48 x 64: ratio min(48/37, 64/91) = 64/91, 37 * 64/91 = 26.02 -> 26.
    check("size 37x91", aspect_size(37, 91, 48, 64), (26, 64), 0)
    # 21 x 128: ratio 0.5, 10.5 -> 10 (half to even; half up would give 11).
    check("size tie", aspect_size(21, 128, 48, 64), (10, 64), 0)
    # Back from 48 x 64 to cover 20 x 30: ratio max(20/48, 30/64) = 0.46875,
    # 48 * 0.46875 = 22.5 -> 22, 64 * 0.46875 = 30.
    check("size overfull tie", aspect_size(48, 64, 20, 30, overfull=True), (22, 30), 0)
    # 20 x 30 -> 43 x 64 (ratio 64/30, 42.67 -> 43) enlarges: bicubic; clipping to [0, 255].
    img = np.zeros((20, 30, 1), dtype=np.float32)
    img[:, 15:] = 255  # a step overshoots both ways under the cubic
    out, method = aspect_resize(img, 48, 64)
    check("resize method up", [method == "bicubic"], [True], 0)
    check("resize up size", out.shape, (43, 64, 1), 0)
    check("resize up clipped", [out.min(), out.max()], [0, 255], 0)
    raw = resize_bicubic(img, 43, 64)
    check("resize up overshoots", [raw.min() < 0, raw.max() > 255], [True, True], 0)
    out, method = aspect_resize(np.zeros((48, 64, 1), np.float32), 20, 30, overfull=True)
    check("resize method down", [method == "area"], [True], 0)
    check("resize down size", out.shape, (22, 30, 1), 0)

    # Padding: 43 rows into 48 -> 2 above, 3 below; 64 columns: none; the constant is 126.
    check("pad offsets odd", pad_offsets(43, 48), (2, 3), 0)
    check("pad offsets even", pad_offsets(26, 48), (11, 11), 0)
    p = pad(np.full((1, 2, 3), 7, np.float32), 4, 5, PAD_VALUE)
    want = np.full((4, 5), 126.0)
    want[1, 1:3] = 7
    check("pad", p[:, :, 0], want, 0)
    check("pad channels", p[:, :, 2], want, 0)
    # Crop: 22 -> 20 starts at row 1; 96 -> 21 at floor(75 / 2) = 37; 7 -> 4 at 1.
    check("crop offsets", [crop_offset(22, 20), crop_offset(96, 21), crop_offset(7, 4)], [1, 37, 1], 0)
    a = np.arange(35.0).reshape(7, 5, 1)
    check("crop", centre_crop(a, 4, 2)[:, :, 0], [[6, 7], [11, 12], [16, 17], [21, 22]], 0)

    for f in failures:
        print("FAIL", f)
    print("self-test: %d checks failed" % len(failures))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights-json")
    ap.add_argument("--size", help="network input size HxW")
    ap.add_argument("--image", action="append", default=[])
    ap.add_argument("--out", action="append", default=[])
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not (args.weights_json and args.size and args.image):
        ap.error("--weights-json, --size and --image are required")
    if len(args.image) != len(args.out):
        ap.error("give one --out per --image")
    th, tw = (int(v) for v in args.size.lower().split("x"))
    weights = msinet_weights(read_tfjs(args.weights_json))
    for image, out in zip(args.image, args.out):
        m, info = saliency(decode_png(image), weights, th, tw)
        np.save(out, m)
        print("%s: %s; map min %.6g max %.6g mean %.6g std %.6g" % (os.path.basename(image), info, m.min(), m.max(), m.mean(), m.std()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
