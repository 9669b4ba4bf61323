"""``lumatune lab burst``: measure a merged burst against the virtual camera's burst truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["lab_burst_command"]


def lab_burst_command(
    merged: Annotated[Path, typer.Argument(help="the merged DNG")],
    truth: Annotated[Path, typer.Option("--truth", "-t", help="truth.json written by lumatune sim burst")],
    as_json: Annotated[bool, typer.Option("--json", help="print every figure as JSON")] = False,
    figure: Annotated[Optional[Path], typer.Option("--figure", help="PNG of reference / merged / truth crops")] = None,
) -> None:
    """Linear-raw PSNR on the static and moving regions, gain over the reference frame, ghosting, DR."""
    from lumatune.lab.burst import measure_burst  # lazy: rawpy, colour-science-free but cv2 (~0.1 s)

    result = measure_burst(merged, truth)
    if figure is not None:
        _figure(merged, truth, figure)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, float):
            typer.echo(f"{key:28s} {value:8.2f}")
        elif isinstance(value, dict):
            one, ten = value["dr_snr1_stops"], value["dr_snr10_stops"]
            typer.echo(f"{key:28s} DR(SNR 1) {one} stops, DR(SNR 10) {ten} stops")
        elif value is not None:
            typer.echo(f"{key:28s} {value}")


def _figure(merged: Path, truth: Path, path: Path) -> None:
    import numpy as np

    from lumatune.lab.burst import burst_figure, load_burst_truth, read_mosaic

    meta, arrays = load_burst_truth(truth)
    ref, colours, ref_baseline = read_mosaic(truth.parent / meta["reference"])
    values, _, baseline = read_mosaic(merged)
    values *= np.float32(2.0 ** (baseline - ref_baseline))
    h, w = ref.shape
    side = min(h, w) // 3
    boxes = [(w // 2 - side // 2, h // 2 - side // 2, w // 2 + side // 2, h // 2 + side // 2)]
    moving = arrays["moving_mask"]
    if moving.any():
        ys, xs = np.nonzero(moving)
        cy, cx = int(ys.mean()), int(xs.mean())
        x0, y0 = max(cx - side // 2, 0), max(cy - side // 2, 0)
        boxes.append((x0, y0, min(x0 + side, w), min(y0 + side, h)))
    panels = {"reference frame": (ref, colours), "merged": (values, colours), "truth": (arrays["reference"], colours)}
    burst_figure(panels, boxes, path)
    typer.echo(f"wrote {path}")
