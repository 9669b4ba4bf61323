"""The one exception family of lumatune.

The CLI turns every :class:`LumatuneError` into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "one_line",
    "LumatuneError",
    "UnreadableInputError",
    "BadFileError",
    "UnsupportedError",
    "OutputError",
    "TooLargeError",
]


class LumatuneError(Exception):
    """Base class of every error lumatune raises on purpose."""


class UnreadableInputError(LumatuneError):
    """An input file is missing, empty, truncated or not a raw lumatune can read."""


class BadFileError(LumatuneError):
    """A tuning, look, LUT or truth file is malformed (the message names the key or line)."""


class UnsupportedError(LumatuneError):
    """The input is valid but uses a feature lumatune does not support."""


class OutputError(LumatuneError):
    """An output cannot be written: folder missing, file exists without overwrite, disk full."""


class TooLargeError(UnreadableInputError):
    """The input declares an image that would need more memory than the configured cap."""


def one_line(text: str) -> str:
    """``text`` on one line: carriage returns and line feeds written out as ``\\r`` and ``\\n``.

    A message names files, and a file name may hold a line break; escaping it keeps one error one line.

    Examples
    --------
    >>> one_line("IMG\\n1.dng: cannot read")
    'IMG\\\\n1.dng: cannot read'
    """
    return text.replace("\r", "\\r").replace("\n", "\\n")
