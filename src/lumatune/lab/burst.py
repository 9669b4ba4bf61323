"""Measure a merged burst or bracket against the virtual camera's truth, in the linear raw domain.

Both the merged DNG and the burst's reference frame are read with LibRaw (rawpy) as mosaics, black subtracted
and divided by (white - black); the merged one is then scaled by ``2**(BaselineExposure_merged -
BaselineExposure_reference)`` (read with tifffile), which is how a DNG says that its white lies above the
reference's (headroom). Against the truth's noise-free reference frame:

- **PSNR** ``-10 log10(mean((x - t)^2))`` with peak 1 (the reference's white), on the static mask and on the
  moving mask, with image and truth both clipped at 1 (a burst cannot recover what every frame clipped; the
  range above 1 is the dynamic range's business, below);
- **gain**: merged PSNR minus the reference frame's, dB (the ideal for N equal frames is 10 log10 N);
- **ghosting**: how many dB the merged image is *worse* than the reference frame on the moving mask
  (0 when it is not worse): a ghost is the merge copying a moving object from other frames;
- **dynamic range** from the truth's wedge steps (the lab's ISO 15739 measurement,
  :mod:`lumatune.lab.dynamic_range`) on the green sites of each image, and the SNR of the darkest steps
  (shadow noise).

This module never imports the merge or the simulator: the measurement shares no code with what it measures.

References
----------
.. [1] Adobe, *Digital Negative (DNG) Specification* 1.6.0.0: BaselineExposure, BlackLevel, WhiteLevel.
.. [2] ISO 15739:2023 (dynamic range from a step wedge).
.. [3] A. Monod, J. Delon, T. Veit, IPOL 2021: PSNR gain over the reference frame, ideal 10 log10 N.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import rawpy
import tifffile

from lumatune.errors import BadFileError, UnreadableInputError
from lumatune.lab.dynamic_range import dynamic_range_stops, wedge_step_stats

__all__ = ["BURST_TRUTH_KIND", "burst_figure", "load_burst_truth", "measure_burst", "psnr_db", "read_mosaic"]

BURST_TRUTH_KIND = "lumatune-sim-burst-truth"

CLIPPED_AT = 0.98
"""A sample at or above this fraction of its file's white is clipped (for the wedge's clipped fraction)."""

_BASELINE_EXPOSURE_TAG = 50730


def read_mosaic(path: str | Path) -> tuple[np.ndarray, np.ndarray, float]:
    """(values, colours, baseline) of a raw: float32 mosaic with 1 = its white, LibRaw's colour index per pixel
    (0 R, 1 G, 2 B, 3 second G), and its BaselineExposure (0 when absent)."""
    try:
        with rawpy.imread(str(path)) as raw:
            data = raw.raw_image_visible.astype(np.float32)
            colours = np.array(raw.raw_colors_visible, dtype=np.uint8)
            black = np.asarray(raw.black_level_per_channel, dtype=np.float32)[colours]
            white = float(raw.white_level)
    except (rawpy.LibRawError, OSError) as error:
        raise UnreadableInputError(f"{path}: not a raw LibRaw can read ({error})") from None
    baseline = 0.0
    try:
        with tifffile.TiffFile(path) as tif:
            tag = tif.pages[0].tags.get(_BASELINE_EXPOSURE_TAG)
            if tag is not None:
                value = tag.value
                baseline = value[0] / value[1] if isinstance(value, tuple) else float(value)
    except (tifffile.TiffFileError, OSError):
        baseline = 0.0
    data -= black
    data /= np.float32(white) - black
    return data, colours, baseline


def load_burst_truth(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The burst truth JSON and its arrays (reference, static_mask, moving_mask)."""
    path = Path(path)
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise UnreadableInputError(f"{path}: cannot read the truth ({error.__class__.__name__})") from None
    except json.JSONDecodeError as error:
        raise BadFileError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(truth, dict) or truth.get("kind") != BURST_TRUTH_KIND:
        raise BadFileError(f"{path}: not a burst truth (kind must be {BURST_TRUTH_KIND!r}; see lumatune sim burst)")
    for key in ("arrays", "reference"):
        if not isinstance(truth.get(key), str):
            raise BadFileError(f"{path}: key {key!r} missing or not a file name")
    try:
        with np.load(path.parent / truth["arrays"]) as arrays:
            loaded = {k: np.asarray(arrays[k]) for k in ("reference", "static_mask", "moving_mask")}
    except (OSError, KeyError, ValueError) as error:
        raise BadFileError(f"{path}: arrays {truth['arrays']!r} unreadable ({error.__class__.__name__})") from None
    return truth, loaded


def psnr_db(image: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float | None:
    """PSNR (peak 1) of ``image`` against ``truth`` over ``mask``, both clipped at 1; None for an empty mask."""
    if not mask.any():
        return None
    error = np.minimum(image[mask], 1.0) - np.minimum(truth[mask], 1.0)
    mse = float(np.mean(error.astype(np.float64) ** 2))
    return math.inf if mse == 0 else -10.0 * math.log10(mse)


def _wedge_figures(values: np.ndarray, colours: np.ndarray, own_scale: float, steps: list[dict]) -> dict:
    """Dynamic range (SNR 1 and 10, stops) and the steps' SNR, from the green sites of each wedge step."""
    pixels, clipped, luminance = [], [], []
    for step in steps:
        x0, y0, x1, y1 = step["box"]
        v = values[y0:y1, x0:x1]
        green = (colours[y0:y1, x0:x1] % 2) == 1
        samples = v[green]
        pixels.append(samples.astype(np.float64))
        clipped.append(float(np.mean(samples >= CLIPPED_AT * own_scale)))
        luminance.append(float(step["relative_luminance"]))
    stats = wedge_step_stats(pixels, clipped, luminance)
    return {
        "dr_snr1_stops": dynamic_range_stops(stats, 1.0),
        "dr_snr10_stops": dynamic_range_stops(stats, 10.0),
        "steps": [
            {"relative_luminance": s.relative_luminance, "mean": s.mean_y, "snr": s.snr, "clipped": s.clipped}
            for s in stats
        ],
    }


def measure_burst(merged: str | Path, truth_path: str | Path) -> dict:
    """PSNR, gain, ghosting and (with a wedge) dynamic range of a merged raw; see the module docstring."""
    truth, arrays = load_burst_truth(truth_path)
    reference_path = Path(truth_path).parent / truth["reference"]
    merged_values, merged_colours, merged_baseline = read_mosaic(merged)
    ref_values, ref_colours, ref_baseline = read_mosaic(reference_path)
    if merged_values.shape != arrays["reference"].shape:
        raise BadFileError(
            f"{merged}: {merged_values.shape[1]}x{merged_values.shape[0]} pixels, the truth "
            f"{arrays['reference'].shape[1]}x{arrays['reference'].shape[0]}"
        )
    scale = 2.0 ** (merged_baseline - ref_baseline)
    merged_values *= np.float32(scale)
    target = arrays["reference"]
    result: dict = {"frames": len(truth.get("frames", [])), "headroom_stops": merged_baseline - ref_baseline}
    for name, mask in (("static", arrays["static_mask"]), ("moving", arrays["moving_mask"])):
        ref_psnr = psnr_db(ref_values, target, mask)
        merged_psnr = psnr_db(merged_values, target, mask)
        result[f"psnr_{name}_reference_db"] = ref_psnr
        result[f"psnr_{name}_merged_db"] = merged_psnr
        result[f"gain_{name}_db"] = None if ref_psnr is None else merged_psnr - ref_psnr
    gain_moving = result["gain_moving_db"]
    result["ghosting_db"] = None if gain_moving is None else max(0.0, -gain_moving)
    if truth.get("wedge", {}).get("steps"):
        steps = truth["wedge"]["steps"]
        result["wedge_reference"] = _wedge_figures(ref_values, ref_colours, 1.0, steps)
        result["wedge_merged"] = _wedge_figures(merged_values, merged_colours, scale, steps)
    return result


def _preview(values: np.ndarray, colours: np.ndarray, box: tuple[int, int, int, int], gain: np.ndarray) -> np.ndarray:
    """8-bit RGB of a crop: each 2x2 (Bayer) or 3x3 (X-Trans) block to one RGB pixel (the mean of each colour's
    samples in it), channel gains, sRGB-like 1/2.2 gamma."""
    c = colours % 3  # LibRaw's second green (3) is green
    block = 2 if np.array_equal(c[:2, :2], c[2:4, 2:4]) and np.array_equal(c[:2, :2], c[2:4, :2]) else 3
    x0, y0, x1, y1 = (v // block * block for v in box)
    v, c = values[y0:y1, x0:x1], c[y0:y1, x0:x1]
    rgb = np.zeros(((y1 - y0) // block, (x1 - x0) // block, 3), dtype=np.float32)
    count = np.zeros_like(rgb)
    for i in range(block):
        for j in range(block):
            channel = c[i::block, j::block]
            for k in range(3):
                rgb[:, :, k] += np.where(channel == k, v[i::block, j::block], 0)
                count[:, :, k] += channel == k
    rgb = rgb / np.maximum(count, 1) * gain[None, None, :]
    return (np.clip(rgb, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)


def burst_figure(
    panels: dict[str, tuple[np.ndarray, np.ndarray]], boxes: list[tuple[int, int, int, int]], path
) -> None:
    """Write a PNG with one row per crop box and one column per image (name -> (values, colours)), each crop
    shown at 2x its quad size so noise and edges can be seen; grey-world white balance from the first crop."""
    rows = []
    first_values, first_colours = next(iter(panels.values()))
    reference = _preview(first_values, first_colours, boxes[0], np.ones(3, dtype=np.float32)).astype(np.float32)
    means = np.maximum(reference.reshape(-1, 3).mean(axis=0) / 255.0, 1e-3) ** 2.2
    gain = (0.3 / means).astype(np.float32)  # grey world on the first crop, kept for every crop
    for box in boxes:
        tiles = []
        for name, (values, colours) in panels.items():
            tile = _preview(values, colours, box, gain)
            tile = cv2.resize(tile, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
            cv2.putText(tile, name, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
            tiles.append(np.pad(tile, ((2, 2), (2, 2), (0, 0))))
        rows.append(np.concatenate(tiles, axis=1))
    width = max(r.shape[1] for r in rows)
    image = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise UnreadableInputError(f"{path}: cannot write the figure")
