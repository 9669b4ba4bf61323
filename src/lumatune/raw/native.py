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

__all__ = ["NATIVE_LOCK", "NativeStderr", "native_complaint"]


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
