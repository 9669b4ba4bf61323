"""Colour look-up tables: read and write ``.cube`` (1-D and 3-D), read Hald CLUT PNGs.

A :class:`Lut` holds a 3-D table indexed ``table[r, g, b]`` (shape (N, N, N, 3)) or a 1-D table (shape
(N, 3)), and the input domain per channel. ``.cube`` files list 3-D entries with red changing fastest;
Hald CLUT images list them in pixel order (row by row), red fastest too, with ``N = level^2`` and an
image of ``level^3 x level^3`` pixels.

Errors are one line naming the file and, where it helps, the line: a missing file, a missing or repeated
size keyword, a size over :data:`MAX_3D_SIZE`, a wrong number of entries, a value that is not a finite
number, ``DOMAIN_MIN >= DOMAIN_MAX``.

References
----------
-   Adobe Systems, "Cube LUT Specification", version 1.0, 2013 (keywords TITLE, LUT_1D_SIZE, LUT_3D_SIZE,
    DOMAIN_MIN, DOMAIN_MAX; data order; sizes 2..65536 for 1-D and 2..256 for 3-D).
-   Blackmagic Design, DaVinci Resolve ``.cube`` variant: LUT_1D_INPUT_RANGE / LUT_3D_INPUT_RANGE ``min max``.
-   E. Eskildsen, "Hald CLUT", http://www.quelsolaar.com/technology/clut.html (image layout).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import imagecodecs
import numpy as np

from lumatune.errors import BadFileError, UnsupportedError

__all__ = ["LUT_SUFFIXES", "MAX_3D_SIZE", "Lut", "load_lut", "read_cube", "read_hald", "read_lut", "write_cube"]

MAX_3D_SIZE = 256
"""Largest LUT_3D_SIZE read (the Cube specification's limit; 256^3 entries are 200 MB of float32)."""
MAX_1D_SIZE = 65536
"""Largest LUT_1D_SIZE read (the Cube specification's limit)."""
LUT_SUFFIXES = (".cube", ".png")
"""File name endings read as LUTs: Cube files and Hald CLUT images."""

_KEYWORD = re.compile(r"^([A-Z][A-Z0-9_]*)(?:\s+(.*))?$")
_SIZE_KEYS = ("LUT_1D_SIZE", "LUT_3D_SIZE")
_DECIMALS = 7  # written digits after the point: 5e-8 absolute error, well inside the 1e-6 round trip


@dataclass(frozen=True)
class Lut:
    """A 1-D or 3-D colour table over ``[domain_min, domain_max]`` per channel."""

    table: np.ndarray
    domain_min: np.ndarray = field(default_factory=lambda: np.zeros(3))
    domain_max: np.ndarray = field(default_factory=lambda: np.ones(3))
    title: str = ""

    @property
    def dimensions(self) -> int:
        """1 for a per-channel table, 3 for a 3-D table."""
        return 3 if self.table.ndim == 4 else 1

    @property
    def size(self) -> int:
        """Entries along each axis."""
        return int(self.table.shape[0])


def _numbers(text: str, count: int, where: str) -> np.ndarray:
    try:
        values = np.array([float(v) for v in text.split()], dtype=np.float64)
    except ValueError:
        raise BadFileError(f"{where}: expected {count} numbers, got '{text}'") from None
    if values.size != count:
        raise BadFileError(f"{where}: expected {count} numbers, got {values.size}")
    if not np.all(np.isfinite(values)):
        raise BadFileError(f"{where}: '{text}' is not a finite number")
    return values


def _size(text: str, limit: int, where: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text or ""):
        raise BadFileError(f"{where}: expected a whole number, got '{text}'")
    size = int(text)
    if not 2 <= size <= limit:
        raise BadFileError(f"{where}: size {size} is out of range [2, {limit}]")
    return size


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise BadFileError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BadFileError(f"{path}: cannot read {what} file ({error.__class__.__name__})") from None


def _check_domain(low: np.ndarray, high: np.ndarray, where: str) -> None:
    if np.any(low >= high):
        raise BadFileError(f"{where}: DOMAIN_MIN {low.tolist()} must be below DOMAIN_MAX {high.tolist()}")


def read_cube(path: str | os.PathLike) -> Lut:
    """Read a ``.cube`` file (Adobe Cube LUT 1.0, with Resolve's INPUT_RANGE keywords).

    Raises
    ------
    BadFileError : missing or malformed file (the message names the line), see the module notes.
    UnsupportedError : a file with both a 1-D and a 3-D table (a Resolve shaper LUT).
    """
    path = Path(path)
    lines = _read_text(path, "LUT").splitlines()
    header: dict[str, tuple[int, str]] = {}
    data_start = None
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _KEYWORD.match(line)
        if match is None:
            data_start = number
            break
        key, value = match.group(1), (match.group(2) or "").strip()
        if key in header:
            raise BadFileError(f"{path}: line {number}: {key} given twice")
        header[key] = (number, value)
    sizes = [key for key in _SIZE_KEYS if key in header]
    if not sizes:
        raise BadFileError(f"{path}: no LUT_3D_SIZE or LUT_1D_SIZE line: not a .cube LUT")
    if len(sizes) == 2:
        raise UnsupportedError(f"{path}: both LUT_1D_SIZE and LUT_3D_SIZE (a shaper + cube LUT) are not supported")
    dimensions = 3 if sizes[0] == "LUT_3D_SIZE" else 1
    line_no, text = header[sizes[0]]
    size = _size(text, MAX_3D_SIZE if dimensions == 3 else MAX_1D_SIZE, f"{path}: line {line_no}: {sizes[0]}")
    low, high = _domain(header, dimensions, path)
    rows = [] if data_start is None else lines[data_start - 1 :]
    table = _table(rows, data_start or len(lines) + 1, size**dimensions, path)
    if dimensions == 3:
        table = table.reshape(size, size, size, 3).transpose(2, 1, 0, 3)  # file order b, g, r -> [r, g, b]
    title = header.get("TITLE", (0, ""))[1].strip().strip('"')
    return Lut(table=np.ascontiguousarray(table, dtype=np.float32), domain_min=low, domain_max=high, title=title)


def _domain(header: dict, dimensions: int, path: Path) -> tuple[np.ndarray, np.ndarray]:
    low, high = np.zeros(3), np.ones(3)
    range_key = f"LUT_{dimensions}D_INPUT_RANGE"
    if range_key in header:
        line_no, text = header[range_key]
        low_high = _numbers(text, 2, f"{path}: line {line_no}: {range_key}")
        low, high = np.full(3, low_high[0]), np.full(3, low_high[1])
    if "DOMAIN_MIN" in header:
        line_no, text = header["DOMAIN_MIN"]
        low = _numbers(text, 3, f"{path}: line {line_no}: DOMAIN_MIN")
    if "DOMAIN_MAX" in header:
        line_no, text = header["DOMAIN_MAX"]
        high = _numbers(text, 3, f"{path}: line {line_no}: DOMAIN_MAX")
    _check_domain(low, high, str(path))
    return low, high


def _table(rows: list[str], first_line: int, count: int, path: Path) -> np.ndarray:
    """The data lines as a (count, 3) array; every line three finite numbers, exactly ``count`` of them."""
    kept = [(i, r.split("#", 1)[0]) for i, r in enumerate(rows, start=first_line)]
    kept = [(i, r) for i, r in kept if r.strip()]
    if len(kept) != count:
        raise BadFileError(f"{path}: expected {count} table lines for the declared size, found {len(kept)}")
    text = " ".join(r for _, r in kept)
    try:
        values = np.array(text.split(), dtype=np.float64)
    except ValueError:
        values = None
    if values is None or values.size != 3 * count or not np.all(np.isfinite(values)):
        for number, row in kept:  # slow path: find the line to name
            _numbers(row, 3, f"{path}: line {number}")
    return values.reshape(count, 3)


def write_cube(path: str | os.PathLike, lut: Lut, *, overwrite: bool = False) -> Path:
    """Write ``lut`` as a ``.cube`` file atomically (DOMAIN lines only when the domain is not [0, 1])."""
    from lumatune.io.atomic import atomic_output  # lazy: hashlib, secrets (~4 ms), kept off `import lumatune`

    path = Path(path)
    lines = []
    if lut.title:
        lines.append(f'TITLE "{lut.title.replace(chr(34), chr(39))}"')
    lines.append(f"LUT_{lut.dimensions}D_SIZE {lut.size}")
    if np.any(lut.domain_min != 0) or np.any(lut.domain_max != 1):
        lines.append("DOMAIN_MIN " + " ".join(f"{v:.{_DECIMALS}g}" for v in lut.domain_min))
        lines.append("DOMAIN_MAX " + " ".join(f"{v:.{_DECIMALS}g}" for v in lut.domain_max))
    entries = lut.table.transpose(2, 1, 0, 3).reshape(-1, 3) if lut.dimensions == 3 else lut.table
    row = f"%.{_DECIMALS}f %.{_DECIMALS}f %.{_DECIMALS}f\n"
    body = (row * len(entries)) % tuple(np.asarray(entries, np.float64).ravel().tolist())
    with atomic_output(path, overwrite=overwrite) as temp:
        Path(temp).write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
    return path


def read_hald(path: str | os.PathLike) -> Lut:
    """Read a Hald CLUT image (PNG, 8 or 16 bits): a ``level^3``-pixel square holding a ``level^2`` cube."""

    path = Path(path)
    try:
        image = imagecodecs.png_decode(path.read_bytes())
    except FileNotFoundError:
        raise BadFileError(f"{path}: no such LUT file") from None
    except (OSError, imagecodecs.PngError, ValueError) as error:
        raise BadFileError(f"{path}: not a readable PNG ({error.__class__.__name__})") from None
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise BadFileError(f"{path}: a Hald CLUT must be an RGB image, got shape {image.shape}")
    height, width = image.shape[:2]
    level = round(width ** (1.0 / 3.0))
    if height != width or level**3 != width or not 2 <= level * level <= MAX_3D_SIZE:
        raise BadFileError(f"{path}: {width}x{height} is not a Hald CLUT (a square of level^3 pixels)")
    size = level * level
    scale = 1.0 / np.iinfo(image.dtype).max
    rgb = image[..., :3].reshape(size, size, size, 3).transpose(2, 1, 0, 3) * scale  # pixel order b, g, r
    return Lut(table=np.ascontiguousarray(rgb, dtype=np.float32), title=path.stem)


def read_lut(path: str | os.PathLike) -> Lut:
    """A ``.cube`` file or a Hald CLUT ``.png`` by its name's ending."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".cube":
        return read_cube(path)
    if suffix == ".png":
        return read_hald(path)
    raise BadFileError(f"{path}: not a LUT (expected one of {', '.join(LUT_SUFFIXES)})")


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, size: int) -> Lut:
    return read_lut(path)


def load_lut(path: str | os.PathLike) -> Lut:
    """:func:`read_lut`, remembered while the file is unchanged (a batch reads each LUT once)."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise BadFileError(f"{path}: no such LUT file") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the name
        raise BadFileError(f"{path}: cannot read LUT file ({getattr(error, 'strerror', None) or error})") from None
    return _cached(str(path.resolve()), status.st_mtime_ns, status.st_size)
