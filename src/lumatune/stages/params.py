"""Stage parameters: one frozen dataclass per stage, each field carrying default, range, unit and a description.

Loading, validation, the CLI's help and the docs all come from that one definition, as darktable's
``$MIN/$MAX/$DEFAULT`` introspection comments do for its modules.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import MISSING, Field

from lumatune.errors import BadFileError

__all__ = ["param", "params_from_dict", "params_to_dict", "describe_params"]


def param(default, *, min=None, max=None, unit: str = "", doc: str = "", choices=None) -> Field:
    """A dataclass field with its range, unit, allowed choices and a one-line description."""
    meta = {"min": min, "max": max, "unit": unit, "doc": doc, "choices": tuple(choices) if choices else None}
    if isinstance(default, list | dict):
        raise TypeError("use tuples for sequence defaults: params are frozen")
    return dataclasses.field(default=default, metadata=meta)


def loaded(doc: str) -> Field:
    """A field that no file holds: the loader fills it from the file keys (the lut stage's table read from its
    ``file``), so that stages read no file. Not read from, written to or described in a tuning or look file."""
    return dataclasses.field(default=None, compare=False, repr=False, metadata={"loaded": True, "doc": doc})


def file_fields(cls) -> tuple[Field, ...]:
    """The fields a tuning or look file holds (all but :func:`loaded` ones)."""
    return tuple(f for f in dataclasses.fields(cls) if not f.metadata.get("loaded"))


def params_from_dict(cls, data: dict, *, where: str, locate=lambda key: ""):
    """Build ``cls`` from a (TOML) mapping, checking keys, types and ranges.

    Parameters
    ----------
    cls : a params dataclass whose fields were made with :func:`param`.
    data : the block's keys (``enabled`` already removed by the caller).
    where : text naming the file and block, for error messages.
    locate : ``locate(key) -> " (line N)"``, to say where in the file a bad key is.

    Raises
    ------
    BadFileError : an unknown key (the message names it), a wrong type or a value out of range.
    """
    fields = {f.name: f for f in file_fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        if key not in fields:
            valid = ", ".join(sorted(fields)) or "none"
            raise BadFileError(f"{where}: unknown key '{key}'{locate(key)} (valid keys: {valid})")
        values[key] = _checked(value, hints[key], fields[key], f"{where}.{key}{locate(key)}")
    try:
        return cls(**values)
    except (ValueError, TypeError) as error:
        raise BadFileError(f"{where}: {error}") from None


def params_to_dict(params) -> dict:
    """The params as plain TOML-ready values (tuples become lists)."""
    return {f.name: _plain(getattr(params, f.name)) for f in file_fields(params)}


def describe_params(cls) -> list[dict]:
    """One row per field: name, default, min, max, unit, choices, doc (for CLI help and docs)."""
    rows = []
    for f in file_fields(cls):
        default = f.default if f.default is not MISSING else None
        rows.append({"name": f.name, "default": _plain(default), **f.metadata})
    return rows


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _checked(value, hint, field: Field, where: str):
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value == "" and type(None) in typing.get_args(hint)):
            return None
        return _checked(value, options[0], field, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise BadFileError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint in (int, float):
        return _checked_number(value, hint, field, where)
    if hint is str:
        if not isinstance(value, str):
            raise BadFileError(f"{where}: expected text, got {value!r}")
        choices = field.metadata.get("choices")
        if choices and value not in choices:
            raise BadFileError(f"{where}: '{value}' is not one of {', '.join(choices)}")
        return value
    if origin is tuple or hint is tuple:
        if not isinstance(value, list | tuple):
            raise BadFileError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(hint)
        item_hint = args[0] if args else typing.Any
        if len(args) > 1 and args[1] is not Ellipsis:
            if len(value) != len(args):
                raise BadFileError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(_checked(v, a, field, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        return tuple(_checked(v, item_hint, field, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict or hint is dict or hint is typing.Any:
        if hint is not typing.Any and not isinstance(value, dict):
            raise BadFileError(f"{where}: expected a table, got {value!r}")
        _check_finite(value, where)
        return _frozen(value)
    raise BadFileError(f"{where}: unsupported value {value!r}")


def _check_finite(value, where: str) -> None:
    """Free-form tables and lists hold numbers anywhere: NaN or infinity is refused there as in any number field."""
    if isinstance(value, float) and not math.isfinite(value):
        raise BadFileError(f"{where}: {value!r} is not a finite number")
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ():
        _check_finite(item, where)


def _checked_number(value, hint, field: Field, where: str):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadFileError(f"{where}: expected a number, got {value!r}")
    if hint is int and not float(value).is_integer():
        raise BadFileError(f"{where}: expected a whole number, got {value!r}")
    if not math.isfinite(value):
        raise BadFileError(f"{where}: {value!r} is not a finite number")
    low, high = field.metadata.get("min"), field.metadata.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadFileError(f"{where}: {value!r} is out of range [{low}, {high}]")
    return hint(value)


def _frozen(value):
    """Lists become tuples and tables become tuples of (key, value) dicts so params stay hashable-ish."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value
