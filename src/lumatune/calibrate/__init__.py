"""lumatune.calibrate: camera calibration from chart, flat-field and noise raws into tuning blocks.

One calibration per stage block, as the stages read them: :mod:`~lumatune.calibrate.colour` (``colour_matrix``),
:mod:`~lumatune.calibrate.shading` (``lens_shading``), :mod:`~lumatune.calibrate.noise` (``denoise``);
:mod:`~lumatune.calibrate.dcp` exports DNG camera profiles, :mod:`~lumatune.calibrate.report` the HTML report,
:mod:`~lumatune.cli.calibrate` the ``lumatune calibrate`` commands. Off the develop path: these modules may use
colour-science, scipy and matplotlib.
"""
