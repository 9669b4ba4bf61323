"""Colour-science glue of the develop path, in pure numpy (no colour-science import at run time).

- :mod:`lumatune.colour.spaces`: white points, RGB <-> XYZ matrices, Bradford, transfer curves, Lab.
- :mod:`lumatune.colour.temperature`: CCT and tint <-> xy (Robertson 1968, as the DNG SDK).
- :mod:`lumatune.colour.dng`: the DNG colour model (camera RGB -> XYZ from ColorMatrix / ForwardMatrix).
- :mod:`lumatune.colour.interpolate`: the colour-temperature table interpolator (linear in 1/CCT).
"""
