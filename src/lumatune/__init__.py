"""lumatune: develop camera raws through a tunable pipeline, give them a look, measure the quality.

The public names below load on first use (PEP 562), so that ``lumatune.cli`` can start a batch's first worker
before numpy and the rest are imported (:func:`lumatune.jobs.pool.start_worker_early`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lumatune._version import __version__
from lumatune.errors import (
    BadFileError,
    LumatuneError,
    OutputError,
    TooLargeError,
    UnreadableInputError,
    UnsupportedError,
)

if TYPE_CHECKING:
    from lumatune.api import develop, open_raw, save
    from lumatune.config.look import load_look
    from lumatune.config.tuning import load_tuning

_LAZY = {
    "develop": "lumatune.api",
    "open_raw": "lumatune.api",
    "save": "lumatune.api",
    "load_look": "lumatune.config.look",
    "load_tuning": "lumatune.config.tuning",
}

__all__ = [
    "BadFileError",
    "LumatuneError",
    "OutputError",
    "TooLargeError",
    "UnreadableInputError",
    "UnsupportedError",
    "__version__",
    "develop",
    "load_look",
    "load_tuning",
    "open_raw",
    "save",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lumatune' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
