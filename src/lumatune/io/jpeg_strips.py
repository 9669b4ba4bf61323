"""Encode one baseline JPEG on several cores: horizontal strips encoded in parallel, then spliced.

A baseline JPEG whose restart interval is one row of MCUs codes every MCU row independently: at
each restart marker the encoder pads its output to a whole byte and resets the DC predictions
(ISO/IEC 10918-1 E.1.4), and the colour conversion and chroma downsampling of libjpeg never
look across an MCU row. A strip whose height is a multiple of the MCU height, encoded on its own
with the same quantisation and Huffman tables, therefore yields exactly the entropy-coded rows
that a single encode of the whole image yields for those rows. :func:`write_jpeg_strips` encodes
such strips with Pillow (libjpeg-turbo) in threads, each into a temporary file (Pillow releases
the GIL only while encoding into a real file), and splices them into one file:

1. the first strip's marker segments up to and including SOS (it alone carries the EXIF APP1 and
   ICC APP2 segments), with the number of lines in SOF0 set to the full height;
2. the entropy-coded segments of every strip, in order, with a restart marker between strips and
   every strip's own restart markers renumbered so that RST0..RST7 continues modulo 8 across the
   whole image;
3. EOI.

With the standard Huffman tables (Pillow's ``optimize=False``) and the same quality and
subsampling, every strip has the same DQT, DHT and DRI segments; the splice checks that it does.
The result is byte-identical to Pillow's single encode of the whole image with
``restart_marker_rows=1``. Restart markers are found unambiguously: inside entropy-coded data a
0xFF byte is always followed by a stuffed 0x00 or by a marker (F.1.2.3), so a 0xFF followed by
0xD0..0xD7 is a restart marker.

References
----------
- ISO/IEC 10918-1 (ITU-T T.81), *Digital compression and coding of continuous-tone still
  images*: A.2.3 and A.2.4 (MCUs of interleaved data, completion of a partial MCU), B.1.1.2 and
  B.1.1.4 (markers, marker segments and their lengths), B.1.1.5 (entropy-coded data segments),
  B.2.2 (frame header: number of lines), B.2.4.4 (DRI, restart interval definition), E.1.4
  (encoding a restart interval: RSTm numbered modulo 8, DC predictions reset), F.1.2.3 (byte
  stuffing).
- Independent JPEG Group / libjpeg-turbo, ``jcparam.c`` and ``jcmarker.c``: ``restart_in_rows``,
  marker order SOI, APPn, DQT, SOF0, DHT, DRI, SOS.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lumatune.errors import OutputError

__all__ = ["MCU_HEIGHTS", "strip_bounds", "write_jpeg_strips"]

MCU_HEIGHTS: dict[int, int] = {0: 8, 1: 8, 2: 16}
"""Rows per MCU for Pillow's ``subsampling`` codes: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0 (A.2.3)."""
JPEG_MAX_DIMENSION = 65500
"""libjpeg's largest image side (``JPEG_MAX_DIMENSION``); SOF0 itself allows 65535."""
RESTART_COUNT = 8
"""Restart markers RST0..RST7 repeat modulo 8 (E.1.4)."""
MARKER_PREFIX = 0xFF
SOI = 0xD8
EOI = 0xD9
SOS = 0xDA
SOF0 = 0xC0
SOF15 = 0xCF
DHT = 0xC4
JPG = 0xC8
DAC = 0xCC
DQT = 0xDB
DRI = 0xDD
RST0 = 0xD0
RESTART_MASK = 0xF8
"""``marker & RESTART_MASK == RST0`` for RST0..RST7 and nothing else."""
TEM = 0x01
SHARED_SEGMENTS = frozenset({DQT, DHT, DRI, SOS})
"""DQT, DHT, DRI and SOS: the segments every strip must have byte for byte as the first has."""
SOF0_LINES_OFFSET = 5
"""Offset of the 16-bit number of lines Y from the SOF0 marker: FF C0, Lf (2), P (1), Y (B.2.2)."""


@dataclass(frozen=True)
class StripLayout:
    """Where the parts of one strip's JPEG file lie.

    Attributes
    ----------
    scan_start
        Offset of the first entropy-coded byte, just after the SOS segment.
    scan_stop
        Offset of the EOI marker that ends the entropy-coded data.
    lines_offset
        Offset of SOF0's 16-bit number of lines.
    shared
        DQT, DHT, DRI and SOS segments, concatenated in file order.
    """

    scan_start: int
    scan_stop: int
    lines_offset: int
    shared: bytes


def strip_bounds(height: int, mcu_height: int, strips: int) -> list[int]:
    """Return the first row of every strip and the image height: ``strips + 1`` increasing rows.

    Every strip but the last starts and ends on a multiple of ``mcu_height`` (an MCU row boundary, or a
    multiple of it that also suits whoever makes the rows); those units are shared out as evenly as integers
    allow, and the last strip also holds the partial unit at the bottom.

    Examples
    --------
    >>> strip_bounds(100, 16, 3)
    [0, 32, 64, 100]
    """
    mcu_rows = -(-height // mcu_height)
    if not 1 <= strips <= mcu_rows:
        raise ValueError(f"cannot cut {height} rows ({mcu_rows} MCU rows) into {strips} strips")
    return [min(height, mcu_height * (mcu_rows * k // strips)) for k in range(strips + 1)]


def parse_strip(data: bytes | bytearray, name: str) -> StripLayout:
    """Walk the marker segments of a one-scan baseline JPEG by their lengths and locate its parts.

    Raises
    ------
    OutputError
        If the data is not SOI, marker segments with SOF0 and DRI, SOS, entropy-coded data and EOI.
    """
    if data[:2] != bytes((MARKER_PREFIX, SOI)) or data[-2:] != bytes((MARKER_PREFIX, EOI)):
        raise OutputError(f"{name}: JPEG strip does not start with SOI and end with EOI")
    position, lines_offset, shared, markers = 2, None, [], set()
    while True:
        if position + 4 > len(data) or data[position] != MARKER_PREFIX:
            raise OutputError(f"{name}: JPEG strip has no marker at byte {position}")
        marker = data[position + 1]
        if marker == TEM or marker & RESTART_MASK == RST0 or marker in (SOI, EOI):
            raise OutputError(f"{name}: JPEG strip has marker 0xFF{marker:02X} before its scan")
        (length,) = struct.unpack_from(">H", data, position + 2)
        markers.add(marker)
        if marker in SHARED_SEGMENTS:
            shared.append(bytes(data[position : position + 2 + length]))
        if marker == SOF0:
            lines_offset = position + SOF0_LINES_OFFSET
        elif SOF0 < marker <= SOF15 and marker not in (DHT, JPG, DAC):
            raise OutputError(f"{name}: JPEG strip is not baseline (SOF 0xFF{marker:02X})")
        position += 2 + length
        if marker == SOS:
            break
    if lines_offset is None:
        raise OutputError(f"{name}: JPEG strip has no SOF0 frame header")
    if DRI not in markers:
        raise OutputError(f"{name}: JPEG strip has no restart interval (DRI)")
    return StripLayout(position, len(data) - 2, lines_offset, b"".join(shared))


def renumber_restarts(entropy: np.ndarray, shift: int, expected: int, name: str) -> None:
    """Add ``shift`` (modulo 8) to the number of every restart marker in entropy-coded data, in place.

    Parameters
    ----------
    entropy
        Writable uint8 view of the entropy-coded data of one scan.
    shift
        Index of the strip's first MCU row in the whole image.
    expected
        Restart markers the strip must hold: its MCU rows less one.
    name
        File name for error messages.
    """
    is_restart = (entropy[1:] & RESTART_MASK) == RST0
    is_restart &= entropy[:-1] == MARKER_PREFIX
    positions = np.flatnonzero(is_restart) + 1
    if len(positions) != expected:
        raise OutputError(f"{name}: JPEG strip holds {len(positions)} restart markers, expected {expected}")
    entropy[positions] = RST0 + (entropy[positions] - RST0 + shift % RESTART_COUNT) % RESTART_COUNT


def pillow_image(codes: np.ndarray):
    """A Pillow RGB image of uint8 codes, H x W x 3, or H x W x 4 RGBX (the layout Pillow keeps RGB in: shared,
    not copied; the fourth byte is ignored)."""
    from PIL import Image  # lazy: PIL (~19 ms)

    if codes.shape[2] == 4:
        codes = np.ascontiguousarray(codes)
        return Image.frombuffer("RGBX", (codes.shape[1], codes.shape[0]), codes, "raw", "RGBX", 0, 1)
    return Image.fromarray(codes)


def encode_strip(
    path: Path, codes: np.ndarray, start: int, stop: int, mcu_height: int, options: dict[str, object]
) -> tuple[bytearray, StripLayout]:
    """Encode rows start..stop as a JPEG with a restart marker after every MCU row, renumbered in place.

    The strip is saved to an anonymous temporary file in the folder of the output ``path`` (Pillow
    encodes into a real file without holding the GIL; the file has no name, or loses it at once, so
    nothing is left behind), read back, parsed, and its restart markers are renumbered as if it
    began at MCU row ``start // mcu_height`` of the whole image.
    """
    with tempfile.TemporaryFile(dir=path.parent) as file:
        pillow_image(codes[start:stop]).save(file, format="JPEG", restart_marker_rows=1, **options)
        data = bytearray(os.fstat(file.fileno()).st_size)
        file.seek(0)
        file.readinto(data)
    name = f"{path} (strip of rows {start}..{stop})"
    layout = parse_strip(data, name)
    entropy = np.frombuffer(data, np.uint8)[layout.scan_start : layout.scan_stop]
    mcu_rows = -(-(stop - start) // mcu_height)
    renumber_restarts(entropy, start // mcu_height, mcu_rows - 1, name)
    return data, layout


def write_jpeg_strips(
    path: Path,
    codes: np.ndarray,
    strips: int,
    *,
    quality: int,
    subsampling: int,
    icc_profile: bytes = b"",
    exif: bytes = b"",
    workers: int | None = None,
    row_multiple: int = 1,
) -> None:
    """Write 8-bit RGB codes as one baseline JPEG, encoding ``strips`` horizontal strips in threads.

    Parameters
    ----------
    path
        Output file (created or truncated); the strips' temporary files live in its folder and are
        removed whatever happens.
    codes
        uint8 array, H x W x 3, or H x W x 4 RGBX (fourth byte ignored); or any object with that ``shape``
        whose row slices are such arrays (:class:`lumatune.io.encode.QuantisedRows` makes each strip's codes
        in the strip's own thread, so no full-size code array exists).
    strips
        Number of strips; 1..number of MCU rows.
    quality
        JPEG quality 1..100, as Pillow takes it.
    subsampling
        Pillow's chroma subsampling code: 0 (4:4:4), 1 (4:2:2) or 2 (4:2:0).
    icc_profile
        ICC profile to embed (APP2), or empty.
    exif
        EXIF APP1 payload, starting ``Exif\\0\\0``, or empty.
    workers
        Threads encoding strips at once (default: one per strip).
    row_multiple
        Strips start on multiples of this too (e.g. a CFA period, when each strip develops its own rows).

    Raises
    ------
    OutputError
        If the image is taller than JPEG allows, or a strip does not have the layout the splice
        needs; both are found before ``path`` is opened.

    References
    ----------
    ISO/IEC 10918-1 B.2.2 (SOF0 lines), B.2.4.4 (DRI), E.1.4 (restart intervals, RSTm modulo 8),
    F.1.2.3 (byte stuffing).
    """
    height = codes.shape[0]
    if height > JPEG_MAX_DIMENSION:
        raise OutputError(f"{path}: {height} rows is more than JPEG's {JPEG_MAX_DIMENSION}")
    mcu_height = MCU_HEIGHTS[subsampling]
    bounds = strip_bounds(height, math.lcm(mcu_height, row_multiple), strips)
    common = {"quality": quality, "subsampling": subsampling, "optimize": False}
    options = [{**common, "icc_profile": icc_profile, "exif": exif}] + [common] * (strips - 1)
    with ThreadPoolExecutor(workers or strips) as executor:
        parts = list(
            executor.map(
                lambda k: encode_strip(path, codes, bounds[k], bounds[k + 1], mcu_height, options[k]),
                range(strips),
            )
        )
    first, first_layout = parts[0]
    for data, layout in parts[1:]:
        if layout.shared != first_layout.shared:
            raise OutputError(f"{path}: JPEG strips differ in their tables; they cannot be spliced")
    header = first[: first_layout.scan_start]
    struct.pack_into(">H", header, first_layout.lines_offset, height)
    with open(path, "wb") as file:
        file.write(header)
        for k, (data, layout) in enumerate(parts):
            if k:
                file.write(bytes((MARKER_PREFIX, RST0 + (bounds[k] // mcu_height - 1) % RESTART_COUNT)))
            file.write(memoryview(data)[layout.scan_start : layout.scan_stop])
        file.write(bytes((MARKER_PREFIX, EOI)))
