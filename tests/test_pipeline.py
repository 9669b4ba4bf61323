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


def test_colour_matrix_before_tone_and_tone_last():
    assert _index("colour_matrix") < _index("exposure") < _index("tone")
    assert ORDER[-1].stage.name == "tone"


def test_every_stage_has_a_reason_a_side_and_params():
    for entry in ORDER:
        assert entry.why and entry.stage.summary
        assert entry.stage.side in ("tuning", "look")
        entry.stage.params()  # defaults are valid
    assert set(stages_of_side("tuning")) | set(stages_of_side("look")) == set(STAGES)
