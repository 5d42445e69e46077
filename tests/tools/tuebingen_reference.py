#!/usr/bin/python3
"""Independent NumPy/SciPy implementation of the Tuebingen protocol (the MIT/Tuebingen saliency
benchmark's metrics of a probabilistic model, as saliency-benchmarking and pysaliency define
them) and of its centre-bias baseline, used by tests/test_eval_tuebingen.cpp as a cross-check.

Usage: tuebingen_reference.py DIR KERNEL_SIZE
DIR holds img<k>_ld.npy (a natural log-density) and img<k>_fix.npy (binary fixation map, same
size) for the scored images k, and train<j>_fix.npy (training fixation maps, any sizes).
Writes DIR/ref_cb<k>.npy (the fitted centre bias' log-density at image k's size) and prints
"fit <bandwidth> <weight> <heldout bits>" and, per image, "img<k> <metric> <value>" lines.
"""
import glob
import math
import os
import sys

import numpy as np
from scipy.ndimage import gaussian_filter, zoom
from scipy.special import logsumexp

EPS = 2.2204e-16
GRID = 100
FOLDS = 10
SIDE = 500
BANDWIDTHS = [10 ** (-2 + 0.1 * k) for k in range(16)]
WEIGHTS = [10 ** (-6 + 0.25 * k) for k in range(25)]


def fixations(f):
    ys, xs = np.nonzero(f)
    return ys, xs  # row-major order, as np.nonzero gives


def positions(maps):
    us, vs, img = [], [], []
    n = 0
    for f in maps:
        ys, xs = fixations(f)
        if len(xs) == 0:
            continue
        h, w = f.shape
        us += list((xs + 0.5) / w)
        vs += list((ys + 0.5) / h)
        img += [n] * len(xs)
        n += 1
    return np.array(us), np.array(vs), np.array(img), n


def kde(us, vs, shape, bandwidth):
    h, w = shape
    hist = np.zeros(shape)
    rows = np.clip(np.floor(vs * h).astype(int), 0, h - 1)
    cols = np.clip(np.floor(us * w).astype(int), 0, w - 1)
    np.add.at(hist, (rows, cols), 1.0)
    k = gaussian_filter(hist, [bandwidth * h, bandwidth * w], mode='reflect', truncate=4.0)
    return k / k.sum()


def fit(maps):
    us, vs, img, n = positions(maps)
    folds = min(FOLDS, n)
    best = (-np.inf, None, None)
    for b in BANDWIDTHS:
        held = np.zeros(len(us))
        for f in range(folds):
            train = img % folds != f
            k = kde(us[train], vs[train], (GRID, GRID), b)
            rows = np.clip(np.floor(vs[~train] * GRID).astype(int), 0, GRID - 1)
            cols = np.clip(np.floor(us[~train] * GRID).astype(int), 0, GRID - 1)
            held[~train] = k[rows, cols] * GRID * GRID
        for w in WEIGHTS:
            bits = np.mean(np.log((1 - w) * held + w)) / np.log(2)
            if bits > best[0]:
                best = (bits, b, w)
    return best[1], best[2], best[0], us, vs


def baseline(us, vs, shape, b, w):
    d = (1 - w) * kde(us, vs, shape, b) + w / (shape[0] * shape[1])
    ld = np.log(d)
    return ld - logsumexp(ld)


def equalize(smap):
    # ref: saliency_benchmarking/models EqualizedSaliencyMapModel
    r = np.argsort(np.argsort(smap.flatten(), kind='stable'), kind='stable').reshape(smap.shape)
    return r.astype(float) / np.prod(smap.shape)


def auc_per_positive(pos, neg):
    neg = np.asarray(neg, dtype=float)
    return np.mean([((neg < p).sum() + 0.5 * (neg == p).sum()) / len(neg) for p in pos])


def to_density(s):
    s = s.astype(float)
    if s.min() < 0:
        s = s - s.min()
    return s / s.sum() if s.sum() else np.full(s.shape, 1.0 / s.size)


def main():
    d, kernel = sys.argv[1], float(sys.argv[2])
    lds = sorted(glob.glob(os.path.join(d, 'img*_ld.npy')))
    names = [os.path.basename(p)[:-7] for p in lds]
    ld = [np.load(p).astype(float) for p in lds]
    fx = [np.load(os.path.join(d, n + '_fix.npy')) != 0 for n in names]
    train = [np.load(p) != 0 for p in sorted(glob.glob(os.path.join(d, 'train*_fix.npy')))]
    b, w, bits, us, vs = fit(train)
    print('fit %.17g %.17g %.17g' % (b, w, bits))

    # sAUC's shuffled baseline: ref pysaliency/models.py ShuffledBaselineModel
    N = len(ld)
    own = []
    for l in ld:
        z = zoom(l, [SIDE / l.shape[0], SIDE / l.shape[1]], order=1, mode='nearest')
        own.append(z - logsumexp(z))
    avg = logsumexp(np.array(own) - np.log(N), axis=0)
    avg -= logsumexp(avg)

    for k, (name, l, f) in enumerate(zip(names, ld, fx)):
        h, wd = l.shape
        ys, xs = fixations(f)
        cb = baseline(us, vs, l.shape, b, w)
        np.save(os.path.join(d, 'ref_cb%d.npy' % k), cb)
        p = np.exp(l)
        out = {}
        out['ll'] = np.mean(l[ys, xs] + np.log(h * wd)) / np.log(2)
        out['ig'] = np.mean(l[ys, xs] - cb[ys, xs]) / np.log(2)
        eq = equalize(p)
        out['auc'] = auc_per_positive(eq[ys, xs], eq.flatten())
        with np.errstate(divide='ignore'):
            loo = np.log(np.exp(avg + np.log(N) - np.log(N - 1)) - np.exp(own[k] - np.log(N - 1)))
        sb = zoom(loo, [h / SIDE, wd / SIDE], order=1, mode='nearest')
        sb -= logsumexp(sb)
        seq = equalize(l - sb)
        nx, ny = [], []
        for j, g in enumerate(fx):
            if j == k:
                continue
            gy, gx = fixations(g)
            nx += list((gx * (wd / g.shape[1])).astype(int))
            ny += list((gy * (h / g.shape[0])).astype(int))
        out['sauc'] = auc_per_positive(seq[ys, xs], seq[np.array(ny), np.array(nx)])
        out['nss'] = np.mean((p[ys, xs] - p.mean()) / p.std())
        blurred = gaussian_filter(p, kernel, mode='constant', truncate=4.0)
        emp = gaussian_filter(f.astype(float), kernel, mode='reflect', truncate=4.0)
        out['cc'] = np.corrcoef(blurred.flatten(), emp.flatten())[0, 1]
        P, G = to_density(blurred), to_density(emp)
        out['kld'] = np.sum(G * np.log(EPS + G / (P + EPS)))
        out['sim'] = np.minimum(P, G).sum()
        for m, v in out.items():
            print('%s %s %.17g' % (name, m, v))


if __name__ == '__main__':
    main()
