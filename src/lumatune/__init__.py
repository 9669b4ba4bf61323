"""lumatune: develop camera raws through a tunable pipeline, give them a look, measure the quality."""

from lumatune.errors import (
    BadFileError,
    LumatuneError,
    OutputError,
    TooLargeError,
    UnreadableInputError,
    UnsupportedError,
)

from lumatune._version import __version__
from lumatune.api import develop, open_raw, save
from lumatune.config.look import load_look
from lumatune.config.tuning import load_tuning

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
