"""Output formats: which file extensions name which format, the bit depths each can take, and the checks of
the output options, made before any pixel is developed (and without loading the encoders' compiled kernels).
"""

from __future__ import annotations

import os
from pathlib import Path

from lumatune.errors import OutputError, UnsupportedError
from lumatune.io.icc import SPACES

__all__ = ["BIT_DEPTHS", "FORMATS", "check_encoder_available", "check_options", "format_from_path"]

FORMATS: dict[str, tuple[str, ...]] = {
    "jpeg": (".jpg", ".jpeg"),
    "tiff": (".tif", ".tiff"),
    "png": (".png",),
    "avif": (".avif",),
    "heif": (".heic", ".heif"),
}
"""Output formats and their file extensions (lower case)."""

BIT_DEPTHS: dict[str, tuple[int, ...]] = {
    "jpeg": (8,),
    "tiff": (16, 8),
    "png": (16, 8),
    "avif": (8,),
    "heif": (8,),
}
"""Bit depths each format can write; the first is the default."""


def format_from_path(path: str | os.PathLike[str]) -> str:
    """Return the output format named by a file's extension (case-insensitive).

    Parameters
    ----------
    path
        Output file name.

    Returns
    -------
    str
        A key of :data:`FORMATS`.

    Raises
    ------
    OutputError
        If the extension names no format; the message lists the valid extensions.

    Examples
    --------
    >>> format_from_path("out/IMG_0001.JPG")
    'jpeg'
    """
    suffix = Path(path).suffix.lower()
    for name, extensions in FORMATS.items():
        if suffix in extensions:
            return name
    valid = " ".join(ext for extensions in FORMATS.values() for ext in extensions)
    raise OutputError(f"{path}: unknown image extension '{suffix}' (valid: {valid})")


def check_encoder_available(path: Path, format: str) -> None:
    """Raise UnsupportedError when the optional library a format needs is missing."""
    if format == "heif":
        try:
            import pillow_heif  # noqa: F401  # lazy: optional pillow_heif (not a dependency), only to check it is there
        except ImportError:
            raise UnsupportedError(f"{path}: HEIF output needs pillow-heif (install pillow-heif)") from None
    if format == "avif":
        from PIL import features  # lazy: PIL (~10 ms)

        if not features.check("avif"):
            raise UnsupportedError(f"{path}: AVIF output needs Pillow >= 11.3 built with libavif")


def check_options(
    path: Path, format: str | None, quality: int, bit_depth: int | None, space: str
) -> tuple[str, int]:
    """Validate the output options against the path; return (format, bit depth)."""
    named = format_from_path(path)
    if format is not None and format != named:
        raise OutputError(f"{path}: extension is for {named}, not for format '{format}'")
    depths = BIT_DEPTHS[named]
    depth = depths[0] if bit_depth is None else bit_depth
    if depth not in depths:
        valid = ", ".join(map(str, depths))
        raise OutputError(f"{path}: {named} cannot be written at {depth} bits (valid: {valid})")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise OutputError(f"{path}: quality {quality!r} is not an integer in 1..100")
    if space not in SPACES:
        raise OutputError(f"{path}: unknown output space '{space}' (valid: {', '.join(SPACES)})")
    return named, depth
