"""``lumatune info``: what a raw says about itself, as plain JSON-ready values."""

from __future__ import annotations

import numpy as np

from lumatune.raw import open_raw

__all__ = ["raw_info"]

_LETTERS = "RGB"


def _list(array) -> list | None:
    return None if array is None else np.round(np.asarray(array, dtype=float), 6).tolist()


def raw_info(path, *, lens_report=None) -> dict:
    """Camera, lens, exposure, CFA, levels, white balance and matrices of a raw file; with ``lens_report`` (a
    function of the raw giving lines of text, from the lens stage) also its lens corrections and what lumatune
    does with each."""
    raw = open_raw(path)
    width, height = raw.output_size
    facts = {
        "file": str(raw.path),
        **{k: raw.exif[k] for k in ("make", "model", "lens_model") if k in raw.exif},
        "exposure_time_s": raw.exif.get("exposure_time"),
        "f_number": raw.exif.get("f_number"),
        "iso": raw.exif.get("iso"),
        "focal_length_mm": raw.exif.get("focal_length"),
        "datetime_original": raw.exif.get("datetime_original"),
        "output_size": [width, height],
        "layout": "linear (demosaiced)" if raw.cfa is None else f"CFA {raw.cfa.shape[0]}x{raw.cfa.shape[1]}",
        "cfa": None if raw.cfa is None else ["".join(_LETTERS[c] for c in row) for row in raw.cfa],
        "black_level": _list(raw.black_level),
        "white_level": raw.white_level,
        "as_shot_neutral": _list(raw.as_shot_neutral),
        "daylight_neutral": _list(raw.daylight_neutral),
        "libraw_xyz_to_camera": _list(raw.libraw_matrix),
        "orientation_quarter_turns_ccw": raw.orientation_turns,
    }
    if raw.dng is not None:
        d = raw.dng
        facts["dng"] = {
            "unique_camera_model": d.unique_camera_model,
            "calibration_illuminants": [d.calibration_illuminant_1, d.calibration_illuminant_2],
            "color_matrix_1": _list(d.color_matrix_1),
            "color_matrix_2": _list(d.color_matrix_2),
            "forward_matrix_1": _list(d.forward_matrix_1),
            "forward_matrix_2": _list(d.forward_matrix_2),
            "camera_calibration_1": _list(d.camera_calibration_1),
            "analog_balance": _list(d.analog_balance),
            "as_shot_white_xy": _list(d.as_shot_white_xy),
            "baseline_exposure": d.baseline_exposure,
            "noise_profile": _list(d.noise_profile),
            "default_crop": list(d.default_crop) if d.default_crop else None,
            "gain_maps": len(d.gain_maps),
            "linearization_table": None if d.linearization_table is None else len(d.linearization_table),
        }
    if lens_report is not None:
        facts["lens_corrections"] = lens_report(raw) or None
    return {k: v for k, v in facts.items() if v is not None}
