"""Raw denoise: variance-stabilised bilateral filtering of each CFA plane, driven by the camera's noise model.

The noise model is the DNG NoiseProfile's, per colour channel: the variance of the normalised signal x is
``S x + O``. It comes from the tuning's table per ISO (``lumatune calibrate noise``), interpolated in log ISO
(beyond the table, S scales with ISO and O with its square, as a fixed read noise in electrons does), or from
the raw's own NoiseProfile tag. After white balance a channel scaled by g has variance ``g S y + g^2 O``.

Each CFA position's plane (a sub-sampled image of one colour) goes through the generalised Anscombe
transform, which makes Poisson-Gaussian noise of that model unit-variance, a bilateral filter whose range
scale is a multiple of that unit (so it smooths noise and keeps edges of any level alike), and the
closed-form approximation of the exact unbiased inverse (no bias in the shadows). ``strength`` blends the
result with the input. Lens shading gains applied before this stage raise the noise towards the corners;
the model used is the frame centre's, so the corners are denoised a little less than they could be.

References
----------
- Adobe DNG Specification 1.6.0.0, tag NoiseProfile (51041).
- Makitalo, M., Foi, A., "Optimal inversion of the generalized Anscombe transformation for Poisson-Gaussian
  noise", IEEE Transactions on Image Processing 22(1), 2013 (transform, equation 2; closed-form inverse,
  equation 10 with the published coefficients).
- Tomasi, C., Manduchi, R., "Bilateral filtering for gray and color images", ICCV 1998.
- Foi, A., Trimeche, M., Katkovnik, V., Egiazarian, K., IEEE TIP 17(10), 2008 (Poisson-Gaussian raw noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.errors import BadFileError
from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = [
    "DenoiseParams",
    "DenoisePlan",
    "anscombe_generalised",
    "anscombe_generalised_inverse",
    "denoise_plane_bilateral",
    "DENOISE_METHODS",
    "denoise_mosaic",
    "noise_model_at_iso",
    "STAGE",
]

_SQRT_3_2 = np.sqrt(1.5)


@dataclass(frozen=True)
class DenoiseParams:
    """How strongly to denoise, and the camera's noise model."""

    strength: float = param(0.0, min=0.0, max=1.0, doc="fraction of the denoised mosaic blended in (0 = off)")
    range_sigmas: float = param(
        2.5, min=0.5, max=8.0, unit="noise sigma", doc="edge threshold of the bilateral filter, in noise sigmas"
    )
    spatial_sigma: float = param(1.0, min=0.5, max=4.0, unit="px", doc="spatial scale, in pixels of one CFA plane")
    profiles: tuple[dict, ...] | None = param(
        None,
        doc="noise model per ISO: [{iso = 100, noise_profile = [[S, O], [S, O], [S, O]]}, ...] "
        "(variance S x + O of the normalised R, G, B signal); default: the raw's NoiseProfile",
    )


@dataclass(frozen=True)
class DenoisePlan:
    """Per-channel noise model of the white-balanced mosaic and the filter's settings."""

    cfa: np.ndarray | None
    scale: np.ndarray  # (3,) S after white balance
    offset: np.ndarray  # (3,) O after white balance
    strength: float
    range_sigmas: float
    spatial_sigma: float


def anscombe_generalised(z: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Generalised Anscombe transform of data whose variance is ``scale * mean + offset``: unit variance.

    ``f(z) = 2 sqrt(z / a + 3/8 + s^2)`` with ``a = scale``, ``s^2 = offset / scale^2`` (data in units of
    ``a``), as float32.

    References
    ----------
    Makitalo and Foi, 2013, equation 2 (with alpha = scale, mu = 0).
    """
    inner = z * np.float32(1.0 / scale)
    inner += np.float32(0.375 + offset / scale**2)
    np.maximum(inner, np.float32(0.0), out=inner)
    np.sqrt(inner, out=inner)
    inner *= np.float32(2.0)
    return inner


def anscombe_generalised_inverse(d: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Closed-form approximation of the exact unbiased inverse of :func:`anscombe_generalised`.

    ``I(D) = D^2/4 + sqrt(3/2)/4 D^-1 - 11/8 D^-2 + 5 sqrt(3/2)/8 D^-3 - 1/8 - s^2``, clipped at 0, times
    ``scale``.

    References
    ----------
    Makitalo and Foi, 2013, equation 10 and its closed-form approximation (section IV).
    """
    d = np.maximum(d, np.float32(1e-3), dtype=np.float32)
    inverse = np.float32(1.0) / d
    correction = inverse * np.float32(0.625 * _SQRT_3_2)
    correction -= np.float32(1.375)
    correction *= inverse
    correction += np.float32(0.25 * _SQRT_3_2)
    correction *= inverse
    value = d * d
    value *= np.float32(0.25)
    value += correction
    value -= np.float32(0.125 + offset / scale**2)
    np.maximum(value, np.float32(0.0), out=value)
    value *= np.float32(scale)
    return value


def denoise_plane_bilateral(
    plane: np.ndarray, scale: float, offset: float, range_sigmas: float, spatial_sigma: float
) -> np.ndarray:
    """Denoise one colour plane: generalised Anscombe, bilateral filter, unbiased inverse.

    References
    ----------
    Makitalo and Foi, 2013; Tomasi and Manduchi, 1998.
    """
    import cv2  # lazy: cv2 (~24 ms)

    stabilised = np.ascontiguousarray(anscombe_generalised(plane, scale, offset))
    filtered = cv2.bilateralFilter(stabilised, d=-1, sigmaColor=float(range_sigmas), sigmaSpace=float(spatial_sigma))
    return anscombe_generalised_inverse(filtered, scale, offset)


DENOISE_METHODS = {"bilateral_anscombe": denoise_plane_bilateral}


def denoise_mosaic(mosaic: np.ndarray, plan: DenoisePlan) -> np.ndarray:
    """Denoise every CFA position's plane (or every channel of a linear raw) and blend by ``plan.strength``."""
    denoise = DENOISE_METHODS["bilateral_anscombe"]
    out = mosaic if mosaic.flags.writeable else mosaic.copy()
    strength = np.float32(plan.strength)
    if plan.cfa is None:
        views = [(c, out[..., c]) for c in range(3)]
    else:
        n = plan.cfa.shape[0]
        views = [(int(plan.cfa[i, j]), out[i::n, j::n]) for i in range(n) for j in range(n)]
    for channel, view in views:
        plane = np.ascontiguousarray(view)
        clean = denoise(plane, plan.scale[channel], plan.offset[channel], plan.range_sigmas, plan.spatial_sigma)
        view[...] = plane + strength * (clean - plane)
    return out


def _profile_table(profiles: tuple[dict, ...]) -> tuple[np.ndarray, np.ndarray]:
    isos, models = [], []
    for i, entry in enumerate(profiles):
        try:
            iso = float(entry["iso"])
            model = np.asarray(entry["noise_profile"], dtype=np.float64).reshape(-1, 2)
        except (KeyError, TypeError, ValueError):
            raise BadFileError(
                f"denoise.profiles[{i}]: needs iso = <number> and noise_profile = [[S, O], ...]"
            ) from None
        if model.shape[0] == 1:
            model = np.repeat(model, 3, axis=0)
        if iso <= 0 or model.shape != (3, 2) or np.any(model[:, 0] <= 0) or np.any(model[:, 1] < 0):
            raise BadFileError(f"denoise.profiles[{i}]: iso must be > 0 and noise_profile 1 or 3 pairs [S > 0, O >= 0]")
        isos.append(iso)
        models.append(model)
    order = np.argsort(isos)
    return np.asarray(isos)[order], np.asarray(models)[order]


def noise_model_at_iso(isos: np.ndarray, models: np.ndarray, iso: float) -> np.ndarray:
    """(3, 2) noise model at ``iso`` from a table sorted by ISO.

    Between entries S and O are interpolated linearly in log ISO (log-log); beyond the table the nearest
    entry is scaled, S by the ISO ratio and O by its square (fixed read noise in electrons).
    """
    if iso <= isos[0] or iso >= isos[-1]:
        k = 0 if iso <= isos[0] else len(isos) - 1
        ratio = iso / isos[k]
        return models[k] * np.array([ratio, ratio**2])
    log_iso = np.log(isos)
    out = np.empty((3, 2))
    for c in range(3):
        for p in range(2):
            out[c, p] = np.exp(np.interp(np.log(iso), log_iso, np.log(np.maximum(models[:, c, p], 1e-30))))
    return out


def _noise_model(params: DenoiseParams, frame: Frame) -> np.ndarray | None:
    raw = frame.raw
    iso = raw.exif.get("iso")
    if params.profiles:
        if not iso:
            frame.notes.append("denoise: the raw records no ISO; using the tuning's first noise model")
        isos, models = _profile_table(params.profiles)
        return noise_model_at_iso(isos, models, float(iso)) if iso else models[0]
    tag = raw.dng.noise_profile if raw.dng is not None else None
    if tag is None:
        frame.notes.append("denoise: no noise model (tuning or NoiseProfile): not denoised")
        return None
    tag = np.asarray(tag, dtype=np.float64)
    return np.repeat(tag[:1], 3, axis=0) if tag.shape[0] != 3 else tag


def _plan(params: DenoiseParams, frame: Frame, image: np.ndarray) -> DenoisePlan | None:
    if params.strength == 0:
        return None
    model = _noise_model(params, frame)
    if model is None:
        return None
    gains = frame.white_balance.gains if frame.white_balance is not None else np.ones(3)
    return DenoisePlan(
        cfa=frame.raw.cfa,
        scale=model[:, 0] * gains,
        offset=model[:, 1] * gains**2,
        strength=float(params.strength),
        range_sigmas=float(params.range_sigmas),
        spatial_sigma=float(params.spatial_sigma),
    )


STAGE = Stage(
    name="denoise",
    side="tuning",
    params=DenoiseParams,
    plan=_plan,
    process=denoise_mosaic,
    summary="remove sensor noise on the mosaic with the camera's noise model",
)
