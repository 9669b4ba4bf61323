"""The opcode codec's lens opcodes against their parameter layouts packed by hand from DNG 1.6.0.0, chapter 7.

Each layout below is written here with ``struct`` from the specification's table (big-endian; opcode header: id,
DNG version, flags, byte count), independently of :mod:`lumatune.raw.opcodes`; the codec must parse these bytes
and write the same bytes back, in any list, beside a GainMap. Damaged parameters are refused naming the opcode,
or, for an opcode flagged optional, kept unparsed with the reason.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from lumatune.errors import UnreadableInputError
from lumatune.raw.opcodes import (
    FixVignetteRadial,
    GainMap,
    Opcode,
    WarpFisheye,
    WarpRectilinear,
    WarpRectilinear2,
    encode_opcode,
    encode_opcode_list,
    gain_map_opcode,
    parse_opcode_list,
)


def header(opcode_id: int, size: int, flags: int = 0, version=(1, 3, 0, 0)) -> bytes:
    return struct.pack(">I4BII", opcode_id, *version, flags, size)


def warp_rectilinear_bytes(planes, cx, cy) -> bytes:
    """WarpRectilinear: N (LONG), N x (kr0 kr1 kr2 kr3 kt0 kt1) DOUBLE, cx cy DOUBLE."""
    body = struct.pack(">I", len(planes)) + b"".join(struct.pack(">6d", *p) for p in planes) + struct.pack(">2d", cx, cy)
    return header(1, len(body)) + body


def warp_rectilinear2_bytes(planes, cx, cy, reciprocal) -> bytes:
    """WarpRectilinear2: N, N x (15 radial, kt0, kt1, min radius, max radius), cx, cy, reciprocal (LONG)."""
    body = struct.pack(">I", len(planes)) + b"".join(struct.pack(">19d", *p) for p in planes)
    body += struct.pack(">2dI", cx, cy, reciprocal)
    return header(14, len(body), version=(1, 6, 0, 0)) + body


def warp_fisheye_bytes(planes, cx, cy) -> bytes:
    """WarpFisheye: N, N x (kr0 kr1 kr2 kr3), cx, cy."""
    body = struct.pack(">I", len(planes)) + b"".join(struct.pack(">4d", *p) for p in planes) + struct.pack(">2d", cx, cy)
    return header(2, len(body)) + body


def fix_vignette_radial_bytes(k, cx, cy) -> bytes:
    """FixVignetteRadial: k0 k1 k2 k3 k4, cx, cy (DOUBLE)."""
    body = struct.pack(">7d", *k, cx, cy)
    return header(3, len(body)) + body


THREE_PLANES = [(1.001, -0.05, 0.01, 0.0, 0.001, -0.002), (1.0, -0.05, 0.01, 0.0, 0.0, 0.0),
                (0.999, -0.05, 0.01, 0.0, -0.001, 0.002)]
WARP2_PLANE = (1.0, 0.01, 0.02, -0.01, *([0.0] * 11), 0.001, -0.001, 0.05, 0.95)


@pytest.mark.parametrize("number", [1, 2, 3])
def test_every_lens_form_parses_and_writes_the_specification_bytes(number):
    opcodes = [
        warp_rectilinear_bytes(THREE_PLANES, 0.48, 0.52),
        warp_rectilinear2_bytes([WARP2_PLANE], 0.5, 0.5, 1),
        warp_fisheye_bytes([(1.0, 0.1, 0.0, 0.0)], 0.5, 0.5),
        fix_vignette_radial_bytes((0.4, 0.1, 0.0, 0.0, 0.01), 0.5, 0.49),
        gain_map_opcode(np.ones((2, 2), np.float32), (64, 48)),
    ]
    data = struct.pack(">I", len(opcodes)) + b"".join(opcodes)
    parsed = parse_opcode_list(data, name=f"OpcodeList{number}")
    warp, warp2, fisheye, vignette, gain_map = parsed
    assert isinstance(warp, WarpRectilinear) and warp.planes == 3 and warp.centre == (0.48, 0.52)
    np.testing.assert_array_equal(warp.radial, np.array(THREE_PLANES)[:, :4])
    np.testing.assert_array_equal(warp.tangential, np.array(THREE_PLANES)[:, 4:])
    assert isinstance(warp2, WarpRectilinear2) and warp2.reciprocal
    np.testing.assert_array_equal(warp2.radial[0], WARP2_PLANE[:15])
    np.testing.assert_array_equal(warp2.valid_radius[0], (0.05, 0.95))
    assert isinstance(fisheye, WarpFisheye) and fisheye.radial[0, 1] == 0.1
    assert isinstance(vignette, FixVignetteRadial) and vignette.centre == (0.5, 0.49)
    assert isinstance(gain_map, GainMap)
    assert encode_opcode_list([encode_opcode(op) for op in parsed]) == data


@pytest.mark.parametrize(
    "opcode, message",
    [
        (warp_rectilinear_bytes(THREE_PLANES * 2, 0.5, 0.5), "has 6 planes"),
        (warp_rectilinear_bytes([(1.0, float("nan"), 0, 0, 0, 0)], 0.5, 0.5), "not finite"),
        (warp_rectilinear_bytes([(1.0, 1e6, 0, 0, 0, 0)], 0.5, 0.5), "beyond"),
        (warp_rectilinear_bytes([(1.0, -2.0, 0, 0, 0, 0)], 0.5, 0.5), "not positive"),
        (warp_rectilinear_bytes([(1.0, 0, 0, 0, 0, 0)], -0.1, 0.5), "outside the image"),
        (warp_rectilinear2_bytes([(*WARP2_PLANE[:17], 0.9, 0.1)], 0.5, 0.5, 0), "valid radius"),
        (warp_rectilinear2_bytes([WARP2_PLANE], 0.5, 0.5, 2), "reciprocal flag"),
        (warp_fisheye_bytes([(1.0, 0.1, 0.0, 0.0)], 0.5, 0.5)[:-1], "cut short"),
        (fix_vignette_radial_bytes((float("inf"), 0, 0, 0, 0), 0.5, 0.5), "not finite"),
    ],
)
def test_damaged_lens_opcodes_are_refused_naming_them(opcode, message):
    with pytest.raises(UnreadableInputError, match=message):
        parse_opcode_list(encode_opcode_list([opcode]))


def test_a_damaged_optional_lens_opcode_is_kept_with_its_reason():
    opcode = bytearray(warp_rectilinear_bytes([(1.0, float("nan"), 0, 0, 0, 0)], 0.5, 0.5))
    struct.pack_into(">I", opcode, 8, 1)  # flags: optional
    (entry,) = parse_opcode_list(encode_opcode_list([bytes(opcode)]))
    assert isinstance(entry, Opcode) and entry.optional and "not finite" in entry.problem
