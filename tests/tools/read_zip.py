#!/usr/bin/python3
"""Reads a zip archive with Python's zipfile, independently of libzip, and prints one JSON object:
{"ok": <testzip found no bad member>, "entries": [{name, size, stored, sha256, ...}]}, where a
JPEG member adds "jpeg": [height, width, components] from its start-of-frame marker and a .npy
member adds "shape", "dtype", "fortran_order" and "logsumexp" (NumPy). With a second argument,
the members are also extracted into that folder.

Usage: read_zip.py ARCHIVE [EXTRACT_DIR]
"""
import hashlib
import io
import json
import sys
import zipfile

import numpy as np


def jpeg_frame(data):
    """(height, width, components) of the first SOFn marker, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            h = int.from_bytes(data[i + 5:i + 7], "big")
            w = int.from_bytes(data[i + 7:i + 9], "big")
            return [h, w, data[i + 9]]
        i += 2 + length
    return None


def logsumexp(a):
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a)
    return float(m + np.log(np.sum(np.exp(a - m))))


def main():
    archive = sys.argv[1]
    out = {"entries": []}
    with zipfile.ZipFile(archive) as z:
        out["ok"] = z.testzip() is None
        for info in z.infolist():
            data = z.read(info)
            e = {
                "name": info.filename,
                "size": info.file_size,
                "stored": info.compress_type == zipfile.ZIP_STORED,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            if info.filename.lower().endswith(".jpg"):
                e["jpeg"] = jpeg_frame(data)
            if info.filename.lower().endswith(".npy"):
                a = np.load(io.BytesIO(data), allow_pickle=False)
                e["shape"] = list(a.shape)
                e["dtype"] = str(a.dtype)
                e["fortran_order"] = bool(np.isfortran(a)) and a.ndim > 1
                e["logsumexp"] = logsumexp(a)
            out["entries"].append(e)
        if len(sys.argv) > 2:
            z.extractall(sys.argv[2])
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
