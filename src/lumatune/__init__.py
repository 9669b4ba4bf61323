"""lumatune: develop camera raws through a tunable pipeline, give them a look, measure the quality."""

from lumatune.errors import (
    BadFileError,
    LumatuneError,
    OutputError,
    TooLargeError,
    UnreadableInputError,
    UnsupportedError,
)

__version__ = "0.1.0"

__all__ = [
    "BadFileError",
    "LumatuneError",
    "OutputError",
    "TooLargeError",
    "UnreadableInputError",
    "UnsupportedError",
    "__version__",
]
