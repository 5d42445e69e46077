#!/usr/bin/python3
"""Reference values for the weight-reader tests, computed with NumPy alone.

  weights_reference.py tfjs MANIFEST OUTDIR
      Reads a TF.js model.json or bare weights manifest the way tfjs-core's decodeWeights does
      (shards of a group concatenated in `paths` order, entries in order, quantized values
      q * scale + min computed in float64 and stored as float32). Writes each float tensor to
      OUTDIR/<k>.f32 (raw little-endian float32) and prints one line per entry:
      "<k> <name> <count> <min> <max> <shard bytes of its group>".
  weights_reference.py content PB NBYTES OUT
      Finds the one tensor_content field (tag 0x22) of exactly NBYTES bytes in a serialized
      GraphDef and writes its bytes to OUT; exits 1 unless exactly one such field is found.
"""

import json
import os
import sys

import numpy as np


def tfjs(manifest_path, outdir):
    with open(manifest_path, "r", encoding="utf-8") as f:
        doc = json.load(f)
    manifest = doc["weightsManifest"] if isinstance(doc, dict) else doc
    base = os.path.dirname(manifest_path)
    k = 0
    for group in manifest:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"], dtype=np.int64))
            q = w.get("quantization")
            if q is None:
                dt = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
                raw = np.frombuffer(data, dtype=dt, count=n, offset=offset)
                offset += n * 4
                vals = raw.astype(np.float32)
            elif q["dtype"] in ("uint8", "uint16"):
                dt = np.uint8 if q["dtype"] == "uint8" else np.dtype("<u2")
                raw = np.frombuffer(data, dtype=dt, count=n, offset=offset)
                offset += n * raw.itemsize
                vals = (raw.astype(np.float64) * float(q["scale"]) + float(q["min"])).astype(np.float32)
            elif q["dtype"] == "float16":
                raw = np.frombuffer(data, dtype=np.dtype("<f2"), count=n, offset=offset)
                offset += n * 2
                vals = raw.astype(np.float32)
            else:
                raise SystemExit("unsupported quantization " + q["dtype"])
            vals.astype("<f4").tofile(os.path.join(outdir, "%d.f32" % k))
            lo = float(vals.min()) if n else 0.0
            hi = float(vals.max()) if n else 0.0
            print("%d %s %d %.9g %.9g %d" % (k, w["name"], n, lo, hi, len(data)))
            k += 1


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def content(pb_path, nbytes, out_path):
    data = open(pb_path, "rb").read()
    needle = b"\x22" + varint(nbytes)
    hits = []
    start = 0
    while True:
        i = data.find(needle, start)
        if i < 0:
            break
        if i + len(needle) + nbytes <= len(data):
            hits.append(i + len(needle))
        start = i + 1
    if len(hits) != 1:
        print("found %d candidate fields" % len(hits))
        sys.exit(1)
    with open(out_path, "wb") as f:
        f.write(data[hits[0]:hits[0] + nbytes])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "tfjs":
        tfjs(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "content":
        content(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        print(__doc__)
        sys.exit(2)
