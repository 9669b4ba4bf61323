"""GainMap opcode bytes checked against the DNG specification's field table, not against our own codec.

Every other GainMap test writes with ``lumatune.raw.opcodes`` and reads back with lumatune, and LibRaw ignores
the opcode, so a field-order mistake shared by writer and reader would pass them all. Here the bytes are
laid out by hand with :mod:`struct`, straight from the specification's table:

Adobe DNG Specification 1.6.0.0, chapter 7 "Opcode List Processing" (an opcode list is a big-endian
LONG count, then per opcode: LONG OpcodeID, BYTE[4] DNG spec version, LONG Flags, LONG variable-parameter
byte count, parameters), and opcode 9 "GainMap", whose parameters are, in this order:

====== ============= ====================================================
Type   Name          Meaning
====== ============= ====================================================
LONG   Top           first row of the area
LONG   Left          first column
LONG   Bottom        last row + 1
LONG   Right         last column + 1
LONG   Plane         first plane
LONG   Planes        number of planes
LONG   RowPitch      apply to every RowPitch-th row
LONG   ColPitch      apply to every ColPitch-th column
LONG   MapPointsV    map points, vertical
LONG   MapPointsH    map points, horizontal
DOUBLE MapSpacingV   vertical spacing, relative to the area height
DOUBLE MapSpacingH   horizontal spacing, relative to the area width
DOUBLE MapOriginV    vertical position of the first map point
DOUBLE MapOriginH    horizontal position of the first map point
LONG   MapPlanes     number of map planes
FLOAT  MapGain[...]  MapPointsV x MapPointsH x MapPlanes, plane fastest, then column, then row
====== ============= ====================================================

The same order is what Adobe's DNG SDK reads and writes (``dng_area_spec::GetData`` then
``dng_gain_map::GetStream`` in ``dng_gain_map.cpp``: Top, Left, Bottom, Right, Plane, Planes, RowPitch,
ColPitch; MapPointsV, MapPointsH as uint32; MapSpacingV/H, MapOriginV/H as real64; MapPlanes uint32; then
``for row: for col: for plane: Get_real32``), and RawTherapee's ``rtengine/dnggainmap.h`` struct.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from lumatune.io.dng import write_dng
from lumatune.raw import open_raw
from lumatune.raw.opcodes import GainMap, encode_opcode_list, gain_map_opcode, parse_opcode_list

GAIN_MAP_OPCODE_ID = 9
"""DNG 1.6 chapter 7: GainMap is opcode 9 (spelled out here, not imported from the code under test)."""

OPCODE_HEADER_FIELDS = ">I4BII"
"""OpcodeID (LONG), DNG spec version (BYTE[4]), Flags (LONG), variable parameter byte count (LONG)."""

GAIN_MAP_FIXED_FIELDS = ">IIIIIIIIIIddddI"
"""Top, Left, Bottom, Right, Plane, Planes, RowPitch, ColPitch, MapPointsV, MapPointsH (LONG);
MapSpacingV, MapSpacingH, MapOriginV, MapOriginH (DOUBLE); MapPlanes (LONG)."""

GAIN_MAP_FIXED_SIZE = 10 * 4 + 4 * 8 + 4
"""Bytes of the fixed GainMap parameters by the table: ten LONGs, four DOUBLEs, one LONG = 76."""

FIELD_NAMES = (
    "Top", "Left", "Bottom", "Right", "Plane", "Planes", "RowPitch", "ColPitch",
    "MapPointsV", "MapPointsH", "MapSpacingV", "MapSpacingH", "MapOriginV", "MapOriginH", "MapPlanes",
)

# A map whose every field has a different value, so a swapped pair of fields cannot go unnoticed.
SPEC_FIELDS = dict(
    Top=1, Left=3, Bottom=45, Right=61, Plane=0, Planes=1, RowPitch=2, ColPitch=4,
    MapPointsV=3, MapPointsH=5, MapSpacingV=0.375, MapSpacingH=0.1875, MapOriginV=0.0625, MapOriginH=0.03125,
    MapPlanes=2,
)
IMAGE_SHAPE = (48, 64)


def _spec_gains(points_v: int, points_h: int, planes: int) -> np.ndarray:
    """Distinct gains, exactly representable in float32: value = 1 + row/8 + col/64 + plane/512."""
    row, col, plane = np.meshgrid(np.arange(points_v), np.arange(points_h), np.arange(planes), indexing="ij")
    return (1.0 + row / 8 + col / 64 + plane / 512).astype(np.float32)


def _hand_built_opcode_list(fields: dict, gains: np.ndarray, *, flags: int = 1) -> bytes:
    """One GainMap in an opcode list, every byte placed by the specification's table (not by lumatune)."""
    fixed = struct.pack(GAIN_MAP_FIXED_FIELDS, *(fields[name] for name in FIELD_NAMES))
    assert len(fixed) == GAIN_MAP_FIXED_SIZE
    gain_bytes = b"".join(
        struct.pack(">f", float(gains[row, col, plane]))
        for row in range(fields["MapPointsV"])
        for col in range(fields["MapPointsH"])
        for plane in range(fields["MapPlanes"])
    )
    parameters = fixed + gain_bytes
    header = struct.pack(OPCODE_HEADER_FIELDS, GAIN_MAP_OPCODE_ID, 1, 3, 0, 0, flags, len(parameters))
    return struct.pack(">I", 1) + header + parameters


def _assert_matches_spec_fields(entry: GainMap, fields: dict, gains: np.ndarray) -> None:
    assert (entry.top, entry.left, entry.bottom, entry.right) == (
        fields["Top"], fields["Left"], fields["Bottom"], fields["Right"]
    )
    assert (entry.plane, entry.planes, entry.row_pitch, entry.col_pitch) == (
        fields["Plane"], fields["Planes"], fields["RowPitch"], fields["ColPitch"]
    )
    assert entry.map_spacing == (fields["MapSpacingV"], fields["MapSpacingH"])
    assert entry.map_origin == (fields["MapOriginV"], fields["MapOriginH"])
    assert entry.gains.shape == (fields["MapPointsV"], fields["MapPointsH"], fields["MapPlanes"])
    np.testing.assert_array_equal(entry.gains, gains)  # exact: float32 in, float32 out


def test_hand_built_bytes_have_the_size_the_table_gives():
    gains = _spec_gains(3, 5, 2)
    data = _hand_built_opcode_list(SPEC_FIELDS, gains)
    assert len(data) == 4 + 16 + GAIN_MAP_FIXED_SIZE + 4 * gains.size


def test_parser_reads_the_specification_layout():
    """The one opcode-list parser (the one ``open_raw`` uses for OpcodeList2), fed the bytes directly."""
    gains = _spec_gains(3, 5, 2)
    (entry,) = parse_opcode_list(_hand_built_opcode_list(SPEC_FIELDS, gains, flags=1))
    assert isinstance(entry, GainMap)
    assert entry.flags == 1
    _assert_matches_spec_fields(entry, SPEC_FIELDS, gains)


def test_open_raw_reads_a_hand_built_opcode_list_2(tmp_path):
    """End to end: the hand-built bytes stored verbatim as OpcodeList2 of a DNG, read by ``open_raw``."""
    gains = _spec_gains(3, 5, 2)
    mosaic = np.full(IMAGE_SHAPE, 1000, np.uint16)
    path = write_dng(
        tmp_path / "spec_gain_map.dng",
        mosaic,
        cfa_pattern="RGGB",
        black_level=0,
        white_level=4095,
        color_matrix_1=np.eye(3),
        as_shot_neutral=[1.0, 1.0, 1.0],
        opcode_list_2=_hand_built_opcode_list(SPEC_FIELDS, gains),
    )
    raw = open_raw(path)
    assert raw.dng is not None
    (entry,) = raw.dng.gain_maps
    _assert_matches_spec_fields(entry, SPEC_FIELDS, gains)


def test_other_opcodes_are_skipped_by_their_byte_count():
    """A non-GainMap opcode before the GainMap is stepped over by its declared parameter byte count."""
    gains = _spec_gains(2, 2, 1)
    fields = dict(SPEC_FIELDS, MapPointsV=2, MapPointsH=2, MapPlanes=1)
    gain_map = _hand_built_opcode_list(fields, gains)[4:]
    other = struct.pack(OPCODE_HEADER_FIELDS, 4, 1, 3, 0, 0, 0, 7) + b"\x00" * 7  # an opcode of 7 parameter bytes
    data = struct.pack(">I", 2) + other + gain_map
    gain_maps = [e for e in parse_opcode_list(data) if isinstance(e, GainMap)]
    assert len(gain_maps) == 1
    _assert_matches_spec_fields(gain_maps[0], fields, gains)


@pytest.mark.parametrize("shape, top, left, pitch, flags", [((3, 5, 1), 0, 1, 2, 1), ((4, 2, 3), 1, 0, 1, 0)])
def test_writer_bytes_follow_the_specification_table(shape, top, left, pitch, flags):
    """Our writer's output unpacked field by field with the table's types, offsets and gain order."""
    gains = np.random.default_rng(7).uniform(0.5, 3.0, shape).astype(np.float32)
    width, height = 64, 48
    data = encode_opcode_list(
        [gain_map_opcode(gains, (width, height), top=top, left=left, row_pitch=pitch, col_pitch=pitch, flags=flags)]
    )
    (count,) = struct.unpack_from(">I", data, 0)
    assert count == 1
    opcode_id, v0, v1, v2, v3, read_flags, byte_count = struct.unpack_from(OPCODE_HEADER_FIELDS, data, 4)
    assert opcode_id == GAIN_MAP_OPCODE_ID
    assert (v0, v1, v2, v3) == (1, 3, 0, 0)  # GainMap was introduced in DNG 1.3.0.0
    assert read_flags == flags
    assert byte_count == GAIN_MAP_FIXED_SIZE + 4 * gains.size == len(data) - 4 - 16
    values = dict(zip(FIELD_NAMES, struct.unpack_from(GAIN_MAP_FIXED_FIELDS, data, 20)))
    points_v, points_h, planes = shape
    assert values == dict(
        Top=top, Left=left, Bottom=height, Right=width, Plane=0, Planes=planes, RowPitch=pitch, ColPitch=pitch,
        MapPointsV=points_v, MapPointsH=points_h,
        MapSpacingV=1.0 / (points_v - 1), MapSpacingH=1.0 / (points_h - 1),  # map corners on the area corners
        MapOriginV=0.0, MapOriginH=0.0, MapPlanes=planes,
    )
    offset = 20 + GAIN_MAP_FIXED_SIZE
    for row in range(points_v):  # row slowest, then column, plane fastest
        for col in range(points_h):
            for plane in range(planes):
                (value,) = struct.unpack_from(">f", data, offset)
                assert value == gains[row, col, plane], (row, col, plane)
                offset += 4
    assert offset == len(data)

