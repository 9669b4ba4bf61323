"""Native decoders' side effects, contained: what LibRaw and libjpeg print on standard error, and one lock.

References
----------
- LibRaw API, data callbacks (``libraw_set_dataerror_handler``): https://www.libraw.org/docs/API-CXX.html
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["NATIVE_LOCK", "NativeStderr", "native_complaint", "python_stderr_apart"]


class NativeStderr:
    """Capture what native code (LibRaw, libjpeg) writes on file descriptor 2 while it runs.

    LibRaw reports truncated or corrupt data only by printing (its default data callback) and libjpeg prints
    its warnings ("Premature end of JPEG file"); caught here, they become part of a one-line error instead of
    stray lines on the terminal or a silently half-grey image. Redirecting a descriptor is process-wide, so
    callers hold :data:`NATIVE_LOCK`.
    """

    text = ""

    def __enter__(self) -> NativeStderr:
        sys.stderr.flush()
        self._sink = tempfile.TemporaryFile()
        try:
            self._saved = os.dup(2)
        except OSError:  # no standard error at all: nothing to capture
            self._saved = None
        else:
            os.dup2(self._sink.fileno(), 2)
        return self

    def __exit__(self, *exc_info) -> bool:
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)
        self._sink.seek(0)
        self.text = self._sink.read(_NATIVE_MESSAGE_BYTES).decode("utf-8", "replace").strip()
        self._sink.close()
        return False


def python_stderr_apart() -> None:
    """From now on, have ``sys.stderr`` write to a duplicate of descriptor 2 rather than to descriptor 2 itself.

    :class:`NativeStderr` redirects descriptor 2 while a raw decodes; when that happens in a background thread
    (a raw read ahead while another develops), a message another thread prints meanwhile (a warning) would be
    taken for the decoder's complaint, and the file failed. After this call such messages reach the terminal
    instead. Call it before the first background read; it does nothing where ``sys.stderr`` is not descriptor 2
    (a test's capture) or already apart.
    """
    try:
        if sys.stderr.fileno() != 2:
            return
        duplicate = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no fileno (an in-memory stream), closed, or no descriptor 2
        return
    sys.stderr.flush()
    sys.stderr = open(duplicate, "w", buffering=1, encoding=sys.stderr.encoding, errors=sys.stderr.errors)  # noqa: SIM115


#: Serialises native decoding while standard error is redirected (and tifffile's logger is borrowed).
NATIVE_LOCK = threading.RLock()

_NATIVE_MESSAGE_BYTES = 4096


def native_complaint(text: str, path: Path) -> str:
    """The first line a native decoder printed, without the file name LibRaw puts in front of it."""
    for line in text.splitlines():
        line = line.strip().removeprefix(f"{path}:").strip()
        if line:
            return line
    return ""
