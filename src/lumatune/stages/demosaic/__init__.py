"""Demosaic: rebuild full RGB from a Bayer or X-Trans mosaic.

The front door is :func:`demosaic`; :data:`DEMOSAIC_METHODS` maps method names to the functions:

- ``"bilinear"``: :func:`demosaic_bilinear`, normalised convolution per channel (any 2x2 or 6x6 CFA;
  plain numpy only, :mod:`.bilinear`).
- ``"menon2007"``: :func:`demosaic_menon2007_fast`, DDFAPD with the refining step (Bayer), compiled with
  numba (:mod:`.menon2007`); :func:`demosaic_menon2007` is the same algorithm written plainly.
- ``"menon2007_clamped"``: :func:`demosaic_menon2007_clamped_fast`, the same with each directional green
  limited to its neighbours' range as dcraw's AHD does; fewer coloured fringes on sharp edges.
- ``"rcd"``: :func:`demosaic_rcd_fast`, Ratio Corrected Demosaicing (Bayer; the default of RawTherapee and
  darktable), compiled with numba (:mod:`.rcd`); :func:`demosaic_rcd` is its plain twin. As fast as
  ``menon2007_clamped``, sharper and with less false colour on natural detail, but more false colour near the
  Nyquist frequency (zone plates), which is why it is not the default (``benchmarks/demosaic.py``).
- ``"markesteijn"``: :func:`demosaic_markesteijn_fast`, a one-pass Markesteijn-style X-Trans demosaic
  (directional green, colour-difference red and blue, homogeneity decision), compiled with numba
  (:mod:`.markesteijn`); :func:`demosaic_markesteijn` is its plain twin.

``"default"`` is ``"menon2007_clamped"`` for a 2x2 CFA and ``"markesteijn"`` for a 6x6 one
(:data:`DEFAULT_METHODS`).

Borders: the image is treated as mirror-reflected about its first and last rows and columns (numpy's
``reflect``; for X-Trans, which is not mirror-symmetric, each pad pixel snaps to the nearest pixel of
the colour the CFA period asks for, see :func:`pad_mirrored_mosaic`), so borders are neither dark nor
NaN. Nothing is clipped: white-balanced highlights above 1 pass through.

References
----------
-   Menon, D., Andriani, S., & Calvagno, G. (2007). Demosaicing With Directional Filtering and a
    posteriori Decision. IEEE Transactions on Image Processing, 16(1), 132-141.
    doi:10.1109/TIP.2006.884928
-   Coffin, D. dcraw.c, ``xtrans_interpolate()`` (2013), after Frank Markesteijn's X-Trans demosaic;
    the same function is ``LibRaw::xtrans_interpolate`` in LibRaw.
-   Sanz Rodriguez, L. (2017). RCD: Ratio Corrected Demosaicing, v2.3.
    https://github.com/LuisSR/RCD-Demosaicing
-   Hirakawa, K., & Parks, T. W. (2005). Adaptive homogeneity-directed demosaicing algorithm. IEEE
    Transactions on Image Processing, 14(3), 360-369. doi:10.1109/TIP.2004.838691
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lumatune.errors import UnsupportedError
from lumatune.stages.base import Frame, Stage
from lumatune.stages.demosaic._mosaic import as_cfa, pad_mirrored_mosaic
from lumatune.stages.demosaic._tiles import RowsDemosaic
from lumatune.stages.demosaic.bilinear import demosaic_bilinear
from lumatune.stages.demosaic.markesteijn import demosaic_markesteijn, demosaic_markesteijn_fast, rows_markesteijn
from lumatune.stages.demosaic.menon2007 import (
    demosaic_menon2007,
    demosaic_menon2007_clamped,
    demosaic_menon2007_clamped_fast,
    demosaic_menon2007_fast,
    rows_menon2007,
)
from lumatune.stages.demosaic.rcd import demosaic_rcd, demosaic_rcd_fast, rows_rcd
from lumatune.stages.params import param

__all__ = [
    "DEFAULT_METHODS",
    "DEMOSAIC_METHODS",
    "STAGE",
    "DemosaicParams",
    "RowsDemosaic",
    "demosaic",
    "demosaic_bilinear",
    "demosaic_markesteijn",
    "demosaic_markesteijn_fast",
    "demosaic_menon2007",
    "demosaic_menon2007_clamped",
    "demosaic_menon2007_clamped_fast",
    "demosaic_menon2007_fast",
    "demosaic_rcd",
    "demosaic_rcd_fast",
    "pad_mirrored_mosaic",
    "rows_demosaic",
]


DEMOSAIC_METHODS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "bilinear": demosaic_bilinear,
    "menon2007": demosaic_menon2007_fast,
    "menon2007_clamped": demosaic_menon2007_clamped_fast,
    "markesteijn": demosaic_markesteijn_fast,
    "rcd": demosaic_rcd_fast,
}
"""Demosaic methods by name; each takes ``(mosaic, cfa)`` and returns float32 H x W x 3."""

DEFAULT_METHODS: dict[tuple[int, int], str] = {(2, 2): "menon2007_clamped", (6, 6): "markesteijn"}
"""What ``method="default"`` means for each CFA shape (Bayer, X-Trans)."""


def demosaic(mosaic: np.ndarray, cfa: np.ndarray, method: str = "default") -> np.ndarray:
    """Rebuild full RGB from a CFA mosaic with the named method.

    Parameters
    ----------
    mosaic
        Float32 H x W mosaic, black-subtracted, normalised and white-balanced (values may exceed 1; they
        are not clipped).
    cfa
        Channel indices (0=R, 1=G, 2=B) of the 2x2 (Bayer) or 6x6 (X-Trans) pattern, aligned with
        ``mosaic[0, 0]``.
    method
        A key of :data:`DEMOSAIC_METHODS`, or ``"default"``: see :data:`DEFAULT_METHODS`.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    Raises
    ------
    UnsupportedError
        Unknown method, a CFA the method cannot handle (a Bayer method on X-Trans or the reverse), or a
        malformed mosaic or CFA.

    Examples
    --------
    >>> rgb = demosaic(np.full((8, 8), 0.25, np.float32), np.array([[0, 1], [1, 2]]))
    >>> rgb.shape, float(rgb.min()), float(rgb.max())
    ((8, 8, 3), 0.25, 0.25)
    """
    if method == "default":
        method = DEFAULT_METHODS[as_cfa(cfa).shape]
    if method not in DEMOSAIC_METHODS:
        valid = ", ".join(["default", *DEMOSAIC_METHODS])
        raise UnsupportedError(f"demosaic: unknown method {method!r} (valid methods: {valid})")
    return DEMOSAIC_METHODS[method](mosaic, cfa)


def rows_demosaic(mosaic: np.ndarray, cfa: np.ndarray, method: str) -> RowsDemosaic | None:
    """The banded form of :func:`demosaic` with ``method``, or None for a method that works on the whole image
    only (``bilinear``)."""
    method = DEFAULT_METHODS[as_cfa(cfa).shape] if method == "default" else method
    if method in ("menon2007", "menon2007_clamped"):
        return rows_menon2007(mosaic, cfa, clamp_green=method == "menon2007_clamped")
    if method == "markesteijn":
        return rows_markesteijn(mosaic, cfa)
    if method == "rcd":
        return rows_rcd(mosaic, cfa)
    return None


@dataclass(frozen=True)
class DemosaicParams:
    """How the mosaic becomes RGB."""

    method: str = param(
        "default",
        choices=("default", *DEMOSAIC_METHODS),
        doc="default: menon2007_clamped for Bayer, markesteijn for X-Trans",
    )


def _plan(params: DemosaicParams, frame: Frame, image: np.ndarray) -> tuple[np.ndarray, str] | None:
    return (frame.raw.cfa, params.method) if frame.raw.is_mosaic else None


def _demosaic_planned(image: np.ndarray, plan: tuple[np.ndarray, str]) -> np.ndarray:
    """:func:`demosaic` with the stage's plan ``(cfa, method)``."""
    cfa, method = plan
    return demosaic(image, cfa, method)


STAGE = Stage(
    name="demosaic",
    side="tuning",
    params=DemosaicParams,
    plan=_plan,
    process=_demosaic_planned,
    summary="rebuild full RGB from the CFA mosaic",
)
