#!/usr/bin/env python3
"""Wilcoxon signed-rank reference: scipy.stats.wilcoxon on each case of a JSON file.

Usage: wilcoxon_reference.py CASES.json
CASES.json is a list of lists of paired differences. Prints one JSON list with, per case,
{"statistic", "p", "z"} from scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False)
with the normal approximation (mode='approx', spelled method='approx' in newer SciPy), or null
where SciPy refuses (every difference zero).
"""
import json
import sys
import warnings

import numpy as np
from scipy import stats


def one(d):
    d = np.asarray(d, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sample size too small for normal approximation"
        try:
            try:
                res = stats.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
            except TypeError:
                res = stats.wilcoxon(d, zero_method="wilcox", correction=False, mode="approx")
        except ValueError:
            return None
    z = getattr(res, "zstatistic", None)
    return {"statistic": float(res.statistic), "p": float(res.pvalue),
            "z": None if z is None else float(z)}


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    print(json.dumps([one(d) for d in cases]))


if __name__ == "__main__":
    main()
