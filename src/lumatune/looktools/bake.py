"""A look's colour and tone baked into a 3-D LUT over the neutral rendering.

Its input is what the ``neutral`` look writes (display-encoded RGB of the chosen space, scene white at 1), its
output what the look writes. Applied to a neutral rendering (ffmpeg ``lut3d``, Resolve, darktable ``lut 3D``, or
``lumatune develop --look x.cube``) it gives the look's colour and tone; spatial stages (sharpening, grain,
vignette, crop, frame) are not in it.

References
----------
-   Adobe Systems, "Cube LUT Specification" 1.0, 2013.
"""

from __future__ import annotations

import numpy as np

from lumatune.colour.spaces import decode_eotf, matrix_rec2020_to
from lumatune.io.lut import Lut

__all__ = ["bake_look_lut"]


def bake_look_lut(look, size: int = 33, space: str = "srgb"):
    """The look's colour and tone as a 3-D :class:`~lumatune.io.lut.Lut` over the neutral rendering in ``space``.

    Lattice point ``(r, g, b)`` is a display-encoded colour of ``space``; it is decoded, taken back to linear
    Rec.2020 as a scene colour (white 1 at the sensor clip, as the neutral look shows it) and rendered by
    :func:`lumatune.pipeline.render_colours`.
    """
    from lumatune.pipeline import render_colours  # lazy: numba (0.4 s)

    grid = np.linspace(0.0, 1.0, size, dtype=np.float32)
    encoded = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1)  # [r, g, b]
    linear = decode_eotf(encoded, space).astype(np.float64) @ np.linalg.inv(matrix_rec2020_to(space)).T
    table = render_colours(look, linear, space=space, scene_clip=1.0)
    return Lut(table=np.ascontiguousarray(table, np.float32), title=f"lumatune look {look.name} ({space})")
