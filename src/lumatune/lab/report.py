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
    ("clipped_patches", "clipped patches", "{:d}"),
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

DEFINITIONS = {
    "de00_mean": "CIEDE2000 between each patch and its reference, after one exposure scale fitted on the greys",
    "de00_max": "the largest patch CIEDE2000",
    "awb_error_deg": "angle between the rendered greys and neutral (1, 1, 1) in linear RGB",
    "awb_error_vs_reference_deg": "angle between the rendered greys and the reference greys' own RGB: the "
    "rendering's error alone (real greys are slightly tinted)",
    "exposure_scale": "factor the rendering's linear values were multiplied by to match the reference greys",
    "clipped_patches": "patches with more than 1 % of their pixels at the largest code; left out of the exposure fit",
    "mtf50": "spatial frequency where the slanted edge's MTF falls to 50 % (ISO 12233 e-SFR); "
    "Nyquist is 0.5 cy/px",
    "mtf_half_nyquist": "MTF at 0.25 cy/px, half the Nyquist frequency",
    "dr_stops_snr10": "the same dynamic range at an SNR of 10",
    "overshoot_pct": "edge overshoot above the bright plateau (sharpening halo), % of the edge step",
    "snr_db": "mean over standard deviation of linear Y on the neutral patch nearest 18 % grey",
    "dr_stops_snr1": "stops from the brightest unclipped wedge step down to where the incremental SNR falls to 1",
    "false_colour": "mean a*b* distance to the truth image where the truth is neutral (demosaic and chroma noise)",
    "zipper_pct": "pixels whose contrast to their most similar neighbour grew by more than 2.3 ΔE*ab (Lu and Tan)",
    "psnr_db": "PSNR of the display-encoded image against the noiseless, unblurred truth image",
    "ssim": "structural similarity to the truth image (Wang et al. 2004)",
}
"""One-line definitions of the summary columns, shown under the table."""

FIGURE_DPI = 100
PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def _pyplot():
    import matplotlib  # lazy: matplotlib (0.1 s)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib (0.8 s)

    return plt


def _lab_to_display_srgb(lab: np.ndarray) -> np.ndarray:
    import colour  # lazy: colour-science (1.3 s)

    xyz = colour.Lab_to_XYZ(np.asarray(lab, dtype=np.float64), illuminant=colour.RGB_COLOURSPACES["sRGB"].whitepoint)
    return np.clip(colour.XYZ_to_sRGB(xyz), 0, 1)


def _png_base64(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    _pyplot().close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_delta_e(label: str, result: Mapping[str, Any], top: float | None = None) -> Any:
    """ΔE2000 bars per patch over a strip of swatches: reference left half, measured right half.

    ``top`` fixes the upper end of the ΔE2000 axis, so that several renderings share one scale.
    """
    from matplotlib.patches import Rectangle  # lazy: matplotlib (0.3 s)

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
    if top is not None:
        bars.set_ylim(0, top)
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


def _patch_noise_points(result: Mapping[str, Any]) -> list[tuple[float, float]]:
    curve = result.get("noise_curve", {})
    return [(s, n) for s, n in zip(curve.get("signal_y", []), curve.get("noise_y", []), strict=True) if s and n]


def _wedge_snr_points(result: Mapping[str, Any]) -> list[tuple[float, float]]:
    return [(s["relative_luminance"], s["snr"]) for s in result.get("wedge", []) if s["snr"] and not s["clipped"]]


def _plain_log_ticks(axis: Any) -> None:
    """Log axes labelled with plain numbers at 1, 2 and 5 times the powers of ten (0.002, 0.005, 0.01 ...)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # lazy: matplotlib (0.2 s)

    for ax in (axis.xaxis, axis.yaxis):
        ax.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.set_minor_formatter(NullFormatter())


def plot_noise(results: list[tuple[str, Mapping[str, Any]]]) -> Any:
    """Noise std(Y) against mean Y on the patches, and scene-referred SNR per wedge step (panels with data)."""
    plt = _pyplot()
    panels = [
        (name, points)
        for name, points in (("patches", _patch_noise_points), ("wedge", _wedge_snr_points))
        if any(points(result) for _, result in results)
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.0), squeeze=False)
    for axis, (name, points) in zip(axes[0], panels, strict=True):
        for (label, result), colour in zip(results, PALETTE * len(results)):
            data = points(result)
            if name == "patches" and data:  # one marker per patch: chart patches are no curve
                axis.loglog(*zip(*data), "o", color=colour, label=label, ms=4, alpha=0.8)
            elif data:
                axis.loglog(*zip(*data), "o-", color=colour, label=label, ms=4, base=2)
        if name == "patches":
            _plain_log_ticks(axis)
            axis.set_xlabel("signal: mean linear Y of the patch")
            axis.set_ylabel("noise: std of linear Y")
            axis.set_title("noise against signal (one point per patch)", fontsize=9)
        else:
            for threshold in (1, 10):
                axis.axhline(threshold, color="0.6", lw=0.8, ls=":")
            axis.set_xlabel("scene luminance of the step (perfect white = 1)")
            axis.set_ylabel("incremental SNR (ISO 15739)")
            axis.set_title("SNR per wedge step; DR thresholds SNR = 1 and 10", fontsize=9)
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


def _definitions(results: list[tuple[str, Mapping[str, Any]]]) -> str:
    shown = [(title, DEFINITIONS[key]) for key, title, _ in SUMMARY_COLUMNS if key in DEFINITIONS and any(
        r.get(key) is not None for _, r in results
    )]
    items = "".join(f"<li><b>{html.escape(title)}</b>: {html.escape(text)}</li>" for title, text in shown)
    return f"<ul class='definitions'>{items}</ul>"


def _image(figure: Any, alt: str) -> str:
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{_png_base64(figure)}"></figure>'


def render_report_html(results: list[tuple[str, Mapping[str, Any]]], truth: Truth) -> str:
    """The report as one HTML string (plots embedded)."""
    sections = [f"<h2>Summary</h2>{_summary_table(results)}{_definitions(results)}"]
    charts = [(label, r) for label, r in results if "patches" in r]
    if charts:
        top = 1.08 * max(max(p["de00"] for p in r["patches"]) for _, r in charts)
        bars = "".join(_image(plot_delta_e(label, r, top), f"ΔE {label}") for label, r in charts)
        sections.append("<h2>Colour accuracy</h2>" + bars)
        sections.append(_image(plot_ab_plane(charts), "a*b* plane"))
    if any("mtf" in r for _, r in results):
        sections.append("<h2>Sharpness</h2>" + _image(plot_mtf(results, truth), "MTF"))
    if any(_patch_noise_points(r) or _wedge_snr_points(r) for _, r in results):
        sections.append("<h2>Noise and dynamic range</h2>" + _image(plot_noise(results), "noise"))
    keys = ("scene", "camera", "illuminant", "iso", "ev", "seed")
    meta = ", ".join(f"{k} {truth.metadata[k]}" for k in keys if k in truth.metadata)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>lumatune lab report</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        "img{max-width:100%}.definitions{font-size:85%;color:#444}</style></head><body>"
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
