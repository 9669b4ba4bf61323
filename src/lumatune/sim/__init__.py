"""lumatune.sim: the virtual camera (spectral scene -> optics -> sensor -> DNG + exact ground truth).

Public API: :func:`simulate`, :func:`write_sim`, :class:`SimResult`, :class:`Optics`,
:class:`Sensor`, the listings :data:`SCENES`, :data:`ILLUMINANTS`, :data:`CAMERAS`, and
:data:`DEFAULT_CAMERA`. The names are loaded on first use, so that mounting ``lumatune sim`` on the
command line costs no start-up time (OpenCV, tifffile and colour-science load only when a scene is
simulated).

This package never imports ``lumatune.stages`` or ``lumatune.pipeline``: ground truth must not
share code with what it measures.
"""

from __future__ import annotations

import importlib

__all__ = [
    "CAMERAS",
    "DEFAULT_CAMERA",
    "ILLUMINANTS",
    "Optics",
    "SCENES",
    "Sensor",
    "SimResult",
    "simulate",
    "write_sim",
]

_HOMES = {
    "CAMERAS": "lumatune.sim.spectra",
    "DEFAULT_CAMERA": "lumatune.sim.spectra",
    "ILLUMINANTS": "lumatune.sim.spectra",
    "Optics": "lumatune.sim.optics",
    "SCENES": "lumatune.sim.scenes",
    "Sensor": "lumatune.sim.sensor",
    "SimResult": "lumatune.sim.camera",
    "simulate": "lumatune.sim.camera",
    "write_sim": "lumatune.sim.camera",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'lumatune.sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
