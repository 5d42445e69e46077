#!/usr/bin/python3
"""Independent reference of the MIT benchmark's EMD (EMD.m): the ground-truth map shrunk with
MATLAB imresize(g, 1/downsize), the prediction resized to that size, both divided by their sums,
then the transport problem over every pair of bins, with the Euclidean distance between bin
centres (capped at max_distance), solved as a linear programme by scipy.optimize.linprog
(HiGHS). Where bicubic overshoot leaves negative values, the transport is that of FastEMD's
emd_hat_gd_metric, which EMD.m calls: the mass both maps share in a bin stays, and
max(p - q, 0) travels to max(q - p, 0). Used by tests/test_eval_emd.cpp.

Usage: emd_reference.py DIR...
Each DIR holds s.npy (prediction), g.npy (continuous ground-truth map) and optionally opts.npy
([downsize, max_distance], max_distance inf for none; default [32, inf]). Prints, each line
starting with the DIR's name, "p" and "q" (the shrunk, normalised maps, row-major) and "emd"
("nan" if undefined).
"""
import os
import sys

import numpy as np
import scipy.optimize
import scipy.sparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_reference import imresize, resize_matrix  # noqa: E402


def shrink(g, downsize):
    """MATLAB imresize(g, 1/downsize): output ceil(scale * size), weights from the factor."""
    scale = 1.0 / downsize
    if scale == 1.0:
        return g.copy()
    h, w = (int(np.ceil(scale * n)) for n in g.shape)
    return (resize_matrix(g.shape[0], h, scale) @ g) @ resize_matrix(g.shape[1], w, scale).T


def transport_cost(p, q, shape, max_distance):
    """The cheapest flow from masses p to masses q (equal totals) over the bins with mass."""
    src, dst = np.flatnonzero(p > 0), np.flatnonzero(q > 0)
    ys, xs = np.divmod(src, shape[1])
    yd, xd = np.divmod(dst, shape[1])
    d = np.minimum(np.hypot(ys[:, None] - yd[None, :], xs[:, None] - xd[None, :]), max_distance)
    # f[a, b] (row-major): mass moved from bin src[a] of p to bin dst[b] of q.
    n, m = src.size, dst.size
    rows = scipy.sparse.kron(scipy.sparse.eye(n), np.ones((1, m)))
    cols = scipy.sparse.kron(np.ones((1, n)), scipy.sparse.eye(m))
    a_eq = scipy.sparse.vstack([rows, cols]).tocsr()
    # Masses in millionths: HiGHS's presolve calls some problems with masses near 1e-16
    # infeasible at their own scale.
    unit = 1e-6
    b_eq = np.concatenate([p[src], q[dst]]) / unit
    res = scipy.optimize.linprog(d.ravel(), A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                                 method="highs")
    if res.status != 0:
        raise RuntimeError("linprog failed: " + res.message)
    return float(res.fun) * unit


def emd(s, g, downsize=32, max_distance=np.inf):
    if (s < 0).any() or (g < 0).any():
        return None, None, None
    p = shrink(g, downsize)
    q = imresize(s, p.shape)
    if not p.sum() > 0 or not q.sum() > 0:
        return p, q, None
    p, q = p / p.sum(), q / q.sum()
    if (p < 0).any() or (q < 0).any():
        supply, demand = np.maximum(p - q, 0.0), np.maximum(q - p, 0.0)
    else:
        supply, demand = p, q
    return p, q, transport_cost(supply.ravel(), demand.ravel(), p.shape, max_distance)


def main():
    for d in sys.argv[1:]:
        load = lambda n: np.load(os.path.join(d, n)).astype(np.float64)
        opts = [32, np.inf]
        if os.path.exists(os.path.join(d, "opts.npy")):
            opts = load("opts.npy").ravel()
        p, q, value = emd(load("s.npy"), load("g.npy"), int(opts[0]), float(opts[1]))
        name = os.path.basename(os.path.normpath(d))
        for key, v in (("p", p), ("q", q)):
            if v is not None:
                print(name, key, " ".join("%.17g" % x for x in v.ravel()))
        print(name, "emd", "nan" if value is None else "%.17g" % value)


if __name__ == "__main__":
    main()
