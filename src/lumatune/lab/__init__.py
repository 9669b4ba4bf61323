"""lumatune.lab: the image-quality lab, measuring any rendering against a scene's exact ground truth.

Colour accuracy (CIEDE2000) and AWB error on a chart, slanted-edge MTF (ISO 12233), noise and
dynamic range (ISO 15739), demosaic artefacts (false colour, zipper, PSNR, SSIM), HTML reports.
Entry points: :func:`lumatune.lab.measure.measure`, :func:`lumatune.lab.truth.load_truth`,
:func:`lumatune.lab.report.write_report`, and the ``lumatune lab`` commands in
:mod:`lumatune.cli.lab`.

The lab never imports ``lumatune.stages``, ``lumatune.pipeline`` or ``lumatune.colour``: ground
truth and measurement must not share code with what they measure. This package imports nothing
itself, so mounting its CLI costs the main command no start-up time.
"""
