"""Atomic file output: write to a temporary file beside the target, then rename it into place.

A reader never sees a half-written output, and a failed write leaves nothing behind: the temporary
file lives in the destination folder (same filesystem, so the final rename is atomic) and is removed
on any failure. Only the temporary file and the target are ever touched.

References
----------
- POSIX.1-2017, ``rename()``: atomic replacement of the new path; ``link()``: fails with EEXIST
  when the new path exists; ``open()`` with ``O_CREAT | O_EXCL``.
- Python documentation, :func:`os.replace`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from lumatune.errors import OutputError

__all__ = ["atomic_output"]

TEMP_SUFFIX = ".part"
TEMP_NAME_STEM_MAX = 200
"""Bytes of the target's name kept in the temporary name, which must fit NAME_MAX (255 bytes)."""
NEW_FILE_MODE = 0o666
"""Permissions of a new output before the umask, as for any file a program creates."""


def create_temp_beside(target: Path) -> Path:
    """Create an empty, uniquely named hidden temporary file in the target's folder and return it.

    The file is created with ``O_CREAT | O_EXCL`` and mode 0o666 less the umask, so the finished
    output gets the same permissions as any new file, not the 0o600 of :func:`tempfile.mkstemp`.
    """
    stem = os.fsdecode(os.fsencode(target.name)[:TEMP_NAME_STEM_MAX])
    temp = target.with_name(f".{stem}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE))
    return temp


def move_into_place(temp: Path, target: Path, overwrite: bool) -> None:
    """Rename ``temp`` to ``target``; without ``overwrite`` never replace an existing target.

    Without overwrite, a hard link claims the name atomically (it fails if the target appeared
    meanwhile); on filesystems without hard links the check-then-rename fallback is used.
    """
    if overwrite:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)
    except FileExistsError:
        raise OutputError(f"{target}: exists (use --overwrite)") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(target):
            raise OutputError(f"{target}: exists (use --overwrite)") from None
        os.replace(temp, target)
        return
    temp.unlink()


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``path``, on failure it is removed.

    Parameters
    ----------
    path
        The output file to create.
    overwrite
        Replace ``path`` if it exists (the replacement is atomic).

    Yields
    ------
    pathlib.Path
        An empty temporary file in the folder of ``path``, to be written (reopened) by the caller.

    Raises
    ------
    OutputError
        If the folder does not exist, ``path`` exists and ``overwrite`` is false, or the write
        fails for an operating-system reason (disk full, permission denied, ...), named in the
        message. Other exceptions raised by the caller propagate unchanged after the clean-up.

    References
    ----------
    POSIX.1-2017 ``rename()`` and ``link()``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_output(folder / "out.txt") as temp:
    ...     _ = temp.write_text("done")
    >>> sorted(p.name for p in folder.iterdir())
    ['out.txt']
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise OutputError(f"{target}: output folder does not exist")
    if not overwrite and os.path.lexists(target):
        raise OutputError(f"{target}: exists (use --overwrite)")
    try:
        temp = create_temp_beside(target)
    except OSError as error:
        raise OutputError(f"{target}: cannot write: {error.strerror or error}") from error
    try:
        yield temp
        move_into_place(temp, target, overwrite)
    except OSError as error:
        raise OutputError(f"{target}: cannot write: {error.strerror or error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
