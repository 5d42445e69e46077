#!/usr/bin/python3
"""Independent NumPy implementation of the deterministic saliency metrics (MIT benchmark
definitions), used by tests/test_eval_metrics.cpp as a cross-check.

Usage: eval_reference.py DIR
DIR holds s.npy (prediction), f.npy (fixations, nonzero = fixated), g.npy (continuous map),
b.npy (IG baseline; the centre map when absent), all of one size, and optionally r.npy with a target shape file rs.npy
(int64 [h, w]) for the bicubic resize, and pos.npy / neg.npy for one thresholded ROC split.
Prints one line per result: its name, then its value(s) ("nan" where undefined).
"""
import math
import os
import sys

import numpy as np

EPS = np.finfo(np.float64).eps


def minmax(x):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(), x.max()
    if not hi > lo:
        return None
    return (x - lo) / (hi - lo)


def auc_judd(s, f):
    fixated = f.ravel() != 0
    if not fixated.any():
        return None
    s = minmax(s)
    if s is None:
        return None
    s = s.ravel()
    th = np.sort(s[fixated])[::-1]
    nfix, npix = th.size, s.size
    tp = np.concatenate(([0.0], np.arange(1, nfix + 1) / nfix, [1.0]))
    above = np.array([(s >= t).sum() for t in th], dtype=np.float64)
    fp = np.concatenate(([0.0], (above - np.arange(1, nfix + 1)) / (npix - nfix), [1.0]))
    return float(np.trapz(tp, fp))


def roc_split(pos, neg, step=0.1):
    top = max(pos.max(), neg.max())
    k = int(math.floor(top / step + 1e-9))
    ts = np.arange(k, -1, -1) * step
    tp = [0.0] + [float((pos >= t).mean()) for t in ts] + [1.0]
    fp = [0.0] + [float((neg >= t).mean()) for t in ts] + [1.0]
    return float(np.trapz(tp, fp))


def nss(s, f):
    fixated = f != 0
    if not fixated.any():
        return None
    sd = s.std(ddof=1)
    if not sd > 0:
        return None
    return float(((s - s.mean()) / sd)[fixated].mean())


def cc(s, g):
    if s.std() == 0 or g.std() == 0:
        return None
    return float(np.corrcoef(s.ravel(), g.ravel())[0, 1])


def unit(x):
    t = x.sum()
    return x / t if t != 0 else x


def kld(s, g):
    p, q = unit(s), unit(g)
    return float((q * np.log(EPS + q / (p + EPS))).sum())


def sim(s, g):
    def norm(x):
        if not x.any():
            return x
        m = minmax(x)
        return None if m is None else unit(m)
    p, q = norm(s), norm(g)
    if p is None or q is None:
        return None
    return float(np.minimum(p, q).sum())


def ig(s, b, f):
    fixated = f != 0
    p, q = minmax(s), minmax(b)
    if p is None or q is None or not fixated.any():
        return None
    p, q = unit(p), unit(q)
    return float((np.log2(EPS + p[fixated]) - np.log2(EPS + q[fixated])).mean())


def cubic(x):
    a = np.abs(x)
    return np.where(a <= 1, 1.5 * a**3 - 2.5 * a**2 + 1,
                    np.where(a <= 2, -0.5 * a**3 + 2.5 * a**2 - 4 * a + 2, 0.0))


def resize_matrix(n_in, n_out, scale=None):
    """Dense n_out x n_in matrix of MATLAB imresize's bicubic weights (1-based formulas);
    `scale` is the factor MATLAB was given, n_out / n_in when it was given a size."""
    scale = n_out / n_in if scale is None else scale
    width = 4.0 / scale if scale < 1 else 4.0
    m = np.zeros((n_out, n_in))
    for x in range(1, n_out + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        idx = np.arange(left, left + int(math.ceil(width)) + 2)
        w = scale * cubic(scale * (u - idx)) if scale < 1 else cubic(u - idx)
        w = w / w.sum()
        mirror = np.concatenate((np.arange(n_in), np.arange(n_in)[::-1]))
        src = mirror[np.mod(idx - 1, 2 * n_in)]
        np.add.at(m[x - 1], src, w)
    return m


def imresize(a, shape):
    h, w = shape
    rows, cols = resize_matrix(a.shape[0], h), resize_matrix(a.shape[1], w)
    if h / a.shape[0] <= w / a.shape[1]:
        return (rows @ a) @ cols.T
    return rows @ (a @ cols.T)


def center(h, w, frac=0.25):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    sigma = frac * min(h, w)
    return np.exp(-((x - (w - 1) / 2) ** 2 + (y - (h - 1) / 2) ** 2) / (2 * sigma**2))


def main():
    d = sys.argv[1]
    load = lambda n: np.load(os.path.join(d, n)).astype(np.float64)
    out = {}
    if os.path.exists(os.path.join(d, "s.npy")):
        s, f, g = load("s.npy"), load("f.npy"), load("g.npy")
        b = load("b.npy") if os.path.exists(os.path.join(d, "b.npy")) else center(*s.shape)
        out.update(auc_judd=auc_judd(s, f), nss=nss(s, f), cc=cc(s, g), kld=kld(s, g),
                   sim=sim(s, g), ig=ig(s, b, f), center=center(*s.shape).ravel().tolist())
    if os.path.exists(os.path.join(d, "r.npy")):
        shape = [int(v) for v in np.load(os.path.join(d, "rs.npy")).ravel()]
        out["resized"] = imresize(load("r.npy"), shape).ravel().tolist()
    if os.path.exists(os.path.join(d, "pos.npy")):
        out["roc_split"] = roc_split(load("pos.npy").ravel(), load("neg.npy").ravel())
    for key, value in out.items():
        values = value if isinstance(value, list) else [value]
        print(key, " ".join("nan" if v is None else "%.17g" % v for v in values))


if __name__ == "__main__":
    main()
