"""lumatune.learn: learn a look from pairs of a raw and a rendering of it (the camera's JPEG, or any other).

-   :mod:`~lumatune.learn.pairs`: pairs, the embedded JPEG preview, one-line problems per pair;
-   :mod:`~lumatune.learn.registration`: the target placed on the raw's ``neutral`` rendering;
-   :mod:`~lumatune.learn.samples`: registered pixels -> scene colour and target colour, balanced per colour;
-   :mod:`~lumatune.learn.model`: the learned look as look blocks, rendered by the stages' own functions;
-   :mod:`~lumatune.learn.fit`: exposure, tone curve, vignette, hue table, 3-D LUT, each kept while the
    held-out error falls;
-   :mod:`~lumatune.learn.report`: the held-out error end to end, the report files;
-   :mod:`~lumatune.learn.learner`: all of it for ``lumatune look learn``; :mod:`~lumatune.cli.learn` the
    commands.

Off the develop path: these modules may use scipy, colour-science and matplotlib. The public entry point
loads on first use: :func:`learn_look`. Two looks compared in numbers: :mod:`lumatune.looktools.diff`.
"""

from __future__ import annotations

import importlib

__all__ = ["learn_look"]

_HOMES = {"learn_look": "lumatune.learn.learner"}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'lumatune.learn' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
