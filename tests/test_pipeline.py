"""The order table obeys the hard rules, and every stage is described."""

from __future__ import annotations

from lumatune.pipeline import ORDER, STAGES, stages_of_side


def _index(name: str) -> int:
    return [entry.stage.name for entry in ORDER].index(name)


def test_raw_domain_stages_come_before_demosaic():
    demosaic = _index("demosaic")
    for i, entry in enumerate(ORDER):
        if entry.domain == "raw" and entry.stage.name not in ("demosaic", "highlights"):
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
