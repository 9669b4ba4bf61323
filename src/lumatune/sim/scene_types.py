"""What a virtual-camera scene is: labels, reflectance spectra and shading, and where its measurable parts are.

These types are shared by the scene builders (:mod:`lumatune.sim.scenes` and the ``natural`` scene in
:mod:`lumatune.sim.natural`); they live apart so that neither builder imports the other's module for them.

A :class:`Scene` is an integer label image (H x W), a table of reflectance spectra (one per label, on
:data:`lumatune.sim.spectra.WAVELENGTHS`) and an optional per-pixel multiplier. Its measurable parts
(chart patches, slanted edge, wedge steps) are boxes in pixels already shrunk to a safe inner area
(:func:`safe_box`).

References
----------
.. [1] ISO 12233:2017, *Photography - Electronic still picture imaging - Resolution and spatial
       frequency responses*: slanted edge.
.. [2] ISO 14524:2009, *Opto-electronic conversion function (OECF)*: step wedge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BOX_SHRINK", "Scene", "SceneEdge", "ScenePatch", "SceneStep", "safe_box"]

BOX_SHRINK = 0.2
"""Fraction of a patch's size removed on each side to make its safe box."""


@dataclass(frozen=True)
class ScenePatch:
    """A uniform patch: where to measure it (safe box) and what it is (label and shading)."""

    name: str
    box: tuple[int, int, int, int]
    neutral: bool
    label: int
    shading: float = 1.0
    centre: tuple[float, float] | None = None
    """Exact centre (x, y) in pixels (pixel edges at integers), given for a placed chart."""


@dataclass(frozen=True)
class SceneEdge:
    """The slanted edge's measurement box and tilt from vertical."""

    box: tuple[int, int, int, int]
    angle_deg: float


@dataclass(frozen=True)
class SceneStep:
    """A wedge step: its box and its luminance relative to a perfect white (label and shading)."""

    box: tuple[int, int, int, int]
    label: int
    shading: float


@dataclass(frozen=True)
class Scene:
    """A scene as labels, reflectance spectra and shading, with its measurable parts.

    Attributes
    ----------
    name : str
        The scene's name in :data:`lumatune.sim.scenes.SCENES`.
    labels : numpy.ndarray
        (H, W) uint16 indices into ``reflectances``.
    reflectances : numpy.ndarray
        (N, wavelengths) float64 reflectance spectra.
    shading : numpy.ndarray or None
        (H, W) float32 multiplier of the reflectance (may exceed 1 for light sources, speculars).
    patches, edge, wedge
        The measurable parts, in pixel coordinates of the scene.
    """

    name: str
    labels: np.ndarray
    reflectances: np.ndarray
    shading: np.ndarray | None
    patches: tuple[ScenePatch, ...] = ()
    edge: SceneEdge | None = None
    wedge: tuple[SceneStep, ...] = ()


def safe_box(x0: float, y0: float, x1: float, y1: float, fraction: float = BOX_SHRINK) -> tuple[int, int, int, int]:
    """The safe box of a rectangle: ``fraction`` of its size removed on each side, rounded inward."""
    dx, dy = (x1 - x0) * fraction, (y1 - y0) * fraction
    return (int(np.ceil(x0 + dx)), int(np.ceil(y0 + dy)), int(np.floor(x1 - dx)), int(np.floor(y1 - dy)))
