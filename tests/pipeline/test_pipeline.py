"""The order table obeys the hard rules, and every stage is described."""

from __future__ import annotations

from lumatune.pipeline import ORDER
from lumatune.stages.registry import STAGES, stages_of_side


def _index(name: str) -> int:
    return [entry.stage.name for entry in ORDER].index(name)


def test_raw_domain_stages_come_before_demosaic():
    demosaic = _index("demosaic")
    for i, entry in enumerate(ORDER):
        # highlights and lens act on the demosaiced camera planes (clipping per channel; DNG OpcodeList3)
        if entry.domain == "raw" and entry.stage.name not in ("demosaic", "highlights", "lens"):
            assert i < demosaic, entry.stage.name


def test_colour_matrix_before_tone_and_tone_last_scene_stage():
    """Tone is the last scene->display stage; only display-domain stages follow it."""
    assert _index("colour_matrix") < _index("exposure") < _index("tone")
    tone = _index("tone")
    assert STAGES["tone"].required
    assert all(entry.domain in ("raw", "scene") for entry in ORDER[:tone])
    assert all(entry.domain == "display" for entry in ORDER[tone:])


def test_look_colour_stages_sit_between_exposure_and_tone():
    for name in ("colour", "lut", "mono"):
        assert _index("exposure") < _index(name) < _index("tone"), name
    assert _index("sharpen") < _index("grain") < _index("vignette") < _index("crop") < _index("frame")


def test_every_stage_has_a_reason_a_side_and_params():
    for entry in ORDER:
        assert entry.why and entry.stage.summary
        assert entry.stage.side in ("tuning", "look")
        entry.stage.params()  # defaults are valid
    assert set(stages_of_side("tuning")) | set(stages_of_side("look")) == set(STAGES)


def test_selections_derived_from_the_table():
    """What a LUT can hold and what it cannot, as the look tools and the learner use them."""
    from lumatune.pipeline import LOOK_STAGES, POINTWISE, SPATIAL

    assert POINTWISE == ("exposure", "colour", "lut", "mono", "tone")
    assert SPATIAL == ("sharpen", "grain", "vignette", "crop", "frame")
    assert LOOK_STAGES == POINTWISE + SPATIAL


def test_only_the_demosaic_makes_rows_on_demand():
    assert [entry.name for entry in ORDER if entry.rows is not None] == ["demosaic"]


def test_a_selection_runs_those_stages_in_table_order_without_turning():
    import numpy as np
    import pytest

    from lumatune.config.look import load_look
    from lumatune.pipeline import bare_frame, run

    look = load_look("vibrant")
    image = np.random.default_rng(0).random((8, 16, 3), dtype=np.float32)
    forwards = run(bare_frame(), None, look, image=image.copy(), select=("tone", "exposure", "colour"))
    frame = bare_frame()
    by_hand = image.copy()
    for name in ("exposure", "colour", "tone"):
        by_hand = run(frame, None, look, image=by_hand, select=(name,))
    np.testing.assert_array_equal(forwards, by_hand)
    with pytest.raises(ValueError, match="no such stage: tonne"):
        run(bare_frame(), None, look, image=image, select=("tonne",))
