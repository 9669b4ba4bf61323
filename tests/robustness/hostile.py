"""A corpus of hostile inputs, generated on the spot (nothing downloaded).

Each builder writes one bad input into a folder and returns its path. The DNGs start from the project's
own writer (``tests/synthetic.py``) and are then damaged by rewriting bytes of their IFD entries, the way a
broken camera, a bad card or a malicious file would: wrong counts and types, NaN, infinite or singular
matrices, impossible levels, absurd sizes, broken opcode lists.

References
----------
- Adobe, *TIFF Revision 6.0* (1992), section 2: IFD entries (tag, type, count, value or offset).
- Adobe, *Digital Negative (DNG) Specification* 1.6.0.0: chapter 4 (tags) and chapter 7 (opcode lists).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tifffile
from synthetic import write_chart_dng

from lumatune.raw.opcodes import (
    FixVignetteRadial,
    WarpRectilinear,
    WarpRectilinear2,
    encode_opcode,
    encode_opcode_list,
    gain_map_opcode,
)

__all__ = [
    "CORRUPT_DNGS",
    "FILE_CASES",
    "RAW_EXTENSIONS",
    "TOLERATED_DNGS",
    "TRUNCATE_FRACTIONS",
    "patch_entry",
    "patch_value",
    "repoint",
    "sha256_of",
    "truncated_copy",
]

# TIFF field types (TIFF 6.0 section 2).
BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
TYPE_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, SRATIONAL: 8, 9: 4, 11: 4, 12: 8}

TAG = {
    "NewSubfileType": 254, "ImageWidth": 256, "ImageLength": 257, "PhotometricInterpretation": 262,
    "Orientation": 274, "BitsPerSample": 258, "Compression": 259, "StripOffsets": 273,
    "SamplesPerPixel": 277, "StripByteCounts": 279, "CFARepeatPatternDim": 33421, "CFAPattern": 33422,
    "LinearizationTable": 50712, "BlackLevel": 50714, "WhiteLevel": 50717, "DefaultCropOrigin": 50719,
    "DefaultCropSize": 50720, "ColorMatrix1": 50721, "AsShotNeutral": 50728, "BaselineExposure": 50730,
    "CalibrationIlluminant1": 50778, "OpcodeList2": 51009,
}

#: Where the real raws are cut, as fractions of their size (the last one drops a single byte).
TRUNCATE_FRACTIONS = (0.001, 0.1, 0.5, 0.9, "last byte")

#: Raw extensions given to zero-byte and random files (LibRaw looks at content, lumatune at nothing else).
RAW_EXTENSIONS = (".dng", ".nef", ".cr2", ".cr3", ".arw", ".raf", ".orf", ".rw2", ".crw", ".raw")


def sha256_of(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def truncated_copy(source: Path, fraction, folder: Path) -> Path:
    """``source`` cut at ``fraction`` of its size (or less its last byte), written into ``folder``."""
    data = source.read_bytes()
    size = len(data) - 1 if fraction == "last byte" else max(1, int(len(data) * fraction))
    path = folder / f"{source.stem}-cut{size}{source.suffix}"
    path.write_bytes(data[:size])
    return path


# --- patching IFD 0 of a classic little-endian TIFF ------------------------------------------------------


def _entry_offsets(data: bytes) -> dict[int, int]:
    """Tag code -> file offset of its 12-byte entry in IFD 0."""
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    return {struct.unpack_from("<H", data, ifd + 2 + 12 * i)[0]: ifd + 2 + 12 * i for i in range(count)}


def _value_offset(data: bytes, code: int) -> int:
    """Offset of a tag's value bytes: inside the entry when they fit in 4 bytes, else where it points."""
    entry = _entry_offsets(data)[code]
    dtype, count = struct.unpack_from("<HI", data, entry + 2)
    if TYPE_SIZE[dtype] * count <= 4:
        return entry + 8
    return struct.unpack_from("<I", data, entry + 8)[0]


def patch_entry(data: bytes, tag: str, *, dtype: int | None = None, count: int | None = None) -> bytes:
    """Change the type and/or count of a tag's entry, leaving its value field as it is."""
    entry = _entry_offsets(data)[TAG[tag]]
    old_type, old_count = struct.unpack_from("<HI", data, entry + 2)
    out = bytearray(data)
    struct.pack_into("<HI", out, entry + 2, old_type if dtype is None else dtype, old_count if count is None else count)
    return bytes(out)


def patch_value(data: bytes, tag: str, value: bytes) -> bytes:
    """Overwrite a tag's value bytes in place (same length or shorter)."""
    offset = _value_offset(data, TAG[tag])
    out = bytearray(data)
    out[offset : offset + len(value)] = value
    return bytes(out)


def repoint(data: bytes, tag: str, dtype: int, count: int, value: bytes) -> bytes:
    """Give a tag a new type, count and value, the value appended at the end of the file."""
    offset = len(data) + len(data) % 2
    entry = _entry_offsets(data)[TAG[tag]]
    out = bytearray(data + b"\0" * (offset - len(data)) + value)
    struct.pack_into("<HII", out, entry + 2, dtype, count, offset)
    return bytes(out)


def _rationals(pairs) -> bytes:
    return b"".join(struct.pack("<ii", n, d) for n, d in pairs)


def _chart(folder: Path, name: str, **tags) -> Path:
    return write_chart_dng(folder / f"{name}.dng", **tags)


def _patched(folder: Path, name: str, patch: Callable[[bytes], bytes], **tags) -> Path:
    """A chart DNG (written through the project's writer) with ``patch`` applied to its bytes."""
    path = _chart(folder, name, **tags)
    path.write_bytes(patch(path.read_bytes()))
    return path


def _with_opcodes(folder: Path, name: str, opcode_list: bytes) -> Path:
    return _chart(folder, name, opcode_list_2=opcode_list)


def _gain_map(**fields) -> bytes:
    """One GainMap opcode over the 96 x 72 chart, with some header fields replaced (big-endian, DNG ch. 7)."""
    opcode = bytearray(gain_map_opcode(np.full((3, 4), 1.2, np.float32), (96, 72)))
    names = ["top", "left", "bottom", "right", "plane", "planes", "row_pitch", "col_pitch", "points_v", "points_h"]
    body = 16  # opcode header: id, version, flags, size
    for key, value in fields.items():
        if key in names:
            struct.pack_into(">I", opcode, body + 4 * names.index(key), value)
        elif key in ("spacing_v", "spacing_h", "origin_v", "origin_h"):
            index = ("spacing_v", "spacing_h", "origin_v", "origin_h").index(key)
            struct.pack_into(">d", opcode, body + 40 + 8 * index, value)
        elif key == "map_planes":
            struct.pack_into(">I", opcode, body + 72, value)
        elif key == "gains":
            struct.pack_into(">f", opcode, body + 76, value)
        else:
            raise KeyError(key)
    return bytes(opcode)


def _lens_list(folder: Path, name: str, opcodes: list[bytes], number: int = 3) -> Path:
    """A chart DNG whose OpcodeList``number`` holds ``opcodes`` (already encoded, possibly damaged)."""
    return _chart(folder, name, **{f"opcode_list_{number}": encode_opcode_list(opcodes)})


def _warp(flags: int = 0, **fields) -> bytes:
    """One 3-plane WarpRectilinear with some parameters replaced (big-endian, DNG 1.6 chapter 7): ``planes`` (the
    count), ``kr1`` (plane 0's second radial term), ``cx`` (the centre)."""
    opcode = bytearray(encode_opcode(WarpRectilinear(
        np.array([[1.0, -0.05, 0.0, 0.0]] * 3), np.zeros((3, 2)), (0.5, 0.5), flags)))
    body = 16
    for key, value in fields.items():
        if key == "planes":
            struct.pack_into(">I", opcode, body, value)
        elif key == "kr1":
            struct.pack_into(">d", opcode, body + 4 + 8, value)
        elif key == "cx":
            struct.pack_into(">d", opcode, body + 4 + 3 * 48, value)
        else:
            raise KeyError(key)
    return bytes(opcode)


def _warp2(**changes) -> bytes:
    """One WarpRectilinear2 (reciprocal form) with its valid radius or radial terms replaced."""
    fields = {"radial": np.array([[1.0, 0.0, 0.02] + [0.0] * 12]), "tangential": np.zeros((1, 2)),
              "valid_radius": np.array([[0.0, 1.0]]), "centre": (0.5, 0.5), "reciprocal": True, **changes}
    return encode_opcode(WarpRectilinear2(**fields))


def _vignette_nan() -> bytes:
    opcode = bytearray(encode_opcode(FixVignetteRadial(np.array([0.5, 0.0, 0.0, 0.0, 0.0]), (0.5, 0.5))))
    struct.pack_into(">d", opcode, 16, float("inf"))
    return bytes(opcode)


LENS_OPCODE_DNGS: dict[str, Callable[[Path], Path]] = {
    "WarpRectilinear 2**32-1 planes": lambda f: _lens_list(f, "wr-planes", [_warp(planes=2**32 - 1)]),
    "WarpRectilinear 0 planes": lambda f: _lens_list(f, "wr-0planes", [_warp(planes=0)]),
    "WarpRectilinear NaN coefficient": lambda f: _lens_list(f, "wr-nan", [_warp(kr1=float("nan"))]),
    "WarpRectilinear coefficient 1e300": lambda f: _lens_list(f, "wr-huge", [_warp(kr1=1e300)]),
    "WarpRectilinear folding (factor < 0)": lambda f: _lens_list(f, "wr-fold", [_warp(kr1=-3.0)]),
    "WarpRectilinear centre 7": lambda f: _lens_list(f, "wr-centre", [_warp(cx=7.0)]),
    "WarpRectilinear cut short": lambda f: _lens_list(f, "wr-cut", [_warp()[:-8]]),
    "WarpRectilinear NaN in OpcodeList1": lambda f: _lens_list(f, "wr-list1", [_warp(kr1=float("nan"))], 1),
    "GainMap NaN gain in OpcodeList1": lambda f: _lens_list(f, "gm-nan-list1", [_gain_map(gains=float("nan"))], 1),
    "GainMap 0 x 0 points in OpcodeList1": lambda f: _lens_list(
        f, "gm-0pts-list1", [_gain_map(points_v=0, points_h=0)], 1
    ),
    "WarpRectilinear2 empty valid radius": lambda f: _lens_list(
        f, "wr2-radius", [_warp2(valid_radius=np.array([[0.8, 0.2]]))]
    ),
    "WarpRectilinear2 reciprocal of 0": lambda f: _lens_list(
        f, "wr2-zero", [_warp2(radial=np.array([[0.0] * 15]))]
    ),
    "FixVignetteRadial infinite term": lambda f: _lens_list(f, "fvr-inf", [_vignette_nan()]),
    "OpcodeList3 claims 2**32-1 opcodes": lambda f: _chart(
        f, "ol3-count", opcode_list_3=struct.pack(">I", 2**32 - 1) + _warp()
    ),
}
"""Damaged lens opcodes (DNG 1.6 chapter 7), not flagged optional: each must be refused with a one-line error."""

TOLERATED_LENS_OPCODE_DNGS: dict[str, Callable[[Path], Path]] = {
    "optional WarpRectilinear with a NaN coefficient": lambda f: _lens_list(
        f, "wr-opt-nan", [_warp(flags=1, kr1=float("nan"))]
    ),
    "unknown opcode 200 in OpcodeList3": lambda f: _chart(
        f, "ol3-unknown", opcode_list_3=encode_opcode_list([struct.pack(">I4BII", 200, 1, 3, 0, 0, 1, 4) + b"abcd"])
    ),
}
"""Damage the specification lets a reader skip (an optional opcode, an opcode it does not know): the lens stage
notes it and the chart develops exactly as the undamaged one."""


NAN_RATIONAL = (0, 0)
INF_RATIONAL = (1, 0)

CORRUPT_DNGS: dict[str, Callable[[Path], Path]] = {
    # colour matrices
    "ColorMatrix1 count 6": lambda f: _patched(f, "cm-count", lambda d: patch_entry(d, "ColorMatrix1", count=6)),
    "ColorMatrix1 count 2**31": lambda f: _patched(f, "cm-hugecount", lambda d: patch_entry(d, "ColorMatrix1", count=2**31 - 1)),
    "ColorMatrix1 as ASCII": lambda f: _patched(f, "cm-ascii", lambda d: patch_entry(d, "ColorMatrix1", dtype=ASCII, count=72)),
    "ColorMatrix1 as SHORT": lambda f: _patched(f, "cm-short", lambda d: patch_entry(d, "ColorMatrix1", dtype=SHORT)),
    "ColorMatrix1 unknown type": lambda f: _patched(f, "cm-type99", lambda d: patch_entry(d, "ColorMatrix1", dtype=99)),
    "ColorMatrix1 NaN": lambda f: _patched(f, "cm-nan", lambda d: patch_value(d, "ColorMatrix1", _rationals([NAN_RATIONAL] * 9))),
    "ColorMatrix1 infinite": lambda f: _patched(f, "cm-inf", lambda d: patch_value(d, "ColorMatrix1", _rationals([INF_RATIONAL] * 9))),
    "ColorMatrix1 singular": lambda f: _patched(f, "cm-zero", lambda d: patch_value(d, "ColorMatrix1", _rationals([(0, 1)] * 9))),
    "ColorMatrix1 rank 2": lambda f: _patched(
        f, "cm-rank2", lambda d: patch_value(d, "ColorMatrix1", _rationals([(1, 1), (2, 1), (3, 1)] * 3))
    ),
    # levels
    "WhiteLevel 0": lambda f: _patched(f, "white0", lambda d: patch_value(d, "WhiteLevel", struct.pack("<I", 0))),
    "BlackLevel above WhiteLevel": lambda f: _patched(f, "black-high", lambda d: patch_value(d, "BlackLevel", struct.pack("<I", 5000))),
    "BlackLevel equals WhiteLevel": lambda f: _patched(f, "black-eq", lambda d: patch_value(d, "BlackLevel", struct.pack("<I", 4095))),
    "BlackLevel NaN": lambda f: _patched(
        f, "black-nan",
        lambda d: repoint(d, "BlackLevel", RATIONAL, 1, _rationals([NAN_RATIONAL])),
    ),
    # white balance and exposure
    "AsShotNeutral zero": lambda f: _patched(f, "neutral0", lambda d: patch_value(d, "AsShotNeutral", _rationals([(0, 1)] * 3))),
    "AsShotNeutral NaN": lambda f: _patched(f, "neutral-nan", lambda d: patch_value(d, "AsShotNeutral", _rationals([NAN_RATIONAL] * 3))),
    "AsShotNeutral count 1": lambda f: _patched(f, "neutral-count", lambda d: patch_entry(d, "AsShotNeutral", count=1)),
    "BaselineExposure 1e9 EV": lambda f: _patched(f, "be-huge", lambda d: patch_value(d, "BaselineExposure", _rationals([(10**9, 1)]))),
    "BaselineExposure -1e9 EV": lambda f: _patched(f, "be-neg", lambda d: patch_value(d, "BaselineExposure", _rationals([(-(10**9), 1)]))),
    "BaselineExposure infinite": lambda f: _patched(f, "be-inf", lambda d: patch_value(d, "BaselineExposure", _rationals([INF_RATIONAL]))),
    "BaselineExposure NaN": lambda f: _patched(f, "be-nan", lambda d: patch_value(d, "BaselineExposure", _rationals([NAN_RATIONAL]))),
    # geometry
    "100000 x 100000 pixels": lambda f: _patched(
        f, "huge", lambda d: patch_value(patch_value(d, "ImageWidth", struct.pack("<I", 100000)), "ImageLength", struct.pack("<I", 100000))
    ),
    "30000 x 30000 pixels": lambda f: _patched(
        f, "large", lambda d: patch_value(patch_value(d, "ImageWidth", struct.pack("<I", 30000)), "ImageLength", struct.pack("<I", 30000))
    ),
    "strip past the end": lambda f: _patched(f, "strip-eof", lambda d: patch_value(d, "StripOffsets", struct.pack("<I", 2**31))),
    "BitsPerSample 0": lambda f: _patched(f, "bits0", lambda d: patch_value(d, "BitsPerSample", struct.pack("<H", 0))),
    "BitsPerSample 64": lambda f: _patched(f, "bits64", lambda d: patch_value(d, "BitsPerSample", struct.pack("<H", 64))),
    "SamplesPerPixel 0": lambda f: _patched(f, "spp0", lambda d: patch_value(d, "SamplesPerPixel", struct.pack("<H", 0))),
    "SamplesPerPixel 3": lambda f: _patched(f, "spp3", lambda d: patch_value(d, "SamplesPerPixel", struct.pack("<H", 3))),
    "ImageWidth 1": lambda f: _patched(f, "width1", lambda d: patch_value(d, "ImageWidth", struct.pack("<I", 1))),
    "ImageLength 0": lambda f: _patched(f, "length0", lambda d: patch_value(d, "ImageLength", struct.pack("<I", 0))),
    "Photometric RGB": lambda f: _patched(f, "photo-rgb", lambda d: patch_value(d, "PhotometricInterpretation", struct.pack("<H", 2))),
    "NewSubfileType 1 (a preview)": lambda f: _patched(f, "subfile1", lambda d: patch_value(d, "NewSubfileType", struct.pack("<I", 1))),
    "unknown compression": lambda f: _patched(f, "compression", lambda d: patch_value(d, "Compression", struct.pack("<H", 60000))),
    "CFA pattern colour 9": lambda f: _patched(f, "cfa9", lambda d: patch_value(d, "CFAPattern", bytes([9, 9, 9, 9]))),
    "DefaultCropSize 0": lambda f: _patched(
        f, "crop0", lambda d: patch_value(d, "DefaultCropSize", struct.pack("<II", 0, 0)), default_crop=(2, 2, 90, 66)
    ),
    "LinearizationTable count 2**30": lambda f: _patched(
        f, "lin-huge", lambda d: patch_entry(d, "LinearizationTable", count=2**30), linearization_table=list(range(4096))
    ),
    "IFD offset past the end": lambda f: _patched(f, "ifd-eof", lambda d: d[:4] + struct.pack("<I", 2**31) + d[8:]),
    "IFD points at itself": lambda f: _patched(f, "ifd-loop", lambda d: d[:4] + struct.pack("<I", 4) + d[8:]),
    # opcode lists
    "OpcodeList2 claims 3 opcodes, has 1": lambda f: _with_opcodes(f, "op-count", struct.pack(">I", 3) + _gain_map()),
    "OpcodeList2 cut inside a GainMap": lambda f: _with_opcodes(f, "op-cut", encode_opcode_list([_gain_map()])[:60]),
    "OpcodeList2 opcode size 2**32-1": lambda f: _with_opcodes(
        f, "op-size", struct.pack(">I", 1) + struct.pack(">I4BII", 9, 1, 3, 0, 0, 0, 2**32 - 1)
    ),
    "GainMap NaN gain": lambda f: _with_opcodes(f, "gm-nan", encode_opcode_list([_gain_map(gains=float("nan"))])),
    "GainMap negative gain": lambda f: _with_opcodes(f, "gm-neg", encode_opcode_list([_gain_map(gains=-4.0)])),
    "GainMap 0 x 0 points": lambda f: _with_opcodes(f, "gm-0pts", encode_opcode_list([_gain_map(points_v=0, points_h=0)])),
    "GainMap 65535 x 65535 points": lambda f: _with_opcodes(
        f, "gm-bigmap", encode_opcode_list([_gain_map(points_v=65535, points_h=65535)])
    ),
    "GainMap 0 planes": lambda f: _with_opcodes(f, "gm-0planes", encode_opcode_list([_gain_map(map_planes=0)])),
    "GainMap row pitch 0": lambda f: _with_opcodes(f, "gm-pitch0", encode_opcode_list([_gain_map(row_pitch=0)])),
    "GainMap spacing NaN": lambda f: _with_opcodes(f, "gm-spnan", encode_opcode_list([_gain_map(spacing_v=float("nan"))])),
    "GainMap spacing 0": lambda f: _with_opcodes(f, "gm-sp0", encode_opcode_list([_gain_map(spacing_h=0.0)])),
    "GainMap origin infinite": lambda f: _with_opcodes(f, "gm-orinf", encode_opcode_list([_gain_map(origin_v=float("inf"))])),
    "GainMap bottom above top": lambda f: _with_opcodes(f, "gm-area", encode_opcode_list([_gain_map(top=50, bottom=10)])),
    "GainMap plane 7 of 0": lambda f: _with_opcodes(f, "gm-plane", encode_opcode_list([_gain_map(plane=7, planes=0)])),
}
CORRUPT_DNGS.update(LENS_OPCODE_DNGS)
"""Damaged DNGs by what is wrong with them: each must be refused with a one-line error."""

TOLERATED_DNGS: dict[str, Callable[[Path], Path]] = {
    "CalibrationIlluminant1 65535": lambda f: _patched(
        f, "illuminant", lambda d: patch_value(d, "CalibrationIlluminant1", struct.pack("<H", 65535))
    ),
    "strip byte count 0": lambda f: _patched(f, "strip-0", lambda d: patch_value(d, "StripByteCounts", struct.pack("<I", 0))),
    "Orientation 9": lambda f: _patched(f, "orient9", lambda d: patch_value(d, "Orientation", struct.pack("<H", 9))),
    "CFA repeat 0 x 0": lambda f: _patched(f, "cfa-dim0", lambda d: patch_value(d, "CFARepeatPatternDim", struct.pack("<HH", 0, 0))),
    "CFA repeat 200 x 200": lambda f: _patched(
        f, "cfa-dim200", lambda d: patch_value(d, "CFARepeatPatternDim", struct.pack("<HH", 200, 200))
    ),
    "GainMap area 2**32-1": lambda f: _with_opcodes(
        f, "gm-far", encode_opcode_list([_gain_map(top=2**32 - 2, bottom=2**32 - 1, right=2**32 - 1)])
    ),
    "GainMap area 2**32-1 in OpcodeList1": lambda f: _lens_list(
        f, "gm-far-list1", [_gain_map(top=2**32 - 2, bottom=2**32 - 1, right=2**32 - 1)], 1
    ),
}
"""Damage that leaves the image intact: LibRaw ignores the field or the DNG SDK would (an unknown illuminant
is "unknown", a GainMap area outside the image applies to nothing). These must develop exactly as the
undamaged chart does."""
TOLERATED_DNGS.update(TOLERATED_LENS_OPCODE_DNGS)



def _random_bytes(size: int, seed: int, head: bytes = b"") -> bytes:
    return head + np.random.default_rng(seed).integers(0, 256, size - len(head), dtype=np.uint8).tobytes()


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _rgb_tiff(folder: Path, name: str) -> Path:
    path = folder / name
    tifffile.imwrite(path, np.zeros((32, 48, 3), np.uint8), photometric="rgb")
    return path


def _grey16_tiff(folder: Path, name: str) -> Path:
    path = folder / name
    tifffile.imwrite(path, np.arange(64 * 48, dtype=np.uint16).reshape(48, 64), photometric="minisblack")
    return path


def _jpeg(folder: Path, name: str) -> Path:
    from PIL import Image

    path = folder / name
    Image.new("RGB", (64, 48), (200, 100, 50)).save(path, format="JPEG")
    return path


def _symlink_loop(folder: Path) -> Path:
    a, b = folder / "loop-a.dng", folder / "loop-b.dng"
    a.symlink_to(b.name)
    b.symlink_to(a.name)
    return a


def _dangling(folder: Path) -> Path:
    link = folder / "dangling.nef"
    link.symlink_to("no-such-target.nef")
    return link


def _directory(folder: Path) -> Path:
    path = folder / "folder.dng"
    path.mkdir()
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.dng"
    os.mkfifo(path)
    return path


def _device(folder: Path) -> Path:
    link = folder / "zeros.cr2"
    link.symlink_to("/dev/zero")
    return link


FILE_CASES: dict[str, Callable[[Path], Path]] = {
    **{f"zero bytes {ext}": (lambda f, ext=ext: _write(f, f"empty{ext}", b"")) for ext in RAW_EXTENSIONS},
    **{
        f"random {size} bytes {ext}": (lambda f, ext=ext, size=size: _write(f, f"random{size}{ext}", _random_bytes(size, size)))
        for size, ext in ((1, ".dng"), (100, ".nef"), (4096, ".cr2"), (65537, ".arw"), (300001, ".raf"), (1 << 20, ".orf"))
    },
    "random after a TIFF header II": lambda f: _write(f, "tiff-ii.dng", _random_bytes(50000, 7, b"II*\0")),
    "random after a TIFF header MM": lambda f: _write(f, "tiff-mm.nef", _random_bytes(50000, 8, b"MM\0*")),
    "text named .dng": lambda f: _write(f, "notes.dng", b"this is not a raw file\n" * 40),
    "RGB TIFF": lambda f: _rgb_tiff(f, "picture.tif"),
    "RGB TIFF named .dng": lambda f: _rgb_tiff(f, "picture.dng"),
    "16-bit grey TIFF named .nef": lambda f: _grey16_tiff(f, "grey.nef"),
    "JPEG named .cr2": lambda f: _jpeg(f, "photo.cr2"),
    "symlink loop": _symlink_loop,
    "dangling symlink": _dangling,
    "directory named .dng": _directory,
    "named pipe": _fifo,
    "link to /dev/zero": _device,
}
"""Files that are not raws at all, or not files."""
