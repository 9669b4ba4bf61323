"""Read any rendered image (8/16-bit or float; sRGB, Display P3 or Rec.2020) back to linear RGB and XYZ.

The lab measures renderings it did not make, so it reads them the way a viewer would: the pixel codes,
the output space named by the embedded ICC profile's description (or given), the transfer function
undone, then the space's RGB to CIE XYZ matrix (D65, white Y = 1).

All three spaces are decoded with the sRGB transfer function: lumatune's encoders use that one curve
for every output space (``lumatune.io.icc``); Display P3 defines it too.

References
----------
- IEC 61966-2-1:1999, *Multimedia systems and equipment - Colour measurement and management -
  Part 2-1: Default RGB colour space - sRGB*: primaries, D65 white and transfer function.
- SMPTE EG 432-1:2010; Apple, *Display P3* (2017): P3 primaries with a D65 white, sRGB transfer.
- ITU-R BT.2020-2 (2015): Rec.2020 primaries.
- SMPTE RP 177-1993, *Derivation of basic television color equations*: normalised primary matrix.
- International Color Consortium, *ICC.1:2022 Image technology colour management*: 7.2 profile
  header, 7.3 tag table, 10.15 ``multiLocalizedUnicodeType``; ICC.1:2001-04 6.5.17
  ``textDescriptionType`` (version-2 ``desc``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import colour
import numpy as np
import tifffile
from PIL import Image

from lumatune.errors import UnreadableInputError, UnsupportedError

__all__ = [
    "SPACE_NAMES",
    "Rendering",
    "read_rendering",
    "rendering_from_array",
    "icc_description",
    "space_from_icc_description",
    "linear_rgb",
    "matrix_rgb_to_xyz",
    "white_xy",
    "encode_linear",
]

SPACE_NAMES = {"srgb": "sRGB", "p3": "Display P3", "rec2020": "ITU-R BT.2020"}
"""Output space keys and the colour-science colourspace that holds their primaries and white."""

CLIP_LSB = 0.5
"""A code counts as clipped within this many least significant bits of the maximum code."""


@dataclass(frozen=True)
class Rendering:
    """A rendered image as stored: RGB codes, their bit depth and the output space.

    Attributes
    ----------
    codes
        (H, W, 3) uint8, uint16 or float32 display-encoded RGB.
    bit_depth
        8 or 16 for integer codes, None for float (nominal range [0, 1]).
    space
        Output space key: ``"srgb"``, ``"p3"`` or ``"rec2020"``.
    source
        File name or ``"<array>"``; used in messages and reports.
    """

    codes: np.ndarray
    bit_depth: int | None
    space: str
    source: str

    @property
    def width(self) -> int:
        return int(self.codes.shape[1])

    @property
    def height(self) -> int:
        return int(self.codes.shape[0])

    @property
    def clip_level(self) -> float:
        """Encoded value in [0, 1] at and above which a channel counts as clipped."""
        if self.bit_depth is None:
            return 1.0
        return 1.0 - CLIP_LSB / (2**self.bit_depth - 1)


def _parse_desc(tag: bytes) -> str | None:
    kind = tag[:4]
    if kind == b"desc" and len(tag) >= 12:
        (count,) = struct.unpack(">I", tag[8:12])
        return tag[12 : 12 + count].split(b"\0")[0].decode("latin-1")
    if kind == b"mluc" and len(tag) >= 28:
        (records,) = struct.unpack(">I", tag[8:12])
        if records == 0:
            return None
        length, offset = struct.unpack(">II", tag[20:28])
        return tag[offset : offset + length].decode("utf-16-be", errors="replace")
    return None


def icc_description(profile: bytes) -> str | None:
    """Return the ``desc`` tag text of an ICC profile (version 2 ``desc`` or version 4 ``mluc``).

    Returns None when the profile has no readable description.
    """
    if len(profile) < 132:
        return None
    (count,) = struct.unpack(">I", profile[128:132])
    for i in range(min(count, (len(profile) - 132) // 12)):
        signature, offset, size = struct.unpack(">4sII", profile[132 + 12 * i : 144 + 12 * i])
        if signature == b"desc":
            return _parse_desc(profile[offset : offset + size])
    return None


def space_from_icc_description(description: str | None, source: str) -> str:
    """Map an ICC profile description to an output space key; no description means sRGB.

    Raises
    ------
    UnsupportedError
        A profile the lab cannot decode (other primaries, or Rec.2020 with a transfer function other
        than sRGB's); ``--space`` overrides.
    """
    if description is None:
        return "srgb"
    text = description.lower()
    if "p3" in text:
        return "p3"
    if "2020" in text:
        if "srgb transfer" in text:
            return "rec2020"
        raise UnsupportedError(f"{source}: ICC profile {description!r} has an unknown transfer function; pass --space")
    if "srgb" in text or "61966" in text:
        return "srgb"
    raise UnsupportedError(f"{source}: ICC profile {description!r} is not sRGB, Display P3 or Rec.2020; pass --space")


def _as_rgb(array: np.ndarray, source: str) -> np.ndarray:
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return array[:, :, :3]
    raise UnsupportedError(f"{source}: image of shape {array.shape} is neither grey nor RGB(A)")


def _bit_depth(array: np.ndarray, source: str) -> int | None:
    if array.dtype == np.uint8:
        return 8
    if array.dtype == np.uint16:
        return 16
    if np.issubdtype(array.dtype, np.floating):
        return None
    raise UnsupportedError(f"{source}: pixel type {array.dtype} is not uint8, uint16 or float")


def rendering_from_array(array: np.ndarray, space: str = "auto", source: str = "<array>") -> Rendering:
    """Wrap display-encoded RGB codes held in memory; ``space="auto"`` means sRGB.

    Parameters
    ----------
    array
        (H, W, 3|4) or (H, W) uint8, uint16 or float codes (float nominally in [0, 1]).
    space
        ``"auto"``, ``"srgb"``, ``"p3"`` or ``"rec2020"``.
    """
    array = np.asarray(array)
    depth = _bit_depth(array, source)
    codes = _as_rgb(array, source)
    codes = codes.astype(np.float32) if depth is None else np.ascontiguousarray(codes)
    return Rendering(codes, depth, _space_key("srgb" if space == "auto" else space), source)


def _space_key(space: str) -> str:
    if space not in SPACE_NAMES:
        raise UnsupportedError(f"output space {space!r} is not one of auto, {', '.join(SPACE_NAMES)}")
    return space


def _read_tiff(path: Path) -> tuple[np.ndarray, bytes | None]:
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        tag = page.tags.get(34675)  # InterColorProfile
        return page.asarray(), (bytes(tag.value) if tag is not None else None)


def _read_other(path: Path) -> tuple[np.ndarray, bytes | None]:
    import cv2  # lazy: cv2 (~34 ms)

    with Image.open(path) as image:
        profile = image.info.get("icc_profile")
    array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise UnreadableInputError(f"{path}: OpenCV cannot decode this image")
    if array.ndim == 3:
        array = array[:, :, [2, 1, 0, 3][: array.shape[2]]]  # BGR(A) to RGB(A)
    return array, profile


def read_rendering(path: str | Path, space: str = "auto") -> Rendering:
    """Read a rendered TIFF, PNG or JPEG and find its output space.

    TIFF through tifffile (8/16-bit and float32), PNG and JPEG through OpenCV (which keeps 16-bit
    PNG), the ICC profile through tifffile or Pillow.

    Parameters
    ----------
    path
        The image file.
    space
        ``"auto"`` reads the embedded ICC profile's description (sRGB when there is none);
        ``"srgb"``, ``"p3"`` or ``"rec2020"`` override it.

    Raises
    ------
    UnreadableInputError
        Missing or undecodable file.
    UnsupportedError
        Pixel type, channel count or ICC profile the lab cannot read.
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableInputError(f"{path}: no such image file")
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            array, profile = _read_tiff(path)
        else:
            array, profile = _read_other(path)
    except (OSError, ValueError) as error:
        raise UnreadableInputError(f"{path}: cannot read the image ({error})") from None
    key = space_from_icc_description(icc_description(profile) if profile else None, str(path))
    return rendering_from_array(array, key if space == "auto" else space, str(path))


@lru_cache(maxsize=4)
def _decoding_lut(bit_depth: int) -> np.ndarray:
    codes = np.arange(2**bit_depth, dtype=np.float64) / (2**bit_depth - 1)
    return colour.models.eotf_sRGB(codes).astype(np.float32)


def linear_rgb(rendering: Rendering) -> np.ndarray:
    """Undo the transfer function: (H, W, 3) float32 linear RGB of the output space.

    Integer codes go through an exact look-up table of the sRGB EOTF (IEC 61966-2-1); float codes
    through the function itself (linear below 0.04045, negative values kept).
    """
    if rendering.bit_depth is None:
        return colour.models.eotf_sRGB(rendering.codes.astype(np.float64)).astype(np.float32)
    return _decoding_lut(rendering.bit_depth)[rendering.codes]


@lru_cache(maxsize=4)
def _normalised_primary_matrix(space: str) -> np.ndarray:
    colourspace = colour.RGB_COLOURSPACES[SPACE_NAMES[space]]
    return np.asarray(colour.normalised_primary_matrix(colourspace.primaries, colourspace.whitepoint), dtype=np.float64)


def matrix_rgb_to_xyz(space: str) -> np.ndarray:
    """3x3 matrix from linear RGB of the output space to CIE XYZ (D65 white, white Y = 1).

    The normalised primary matrix computed from the primaries and white (SMPTE RP 177), as the
    project's ICC profiles are, not the 4-decimal matrix printed in IEC 61966-2-1, which is not
    exactly the inverse of its own XYZ to RGB matrix.
    """
    return _normalised_primary_matrix(space).copy()


def white_xy(space: str) -> np.ndarray:
    """CIE 1931 xy chromaticity of the output space's white (D65 for all three)."""
    return np.asarray(colour.RGB_COLOURSPACES[SPACE_NAMES[space]].whitepoint, dtype=np.float64)


def encode_linear(rgb: np.ndarray) -> np.ndarray:
    """Apply the sRGB transfer function (inverse EOTF) to linear RGB, without clipping."""
    return colour.models.eotf_inverse_sRGB(np.asarray(rgb, dtype=np.float64))
