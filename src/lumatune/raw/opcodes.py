"""DNG opcode lists: the one codec, shared by the reader (OpcodeList2 of every DNG) and the DNG writer.

An opcode list is a big-endian count followed by opcodes; each opcode is a 16-byte header (id, the DNG
version that defined it, flags, parameter byte count) and its parameters, big-endian whatever the file's
byte order. GainMap (id 9) is parsed into a :class:`GainMap`; every other opcode is kept as its bytes.

The parser checks every size before it reads and refuses what no sensor could need (empty areas, zero
pitches or map sizes, NaN or negative gains), so that a damaged list is one error naming the opcode.

References
----------
.. [1] Adobe, "Digital Negative (DNG) Specification", version 1.6.0.0, 2021, chapter 7: "Opcode List
       Processing" and opcode 9 "GainMap"; tags OpcodeList1, OpcodeList2, OpcodeList3.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from lumatune.errors import UnreadableInputError, UnsupportedError

__all__ = [
    "GAIN_MAP_OPCODE_ID",
    "GainMap",
    "Opcode",
    "encode_opcode_list",
    "gain_map_opcode",
    "parse_opcode_list",
]

GAIN_MAP_OPCODE_ID = 9
"""Opcode id of GainMap, DNG 1.6 section 7."""

_OPCODE_DNG_VERSION = (1, 3, 0, 0)
"""DNG version that introduced opcode lists; written in each opcode header."""

_OPCODE_HEADER = struct.Struct(">I4BII")
"""Opcode id, DNG version (4 bytes), flags, parameter byte count."""

_GAIN_MAP_HEADER = struct.Struct(">10I4dI")
"""GainMap parameters before the gains: area, plane(s), pitches, map points, spacing, origin, planes."""


@dataclass(frozen=True)
class Opcode:
    """One opcode of a DNG opcode list that is not parsed further.

    Attributes
    ----------
    opcode_id : int
        Opcode id (DNG 1.6 section 7, e.g. 1 WarpRectilinear, 9 GainMap).
    dng_version : tuple of int
        The DNG version the opcode was defined in.
    flags : int
        Bit 0: optional; bit 1: may be skipped for preview.
    parameters : bytes
        The opcode's big-endian parameter bytes.
    """

    opcode_id: int
    dng_version: tuple[int, int, int, int]
    flags: int
    parameters: bytes


@dataclass(frozen=True)
class GainMap:
    """A GainMap opcode (id 9): a grid of gains multiplied into one area of the image.

    Attributes
    ----------
    top, left, bottom, right : int
        The image area the map applies to, half-open, in pixels of the stored image.
    plane, planes : int
        First image plane and number of planes (a CFA image has one plane, 0).
    row_pitch, col_pitch : int
        Apply to every ``row_pitch``-th row and ``col_pitch``-th column of the area (2, 2 with
        ``top``/``left`` offsets selects one Bayer site).
    map_spacing : tuple of float
        (vertical, horizontal) distance between map points, relative to the area size.
    map_origin : tuple of float
        (vertical, horizontal) position of the first map point, relative to the area.
    gains : numpy.ndarray
        float32 array (map points vertical, map points horizontal, map planes).
    flags : int
        Opcode flags (bit 0 optional, bit 1 skippable for preview).

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0, section 7, "GainMap".
    """

    top: int
    left: int
    bottom: int
    right: int
    plane: int
    planes: int
    row_pitch: int
    col_pitch: int
    map_spacing: tuple[float, float]
    map_origin: tuple[float, float]
    gains: np.ndarray
    flags: int = 0


def _encode_opcode(opcode_id: int, flags: int, parameters: bytes) -> bytes:
    """Return one opcode: its big-endian header followed by its parameters."""
    return _OPCODE_HEADER.pack(opcode_id, *_OPCODE_DNG_VERSION, flags, len(parameters)) + parameters


def _encode_gain_map(gain_map: GainMap) -> bytes:
    """Return the bytes of one GainMap opcode (header included)."""
    gains = np.asarray(gain_map.gains, dtype=">f4")
    points_v, points_h, map_planes = gains.shape
    parameters = _GAIN_MAP_HEADER.pack(
        gain_map.top,
        gain_map.left,
        gain_map.bottom,
        gain_map.right,
        gain_map.plane,
        gain_map.planes,
        gain_map.row_pitch,
        gain_map.col_pitch,
        points_v,
        points_h,
        *gain_map.map_spacing,
        *gain_map.map_origin,
        map_planes,
    )
    return _encode_opcode(GAIN_MAP_OPCODE_ID, gain_map.flags, parameters + gains.tobytes())


def gain_map_opcode(
    gains: np.ndarray,
    image_size: tuple[int, int],
    *,
    top: int = 0,
    left: int = 0,
    row_pitch: int = 1,
    col_pitch: int = 1,
    plane: int = 0,
    flags: int = 0,
) -> bytes:
    """Return one GainMap opcode whose map points span the whole image evenly.

    Parameters
    ----------
    gains
        float array (map points vertical, map points horizontal, map planes); a 2-D array is one
        map plane. At least 2 points in each direction; the corners of the grid sit on the corners
        of the image.
    image_size
        (width, height) of the stored image the opcode applies to.
    top, left, row_pitch, col_pitch
        Area offset and pitch; ``row_pitch = col_pitch = 2`` with ``top``/``left`` in {0, 1} makes a
        map for one site of a Bayer mosaic.
    plane, flags
        First image plane (0 for a CFA image) and opcode flags.

    Returns
    -------
    bytes
        The opcode, to be passed (with others) to :func:`encode_opcode_list`.

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0, section 7, "GainMap" (opcode id 9).

    Examples
    --------
    >>> import numpy as np
    >>> opcode = gain_map_opcode(np.ones((3, 4), np.float32), (64, 48))
    >>> parse_opcode_list(encode_opcode_list([opcode]))[0].gains.shape
    (3, 4, 1)
    """
    grid = np.asarray(gains, dtype=np.float32)
    if grid.ndim == 2:
        grid = grid[:, :, None]
    if grid.ndim != 3 or grid.shape[0] < 2 or grid.shape[1] < 2:
        raise UnsupportedError(f"GainMap: expected a (V>=2, H>=2, planes) grid, got shape {grid.shape}")
    width, height = image_size
    gain_map = GainMap(
        top=top,
        left=left,
        bottom=height,
        right=width,
        plane=plane,
        planes=grid.shape[2],
        row_pitch=row_pitch,
        col_pitch=col_pitch,
        map_spacing=(1.0 / (grid.shape[0] - 1), 1.0 / (grid.shape[1] - 1)),
        map_origin=(0.0, 0.0),
        gains=grid,
        flags=flags,
    )
    return _encode_gain_map(gain_map)


def encode_opcode_list(opcodes: Sequence[bytes]) -> bytes:
    """Return an opcode list (OpcodeList1/2/3 tag value): a big-endian count, then the opcodes.

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0, section 7, "Opcode List Processing".
    """
    return struct.pack(">I", len(opcodes)) + b"".join(opcodes)


def parse_opcode_list(data: bytes, *, name: str = "opcode list") -> list[GainMap | Opcode]:
    """Parse an opcode list (OpcodeList1/2/3) into GainMap entries and other opcodes.

    Parameters
    ----------
    data
        The tag's bytes, big-endian as the DNG specification requires whatever the file's byte order.
    name
        What the error message calls the list (the reader passes the file and the tag name).

    Returns
    -------
    list
        One entry per opcode in order: a :class:`GainMap` for id 9, an :class:`Opcode` otherwise.

    Raises
    ------
    UnreadableInputError
        The bytes are cut short or claim more than they hold, or a GainMap is impossible: an empty area, a
        zero plane count, pitch or map size, a spacing or origin that is not finite (or a zero spacing
        between two points), a gain that is negative or not a number. The message names the opcode.

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0, section 7, "Opcode List Processing" and "GainMap".
    """
    try:
        return list(_opcodes(bytes(data)))
    except ValueError as error:
        raise UnreadableInputError(f"{name} {error}") from None


def _opcodes(blob: bytes) -> Iterator[GainMap | Opcode]:
    """Walk an opcode list (big-endian, DNG 1.6 chapter 7), checking every size before reading."""
    if len(blob) < 4:
        raise ValueError(f"has {len(blob)} bytes, too few for its opcode count")
    (count,) = struct.unpack_from(">I", blob, 0)
    if count * _OPCODE_HEADER.size > len(blob) - 4:
        raise ValueError(f"claims {count} opcodes in {len(blob)} bytes")
    offset = 4
    for index in range(count):
        if offset + _OPCODE_HEADER.size > len(blob):
            raise ValueError(f"is cut short at opcode {index + 1} of {count}")
        opcode_id, *version, flags, size = _OPCODE_HEADER.unpack_from(blob, offset)
        offset += _OPCODE_HEADER.size
        if offset + size > len(blob):
            raise ValueError(f"is cut short inside opcode {index + 1} of {count} (id {opcode_id}, {size} bytes)")
        body = blob[offset : offset + size]
        offset += size
        if opcode_id == GAIN_MAP_OPCODE_ID:
            yield _gain_map(body, index + 1, flags)
        else:
            yield Opcode(opcode_id, tuple(version), flags, body)


def _gain_map(body: bytes, number: int, flags: int) -> GainMap:
    """One GainMap's parameters, refusing what no sensor could need: empty areas, zero pitches, NaN."""
    where = f"GainMap (opcode {number})"
    if len(body) < _GAIN_MAP_HEADER.size:
        raise ValueError(f"{where} has {len(body)} parameter bytes, fewer than {_GAIN_MAP_HEADER.size}")
    fields = _GAIN_MAP_HEADER.unpack_from(body, 0)
    top, left, bottom, right, plane, planes, row_pitch, col_pitch, points_v, points_h = fields[:10]
    spacing_v, spacing_h, origin_v, origin_h, map_planes = fields[10:]
    if bottom <= top or right <= left:
        raise ValueError(f"{where} area ({top}, {left}, {bottom}, {right}) is empty")
    if min(planes, row_pitch, col_pitch, points_v, points_h, map_planes) < 1:
        raise ValueError(f"{where} has a zero plane count, pitch or map size")
    spacing_ok = [s > 0 if n > 1 else s >= 0 for s, n in ((spacing_v, points_v), (spacing_h, points_h))]
    if not (np.isfinite([spacing_v, spacing_h, origin_v, origin_h]).all() and all(spacing_ok)):
        raise ValueError(f"{where} spacing ({spacing_v:g}, {spacing_h:g}) or origin ({origin_v:g}, {origin_h:g}) is wrong")
    n = points_v * points_h * map_planes
    if _GAIN_MAP_HEADER.size + 4 * n > len(body):
        raise ValueError(f"{where} declares {points_v}x{points_h}x{map_planes} gains in {len(body)} bytes")
    gains = np.frombuffer(body, dtype=">f4", count=n, offset=_GAIN_MAP_HEADER.size).astype(np.float32)
    if not np.all(np.isfinite(gains)) or np.any(gains < 0):
        raise ValueError(f"{where} holds a gain that is negative or not a number")
    return GainMap(
        top=top, left=left, bottom=bottom, right=right, plane=plane, planes=planes,
        row_pitch=row_pitch, col_pitch=col_pitch, map_origin=(origin_v, origin_h),
        map_spacing=(spacing_v, spacing_h), gains=gains.reshape(points_v, points_h, map_planes), flags=flags,
    )
