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
([downsize, max_distance, exact], max_distance inf for none; default [32, inf, 1]). Prints,
each line starting with the DIR's name, "p" and "q" (the shrunk, normalised maps, row-major),
"emd_fastemd" (the optimum of the problem as FastEMD rounds it to integers, which is what the
MIT code returns; "nan" if undefined) and, where defined and exact is nonzero, "emd" (the
optimum without rounding; slow from 19x25 bins on).
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


def transport_cost_fastemd(p, q, supply, demand, shape, max_distance):
    """FastEMD's emd_hat_impl<double> with extra-mass penalty 0: masses times
    1e6 / max(sum p, sum q) and distances times 1e6 / (largest distance between any two bins),
    each rounded by floor(x + 0.5); the larger integer total's excess stays free; the integer
    optimum divided by both factors. Solved here as a linear programme (integral data: the
    optimum is the integer one)."""
    mass_factor = 1e6 / max(p.sum(), q.sum())
    largest = min(max_distance, np.hypot(shape[0] - 1, shape[1] - 1))
    cost_factor = 1e6 / largest
    a, b = np.floor(supply * mass_factor + 0.5), np.floor(demand * mass_factor + 0.5)
    src, dst = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    if src.size == 0 or dst.size == 0:
        return 0.0
    ys, xs = np.divmod(src, shape[1])
    yd, xd = np.divmod(dst, shape[1])
    d = np.minimum(np.hypot(ys[:, None] - yd[None, :], xs[:, None] - xd[None, :]), max_distance)
    c = np.floor(d * cost_factor + 0.5)
    n, m = src.size, dst.size
    rows = scipy.sparse.kron(scipy.sparse.eye(n), np.ones((1, m))).tocsr()
    cols = scipy.sparse.kron(np.ones((1, n)), scipy.sparse.eye(m)).tocsr()
    # The side with the smaller total is served exactly; the other gives at most its masses.
    if a[src].sum() >= b[dst].sum():
        eq, b_eq, ub, b_ub = cols, b[dst], rows, a[src]
    else:
        eq, b_eq, ub, b_ub = rows, a[src], cols, b[dst]
    res = scipy.optimize.linprog(c.ravel(), A_ub=ub, b_ub=b_ub, A_eq=eq, b_eq=b_eq,
                                 bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError("linprog failed: " + res.message)
    return float(np.round(res.fun)) / mass_factor / cost_factor


def emd(s, g, downsize=32, max_distance=np.inf, fastemd=False):
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
    if fastemd:
        return p, q, transport_cost_fastemd(p, q, np.maximum(p - q, 0.0).ravel(),
                                            np.maximum(q - p, 0.0).ravel(), p.shape, max_distance)
    return p, q, transport_cost(supply.ravel(), demand.ravel(), p.shape, max_distance)


def main():
    for d in sys.argv[1:]:
        load = lambda n: np.load(os.path.join(d, n)).astype(np.float64)
        opts = [32, np.inf, 1]
        if os.path.exists(os.path.join(d, "opts.npy")):
            opts = list(load("opts.npy").ravel()) + opts[len(load("opts.npy").ravel()):]
        s, g, downsize, cap = load("s.npy"), load("g.npy"), int(opts[0]), float(opts[1])
        p, q, rounded = emd(s, g, downsize, cap, fastemd=True)
        name = os.path.basename(os.path.normpath(d))
        for key, v in (("p", p), ("q", q)):
            if v is not None:
                print(name, key, " ".join("%.17g" % x for x in v.ravel()))
        print(name, "emd_fastemd", "nan" if rounded is None else "%.17g" % rounded)
        if opts[2] and rounded is not None:
            print(name, "emd", "%.17g" % emd(s, g, downsize, cap)[2])


if __name__ == "__main__":
    main()
