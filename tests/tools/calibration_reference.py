#!/usr/bin/python3
"""Independent NumPy/SciPy implementation of the calibration model's log-density (Kuemmerer,
Wallis & Bethge, PNAS 2015, as pysaliency's saliency map conversion builds it: blur, pointwise
nonlinearity, centre bias; here mixed with a uniform density) and of the fixations' mean
log-likelihood, used by tests/test_calibration.cpp as a cross-check.

Usage: calibration_reference.py DIR BLUR WEIGHT NONLINEARITY CENTRE_BIAS
DIR holds map.npy (the saliency map, any values) and optionally fix.npy (same size, nonzero =
one fixation); NONLINEARITY and CENTRE_BIAS are comma-separated knot values. Writes DIR/logp.npy
and prints "ll VALUE" (mean log-likelihood, nats per fixation) and "ig VALUE" (bits per fixation
over the uniform density) when fix.npy exists.
"""
import math
import os
import sys

import numpy as np
from scipy import ndimage


def log_density(m, blur, weight, f, c):
    m = np.asarray(m, dtype=np.float64)
    lo, hi = m.min(), m.max()
    s = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
    h, w = s.shape
    sigma = blur * min(h, w)
    if sigma >= 0.1:
        # pysaliency's kernel: 2 ceil(4 sigma) + 1 taps, normalised; edges replicated.
        r = int(math.ceil(4 * sigma))
        g = np.arange(-r, r + 1, dtype=np.float64)
        k = np.exp(-0.5 * (g / sigma) ** 2)
        k /= k.sum()
        s = ndimage.correlate1d(s, k, axis=1, mode="nearest")
        s = ndimage.correlate1d(s, k, axis=0, mode="nearest")
    fs = np.interp(np.clip(s, 0, 1), np.linspace(0, 1, len(f)), f)
    v = 2 * (np.arange(h) + 0.5) / h - 1
    u = 2 * (np.arange(w) + 0.5) / w - 1
    d = np.sqrt(v[:, None] ** 2 + u[None, :] ** 2) / np.sqrt(2)
    cb = np.interp(d, np.linspace(0, 1, len(c)), c)
    q = fs * cb
    if not q.sum() > 0:
        q = np.ones_like(q)
    p = (1 - weight) * q / q.sum() + weight / (h * w)
    return np.log(p)


def main():
    d = sys.argv[1]
    blur, weight = float(sys.argv[2]), float(sys.argv[3])
    f = [float(x) for x in sys.argv[4].split(",")]
    c = [float(x) for x in sys.argv[5].split(",")]
    logp = log_density(np.load(os.path.join(d, "map.npy")), blur, weight, f, c)
    np.save(os.path.join(d, "logp.npy"), logp)
    fix_path = os.path.join(d, "fix.npy")
    if os.path.exists(fix_path):
        fixated = np.load(fix_path) != 0
        ll = logp[fixated].mean()
        print("ll %r" % float(ll))
        print("ig %r" % float((ll + math.log(logp.size)) / math.log(2)))


if __name__ == "__main__":
    main()
