"""Reference colours of the ColorChecker under a named illuminant, adapted to D65, as the pipeline renders them.

The chart's reflectances (BabelColor average spectra) are lit by the illuminant, integrated with the CIE 1931
2 degree observer at 5 nm (perfect white Y = 1) and adapted from the illuminant's white to D65 with the
Bradford transform, the adaptation the DNG colour model and the develop pipeline use: the colours a perfect
white-balanced rendering in the D65 working space must give.

References
----------
- CIE 015:2018, *Colorimetry*, 4th ed., section 7.1 (tristimulus values of reflecting samples, 5 nm sums).
- Pascale, D., "RGB coordinates of the Macbeth ColorChecker", BabelColor, 2006 (average spectra).
- Lam, K. M., "Metamerism and colour constancy", PhD thesis, University of Bradford, 1985 (Bradford).
- CIE 015:2018, section 3.1 (Planckian radiator) and 3.1.3 (CIE daylight illuminants, D series).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from lumatune.colour.spaces import XY_D65, matrix_chromatic_adaptation_Bradford
from lumatune.errors import UnsupportedError

__all__ = [
    "WAVELENGTHS",
    "ILLUMINANTS",
    "ILLUMINANT_CCT",
    "DAYLIGHT_FROM_K",
    "illuminant_spd",
    "illuminant_cct",
    "illuminant_white_xyz",
    "chart_reflectances",
    "chart_reference_xyz",
]

WAVELENGTHS = np.arange(380.0, 731.0, 5.0)
"""Spectral grid, nm (CIE 015 5 nm summation over the visible range)."""

ILLUMINANTS = ("A", "D50", "D55", "D65", "D75", "F2", "F7", "F11")
"""Illuminant names accepted besides "<N>K" (CIE standard illuminants; F = CIE fluorescent FL)."""

ILLUMINANT_CCT: dict[str, float] = {
    "A": 2856.0,
    "D50": 5003.0,
    "D55": 5503.0,
    "D65": 6504.0,
    "D75": 7504.0,
    "F2": 4230.0,
    "F7": 6500.0,
    "F11": 4000.0,
}
"""Correlated colour temperature of each named illuminant, K (CIE 015:2018, tables 10 and 11)."""

DAYLIGHT_FROM_K = 4000.0
""""<N>K" is a Planckian radiator below this temperature and a CIE daylight illuminant from it up."""

CHART_SPECTRA = "BabelColor Average"
_COLOUR_SCIENCE_NAME = {"F2": "FL2", "F7": "FL7", "F11": "FL11"}
_KELVIN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*K\s*$", re.IGNORECASE)


def _kelvin(name: str) -> float | None:
    match = _KELVIN.match(name)
    return float(match.group(1)) if match else None


def _on_grid(sd) -> np.ndarray:
    import colour  # lazy: colour-science (1.3 s)

    return np.asarray(sd.copy().align(colour.SpectralShape(WAVELENGTHS[0], WAVELENGTHS[-1], 5.0)).values)


@lru_cache(maxsize=32)
def illuminant_spd(name: str) -> np.ndarray:
    """Relative spectral power of an illuminant on :data:`WAVELENGTHS`.

    Parameters
    ----------
    name : one of :data:`ILLUMINANTS` or "<N>K" (1000..25000 K): a Planckian radiator below
        :data:`DAYLIGHT_FROM_K`, a CIE D-series daylight from it up.

    Raises
    ------
    UnsupportedError : an unknown name.
    """
    import colour  # lazy: colour-science (1.3 s)

    kelvin = _kelvin(name)
    if name in ILLUMINANTS:
        return _on_grid(colour.SDS_ILLUMINANTS[_COLOUR_SCIENCE_NAME.get(name, name)])
    if kelvin is None or not 1000 <= kelvin <= 25000:
        raise UnsupportedError(f"illuminant {name!r}: expected one of {', '.join(ILLUMINANTS)} or <N>K (1000..25000)")
    shape = colour.SpectralShape(WAVELENGTHS[0], WAVELENGTHS[-1], 5.0)
    if kelvin < DAYLIGHT_FROM_K:
        return np.asarray(colour.sd_blackbody(kelvin, shape).values)
    xy = colour.temperature.CCT_to_xy_CIE_D(kelvin)
    return np.asarray(colour.sd_CIE_illuminant_D_series(xy).align(shape).values)


def illuminant_cct(name: str) -> float:
    """The correlated colour temperature of a named illuminant (or of "<N>K"), K."""
    kelvin = _kelvin(name)
    if kelvin is not None:
        return kelvin
    if name not in ILLUMINANT_CCT:
        raise UnsupportedError(f"illuminant {name!r}: expected one of {', '.join(ILLUMINANTS)} or <N>K")
    return ILLUMINANT_CCT[name]


@lru_cache(maxsize=1)
def _cmfs() -> np.ndarray:
    import colour  # lazy: colour-science (1.3 s)

    return _on_grid(colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"])


@lru_cache(maxsize=1)
def chart_reflectances() -> tuple[tuple[str, ...], np.ndarray]:
    """Names and (24, wavelengths) reflectances of the ColorChecker Classic (BabelColor average spectra)."""
    import colour  # lazy: colour-science (1.3 s)

    sds = colour.SDS_COLOURCHECKERS[CHART_SPECTRA]
    return tuple(sds), np.stack([_on_grid(sd) for sd in sds.values()])


def _relative_xyz(reflectances: np.ndarray, spd: np.ndarray) -> np.ndarray:
    weights = spd[:, None] * _cmfs()
    return reflectances @ weights / weights[:, 1].sum()


def illuminant_white_xyz(name: str) -> np.ndarray:
    """XYZ of a perfect white under the illuminant, Y = 1."""
    spd = illuminant_spd(name)
    return _relative_xyz(np.ones((1, spd.size)), spd)[0]


def chart_reference_xyz(illuminant: str) -> np.ndarray:
    """(24, 3) XYZ of the ColorChecker patches under ``illuminant``, Bradford-adapted to D65 (white Y = 1).

    References
    ----------
    CIE 015:2018, section 7.1; Lam, 1985 (Bradford).
    """
    spd = illuminant_spd(illuminant)
    white = _relative_xyz(np.ones((1, spd.size)), spd)[0]
    adaptation = matrix_chromatic_adaptation_Bradford(white[:2] / white.sum(), XY_D65)
    return _relative_xyz(chart_reflectances()[1], spd) @ adaptation.T
