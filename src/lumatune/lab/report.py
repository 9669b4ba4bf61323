"""A self-contained HTML report of one or more renderings measured against the same truth.

One file, no external resources: a summary table, then matplotlib plots (Agg backend) embedded as
base64 PNG: ΔE2000 per patch with the reference and measured colours side by side, an a*b* plane
with arrows from reference to measured, the MTF curves (with the optics' analytic MTF from the truth
when it has one) and the noise curves (noise against signal on the patches, SNR against scene
luminance on the wedge). Swatches are shown in sRGB, clipped, whatever space was measured.

References
----------
- CIE 015:2018, *Colorimetry* (L*a*b*, a*b* plane).
- ISO 12233:2017 (SFR plots), ISO 15739:2023 (noise and dynamic range).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lumatune.io.atomic import atomic_output
from lumatune.lab.truth import Truth, load_truth

__all__ = ["SUMMARY_COLUMNS", "write_report", "render_report_html"]

SUMMARY_COLUMNS = (
    ("de00_mean", "ΔE00 mean", "{:.2f}"),
    ("de00_max", "ΔE00 max", "{:.2f}"),
    ("awb_error_deg", "AWB error °", "{:.2f}"),
    ("awb_error_vs_reference_deg", "AWB vs ref °", "{:.2f}"),
    ("exposure_scale", "exposure ×", "{:.3f}"),
    ("mtf50", "MTF50 cy/px", "{:.3f}"),
    ("mtf_half_nyquist", "MTF @ 0.25", "{:.3f}"),
    ("overshoot_pct", "overshoot %", "{:.1f}"),
    ("snr_db", "SNR dB", "{:.1f}"),
    ("dr_stops_snr1", "DR @ SNR 1", "{:.2f}"),
    ("dr_stops_snr10", "DR @ SNR 10", "{:.2f}"),
    ("false_colour", "false colour C*", "{:.2f}"),
    ("zipper_pct", "zipper %", "{:.2f}"),
    ("psnr_db", "PSNR dB", "{:.2f}"),
    ("ssim", "SSIM", "{:.4f}"),
)
"""Headline keys of :func:`lumatune.lab.measure.measure`, their column titles and formats."""

FIGURE_DPI = 100
PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _lab_to_display_srgb(lab: np.ndarray) -> np.ndarray:
    import colour

    xyz = colour.Lab_to_XYZ(np.asarray(lab, dtype=np.float64), illuminant=colour.RGB_COLOURSPACES["sRGB"].whitepoint)
    return np.clip(colour.XYZ_to_sRGB(xyz), 0, 1)


def _png_base64(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    _pyplot().close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_delta_e(label: str, result: Mapping[str, Any]) -> Any:
    """ΔE2000 bars per patch over a strip of swatches: reference left half, measured right half."""
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    patches = result["patches"]
    count = len(patches)
    reference = _lab_to_display_srgb([p["reference_lab"] for p in patches])
    measured = _lab_to_display_srgb([p["lab"] for p in patches])
    figure, (bars, strip) = plt.subplots(
        2, 1, figsize=(max(6.0, 0.4 * count), 4.2), sharex=True, gridspec_kw={"height_ratios": [4, 1]}
    )
    drawn = bars.bar(np.arange(count), [p["de00"] for p in patches], color=measured, edgecolor="0.3")
    outside = [bar for bar, p in zip(drawn, patches, strict=True) if not p["in_gamut"]]
    for bar in outside:
        bar.set_hatch("//")
    if outside:
        bars.legend([outside[0]], ["reference outside the output gamut"], fontsize=8)
    bars.set_ylabel("ΔE2000")
    bars.set_title(f"{label}: ΔE2000 per patch (mean {result['de00_mean']:.2f}, max {result['de00_max']:.2f})")
    for i in range(count):
        strip.add_patch(Rectangle((i - 0.45, 0), 0.45, 1, color=reference[i]))
        strip.add_patch(Rectangle((i, 0), 0.45, 1, color=measured[i]))
    strip.set_xlim(-0.6, count - 0.4)
    strip.set_ylim(0, 1)
    strip.set_yticks([])
    strip.set_xticks(np.arange(count), [p["name"] for p in patches], rotation=70, ha="right", fontsize=7)
    strip.set_ylabel("ref | meas", fontsize=7)
    return figure


def plot_ab_plane(results: list[tuple[str, Mapping[str, Any]]]) -> Any:
    """a*b* plane per rendering: reference patches as circles, arrows to the measured colours."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(results), figsize=(4.4 * len(results), 4.4), squeeze=False)
    for axis, (label, result) in zip(axes[0], results, strict=True):
        reference = np.array([p["reference_lab"] for p in result["patches"]])
        measured = np.array([p["lab"] for p in result["patches"]])
        swatches = _lab_to_display_srgb(reference)
        axis.scatter(reference[:, 1], reference[:, 2], s=60, c=swatches, edgecolors="0.2", zorder=2)
        for (_, a0, b0), (_, a1, b1) in zip(reference, measured, strict=True):
            axis.annotate("", (a1, b1), (a0, b0), arrowprops={"arrowstyle": "->", "color": "0.1", "lw": 0.8})
        axis.axhline(0, color="0.8", lw=0.5)
        axis.axvline(0, color="0.8", lw=0.5)
        axis.set_xlabel("a*")
        axis.set_ylabel("b*")
        axis.set_aspect("equal", adjustable="datalim")
        axis.set_title(f"{label}: reference → measured", fontsize=9)
    return figure


def plot_mtf(results: list[tuple[str, Mapping[str, Any]]], truth: Truth) -> Any:
    """MTF curves of every rendering, with the truth's analytic MTF dashed and Nyquist marked."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.4, 4.0))
    if truth.edge is not None and truth.edge.mtf:
        mtf50 = truth.edge.mtf50_cy_px
        name = "truth (optics)" if mtf50 is None else f"truth (optics, MTF50 {mtf50:.3f})"
        axis.plot(truth.edge.mtf_frequency_cy_px, truth.edge.mtf, "k--", lw=1.2, label=name)
    for (label, result), colour in zip(results, PALETTE * len(results)):
        if "mtf" in result:
            mtf50 = result["mtf50"]
            name = f"{label} (MTF50 {mtf50:.3f})" if mtf50 is not None else label
            axis.plot(result["mtf"]["frequency_cy_px"], result["mtf"]["mtf"], color=colour, label=name)
    axis.axvline(0.5, color="0.6", lw=0.8, ls=":")
    axis.axhline(0.5, color="0.85", lw=0.8)
    axis.set_xlim(0, 1.0)
    axis.set_ylim(0, max(1.1, axis.get_ylim()[1]))
    axis.set_xlabel("frequency (cycles/pixel); Nyquist = 0.5")
    axis.set_ylabel("MTF (slanted edge, ISO 12233)")
    axis.legend(fontsize=8)
    return figure


def plot_noise(results: list[tuple[str, Mapping[str, Any]]]) -> Any:
    """Noise std(Y) against mean Y on the patches, and scene-referred SNR per wedge step."""
    plt = _pyplot()
    figure, (curve, wedge) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for (label, result), colour in zip(results, PALETTE * len(results)):
        if "noise_curve" in result:
            curve_data = result["noise_curve"]
            points = [(s, n) for s, n in zip(curve_data["signal_y"], curve_data["noise_y"], strict=True) if s and n]
            if points:
                curve.loglog(*zip(*points), "o-", color=colour, label=label, ms=4)
        if "wedge" in result:
            points = [(s["relative_luminance"], s["snr"]) for s in result["wedge"] if s["snr"] and not s["clipped"]]
            if points:
                wedge.loglog(*zip(*points), "o-", color=colour, label=label, ms=4, base=2)
    curve.set_xlabel("signal: mean linear Y")
    curve.set_ylabel("noise: std of linear Y")
    curve.set_title("noise against signal (patches)", fontsize=9)
    for threshold in (1, 10):
        wedge.axhline(threshold, color="0.6", lw=0.8, ls=":")
    wedge.set_xlabel("relative scene luminance (wedge)")
    wedge.set_ylabel("incremental SNR (ISO 15739)")
    wedge.set_title("SNR per wedge step; DR thresholds SNR = 1 and 10", fontsize=9)
    for axis in (curve, wedge):
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    return figure


def _cell(result: Mapping[str, Any], key: str, fmt: str) -> str:
    value = result.get(key)
    return "–" if value is None else fmt.format(value)


def _summary_table(results: list[tuple[str, Mapping[str, Any]]]) -> str:
    columns = [c for c in SUMMARY_COLUMNS if any(r.get(c[0]) is not None for _, r in results)]
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in columns)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>" + "".join(f"<td>{_cell(r, k, f)}</td>" for k, _, f in columns) + "</tr>"
        for label, r in results
    )
    return f"<table><tr><th>rendering</th>{head}</tr>{rows}</table>"


def _image(figure: Any, alt: str) -> str:
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{_png_base64(figure)}"></figure>'


def render_report_html(results: list[tuple[str, Mapping[str, Any]]], truth: Truth) -> str:
    """The report as one HTML string (plots embedded)."""
    sections = [f"<h2>Summary</h2>{_summary_table(results)}"]
    charts = [(label, r) for label, r in results if "patches" in r]
    if charts:
        bars = "".join(_image(plot_delta_e(label, r), f"ΔE {label}") for label, r in charts)
        sections.append("<h2>Colour accuracy</h2>" + bars)
        sections.append(_image(plot_ab_plane(charts), "a*b* plane"))
    if any("mtf" in r for _, r in results):
        sections.append("<h2>Sharpness</h2>" + _image(plot_mtf(results, truth), "MTF"))
    if any("noise_curve" in r or "wedge" in r for _, r in results):
        sections.append("<h2>Noise and dynamic range</h2>" + _image(plot_noise(results), "noise"))
    keys = ("scene", "camera", "illuminant", "iso", "ev", "seed")
    meta = ", ".join(f"{k} {truth.metadata[k]}" for k in keys if k in truth.metadata)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>lumatune lab report</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>lumatune lab report</h1><p>Truth: {html.escape(truth.source)} ({html.escape(meta)})</p>"
        + "".join(sections)
        + "</body></html>"
    )


def write_report(
    results: list[tuple[str, Mapping[str, Any]]],
    truth: str | Path | Mapping[str, Any] | Truth,
    out_html: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the self-contained HTML report of labelled measurement results.

    Parameters
    ----------
    results
        ``(label, result)`` pairs, each result from :func:`lumatune.lab.measure.measure` on the same truth.
    truth
        The truth they were measured against (path, dict or :class:`Truth`).
    out_html
        Destination file; written atomically (temporary file beside it, then renamed).
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    OutputError
        The folder is missing, the file exists without ``overwrite``, or writing fails.
    """
    with atomic_output(out_html, overwrite=overwrite) as temporary:
        temporary.write_text(render_report_html(list(results), load_truth(truth)), encoding="utf-8")
    return Path(out_html)
