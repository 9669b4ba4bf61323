"""DNG opcode lists: the one codec, shared by the reader (OpcodeList2 of every DNG) and the DNG writer.

An opcode list is a big-endian count followed by opcodes; each opcode is a 16-byte header (id, the DNG
version that defined it, flags, parameter byte count) and its parameters, big-endian whatever the file's
byte order. Parsed: GainMap (id 9, :class:`GainMap`), WarpRectilinear (id 1, :class:`WarpRectilinear`),
WarpFisheye (id 2, :class:`WarpFisheye`), FixVignetteRadial (id 3, :class:`FixVignetteRadial`) and
WarpRectilinear2 (id 14, :class:`WarpRectilinear2`); every other opcode is kept as its bytes (:class:`Opcode`).

The parser checks every size before it reads and refuses what no sensor could need (empty areas, zero
pitches or map sizes, NaN or negative gains; a warp with no or more than four planes, a byte count that is
not the one its plane count needs, a coefficient that is not finite or beyond :data:`MAX_COEFFICIENT`, a
centre outside the image), so that a damaged list is one error naming the opcode. A lens opcode flagged
optional (bit 0) with such a problem is kept as an :class:`Opcode` whose ``problem`` says why, for the
pipeline to skip with a note, as the specification allows for optional opcodes.

References
----------
.. [1] Adobe, "Digital Negative (DNG) Specification", version 1.6.0.0, 2021, chapter 7: "Opcode List
       Processing", opcodes 1 "WarpRectilinear", 2 "WarpFisheye", 3 "FixVignetteRadial", 9 "GainMap" and
       14 "WarpRectilinear2"; tags OpcodeList1, OpcodeList2, OpcodeList3.
.. [2] Adobe DNG SDK 1.6, ``dng_lens_correction.cpp`` (``dng_warp_params``: at most four planes, centre
       within the image).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lumatune.errors import UnreadableInputError, UnsupportedError

__all__ = [
    "FIX_VIGNETTE_RADIAL_OPCODE_ID",
    "GAIN_MAP_OPCODE_ID",
    "MAX_COEFFICIENT",
    "MAX_WARP_PLANES",
    "OPCODE_NAMES",
    "WARP_FISHEYE_OPCODE_ID",
    "WARP_RECTILINEAR2_OPCODE_ID",
    "WARP_RECTILINEAR_OPCODE_ID",
    "FixVignetteRadial",
    "GainMap",
    "Opcode",
    "WarpFisheye",
    "WarpRectilinear",
    "WarpRectilinear2",
    "encode_opcode",
    "encode_opcode_list",
    "gain_map_opcode",
    "opcode_name",
    "parse_opcode_list",
]

WARP_RECTILINEAR_OPCODE_ID = 1
WARP_FISHEYE_OPCODE_ID = 2
FIX_VIGNETTE_RADIAL_OPCODE_ID = 3
GAIN_MAP_OPCODE_ID = 9
"""Opcode id of GainMap, DNG 1.6 section 7."""
WARP_RECTILINEAR2_OPCODE_ID = 14

OPCODE_NAMES = {
    1: "WarpRectilinear", 2: "WarpFisheye", 3: "FixVignetteRadial", 4: "FixBadPixelsConstant",
    5: "FixBadPixelsList", 6: "TrimBounds", 7: "MapTable", 8: "MapPolynomial", 9: "GainMap", 10: "DeltaPerRow",
    11: "DeltaPerColumn", 12: "ScalePerRow", 13: "ScalePerColumn", 14: "WarpRectilinear2",
}
"""Opcode id -> name (DNG 1.6 chapter 7)."""

MAX_WARP_PLANES = 4
"""Most coefficient sets of a warp (the DNG SDK's ``kMaxColorPlanes``)."""

MAX_COEFFICIENT = 1000.0
"""Largest magnitude of a warp or vignette coefficient believed: a real lens's radial terms are near 1 and
its other terms well below 1 (normalised radius <= 1); beyond this the opcode is taken as damaged."""

_WARP2_RADIAL_TERMS = 15
"""WarpRectilinear2 radial coefficients per plane (powers r^0 ... r^14)."""

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
    problem: str | None = None
    """Why an optional lens opcode was not parsed (its parameters are damaged); None otherwise."""

    @property
    def name(self) -> str:
        return opcode_name(self.opcode_id)

    @property
    def optional(self) -> bool:
        return bool(self.flags & 1)


def opcode_name(opcode_id: int) -> str:
    """The specification's name of an opcode id, or "opcode <id>" for an unknown one."""
    return OPCODE_NAMES.get(opcode_id, f"opcode {opcode_id}")


@dataclass(frozen=True, eq=False)
class WarpRectilinear:
    """WarpRectilinear (id 1): radial and tangential warp of a rectilinear lens, one or one set per plane.

    For a destination pixel at ``(x, y)`` (pixel centres at half-integers, the image corners at (0, 0) and
    (W, H)): centre ``(cx W, cy H)``; ``m`` the distance from the centre to the farthest corner;
    ``(dx, dy) = (x - cx W, y - cy H) / m``; ``r^2 = dx^2 + dy^2``; ``f = kr0 + kr1 r^2 + kr2 r^4 + kr3 r^6``;
    ``tx = kt1 (r^2 + 2 dx^2) + 2 kt0 dx dy``, ``ty = kt0 (r^2 + 2 dy^2) + 2 kt1 dx dy``; the pixel is read
    from the source at ``centre + m (f (dx, dy) + (tx, ty))``.

    Attributes
    ----------
    radial : float64 (planes, 4): kr0 ... kr3 per plane.
    tangential : float64 (planes, 2): kt0, kt1 per plane.
    centre : (cx, cy), the optical centre as fractions of the width and height.
    flags : opcode flags (bit 0 optional, bit 1 skippable for preview).
    """

    radial: np.ndarray
    tangential: np.ndarray
    centre: tuple[float, float] = (0.5, 0.5)
    flags: int = 0
    opcode_id: ClassVar[int] = WARP_RECTILINEAR_OPCODE_ID
    name: ClassVar[str] = "WarpRectilinear"

    @property
    def planes(self) -> int:
        return int(self.radial.shape[0])


@dataclass(frozen=True, eq=False)
class WarpRectilinear2:
    """WarpRectilinear2 (id 14, DNG 1.6): :class:`WarpRectilinear` with 15 radial terms and a valid radius.

    ``f = sum(kr_i r^i, i = 0..14)`` with ``r`` clamped to ``[valid_radius[0], valid_radius[1]]`` of its plane,
    or ``1 / f`` when ``reciprocal``; tangential terms as WarpRectilinear's.

    Attributes
    ----------
    radial : float64 (planes, 15).
    tangential : float64 (planes, 2).
    valid_radius : float64 (planes, 2): smallest and largest normalised radius the polynomial holds for.
    centre : (cx, cy) fractions of the width and height.
    reciprocal : the radial factor is 1 / the polynomial.
    flags : opcode flags.
    """

    radial: np.ndarray
    tangential: np.ndarray
    valid_radius: np.ndarray
    centre: tuple[float, float] = (0.5, 0.5)
    reciprocal: bool = False
    flags: int = 0
    opcode_id: ClassVar[int] = WARP_RECTILINEAR2_OPCODE_ID
    name: ClassVar[str] = "WarpRectilinear2"

    @property
    def planes(self) -> int:
        return int(self.radial.shape[0])


@dataclass(frozen=True, eq=False)
class WarpFisheye:
    """WarpFisheye (id 2): a fisheye image mapped to rectilinear; with ``theta = atan(r)`` the source radius is
    ``kr0 theta + kr1 theta^3 + kr2 theta^5 + kr3 theta^7`` (normalisation as WarpRectilinear's; the source
    point lies on the ray from the centre through the destination point).

    Attributes
    ----------
    radial : float64 (planes, 4).
    centre : (cx, cy) fractions.
    flags : opcode flags.
    """

    radial: np.ndarray
    centre: tuple[float, float] = (0.5, 0.5)
    flags: int = 0
    opcode_id: ClassVar[int] = WARP_FISHEYE_OPCODE_ID
    name: ClassVar[str] = "WarpFisheye"

    @property
    def planes(self) -> int:
        return int(self.radial.shape[0])


@dataclass(frozen=True, eq=False)
class FixVignetteRadial:
    """FixVignetteRadial (id 3): multiply by ``1 + k0 r^2 + k1 r^4 + k2 r^6 + k3 r^8 + k4 r^10`` (``r``
    normalised as WarpRectilinear's), evaluated at pixel centres.

    Attributes
    ----------
    k : float64 (5,).
    centre : (cx, cy) fractions.
    flags : opcode flags.
    """

    k: np.ndarray
    centre: tuple[float, float] = (0.5, 0.5)
    flags: int = 0
    opcode_id: ClassVar[int] = FIX_VIGNETTE_RADIAL_OPCODE_ID
    name: ClassVar[str] = "FixVignetteRadial"


LensOpcode = WarpRectilinear | WarpRectilinear2 | WarpFisheye | FixVignetteRadial
"""The parsed lens-correction opcodes."""


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
    opcode_id: ClassVar[int] = GAIN_MAP_OPCODE_ID
    name: ClassVar[str] = "GainMap"


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


def _f8(values) -> bytes:
    return np.asarray(values, dtype=">f8").ravel().tobytes()


def encode_opcode(opcode: LensOpcode | GainMap | Opcode) -> bytes:
    """Return the bytes of one opcode (header included), for :func:`encode_opcode_list`.

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0, chapter 7 (the parameter layouts of opcodes 1, 2, 3, 9 and 14).

    Examples
    --------
    >>> import numpy as np
    >>> warp = WarpRectilinear(np.array([[1.0, -0.05, 0, 0]]), np.zeros((1, 2)))
    >>> float(parse_opcode_list(encode_opcode_list([encode_opcode(warp)]))[0].radial[0, 1])
    -0.05
    """
    if isinstance(opcode, GainMap):
        return _encode_gain_map(opcode)
    if isinstance(opcode, Opcode):
        return _OPCODE_HEADER.pack(opcode.opcode_id, *opcode.dng_version, opcode.flags, len(opcode.parameters)) + (
            opcode.parameters
        )
    if isinstance(opcode, WarpRectilinear):
        per_plane = np.concatenate([np.asarray(opcode.radial, float), np.asarray(opcode.tangential, float)], axis=1)
        body = struct.pack(">I", opcode.planes) + _f8(per_plane) + _f8(opcode.centre)
    elif isinstance(opcode, WarpRectilinear2):
        per_plane = np.concatenate(
            [np.asarray(a, float) for a in (opcode.radial, opcode.tangential, opcode.valid_radius)], axis=1
        )
        body = struct.pack(">I", opcode.planes) + _f8(per_plane) + _f8(opcode.centre)
        body += struct.pack(">I", int(opcode.reciprocal))
    elif isinstance(opcode, WarpFisheye):
        body = struct.pack(">I", opcode.planes) + _f8(opcode.radial) + _f8(opcode.centre)
    elif isinstance(opcode, FixVignetteRadial):
        body = _f8(opcode.k) + _f8(opcode.centre)
    else:
        raise TypeError(f"not an opcode: {type(opcode).__name__}")
    version = (1, 6, 0, 0) if opcode.opcode_id == WARP_RECTILINEAR2_OPCODE_ID else _OPCODE_DNG_VERSION
    return _OPCODE_HEADER.pack(opcode.opcode_id, *version, opcode.flags, len(body)) + body


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


def parse_opcode_list(data: bytes, *, name: str = "opcode list") -> list[GainMap | LensOpcode | Opcode]:
    """Parse an opcode list (OpcodeList1/2/3) into GainMap and lens entries and other opcodes.

    Parameters
    ----------
    data
        The tag's bytes, big-endian as the DNG specification requires whatever the file's byte order.
    name
        What the error message calls the list (the reader passes the file and the tag name).

    Returns
    -------
    list
        One entry per opcode in order: a :class:`GainMap` for id 9, a :class:`WarpRectilinear`,
        :class:`WarpFisheye`, :class:`FixVignetteRadial` or :class:`WarpRectilinear2` for ids 1, 2, 3 and 14
        (an :class:`Opcode` with ``problem`` set for such an opcode flagged optional whose parameters are
        damaged), an :class:`Opcode` otherwise.

    Raises
    ------
    UnreadableInputError
        The bytes are cut short or claim more than they hold, or a GainMap is impossible: an empty area, a
        zero plane count, pitch or map size, a spacing or origin that is not finite (or a zero spacing
        between two points), a gain that is negative or not a number; or a lens opcode not flagged optional
        is damaged: no or more than four planes, a byte count its planes do not need, a coefficient that is
        not finite or beyond :data:`MAX_COEFFICIENT`, a centre outside [0, 1], a valid radius range that is
        empty, a radial factor that is not positive somewhere in the image. The message names the opcode.

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
        elif opcode_id in _LENS_PARSERS:
            try:
                yield _LENS_PARSERS[opcode_id](body, f"{opcode_name(opcode_id)} (opcode {index + 1})", flags)
            except ValueError as error:
                if not flags & 1:
                    raise
                yield Opcode(opcode_id, tuple(version), flags, body, problem=str(error))
        else:
            yield Opcode(opcode_id, tuple(version), flags, body)


def _doubles(body: bytes, offset: int, count: int) -> np.ndarray:
    return np.frombuffer(body, dtype=">f8", count=count, offset=offset).astype(np.float64)


def _planes(body: bytes, where: str, per_plane: int, tail: int) -> int:
    """The plane count at the start of a warp, checked against the byte count (4 + 8 per_plane N + tail)."""
    if len(body) < 4:
        raise ValueError(f"{where} has {len(body)} parameter bytes, too few for its plane count")
    (planes,) = struct.unpack_from(">I", body, 0)
    if not 1 <= planes <= MAX_WARP_PLANES:
        raise ValueError(f"{where} has {planes} planes (1 to {MAX_WARP_PLANES} allowed)")
    expected = 4 + 8 * per_plane * planes + tail
    if len(body) != expected:
        raise ValueError(f"{where} has {len(body)} parameter bytes; {planes} planes need {expected}")
    return planes


def _checked(where: str, coefficients: np.ndarray, centre: np.ndarray) -> tuple[float, float]:
    """Refuse coefficients that are not finite or absurdly large and a centre outside the image."""
    if not np.all(np.isfinite(coefficients)) or np.any(np.abs(coefficients) > MAX_COEFFICIENT):
        raise ValueError(f"{where} has a coefficient that is not finite or beyond {MAX_COEFFICIENT:g}")
    if not (np.all(np.isfinite(centre)) and np.all((centre >= 0) & (centre <= 1))):
        raise ValueError(f"{where} centre ({centre[0]:g}, {centre[1]:g}) is outside the image")
    return float(centre[0]), float(centre[1])


_RADIUS_SAMPLES = np.linspace(0.0, 1.0, 65)
"""Normalised radii at which a warp's radial factor is checked."""


def _check_radial_factor(where: str, factors: np.ndarray) -> None:
    """Refuse a radial factor that is not positive (or, as a reciprocal, near 0) somewhere in the image: such a
    warp folds the image onto itself or sends it to infinity; no lens needs it."""
    if not np.all(np.isfinite(factors)) or np.any(factors <= 1e-6):
        raise ValueError(f"{where} radial factor is not positive everywhere in the image")


def _warp_rectilinear(body: bytes, where: str, flags: int) -> WarpRectilinear:
    planes = _planes(body, where, 6, 16)
    values = _doubles(body, 4, 6 * planes + 2)
    per_plane = values[:-2].reshape(planes, 6)
    centre = _checked(where, per_plane, values[-2:])
    r2 = _RADIUS_SAMPLES**2
    for kr in per_plane[:, :4]:
        _check_radial_factor(where, kr[0] + r2 * (kr[1] + r2 * (kr[2] + r2 * kr[3])))
    return WarpRectilinear(per_plane[:, :4].copy(), per_plane[:, 4:].copy(), centre, flags)


def _warp_rectilinear2(body: bytes, where: str, flags: int) -> WarpRectilinear2:
    per = _WARP2_RADIAL_TERMS + 4
    planes = _planes(body, where, per, 20)
    values = _doubles(body, 4, per * planes + 2)
    per_plane = values[:-2].reshape(planes, per)
    centre = _checked(where, per_plane, values[-2:])
    (reciprocal,) = struct.unpack_from(">I", body, len(body) - 4)
    valid = per_plane[:, per - 2 :].copy()
    if np.any(valid[:, 0] < 0) or np.any(valid[:, 1] <= valid[:, 0]):
        raise ValueError(f"{where} valid radius range is empty or negative")
    if reciprocal > 1:
        raise ValueError(f"{where} reciprocal flag is {reciprocal}, not 0 or 1")
    for kr, (low, high) in zip(per_plane[:, :_WARP2_RADIAL_TERMS], valid):
        r = np.clip(_RADIUS_SAMPLES, low, high)
        _check_radial_factor(where, np.polynomial.polynomial.polyval(r, kr))
    return WarpRectilinear2(
        per_plane[:, :_WARP2_RADIAL_TERMS].copy(), per_plane[:, _WARP2_RADIAL_TERMS : per - 2].copy(), valid,
        centre, bool(reciprocal), flags,
    )


def _warp_fisheye(body: bytes, where: str, flags: int) -> WarpFisheye:
    planes = _planes(body, where, 4, 16)
    values = _doubles(body, 4, 4 * planes + 2)
    radial = values[:-2].reshape(planes, 4)
    return WarpFisheye(radial.copy(), _checked(where, radial, values[-2:]), flags)


def _fix_vignette_radial(body: bytes, where: str, flags: int) -> FixVignetteRadial:
    if len(body) != 56:
        raise ValueError(f"{where} has {len(body)} parameter bytes, not 56")
    values = _doubles(body, 0, 7)
    return FixVignetteRadial(values[:5].copy(), _checked(where, values[:5], values[5:]), flags)


_LENS_PARSERS = {
    WARP_RECTILINEAR_OPCODE_ID: _warp_rectilinear,
    WARP_RECTILINEAR2_OPCODE_ID: _warp_rectilinear2,
    WARP_FISHEYE_OPCODE_ID: _warp_fisheye,
    FIX_VIGNETTE_RADIAL_OPCODE_ID: _fix_vignette_radial,
}


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
