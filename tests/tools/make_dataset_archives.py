#!/usr/bin/python3
"""Builds small archives in the layout of each dataset's original download, for the tests.

Usage:
  /usr/bin/python3 tests/tools/make_dataset_archives.py archives OUT
  /usr/bin/python3 tests/tools/make_dataset_archives.py mat OUT

archives: OUT/mirror/<host>/<path> holds one archive per source URL (MSINET_MIRROR layout, Google
  Drive files as OUT/mirror/drive.google.com/<id>), with the real folder names, file names and
  MAT variables, but only a few tiny images. Besides the original sources, the mirror holds
  example.org/osie-small.zip (a three-image archive in OSIE's layout) and
  example.org/corrupt.zip (a truncated zip) and example.org/dut-bad-fixations.zip (a DUT-OMRON
  fixation outside its image), example.org/osie-link.zip (OSIE's layout with data/stimuli a
  symbolic link to ../../../escaped-stimuli and the stimuli stored through it),
  example.org/osie-unpaired.zip (three fixation records but stimuli 1001, 1002 and 1005),
  example.org/mit1003-missing-fixpts.zip (MIT1003's maps without the second fixation map) and
  example.org/large.bin (2 MiB and one byte of zeros, over a 2 MiB size cap). For every dataset, OUT/expected/<name>.json lists
  the files the preparation must produce (paths relative to the dataset folder), and
  OUT/expected/<name>/{fixations,saliency}/<stem>.pgm hold the grey levels of every map the
  preparation computes, made here independently: numpy indexing as the original download.py
  does, scipy.ndimage.gaussian_filter, and matplotlib imsave(cmap="gray")'s quantisation
  written out (matplotlib is not needed).

mat: MAT files for the reader tests in OUT (v5 through scipy.io.savemat, v7.3 through h5py in
  MATLAB's layout) and OUT/mat.json with their contents.

Standard library, numpy, scipy and h5py (python3-h5py) only.
"""

import json
import os
import stat
import struct
import sys
import zipfile
import zlib

import numpy as np
import scipy.io
from scipy.ndimage import gaussian_filter

# --------------------------------------------------------------------------------------------
# Image encoders (PNG written by hand; stimuli are PNG data even under a .jpg name, which is
# enough for recipes that only copy them).


def png_bytes(img, bitdepth=8):
    """Greyscale (h, w) or RGB (h, w, 3) array as PNG; bitdepth 1, 8 or 16 for greyscale."""
    img = np.asarray(img)
    h, w = img.shape[:2]
    if img.ndim == 3:
        color, rows = 2, [img[y].astype(">u1").tobytes() for y in range(h)]
    elif bitdepth == 16:
        color, rows = 0, [img[y].astype(">u2").tobytes() for y in range(h)]
    elif bitdepth == 1:
        color, rows = 0, [np.packbits(img[y] > 0).tobytes() for y in range(h)]
    else:
        color, rows = 0, [img[y].astype(">u1").tobytes() for y in range(h)]
    raw = b"".join(b"\x00" + r for r in rows)

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, bitdepth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) +
            chunk(b"IEND", b""))


def pgm_bytes(levels):
    levels = np.asarray(levels, dtype=np.uint8)
    h, w = levels.shape
    return b"P5\n%d %d\n255\n" % (w, h) + levels.tobytes()


def stimulus(seed, h=12, w=16):
    rng = np.random.default_rng(seed)
    return png_bytes(rng.integers(0, 256, size=(h, w, 3)).astype(np.uint8))


def grey(seed, h=12, w=16):
    rng = np.random.default_rng(seed)
    return png_bytes(rng.integers(0, 256, size=(h, w)).astype(np.uint8))


# --------------------------------------------------------------------------------------------
# matplotlib imsave(cmap="gray") quantisation, written out: Normalize (in the array's dtype),
# Colormap.__call__ (x N, N -> N-1, truncation), lookup table k / 255, bytes = trunc(lut * 255).


def levels(m):
    m = np.asarray(m)
    mn, mx = m.min(), m.max()
    if mn == mx:
        return np.zeros(m.shape, np.uint8)
    v = (m - mn) / (mx - mn)
    xa = v * m.dtype.type(256)
    xa[xa == 256] = 255
    k = xa.astype(int)
    lut = np.trunc(np.linspace(0.0, 1.0, 256) * 255.0).astype(np.uint8)
    return lut[k]


# --------------------------------------------------------------------------------------------
# MATLAB v7.3 writer (HDF5 in MATLAB's layout: 512-byte user block with the MAT header,
# MATLAB_class attributes, dimensions reversed, cells as object references into /#refs#).


def matlab_class(dset, name):
    """MATLAB's MATLAB_class attribute: a scalar string of exactly len(name) bytes, NULLTERM
    padding (as MATLAB writes it; h5py's default NULLPAD string reads back truncated)."""
    import h5py
    raw = name.encode("ascii")
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(len(raw))
    tid.set_strpad(h5py.h5t.STR_NULLTERM)
    aid = h5py.h5a.create(dset.id, b"MATLAB_class", tid, h5py.h5s.create(h5py.h5s.SCALAR))
    aid.write(np.array(raw, dtype="S%d" % len(raw)), mtype=tid)


def write_v73(path, variables):
    import h5py
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        counter = [0]

        def put_numeric(group, name, arr):
            arr = np.asarray(arr, dtype=np.float64)
            if arr.ndim == 1:
                arr = arr.reshape(-1, 1)
            d = group.create_dataset(name, data=arr.T)  # HDF5 dims are MATLAB dims reversed
            matlab_class(d, "double")
            return d

        for name, value in variables.items():
            if isinstance(value, list):  # cell column vector of numeric arrays
                ref_list = []
                for arr in value:
                    counter[0] += 1
                    ref_list.append(put_numeric(refs, "c%d" % counter[0], arr).ref)
                d = f.create_dataset(name, data=np.array([ref_list], dtype=h5py.ref_dtype))
                matlab_class(d, "cell")
            else:
                put_numeric(f, name, value)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2018 HDF5 schema 1.00 ."
    header = header.ljust(116, b" ") + b"\x00" * 8 + struct.pack("<H", 0x0200) + b"IM"
    with open(path, "r+b") as f:
        f.write(header)


def v5_bytes(variables):
    import io
    buf = io.BytesIO()
    scipy.io.savemat(buf, variables, do_compression=True)
    return buf.getvalue()


def osie_fixations_var(images):
    """images: list of subjects lists [(fix_x, fix_y)] -> the cell-of-structs OSIE layout."""
    cell = np.empty((len(images), 1), dtype=object)
    for i, subjects in enumerate(images):
        subj = np.empty((len(subjects), 1), dtype=object)
        for s, (xs, ys) in enumerate(subjects):
            subj[s, 0] = {"fix_x": np.array([xs], dtype=np.float64),
                          "fix_y": np.array([ys], dtype=np.float64),
                          "fix_duration": np.array([[200.0] * len(xs)])}
        cell[i, 0] = {"img": "%d.jpg" % (1001 + i), "subjects": subj}
    return cell


# --------------------------------------------------------------------------------------------
# The archives.


class Out:
    def __init__(self, root):
        self.root = root
        self.mirror = os.path.join(root, "mirror")
        self.expected = os.path.join(root, "expected")

    def zip(self, rel, entries):
        path = os.path.join(self.mirror, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in entries:
                z.writestr(name, data)
        return path

    def expect(self, name, files, maps=None):
        os.makedirs(self.expected, exist_ok=True)
        with open(os.path.join(self.expected, name + ".json"), "w") as f:
            json.dump({"files": sorted(files)}, f, indent=1)
        for rel, lv in (maps or {}).items():
            path = os.path.join(self.expected, name, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(pgm_bytes(lv))


def make_salicon(out):
    train = ["COCO_train2014_000000000009", "COCO_train2014_000000000025"]
    val = ["COCO_val2014_000000000042"]
    test = ["COCO_test2014_000000000001"]
    imgs, fixs, maps, files = [], [], [], []
    for split, names in (("train", train), ("val", val), ("test", test)):
        for i, n in enumerate(names):
            imgs.append(("images/%s/%s.jpg" % (split, n), stimulus(len(imgs))))
            fixs.append(("fixations/%s/%s.mat" % (split, n),
                         v5_bytes({"gaze": np.array([[1.0, 2.0]])})))
            maps.append(("maps/%s/%s.png" % (split, n), grey(i)))
            if split != "test":
                files += ["stimuli/%s/%s.jpg" % (split, n), "fixations/%s/%s.mat" % (split, n),
                          "saliency/%s/%s.png" % (split, n)]
    out.zip("drive.google.com/1g8j-hTT-51IG1UFwP0xTGhLdgIUCW5e5", imgs)
    out.zip("drive.google.com/1P-jeZXCsjoKO79OhFUgnj6FGcyvmLDPj", fixs)
    out.zip("drive.google.com/1PnO7szbdub1559LfjYHMy65EDC4VhJC8", maps)
    out.expect("salicon", files)


def make_mit1003(out):
    stems = ["i05june05_static_street_boston_p1010764", "i1000978", "i102423191"]
    stim = [("ALLSTIMULI/%s.jpeg" % s, stimulus(i)) for i, s in enumerate(stems)]
    stim.append(("ALLSTIMULI/Thumbs.db", b"not an image"))
    stim.append(("__MACOSX/ALLSTIMULI/._i1000978.jpeg", b"\x00\x05\x16\x07"))
    out.zip("people.csail.mit.edu/tjudd/WherePeopleLook/ALLSTIMULI.zip", stim)
    fm = []
    for i, s in enumerate(stems):
        fm.append(("ALLFIXATIONMAPS/%s_fixMap.jpg" % s, grey(10 + i)))
        fm.append(("ALLFIXATIONMAPS/%s_fixPts.jpg" % s, grey(20 + i)))
    fm.append(("ALLFIXATIONMAPS/i05june05_static_street_boston_p1010764fixPts.jpg", grey(99)))
    out.zip("people.csail.mit.edu/tjudd/WherePeopleLook/ALLFIXATIONMAPS.zip", fm)
    files = (["stimuli/%s.jpeg" % s for s in stems] + ["saliency/%s_fixMap.jpg" % s for s in stems]
             + ["fixations/%s_fixPts.jpg" % s for s in stems])
    out.expect("mit1003", files)
    # Every saliency map, but the fixation points of the second stimulus are missing.
    out.zip("example.org/mit1003-missing-fixpts.zip",
            [e for e in fm if e[0] != "ALLFIXATIONMAPS/%s_fixPts.jpg" % stems[1]])


def make_cat2000(out):
    entries, files = [], []
    for cat in ("Action", "Affective"):
        for i in (1, 2):
            n = "%03d" % i
            entries.append(("trainSet/Stimuli/%s/%s.jpg" % (cat, n), stimulus(i)))
            entries.append(("trainSet/FIXATIONMAPS/%s/%s.jpg" % (cat, n), grey(i)))
            entries.append(("trainSet/FIXATIONLOCS/%s/%s.mat" % (cat, n),
                            v5_bytes({"fixLocs": np.zeros((4, 5))})))
            entries.append(("trainSet/Stimuli/%s/Output/%s_SaliencyMap.jpg" % (cat, n), grey(7)))
            files += ["stimuli/%s/%s.jpg" % (cat, n), "saliency/%s/%s.jpg" % (cat, n),
                      "fixations/%s/%s.mat" % (cat, n)]
    entries.append(("trainSet/allFixData.mat", v5_bytes({"allFix": np.zeros((2, 2))})))
    out.zip("saliency.mit.edu/trainSet.zip", entries)
    out.expect("cat2000", files)


def make_dutomron(out):
    rng = np.random.default_rng(5)
    stems = ["im005", "sun_aaalbzqrimafwbiv"]
    sizes = [(40, 30), (23, 37)]  # (width, height)
    out.zip("saliencydetection.net/dut-omron/download/DUT-OMRON-image.zip",
            [("DUT-OMRON-image/%s.jpg" % s, stimulus(i)) for i, s in enumerate(stems)] +
            [("__MACOSX/DUT-OMRON-image/._im005.jpg", b"\x00\x05")])
    entries, files, maps = [], [], {}
    for stem, (w, h) in zip(stems, sizes):
        n = 9
        fx = rng.integers(0, w, size=n)
        fy = rng.integers(0, h, size=n)
        rows = np.stack([fx, fy, rng.integers(1, 6, size=n)], axis=1)
        s = np.concatenate([rows[:4], [[w, h, 0]], rows[4:]]).astype(np.int32)
        entries.append(("DUT-OMRON-eye-fixations/mat/%s.mat" % stem, v5_bytes({"s": s})))
        entries.append(("DUT-OMRON-eye-fixations/mat/._%s.mat" % stem, b"\x00\x05"))
        # ref: download.py download_dutomron
        fix = s[s[:, 2].argsort(kind="stable")]
        size = fix[0, :2]
        m = np.zeros((size[1], size[0]))
        m[fix[1:, 1], fix[1:, 0]] = 1
        maps["fixations/%s.pgm" % stem] = levels(m)
        maps["saliency/%s.pgm" % stem] = levels(gaussian_filter(m, 16))
        files += ["stimuli/%s.jpg" % stem, "fixations/%s.png" % stem, "saliency/%s.png" % stem]
    out.zip("saliencydetection.net/dut-omron/download/DUT-OMRON-eye-fixations.zip", entries)
    out.expect("dutomron", files, maps)
    # A fixation one past the right edge: numpy raises IndexError there; the preparation must
    # fail with an error naming the file.
    bad = np.array([[40, 30, 0], [40, 3, 1]], dtype=np.int32)
    out.zip("example.org/dut-bad-fixations.zip",
            [("DUT-OMRON-eye-fixations/mat/im005.mat", v5_bytes({"s": bad}))])


def make_pascals(out):
    rng = np.random.default_rng(6)
    sizes = [(20, 25), (31, 17), (12, 12)]  # (height, width)
    fix_cells, files, maps, entries = [], [], {}, []
    for i, (h, w) in enumerate(sizes):
        n = 7
        rows = rng.integers(1, h + 1, size=n) + 0.4  # 1-based (row, col), fractional parts
        cols = rng.integers(1, w + 1, size=n) + 0.7
        fix_cells.append(np.stack([rows, cols], axis=1))  # MATLAB n x 2
        m = np.zeros((h, w))
        for r, c in zip(rows, cols):
            m[int(r) - 1, int(c) - 1] = 1
        maps["fixations/%d.pgm" % (i + 1)] = levels(m)
        entries.append(("salObj/datasets/imgs/pascal/%d.jpg" % (i + 1), stimulus(i)))
        entries.append(("salObj/datasets/algmaps/pascal/humanFix/%d.png" % (i + 1), grey(i)))
        files += ["stimuli/%d.jpg" % (i + 1), "saliency/%d.png" % (i + 1),
                  "fixations/%d.png" % (i + 1)]
    tmp = os.path.join(out.root, "pascal-tmp")
    os.makedirs(tmp, exist_ok=True)
    write_v73(os.path.join(tmp, "pascalFix.mat"), {"fixCell": fix_cells})
    write_v73(os.path.join(tmp, "pascalSize.mat"),
              {"sizeData": np.array(sizes, dtype=np.float64)})
    for f in ("pascalFix.mat", "pascalSize.mat"):
        with open(os.path.join(tmp, f), "rb") as fh:
            entries.append(("salObj/datasets/fixations/" + f, fh.read()))
    entries.append(("salObj/datasets/imgs/bruce/1.jpg", stimulus(50)))
    out.zip("cbs.ic.gatech.edu/salobj/download/salObj.zip", entries)
    out.expect("pascals", files, maps)


def osie_small():
    rng = np.random.default_rng(7)
    images = []
    for i in range(3):
        subjects = []
        for s in range(15):
            n = int(rng.integers(0, 5))
            subjects.append((list(rng.uniform(0, 800, size=n)), list(rng.uniform(0, 600, size=n))))
        images.append(subjects)
    return images


def make_osie_small(out):
    images = osie_small()
    prefix = "predicting-human-gaze-beyond-pixels-master/"
    entries = [(prefix + "README.md", b"OSIE"),
               (prefix + "data/eye/fixations.mat",
                v5_bytes({"fixations": osie_fixations_var(images)}))]
    files, maps = [], {}
    for i, subjects in enumerate(images):
        stem = str(1001 + i)
        entries.append((prefix + "data/stimuli/%s.jpg" % stem, stimulus(i)))
        m = np.zeros((600, 800))
        for xs, ys in subjects:  # ref: download.py download_osie
            f = np.stack((np.array(ys), np.array(xs)), axis=-1).astype(int)
            if len(f):
                m[f[:, 0], f[:, 1]] = 1
        maps["fixations/%s.pgm" % stem] = levels(m)
        maps["saliency/%s.pgm" % stem] = levels(gaussian_filter(m, 16))
        files += ["stimuli/%s.jpg" % stem, "fixations/%s.png" % stem, "saliency/%s.png" % stem]
    path = out.zip("example.org/osie-small.zip", entries)
    with open(path, "rb") as f:
        data = f.read()
    corrupt = os.path.join(out.mirror, "example.org", "corrupt.zip")
    with open(corrupt, "wb") as f:
        f.write(data[: len(data) // 2])
    out.expect("osie", files, maps)
    fixations = (prefix + "data/eye/fixations.mat",
                 v5_bytes({"fixations": osie_fixations_var(images)}))
    link = zipfile.ZipInfo(prefix + "data/stimuli", date_time=(2020, 1, 1, 0, 0, 0))
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = os.path.join(out.mirror, "example.org", "osie-link.zip")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(*fixations)
        z.writestr(link, "../../../escaped-stimuli")
        for i in range(3):
            z.writestr(prefix + "data/stimuli/%d.jpg" % (1001 + i), stimulus(i))
    out.zip("example.org/osie-unpaired.zip",
            [fixations] + [(prefix + "data/stimuli/%d.jpg" % n, stimulus(n)) for n in
                           (1001, 1002, 1005)])
    with open(os.path.join(out.mirror, "example.org", "large.bin"), "wb") as f:
        f.write(bytes((2 << 20) + 1))


def make_fiwi(out):
    rng = np.random.default_rng(8)
    entries, files, maps = [], [], {}
    for i, (h, w, depth) in enumerate([(50, 70, 8), (33, 41, 1), (20, 24, 16)]):
        stem = str(i + 1)
        top = {8: 255, 1: 1, 16: 65535}[depth]
        pts = np.zeros((h, w), dtype=np.int64)
        pts[rng.integers(0, h, size=6), rng.integers(0, w, size=6)] = top
        entries.append(("webpage_dataset/stimuli/%s.png" % stem, stimulus(i)))
        entries.append(("webpage_dataset/all5/%s.png" % stem, png_bytes(pts, depth)))
        # matplotlib imread: float32 value / (2^depth - 1)
        m = np.divide(pts, float(2 ** depth - 1), dtype=np.float32)
        maps["fixations/%s.pgm" % stem] = levels(m)
        maps["saliency/%s.pgm" % stem] = levels(gaussian_filter(m, 30))
        files += ["stimuli/%s.png" % stem, "fixations/%s.png" % stem, "saliency/%s.png" % stem]
    entries.append(("webpage_dataset/all1/1.png", grey(3)))
    out.zip("www.dropbox.com/s/30nxg2uwd1wpb80/webpage_dataset.zip", entries)
    out.expect("fiwi", files, maps)


def make_mat(root):
    os.makedirs(root, exist_ok=True)
    osie = osie_small()
    with open(os.path.join(root, "osie.mat"), "wb") as f:
        f.write(v5_bytes({"fixations": osie_fixations_var(osie)}))
    s = np.array([[3, 4, 2], [40, 30, 0], [7, 8, 1]], dtype=np.int32)
    with open(os.path.join(root, "dut.mat"), "wb") as f:
        f.write(v5_bytes({"s": s, "name": "im005"}))
    cells = [np.array([[1.5, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([[7.0, 8.0]])]
    write_v73(os.path.join(root, "fix73.mat"), {"fixCell": cells})
    sizes = np.array([[20.0, 25.0], [31.0, 17.0]])
    write_v73(os.path.join(root, "size73.mat"), {"sizeData": sizes})
    with open(os.path.join(root, "garbage.mat"), "wb") as f:
        f.write(b"this is not a MAT file at all" * 10)
    desc = {
        "osie": [[{"x": list(map(float, xs)), "y": list(map(float, ys))} for xs, ys in img]
                 for img in osie],
        "dut_s": {"dims": list(s.shape), "colmajor": [float(v) for v in s.flatten(order="F")]},
        "fix73": [{"dims": list(c.shape), "colmajor": [float(v) for v in c.flatten(order="F")]}
                  for c in cells],
        "size73": {"dims": list(sizes.shape),
                   "colmajor": [float(v) for v in sizes.flatten(order="F")]},
    }
    with open(os.path.join(root, "mat.json"), "w") as f:
        json.dump(desc, f)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("archives", "mat"):
        sys.stderr.write(__doc__)
        return 2
    if sys.argv[1] == "mat":
        make_mat(sys.argv[2])
        return 0
    out = Out(sys.argv[2])
    for make in (make_salicon, make_mit1003, make_cat2000, make_dutomron, make_pascals,
                 make_osie_small, make_fiwi):
        make(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
