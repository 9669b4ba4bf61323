"""Spectral data of the virtual camera: wavelength grid, illuminants, cameras, observers, reflectances.

Everything is sampled on one grid, :data:`WAVELENGTHS` (380-730 nm every 5 nm; 730 nm ends the
BabelColor ColorChecker data), as float64 arrays with wavelength on the first axis. colour-science is
imported lazily (it costs over a second of start-up and ``lumatune sim`` is mounted on the CLI), and
each table is built once.

References
----------
.. [1] CIE 015:2018, *Colorimetry*, 4th ed.: CIE 1931 standard observer, illuminants A, D series,
       F2, F7, F11, LED-B1..B5; CIE D-series daylight from a correlated colour temperature.
.. [2] Darrodi, M. M., Finlayson, G., Goodman, T., Mackiewicz, M., "Reference data set for camera
       spectral sensitivity estimation", JOSA A 32(3), 2015 (the NPL camera sensitivities).
.. [3] Pascale, D., "RGB coordinates of the Macbeth ColorChecker", BabelColor, 2006 (average
       ColorChecker reflectances).
.. [4] Mallett, I., Yuksel, C., "Spectral Primary Decomposition for Rendering with sRGB
       Reflectance", EGSR 2019 (reflectances of sRGB colours).
.. [5] Ohno, Y., "Practical Use and Calculation of CCT and Duv", LEUKOS 10(1), 2014.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from lumatune.errors import UnsupportedError

__all__ = [
    "CAMERAS",
    "DEFAULT_CAMERA",
    "ILLUMINANTS",
    "WAVELENGTHS",
    "bradford_matrix",
    "camera_sensitivities",
    "cct_of_xy",
    "cmfs",
    "colorchecker_reflectances",
    "illuminant_spd",
    "quality_sample_reflectances",
    "srgb_reflectances",
    "xyz_to_lab",
    "xyz_to_xy",
]

WAVELENGTHS = np.arange(380.0, 731.0, 5.0)
"""The spectral grid, nm."""

ILLUMINANTS: dict[str, str] = {
    "D50": "D50",
    "D65": "D65",
    "D75": "D75",
    "A": "A",
    "F2": "FL2",
    "F7": "FL7",
    "F11": "FL11",
    "LED-B1": "LED-B1",
    "LED-B2": "LED-B2",
    "LED-B3": "LED-B3",
    "LED-B4": "LED-B4",
    "LED-B5": "LED-B5",
}
"""Named illuminants -> their key in colour-science's ``SDS_ILLUMINANTS``; "<N>K" is accepted too."""

KELVIN_RANGE = (1000.0, 25000.0)
"""Colour temperatures accepted as "<N>K"."""

DAYLIGHT_FROM_K = 4000.0
""""<N>K" is a Planckian radiator below this temperature and CIE daylight (D series) from it up."""

CAMERAS: tuple[str, ...] = ("Nikon 5100 (NPL)", "Sigma SDMerill (NPL)")
"""Cameras whose measured spectral sensitivities colour-science ships (``MSDS_CAMERA_SENSITIVITIES``)."""

DEFAULT_CAMERA = CAMERAS[0]

_OBSERVER = "CIE 1931 2 Degree Standard Observer"
_COLORCHECKER = "BabelColor Average"


def _colour():
    """Import colour-science on first use (1.3 s)."""
    import colour  # lazy: colour-science (1.3 s)

    return colour


def _on_grid(sd) -> np.ndarray:
    """Values of a colour-science spectral distribution (or multi-SD) on :data:`WAVELENGTHS`.

    Values are interpolated inside the data's domain and zero outside it (a camera with no data
    below 400 nm is taken as blind there rather than extrapolated).
    """
    domain = sd.domain
    inside = (WAVELENGTHS >= domain[0]) & (WAVELENGTHS <= domain[-1])
    values = np.zeros((WAVELENGTHS.size, *np.shape(sd.values)[1:]))
    values[inside] = sd[WAVELENGTHS[inside]]
    return values


def _kelvin(name: str) -> float | None:
    """The temperature of a "<N>K" illuminant name, or None for another name."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[kK]\s*", name)
    return float(match.group(1)) if match else None


def illuminant_names() -> str:
    """The accepted illuminant names, for messages and ``--list``."""
    low, high = KELVIN_RANGE
    return f"{', '.join(ILLUMINANTS)}, or <N>K for {low:.0f}..{high:.0f} K"


@lru_cache(maxsize=64)
def illuminant_spd(name: str) -> np.ndarray:
    """Relative spectral power of an illuminant on :data:`WAVELENGTHS`, peak 1.

    Parameters
    ----------
    name
        A key of :data:`ILLUMINANTS` or "<N>K": a Planckian radiator below
        :data:`DAYLIGHT_FROM_K`, CIE daylight of that correlated colour temperature from it up.

    Raises
    ------
    UnsupportedError
        Unknown name or temperature out of :data:`KELVIN_RANGE`.

    References
    ----------
    .. [1] CIE 015:2018, sections 4.1 (illuminant A, Planck's law) and 4.1.2 (D-series daylight).
    """
    colour = _colour()
    kelvin = _kelvin(name)
    if name in ILLUMINANTS:
        sd = colour.SDS_ILLUMINANTS[ILLUMINANTS[name]]
    elif kelvin is not None and KELVIN_RANGE[0] <= kelvin <= KELVIN_RANGE[1]:
        shape = colour.SpectralShape(WAVELENGTHS[0], WAVELENGTHS[-1], WAVELENGTHS[1] - WAVELENGTHS[0])
        if kelvin < DAYLIGHT_FROM_K:
            sd = colour.sd_blackbody(kelvin, shape)
        else:
            xy = colour.temperature.CCT_to_xy_CIE_D(kelvin)
            sd = colour.sd_CIE_illuminant_D_series(xy, shape=shape)
    else:
        raise UnsupportedError(f"illuminant {name!r}: expected one of {illuminant_names()}")
    values = _on_grid(sd)
    return values / values.max()


@lru_cache(maxsize=8)
def camera_sensitivities(name: str) -> np.ndarray:
    """Spectral sensitivities (R, G, B columns) of a camera on :data:`WAVELENGTHS`, peak 1.

    Raises
    ------
    UnsupportedError
        The camera is not in :data:`CAMERAS`.

    References
    ----------
    .. [1] Darrodi et al., JOSA A 32(3), 2015 (NPL data set, via colour-science).
    """
    if name not in CAMERAS:
        raise UnsupportedError(f"camera {name!r}: expected one of {', '.join(CAMERAS)}")
    values = _on_grid(_colour().MSDS_CAMERA_SENSITIVITIES[name])
    return values / values.max()


@lru_cache(maxsize=1)
def cmfs() -> np.ndarray:
    """CIE 1931 2-degree colour matching functions (x, y, z columns) on :data:`WAVELENGTHS`."""
    return _on_grid(_colour().MSDS_CMFS[_OBSERVER])


@lru_cache(maxsize=1)
def colorchecker_reflectances() -> tuple[tuple[str, ...], np.ndarray]:
    """Names and reflectances (24, wavelengths) of the ColorChecker Classic, in chart order.

    References
    ----------
    .. [1] Pascale, BabelColor average ColorChecker data (colour-science ``SDS_COLOURCHECKERS``).
    """
    chart = _colour().SDS_COLOURCHECKERS[_COLORCHECKER]
    return tuple(chart), np.stack([_on_grid(sd) for sd in chart.values()])


@lru_cache(maxsize=1)
def quality_sample_reflectances() -> tuple[tuple[str, ...], np.ndarray]:
    """Names and reflectances of the CIE 13.3 test colour samples and the NIST CQS 9.0 samples.

    References
    ----------
    .. [1] CIE 13.3-1995, *Method of measuring and specifying colour rendering properties of light
           sources* (TCS01-TCS14).
    .. [2] Davis, W., Ohno, Y., "Color quality scale", Optical Engineering 49(3), 2010 (VS1-VS15).
    """
    from colour.quality.datasets import SDS_TCS, SDS_VS  # lazy: colour-science (1.3 s)

    tcs = SDS_TCS.get("CIE 1995", SDS_TCS)  # colour-science 0.4.7 keyed the 13.3-1995 set beside CIE 224:2024
    samples = {**tcs, **SDS_VS["NIST CQS 9.0"]}
    return tuple(samples), np.stack([_on_grid(sd) for sd in samples.values()])


@lru_cache(maxsize=1)
def _mallett_basis() -> np.ndarray:
    """The Mallett-Yuksel sRGB basis (wavelengths, 3): reflectance = basis @ linear sRGB."""
    return _on_grid(_colour().recovery.MSDS_BASIS_FUNCTIONS_sRGB_MALLETT2019)


def srgb_reflectances(linear_srgb: np.ndarray) -> np.ndarray:
    """Smooth reflectances (n, wavelengths) whose colour under D65 is the given linear sRGB colours.

    The reflectance is a non-negative combination of three basis spectra that sum to 1, so any
    colour in [0, 1]^3 gives a reflectance in [0, 1]; it is linear in the colour.

    References
    ----------
    .. [1] Mallett & Yuksel, EGSR 2019.
    """
    colours = np.clip(np.atleast_2d(np.asarray(linear_srgb, dtype=np.float64)), 0.0, 1.0)
    return colours @ _mallett_basis().T


def xyz_to_xy(xyz: np.ndarray) -> np.ndarray:
    """CIE xy chromaticity of XYZ values (last axis)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    return xyz[..., :2] / xyz.sum(axis=-1, keepdims=True)


def cct_of_xy(xy: np.ndarray) -> float:
    """Correlated colour temperature (K) of a chromaticity, by Ohno's method.

    References
    ----------
    .. [1] Ohno, LEUKOS 10(1), 2014 (colour-science ``uv_to_CCT``, method "Ohno 2013").
    """
    colour = _colour()
    cct, _duv = colour.uv_to_CCT(colour.xy_to_UCS_uv(np.asarray(xy)), method="Ohno 2013")
    return float(cct)


def bradford_matrix(source_white: np.ndarray, target_white: np.ndarray) -> np.ndarray:
    """The von Kries matrix in Bradford cone space that maps ``source_white`` XYZ to ``target_white``.

    References
    ----------
    .. [1] Lam, K. M., "Metamerism and colour constancy", PhD thesis, University of Bradford, 1985.
    .. [2] Adobe, DNG Specification 1.6.0.0, chapter 6 (the DNG SDK adapts white with Bradford).
    """
    colour = _colour()
    return colour.adaptation.matrix_chromatic_adaptation_VonKries(
        np.asarray(source_white, dtype=np.float64),
        np.asarray(target_white, dtype=np.float64),
        transform="Bradford",
    )


def xyz_to_lab(xyz: np.ndarray, white_xyz: np.ndarray) -> np.ndarray:
    """CIE 1976 L*a*b* of XYZ values relative to a reference white XYZ (last axis).

    References
    ----------
    .. [1] CIE 015:2018, section 8.2.1.
    """
    colour = _colour()
    return colour.XYZ_to_Lab(np.asarray(xyz, dtype=np.float64), xyz_to_xy(white_xyz))
