"""Params dataclasses: loading validates keys, types and ranges with messages that name the key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lumatune.errors import BadFileError
from lumatune.stages.params import describe_params, param, params_from_dict, params_to_dict


@dataclass(frozen=True)
class _Example:
    amount: float = param(0.5, min=0.0, max=1.0, unit="", doc="how much")
    mode: str = param("a", choices=("a", "b"), doc="which")
    size: int = param(3, min=1, max=9, doc="how big")
    flag: bool = param(True, doc="on or off")
    triple: tuple[float, float, float] | None = param(None, doc="three numbers")


def test_defaults_and_round_trip():
    p = params_from_dict(_Example, {"amount": 0.25, "triple": [1, 2, 3]}, where="x")
    assert p.amount == 0.25 and p.triple == (1.0, 2.0, 3.0) and p.mode == "a"
    assert params_from_dict(_Example, params_to_dict(p), where="x") == p


@pytest.mark.parametrize(
    "block, fragment",
    [
        ({"amout": 1}, "unknown key 'amout'"),
        ({"amount": 2.0}, "out of range"),
        ({"amount": "high"}, "expected a number"),
        ({"mode": "c"}, "not one of a, b"),
        ({"size": 2.5}, "whole number"),
        ({"flag": 1}, "true or false"),
        ({"triple": [1, 2]}, "expected 3 values"),
        ({"amount": float("nan")}, "not a finite number"),
    ],
)
def test_bad_values_name_the_key(block, fragment):
    with pytest.raises(BadFileError, match=fragment) as error:
        params_from_dict(_Example, block, where="look.toml: [x]")
    assert "look.toml: [x]" in str(error.value)


def test_describe_lists_every_field_with_its_range():
    rows = {row["name"]: row for row in describe_params(_Example)}
    assert set(rows) == {"amount", "mode", "size", "flag", "triple"}
    assert rows["amount"]["min"] == 0.0 and rows["amount"]["max"] == 1.0 and rows["amount"]["doc"] == "how much"
    assert rows["mode"]["choices"] == ("a", "b")
