"""Measure a learned look on the held-out pixels, and report it: numbers, tone curve, crops side by side.

The held-out error is measured end to end: each held-out raw is developed with ``lumatune.develop`` in the
learned look file (and in ``neutral`` and ``default``, the baselines), resampled on the target's pixels with
the pair's registration, blurred as the training samples were, and compared with the target by CIEDE2000
on the held-out pixels that can teach a look (not clipped, not black, not busy: see
:mod:`lumatune.learn.samples`). Every pixel counts once here; the stage log's numbers (from the fit) are on
the colour-balanced samples instead.

The report is a JSON file with every number, a PNG with the fitted tone curve beside the identity (and the
``default`` look's, and the data's medians) and the held-out error after each stage, a PNG of held-out crops
side by side (neutral, default, learned, target), and an HTML page that shows them.

References
----------
-   CIE 142-2001 / ISO/CIE 11664-6:2014, CIEDE2000 colour-difference formula.
-   G. Sharma, W. Wu, E. N. Dalal, Color Res. Appl. 30(1), 2005 (CIEDE2000 implementation notes).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import cv2
import numpy as np

from lumatune.api import develop
from lumatune.colour.difference import delta_e00
from lumatune.colour.spaces import decode_eotf, srgb_to_lab
from lumatune.config.look import load_look
from lumatune.io.atomic import atomic_output
from lumatune.io.sheet import contact_sheet
from lumatune.learn.fit import FitResult
from lumatune.learn.model import LearnedLook, render_samples
from lumatune.learn.registration import warp_to_target
from lumatune.learn.samples import BLUR_SIGMA, Part, Samples
from lumatune.pipeline import render_colours

__all__ = [
    "BASELINES",
    "CROP_SIZE",
    "render_part",
    "evaluate_looks",
    "crops_sheet",
    "curve_figure",
    "report_paths",
    "write_report",
]

BASELINES = ("neutral", "default")
"""Built-in looks the learned look is compared with."""
CROP_SIZE = 320
"""Side (target px) of the held-out crops shown side by side, at most."""
MAX_CROPS = 3
"""Held-out parts shown as crops at most."""


def render_part(part: Part, look) -> np.ndarray:
    """Develop the part's raw in ``look`` and resample it on the target's pixels (display sRGB, blurred)."""

    prepared = part.prepared
    image = develop(prepared.pair.raw, look=look, preview=prepared.preview)
    warped, _ = warp_to_target(image, prepared.registration, prepared.target.shape[:2])
    return cv2.GaussianBlur(warped, (0, 0), BLUR_SIGMA)


def _stats(values: np.ndarray) -> dict:
    if values.size == 0:
        return {"mean": float("nan"), "p95": float("nan"), "pixels": 0}
    return {"mean": float(values.mean()), "p95": float(np.percentile(values, 95)), "pixels": int(values.size)}


def evaluate_looks(parts: list[Part], looks: dict) -> tuple[dict, dict]:
    """Held-out CIEDE2000 of each look against the target, end to end; and the renderings (for the crops).

    Parameters
    ----------
    parts : the held-out parts.
    looks : report name -> a look (built-in name, file path or :class:`~lumatune.config.look.Look`).

    Returns
    -------
    (metrics, renderings) : ``metrics[name]`` holds ``mean``, ``p95`` and ``pixels`` over all held-out pixels
        and ``pairs``, the same per part; ``renderings[name]`` the list of rendered images, one per part.
    """
    metrics, renderings = {}, {}
    for name, look in looks.items():
        values, per_pair, images = [], [], []
        for part in parts:
            image = render_part(part, look)
            images.append(image)
            mask = part.mask
            d = delta_e00(srgb_to_lab(image[mask]), srgb_to_lab(part.prepared.target[mask]))
            values.append(d)
            per_pair.append({"pair": part.prepared.label, **_stats(d)})
        metrics[name] = {**_stats(np.concatenate(values) if values else np.zeros(0)), "pairs": per_pair}
        renderings[name] = images
    return metrics, renderings


def _crop_box(mask: np.ndarray) -> tuple[slice, slice]:
    """A box of at most :data:`CROP_SIZE` px centred on the held-out pixels' bounding box."""
    rows, columns = np.nonzero(mask)
    if rows.size == 0:
        rows, columns = np.arange(mask.shape[0]), np.arange(mask.shape[1])
    centre_y, centre_x = (rows.min() + rows.max()) // 2, (columns.min() + columns.max()) // 2
    half_h = min(CROP_SIZE, rows.max() - rows.min() + 1) // 2
    half_w = min(CROP_SIZE, columns.max() - columns.min() + 1) // 2
    top, left = max(0, centre_y - half_h), max(0, centre_x - half_w)
    return slice(top, top + 2 * half_h), slice(left, left + 2 * half_w)


def crops_sheet(parts: list[Part], renderings: dict):
    """A contact sheet (PIL image): per held-out part, crops of each look's rendering and of the target."""

    rows = []
    for index, part in enumerate(parts[:MAX_CROPS]):
        box = _crop_box(part.mask)
        row = [(name, images[index][box]) for name, images in renderings.items()]
        row.append((f"target: {Path(part.prepared.label).name}", part.prepared.target[box]))
        rows.append(row)
    return contact_sheet(rows, cell_width=CROP_SIZE, title="held-out crops: looks and the target they imitate")


def _grey_curve(look: LearnedLook, encoded: np.ndarray) -> np.ndarray:
    greys = np.repeat(decode_eotf(encoded.astype(np.float32), "srgb")[:, None], 3, axis=1)
    return render_samples(look.replace(vignette=None), greys)[:, 1]


def _data_medians(samples: Samples, bins: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Medians of the target's luma per bin of the neutral rendering's luma (display-encoded sRGB)."""
    neutral = render_samples(LearnedLook(), samples.scene) @ np.array([0.2126, 0.7152, 0.0722])
    target = samples.target @ np.array([0.2126, 0.7152, 0.0722])
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(neutral, edges) - 1, 0, bins - 1)
    centres, medians = [], []
    for b in range(bins):
        chosen = index == b
        if chosen.sum() >= 10:
            centres.append(np.median(neutral[chosen]))
            medians.append(np.median(target[chosen]))
    return np.array(centres), np.array(medians)


def curve_figure(result: FitResult, samples: Samples):
    """Matplotlib figure: the learned look on greys beside the identity, and the held-out error per stage."""
    import matplotlib  # lazy: matplotlib (0.2 s)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib (0.9 s)

    figure, (curve_ax, stage_ax) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    x = np.linspace(0.0, 1.0, 256)
    curve_ax.plot(x, x, "--", color="grey", label="identity (neutral)")
    greys = np.repeat(decode_eotf(x.astype(np.float32), "srgb")[:, None], 3, axis=1)
    curve_ax.plot(x, render_colours(load_look("default"), greys)[:, 1], color="tab:blue", alpha=0.6, label="default")
    curve_ax.plot(x, _grey_curve(result.look, x), color="tab:red", lw=2, label="learned")
    if len(samples):
        centres, medians = _data_medians(samples)
        curve_ax.plot(centres, medians, "o", color="black", ms=3, label="target (median per bin)")
    curve_ax.set(xlabel="neutral rendering (sRGB-encoded grey)", ylabel="rendering (sRGB-encoded)",
                 title="tone on greys", xlim=(0, 1), ylim=(0, 1.02), aspect="equal")
    curve_ax.grid(alpha=0.3)
    curve_ax.legend(loc="lower right")

    names = ["neutral"] + [s.name for s in result.log]
    errors = [result.neutral_de00] + [s.held_out_de00 for s in result.log]
    colours = ["grey"] + ["tab:green" if s.kept else "tab:orange" for s in result.log]
    stage_ax.bar(names, errors, color=colours)
    for i, e in enumerate(errors):
        stage_ax.text(i, e, f"{e:.2f}", ha="center", va="bottom")
    stage_ax.set(ylabel="held-out mean ΔE00 (balanced samples)", title="fit stages (green: kept)")
    stage_ax.grid(axis="y", alpha=0.3)
    return figure


def report_paths(output: Path) -> dict[str, Path]:
    """The report's files beside the look file ``output``."""
    stem = output.with_suffix("")
    return {
        "json": Path(f"{stem}-report.json"),
        "html": Path(f"{stem}-report.html"),
        "figure": Path(f"{stem}-report.png"),
        "crops": Path(f"{stem}-crops.png"),
    }


def _table(metrics: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{m['mean']:.2f}</td><td>{m['p95']:.2f}</td><td>{m['pixels']}</td></tr>"
        for name, m in metrics.items()
    )
    return ("<table><tr><th>look</th><th>mean ΔE00</th><th>95th percentile</th><th>pixels</th></tr>"
            f"{rows}</table>")


def _stage_list(result: FitResult) -> str:
    items = "".join(
        f"<li>{html.escape(s.name)}: {s.held_out_de00:.3f} ({'kept' if s.kept else 'left out'})"
        f"{' - ' + html.escape(s.note) if s.note else ''}</li>"
        for s in result.log
    )
    return f"<ul><li>neutral: {result.neutral_de00:.3f}</li>{items}</ul>"


def write_report(output: Path, summary: dict, result: FitResult, held_samples: Samples, parts: list[Part],
                 renderings: dict, *, overwrite: bool = False) -> list[Path]:
    """Write the JSON, the figure, the crops and the HTML page beside the look file ``output``."""

    paths = report_paths(output)
    with atomic_output(paths["json"], overwrite=overwrite) as temp:
        Path(temp).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    figure = curve_figure(result, held_samples)
    with atomic_output(paths["figure"], overwrite=overwrite) as temp:
        figure.savefig(temp, format="png", dpi=100)
    sheet = crops_sheet(parts, renderings)
    with atomic_output(paths["crops"], overwrite=overwrite) as temp:
        sheet.save(temp, format="PNG")
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>learned look {html.escape(output.name)}</title>
<style>body{{font-family:sans-serif;max-width:1280px;margin:2em auto}}td,th{{padding:2px 12px;text-align:right}}
img{{max-width:100%}}</style></head><body>
<h1>learned look: {html.escape(output.name)}</h1>
<p>{html.escape(summary["description"])}</p>
<p>Pairs used: {len(summary["pairs_used"])} ({html.escape(summary["camera"])}); {html.escape(summary["split"])}.</p>
<h2>held-out error (every held-out pixel, end to end through lumatune develop)</h2>
{_table(summary["held_out"])}
<h2>fit stages (held-out mean ΔE00 on the colour-balanced samples)</h2>
{_stage_list(result)}
<img src="{html.escape(paths["figure"].name)}" alt="tone curve and stage errors">
<h2>held-out crops</h2>
<img src="{html.escape(paths["crops"].name)}" alt="held-out crops side by side">
</body></html>
"""
    with atomic_output(paths["html"], overwrite=overwrite) as temp:
        Path(temp).write_text(page, encoding="utf-8")
    return list(paths.values())
