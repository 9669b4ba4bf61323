"""A learned look renders through ``lumatune develop`` with the held-out error its fit reports: the learner fits
the very stages that develop runs (one pipeline), so the fit's number is the written look's number."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from learn.learn_sim import HELD_SEED

DEVELOP_VS_FIT_DE00 = 0.02
"""|held-out mean ΔE00 through develop - the fit's|. What remains is sampling, not a second pipeline: the fit
renders each sample's (blurred, resampled) neutral colour, develop renders the pixels and then resamples and
blurs them as the samples were made (:data:`lumatune.learn.samples.BLUR_SIGMA`), and the .cube stores the
table to 7 decimals."""


def _developed_samples(validation, look_path):
    """The held-out samples with their target replaced by the written look developed through ``develop``,
    resampled onto the target and blurred as :func:`lumatune.learn.samples.prepare_pair` does with the scene."""
    import cv2

    import lumatune
    from lumatune.learn.registration import warp_to_target
    from lumatune.learn.samples import BLUR_SIGMA, Part, draw_samples

    parts = []
    for prepared in validation:
        image = lumatune.develop(prepared.pair.raw, look=look_path, preview=prepared.preview)
        encoded, _ = warp_to_target(image, prepared.registration, prepared.target.shape[:2])
        developed = np.ascontiguousarray(cv2.GaussianBlur(encoded, (0, 0), BLUR_SIGMA), np.float32)
        parts.append(Part(replace(prepared, target=developed), prepared.usable))
    return draw_samples(parts, seed=HELD_SEED)  # the same pixels: drawn by the scene colours and the seed


def test_learned_look_develops_with_the_fits_held_out_error(learned):
    from lumatune.colour.difference import delta_e00
    from lumatune.colour.spaces import srgb_to_lab
    from lumatune.learn.samples import Part, draw_samples

    _, validation, result, path = learned
    held = draw_samples([Part(p, p.usable) for p in validation], seed=HELD_SEED)
    developed = _developed_samples(validation, path)
    through_develop = float(delta_e00(srgb_to_lab(developed.target), srgb_to_lab(held.target)).mean())
    assert abs(through_develop - result.held_out_de00) < DEVELOP_VS_FIT_DE00, (through_develop, result.held_out_de00)
