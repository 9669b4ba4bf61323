"""The calibration report: one self-contained HTML file (``report.html``) with tables and embedded plots.

Colour: for each illuminant, CIEDE2000 per patch of the calibration charts rendered with the raw's metadata
matrix and with the fitted tuning (and, when fitted, the hue/saturation table), as a table and a bar plot,
and each chart's preview with the 24 sampled patch regions outlined and numbered, so a person can check
where the chart was found;
optionally a held-out table (other seeds and illuminants, developed through the pipeline and measured by the
lab). Shading: the gain map of each channel. Noise: variance against signal per channel and ISO with the
fitted Poisson-Gaussian lines. Plots are matplotlib (Agg) PNGs embedded as base64.

References
----------
- CIE 142-2001 (CIEDE2000); ISO 17321-1:2012 (reporting colour characterisation errors per patch).
- EMVA Standard 1288, release 4.0, 2021, section 6 (photon transfer plot: variance against mean).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lumatune.calibrate.chart import preview
from lumatune.calibrate.colour import ColourCalibration, ColourShot
from lumatune.calibrate.noise import NoiseCalibration
from lumatune.calibrate.reference import chart_reflectances
from lumatune.calibrate.shading import ShadingCalibration
from lumatune.io.atomic import atomic_output

__all__ = ["chart_overlay", "render_report_html", "write_report"]

FIGURE_DPI = 90

OVERLAY_WIDTH = 720
"""Width (px) of the chart overlay image: the chart region of the preview, scaled to it."""

OVERLAY_MARGIN = 0.1
"""Margin around the found patches in the overlay, as a fraction of their extent."""

_SUBPIXEL_BITS = 4
"""Fractional bits of the points drawn with OpenCV (1/16 px)."""


def _pyplot():
    import matplotlib  # lazy: matplotlib (0.1 s)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib (0.4 s)

    return plt


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    _pyplot().close(figure)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode("ascii")}">'


def _chart_region(image: np.ndarray, quads: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The part of ``image`` around ``quads`` (preview px), its top-left corner and the scale to the overlay."""
    low, high = quads.reshape(-1, 2).min(axis=0), quads.reshape(-1, 2).max(axis=0)
    margin = OVERLAY_MARGIN * (high - low)
    x0, y0 = np.maximum(np.floor(low - margin), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(high + margin), [image.shape[1], image.shape[0]]).astype(int)
    region = image[y0:y1, x0:x1]
    return region, np.array([x0, y0], dtype=np.float64), OVERLAY_WIDTH / max(region.shape[1], 1)


def chart_overlay(image: np.ndarray, quads: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB of the chart region of an sRGB image with each patch quad outlined and numbered.

    Parameters
    ----------
    image : (H, W, 3) display-encoded RGB in [0, 1].
    quads : (24, 4, 2) patch regions in the image's pixel coordinates (pixel edges at integers).
    """
    region, origin, scale = _chart_region(image, quads)
    size = (OVERLAY_WIDTH, max(1, round(region.shape[0] * scale)))
    canvas = cv2.resize((np.clip(region, 0, 1) * 255).astype(np.uint8), size, interpolation=cv2.INTER_AREA)
    points = (quads - origin) * scale - 0.5  # OpenCV draws at pixel centres
    fixed = np.round(points * 2**_SUBPIXEL_BITS).astype(np.int32)
    cv2.polylines(canvas, list(fixed), True, (0, 0, 0), 3, cv2.LINE_AA, _SUBPIXEL_BITS)
    cv2.polylines(canvas, list(fixed), True, (255, 255, 0), 1, cv2.LINE_AA, _SUBPIXEL_BITS)
    for number, centre in enumerate(points.mean(axis=1), start=1):
        text, font = str(number), cv2.FONT_HERSHEY_SIMPLEX
        (width, height), _ = cv2.getTextSize(text, font, 0.5, 1)
        at = (int(round(centre[0] - width / 2)), int(round(centre[1] + height / 2)))
        cv2.putText(canvas, text, at, font, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(canvas, text, at, font, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas


def _overlay_img(shot: ColourShot) -> str:
    """An ``<img>`` of the shot's chart with its found patches drawn over it, and a caption."""
    image, block = preview(shot.capture)
    canvas = chart_overlay(image, shot.chart.quads / block)
    _, encoded = cv2.imencode(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    source = base64.b64encode(encoded.tobytes()).decode("ascii")
    caption = f"{shot.capture.path.name}: patches located by {shot.chart.located_by}"
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{source}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return str(value)
    return "" if not np.isfinite(value) else f"{value:.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _colour_section(calibration: ColourCalibration, hue_sat_de00: Sequence[np.ndarray] | None) -> str:
    plt = _pyplot()
    names = chart_reflectances()[0]
    parts = [f"<h2>Colour: {html.escape(calibration.camera)}</h2>"]
    summary = []
    for i, fit in enumerate(calibration.fits):
        meta, tuned = fit.de00_metadata.mean(axis=0), fit.de00_fitted.mean(axis=0)
        extra = hue_sat_de00[i] if hue_sat_de00 else None
        summary.append(
            [fit.illuminant, f"{fit.ct:.0f}", len(fit.shots), meta.mean(), tuned.mean()]
            + ([extra.mean()] if extra is not None else [])
        )
        figure, axis = plt.subplots(figsize=(11, 3))
        x = np.arange(len(names))
        width = 0.4 if extra is None else 0.28
        axis.bar(x - width / 2 if extra is None else x - width, meta, width, label="metadata matrix")
        axis.bar(x + width / 2 if extra is None else x, tuned, width, label="fitted tuning")
        if extra is not None:
            axis.bar(x + width, extra, width, label="fitted + hue/sat table")
        axis.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
        axis.set_ylabel("ΔE00")
        axis.set_title(f"{fit.illuminant} ({fit.ct:.0f} K): calibration charts")
        axis.legend(fontsize=8)
        rows = [
            [name, m, t] + ([e] if extra is not None else [])
            for name, m, t, e in zip(names, meta, tuned, extra if extra is not None else meta)
        ]
        header = ["patch", "ΔE00 metadata", "ΔE00 fitted"] + (["ΔE00 + hue/sat"] if extra is not None else [])
        parts += [f"<h3>{html.escape(fit.illuminant)}</h3>", _png(figure), _table(header, rows)]
        parts += [_overlay_img(shot) for shot in fit.shots]
    header = ["illuminant", "CCT K", "charts", "mean ΔE00 metadata", "mean ΔE00 fitted"]
    header += ["mean ΔE00 + hue/sat"] if hue_sat_de00 else []
    return parts[0] + _table(header, summary) + "".join(parts[1:])


def _held_out_section(rows: Sequence[dict]) -> str:
    table = [
        [
            r["camera"],
            r["illuminant"],
            str(r["seed"]),
            r["de00_metadata"],
            r["de00_tuned"],
            r["de00_max_metadata"],
            r["de00_max_tuned"],
        ]
        for r in rows
    ]
    means = {}
    for r in rows:
        means.setdefault(r["camera"], []).append((r["de00_metadata"], r["de00_tuned"]))
    for camera, values in means.items():
        values = np.array(values)
        table.append([camera, "all held-out", "", values[:, 0].mean(), values[:, 1].mean(), np.nan, np.nan])
    header = ["camera", "illuminant", "seed", "mean ΔE00 metadata", "mean ΔE00 tuned", "max metadata", "max tuned"]
    return "<h2>Held-out charts (developed with look 'neutral', measured by the lab)</h2>" + _table(header, table)


def _shading_section(calibration: ShadingCalibration) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(12, 3))
    for axis, channel in zip(axes, "rgb"):
        image = axis.imshow(calibration.gains[channel], cmap="viridis")
        axis.set_title(f"gain {channel.upper()}")
        figure.colorbar(image, ax=axis, fraction=0.035)
    rows = [
        [c.upper(), f"{1 / g.max():.3f}", f"{g.max():.3f}", r * 100]
        for c, g, r in zip("rgb", (calibration.gains[c] for c in "rgb"), calibration.residual)
    ]
    header = ["channel", "darkest / brightest", "largest gain", "residual beyond noise %"]
    return f"<h2>Lens shading: {html.escape(calibration.camera)}</h2>" + _png(figure) + _table(header, rows)


def _noise_section(calibration: NoiseCalibration) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(calibration.fits), figsize=(5 * len(calibration.fits), 3.5), squeeze=False)
    rows = []
    for axis, fit in zip(axes[0], calibration.fits):
        for channel, (samples, colour) in enumerate(zip(fit.samples, ("tab:red", "tab:green", "tab:blue"))):
            usable = samples.level > 0
            axis.loglog(
                samples.level[usable], np.maximum(samples.variance[usable], 1e-12), ".", ms=2, color=colour, alpha=0.3
            )
            level = np.geomspace(max(samples.level[usable].min(), 1e-5), samples.level.max(), 50)
            s, o = fit.profile[channel]
            axis.loglog(level, s * level + o, "-", color=colour, label=f"{'RGB'[channel]}: S={s:.3g} O={o:.3g}")
            rows.append([f"{fit.iso:g}", "RGB"[channel], f"{s:.4g}", f"{o:.4g}", fit.method])
        axis.set_title(f"ISO {fit.iso:g} ({fit.method})")
        axis.set_xlabel("signal (normalised)")
        axis.set_ylabel("temporal variance")
        axis.legend(fontsize=7)
    header = ["ISO", "channel", "S (shot)", "O (read)", "measured from"]
    return f"<h2>Noise: {html.escape(calibration.camera)}</h2>" + _png(figure) + _table(header, rows)


def render_report_html(
    *,
    colour: Sequence[ColourCalibration] = (),
    hue_sat_de00: Sequence[Sequence[np.ndarray] | None] = (),
    held_out: Sequence[dict] | None = None,
    shading: ShadingCalibration | None = None,
    noise: NoiseCalibration | None = None,
    title: str = "lumatune calibration report",
) -> str:
    """The report's HTML from whichever calibrations are given.

    Parameters
    ----------
    colour : colour calibrations (one per camera).
    hue_sat_de00 : for each colour calibration, None or per fit the (24,) ΔE00 per patch with the
        hue/saturation table.
    held_out : rows with keys camera, illuminant, seed, de00_metadata, de00_tuned, de00_max_metadata,
        de00_max_tuned.
    """
    sections = []
    for i, calibration in enumerate(colour):
        sections.append(_colour_section(calibration, hue_sat_de00[i] if i < len(hue_sat_de00) else None))
    if held_out:
        sections.append(_held_out_section(held_out))
    if shading is not None:
        sections.append(_shading_section(shading))
    if noise is not None:
        sections.append(_noise_section(noise))
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}img{max-width:100%}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n"
    )


def write_report(path: str | os.PathLike, *, overwrite: bool = False, **parts) -> Path:
    """Write :func:`render_report_html` atomically to ``path``; returns it."""
    path = Path(path)
    text = render_report_html(**parts)
    with atomic_output(path, overwrite) as temp:
        temp.write_text(text, encoding="utf-8")
    return path
