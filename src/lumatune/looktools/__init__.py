"""Look tools: what the ``look`` commands compute, as a library.

-   :mod:`~lumatune.looktools.bake`: a look's point-wise stages baked into a 3-D LUT;
-   :mod:`~lumatune.looktools.character`: a look's measured character on the virtual camera's ColorChecker, and
    its stages' speed;
-   :mod:`~lumatune.looktools.chart`: a look in numbers, as a figure.

Heavy modules (matplotlib, colour-science, the virtual camera, the lab, the pipeline's compiled stages) load
inside the functions that need them, so importing these costs no start-up time.
"""
