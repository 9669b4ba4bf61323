"""lumatune.pipeline: the stage order table, the one run() every path uses, the preview.

The implementation lives in :mod:`lumatune.pipeline.order`; the public names are re-exported here."""

from lumatune.pipeline.order import (
    BandedImage,
    ORDER,
    OrderEntry,
    STAGES,
    orient,
    run,
    stages_of_side,
)

__all__ = [
    "BandedImage",
    "ORDER",
    "OrderEntry",
    "STAGES",
    "orient",
    "run",
    "stages_of_side",
]
