"""lumatune.pipeline: the stage order table and the one walk over it every path uses; bands, point-wise looks, preview.

-   :mod:`~lumatune.pipeline.order`: :data:`ORDER` (each stage, its domain, whether it is point-wise, why it sits
    there) and the selections derived from it (:data:`POINTWISE`, :data:`SPATIAL`, :data:`LOOK_STAGES`);
-   :mod:`~lumatune.pipeline.run`: :func:`run` (a whole development, or a selection of stages on any image);
-   :mod:`~lumatune.pipeline.steps`: selecting and planning stages (:func:`prepare`: plan once, run many);
-   :mod:`~lumatune.pipeline.bands`: :class:`BandedImage`, the development made a band of rows at a time;
-   :mod:`~lumatune.pipeline.pointwise`: :func:`render_colours`, a look's point-wise stages on any colours;
-   :mod:`~lumatune.pipeline.preview`: the binned preview raw.
"""

from lumatune.pipeline.bands import BandedImage
from lumatune.pipeline.order import LOOK_STAGES, ORDER, POINTWISE, SPATIAL, OrderEntry
from lumatune.pipeline.pointwise import bare_frame, render_colours
from lumatune.pipeline.run import orient, run
from lumatune.pipeline.steps import Prepared, prepare

__all__ = [
    "BandedImage",
    "LOOK_STAGES",
    "ORDER",
    "OrderEntry",
    "POINTWISE",
    "Prepared",
    "SPATIAL",
    "bare_frame",
    "orient",
    "prepare",
    "render_colours",
    "run",
]
