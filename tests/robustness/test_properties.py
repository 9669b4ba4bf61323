"""Property-based tests (hypothesis): look and tuning files, and the DNG writer/reader round trip.

The strategies are built from the params registry itself (each field's type, range and choices), so a new
stage or parameter is covered without touching this file.
"""

from __future__ import annotations

import math
import tempfile
import types
import typing
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumatune.errors import BadFileError, LumatuneError
from lumatune.io.dng import BAYER_PATTERNS, write_dng
from lumatune.config.look import load_look
from lumatune.stages.params import describe_params
from lumatune.stages.registry import stages_of_side
from lumatune.raw import open_raw, read_dng_tags
from lumatune.config.tuning import load_tuning

FILE_EXAMPLES = 40
"""Generated look or tuning files per property."""

DNG_EXAMPLES = 25
"""Generated DNGs for the writer/reader round trip (each is written and decoded by LibRaw)."""

RATIONAL_ATOL = 1e-6
"""Largest error of a value stored as a DNG (S)RATIONAL (the writer uses denominators up to 1e9)."""

LIBRAW_MIN_SIZE = 22
"""LibRaw takes a file with fewer rows or columns than this for no raw at all (``open_datastream``)."""

UNBOUNDED = 1e6
"""Stand-in for a missing min or max when drawing numbers."""

PROPERTY_SETTINGS = settings(
    max_examples=FILE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _bounds(row: dict) -> tuple[float, float]:
    low = -UNBOUNDED if row["min"] is None else row["min"]
    return low, (low + UNBOUNDED if row["max"] is None else row["max"])


def value_strategy(hint, row: dict) -> st.SearchStrategy:
    """Values the field's own description allows (type, range, choices); free text keeps its default."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return value_strategy(options[0], row) if row["default"] is not None else st.none()
    if hint is bool:
        return st.booleans()
    if hint is int:
        low, high = _bounds(row)
        return st.integers(math.ceil(low), math.floor(high))
    if hint is float:
        low, high = _bounds(row)
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if hint is str:
        return st.sampled_from(row["choices"]) if row["choices"] else st.just(row["default"])
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            size = len(row["default"] or ())
            return st.lists(value_strategy(args[0], row), min_size=size, max_size=size).map(tuple)
        return st.tuples(*(value_strategy(a, row) for a in args))
    return st.just(row["default"])


def block_strategy(stage) -> st.SearchStrategy:
    """A block of some of a stage's fields, each drawn from its description."""
    hints = typing.get_type_hints(stage.params)
    fields = {row["name"]: value_strategy(hints[row["name"]], row) for row in describe_params(stage.params)}
    return st.fixed_dictionaries({}, optional=fields)


def file_strategy(side: str) -> st.SearchStrategy:
    stages = stages_of_side(side)
    return st.fixed_dictionaries({}, optional={name: block_strategy(stage) for name, stage in stages.items()})


def _plain(value):
    """TOML-ready: tuples as lists, None left out."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def write_file(blocks: dict, header: dict) -> Path:
    document = {"version": 1, **header}
    for name, block in blocks.items():
        document[name] = {k: _plain(v) for k, v in block.items() if v is not None}
    path = Path(tempfile.mkdtemp()) / "file.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    return path


LOADERS = {"look": (load_look, {"name": "generated"}), "tuning": (load_tuning, {"camera": "generated"})}


@pytest.mark.parametrize("side", list(LOADERS))
def test_files_within_the_declared_ranges_load_exactly_and_round_trip(side):
    load, header = LOADERS[side]

    @PROPERTY_SETTINGS
    @given(blocks=file_strategy(side))
    def check(blocks):
        path = write_file(blocks, header)
        try:
            loaded = load(path)
        except BadFileError as error:  # a rule across fields (e.g. curve = "points" needs points)
            assert str(path) in str(error)
            return
        for name, block in blocks.items():
            for key, value in block.items():
                assert getattr(loaded.blocks.params[name], key) == value
        again = path.with_name("again.toml")
        again.write_text(loaded.to_toml(), encoding="utf-8")
        assert load(again).blocks == loaded.blocks

    check()


def _out_of_range_strategy(side: str):
    """(stage, key, value) with a number just outside a bounded field's range."""
    cases = []
    for name, stage in stages_of_side(side).items():
        hints = typing.get_type_hints(stage.params)
        for row in describe_params(stage.params):
            hint = hints[row["name"]]
            if hint in (int, float) or hint in (int | None, float | None):
                if row["max"] is not None:
                    cases.append(st.tuples(st.just(name), st.just(row["name"]), st.floats(row["max"] + 1e-3, 1e300)))
                if row["min"] is not None:
                    cases.append(st.tuples(st.just(name), st.just(row["name"]), st.floats(-1e300, row["min"] - 1e-3)))
    return st.one_of(cases)


@pytest.mark.parametrize("side", list(LOADERS))
def test_a_number_out_of_range_is_refused_naming_its_key_and_line(side):
    load, header = LOADERS[side]

    @PROPERTY_SETTINGS
    @given(case=_out_of_range_strategy(side))
    def check(case):
        stage, key, value = case
        path = write_file({stage: {key: value}}, header)
        with pytest.raises(BadFileError) as error:
            load(path)
        assert f"[{stage}].{key}" in str(error.value) and "line" in str(error.value)

    check()


TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize("side", list(LOADERS))
def test_any_document_loads_or_is_refused_in_one_line(side):
    load = LOADERS[side][0]
    stage_names = sorted(stages_of_side(side)) + ["no_such_block"]

    @PROPERTY_SETTINGS
    @given(
        blocks=st.dictionaries(
            st.sampled_from(stage_names), st.dictionaries(st.text(max_size=12) | st.sampled_from(["enabled"]), TOML_VALUES, max_size=4),
            max_size=4,
        ),
        top=st.dictionaries(st.sampled_from(["version", "name", "description", "base", "camera", "x"]), TOML_VALUES, max_size=3),
    )
    def check(blocks, top):
        document = {**top, **blocks}
        cleaned = _without_none(document)
        path = Path(tempfile.mkdtemp()) / "file.toml"
        path.write_text(tomli_w.dumps(cleaned), encoding="utf-8")
        try:
            load(path)
        except LumatuneError as error:
            assert "\n" not in str(error)

    check()


def _without_none(value):
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


@PROPERTY_SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_loads_or_is_refused_in_one_line(text):
    path = Path(tempfile.mkdtemp()) / "file.toml"
    path.write_text(text, encoding="utf-8")
    for load in (load_look, load_tuning):
        try:
            load(path)
        except LumatuneError as error:
            assert str(path) in str(error)


# --- DNG writer and reader ----------------------------------------------------------------------------------

well_conditioned = st.lists(st.floats(-0.5, 0.5), min_size=9, max_size=9).map(lambda v: np.eye(3) + np.reshape(v, (3, 3)) * 0.5)


@st.composite
def dng_cases(draw) -> dict:
    rows, cols = draw(st.integers(LIBRAW_MIN_SIZE // 2, 40)) * 2, draw(st.integers(LIBRAW_MIN_SIZE // 2, 40)) * 2
    black = draw(st.integers(0, 2000))
    white = draw(st.integers(black + 64, 65535))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return dict(
        mosaic=rng.integers(black, white + 1, (rows, cols)).astype(np.uint16),
        cfa_pattern=draw(st.sampled_from(sorted(BAYER_PATTERNS))),
        black_level=black,
        white_level=white,
        color_matrix_1=draw(well_conditioned),
        as_shot_neutral=np.asarray(draw(st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3))),
        baseline_exposure=draw(st.floats(-4, 4)),
        orientation=draw(st.sampled_from([1, 3, 6, 8])),
    )


TURNS_OF_ORIENTATION = {1: 0, 3: 2, 6: 3, 8: 1}
"""TIFF Orientation -> counter-clockwise quarter turns that make the image upright."""


@settings(max_examples=DNG_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=dng_cases())
def test_dng_written_is_read_back(case):
    case = dict(case)
    mosaic = case.pop("mosaic")
    path = write_dng(Path(tempfile.mkdtemp()) / "case.dng", mosaic, **case)
    raw = open_raw(path)
    np.testing.assert_array_equal(raw.data, mosaic)
    np.testing.assert_array_equal(raw.cfa, BAYER_PATTERNS[case["cfa_pattern"]])
    assert raw.white_level == case["white_level"] and np.all(raw.black_level == case["black_level"])
    assert raw.orientation_turns == TURNS_OF_ORIENTATION[case["orientation"]]
    tags = read_dng_tags(path)
    np.testing.assert_allclose(tags.color_matrix_1, case["color_matrix_1"], atol=RATIONAL_ATOL)
    np.testing.assert_allclose(tags.as_shot_neutral, case["as_shot_neutral"], atol=RATIONAL_ATOL)
    np.testing.assert_allclose(raw.as_shot_neutral, case["as_shot_neutral"] / case["as_shot_neutral"][1], rtol=1e-5)
    assert abs(tags.baseline_exposure - case["baseline_exposure"]) <= RATIONAL_ATOL
