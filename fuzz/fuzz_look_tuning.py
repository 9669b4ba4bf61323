"""Fuzz target: the look and tuning loaders (``lumatune.load_look``, ``lumatune.config.tuning.load_tuning``).

Half the inputs are taken as raw TOML text (the parser, the line finder of error messages); the other half
steer a generator that writes TOML documents shaped like real files: the stage blocks and keys of the params
registry, values near their ranges and choices or of the wrong type, ``enabled`` switches, and looks that
inherit a second generated look or a built-in one. A loader must return or raise a
:class:`lumatune.errors.LumatuneError`; a file it accepts must survive ``to_toml`` and a reload unchanged.
Any other exception, a hang (``-timeout``) or a memory blow-up (``-rss_limit_mb``) is a crash.

Run: ``python fuzz/fuzz_look_tuning.py [libFuzzer options] CORPUS_DIR [SEED_DIR ...]`` (see ``fuzz/run.py``).

References
----------
- Google, atheris (``FuzzedDataProvider``): https://github.com/google/atheris
- TOML v1.0.0: https://toml.io/en/v1.0.0
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["lumatune"]):
    import tomli_w

    from lumatune.errors import LumatuneError
    from lumatune.config.look import builtin_looks, load_look
    from lumatune.stages.params import describe_params
    from lumatune.stages.registry import stages_of_side
    from lumatune.config.tuning import load_tuning

_FOLDER = Path(tempfile.mkdtemp(prefix="lumatune-fuzz-"))
_LOOK, _BASE, _TUNING = _FOLDER / "look.toml", _FOLDER / "base.toml", _FOLDER / "tuning.toml"

_FIELDS = {
    side: {name: describe_params(stage.params) for name, stage in stages_of_side(side).items()}
    for side in ("look", "tuning")
}
_WORDS = sorted(
    {c for side in _FIELDS.values() for rows in side.values() for row in rows for c in (row["choices"] or ())}
    | set(builtin_looks()) | {"", "base.toml", "look.toml", "#ffffff", "3:2", "r", "g", "b", "ct", "\0", "é"}
)
_MAX_ITEMS = 8


def _value(data: atheris.FuzzedDataProvider, row: dict | None, depth: int = 0):
    """A TOML value: usually near what ``row`` (a param's description) allows, sometimes anything."""
    kind = data.ConsumeIntInRange(0, 9 if depth < 2 else 6)
    if kind == 0 and row is not None:
        low, high = row["min"], row["max"]
        low = -1e3 if low is None else low
        high = low + 1e3 if high is None else high
        return data.ConsumeFloatInRange(low - 1, high + 1) if data.ConsumeBool() else data.ConsumeIntInRange(int(low) - 1, int(high) + 1)
    if kind == 1 and row is not None and row["choices"]:
        return data.PickValueInList(list(row["choices"]))
    if kind == 2:
        return data.ConsumeBool()
    if kind == 3:
        return data.ConsumeIntInRange(-(2**64), 2**64)
    if kind == 4:
        return data.PickValueInList([math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, data.ConsumeFloat()])
    if kind == 5:
        return data.PickValueInList(_WORDS)
    if kind == 6:
        return data.ConsumeUnicodeNoSurrogates(data.ConsumeIntInRange(0, 16))
    if kind in (7, 8):
        return [_value(data, row, depth + 1) for _ in range(data.ConsumeIntInRange(0, _MAX_ITEMS))]
    return {data.PickValueInList(_WORDS) or "k": _value(data, row, depth + 1) for _ in range(data.ConsumeIntInRange(0, 4))}


def _document(data: atheris.FuzzedDataProvider, side: str) -> dict:
    """A look or tuning file: top-level keys and stage blocks, mostly from the registry."""
    fields = _FIELDS[side]
    document = {}
    if data.ConsumeIntInRange(0, 7):
        document["version"] = 1 if data.ConsumeIntInRange(0, 5) else _value(data, None)
    for key in ("name", "description", "camera", "base"):
        if data.ConsumeBool():
            document[key] = data.PickValueInList(_WORDS) if data.ConsumeBool() else _value(data, None)
    for _ in range(data.ConsumeIntInRange(0, len(fields) + 1)):
        stage = data.PickValueInList(sorted(fields) + ["no_such_stage"])
        rows = {row["name"]: row for row in fields.get(stage, [])}
        block = {}
        for _ in range(data.ConsumeIntInRange(0, len(rows) + 2)):
            key = data.PickValueInList(sorted(rows) + ["enabled", "no_such_key"])
            block[key] = data.ConsumeBool() if key == "enabled" and data.ConsumeBool() else _value(data, rows.get(key))
        document[stage] = block
    return document


def _check_round_trip(loaded, load) -> None:
    """What a loader accepts, written back with ``to_toml``, must load to the same blocks."""
    again = _FOLDER / "again.toml"
    again.write_text(loaded.to_toml(), encoding="utf-8")
    reloaded = load(again)
    if reloaded.blocks != loaded.blocks:
        raise AssertionError(f"round trip changed the blocks:\n{loaded.to_toml()}\n---\n{reloaded.to_toml()}")


def TestOneInput(raw: bytes) -> None:
    data = atheris.FuzzedDataProvider(raw)
    if data.ConsumeBool():
        text = data.ConsumeUnicodeNoSurrogates(data.remaining_bytes())
        _LOOK.write_text(text, encoding="utf-8")
        _TUNING.write_text(text, encoding="utf-8")
        _BASE.write_text("version = 1\n", encoding="utf-8")
    else:
        _LOOK.write_text(tomli_w.dumps(_document(data, "look")), encoding="utf-8")
        _BASE.write_text(tomli_w.dumps(_document(data, "look")), encoding="utf-8")
        _TUNING.write_text(tomli_w.dumps(_document(data, "tuning")), encoding="utf-8")
    for load, path in ((load_look, _LOOK), (load_tuning, _TUNING)):
        try:
            loaded = load(path)
        except LumatuneError:
            continue
        _check_round_trip(loaded, load)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
