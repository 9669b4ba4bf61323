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

from lumatune.api import develop, open_raw, save  # noqa: E402
from lumatune.look import load_look  # noqa: E402
from lumatune.tuning import load_tuning  # noqa: E402

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
