"""Image quality against exact ground truth: lumatune beside rawpy (AHD, DHT, LINEAR) on virtual-camera scenes.

For each illuminant x camera x ISO (3 x 2 x 2 = 12 captures) the virtual camera (``lumatune.sim``) writes
three DNGs with their ground truth, and every contender develops them in the same run:

- ``colorchecker``: mean and max CIEDE2000 over the 24 patches after one exposure scale fitted on the
  greys, and the AWB error: the mean angle between each rendered grey and the truth's own grey in linear
  sRGB (``awb_error_vs_reference_deg``; 0 for a perfect rendering, whatever the greys' slight tint);
- ``slanted-edge``: MTF50 of the luminance (ISO 12233 e-SFR), beside the optics' own MTF50;
- ``zone-plate``: PSNR of the sRGB-encoded image against the noiseless, unblurred truth image and false
  colour (mean a*b* distance to the neutral truth), after the exposure scale fitted on the chart of the
  same capture and contender. Both include the lens blur and the sensor noise, which every contender
  sees alike; at ISO 1600 false colour is mostly chroma noise.

Contenders: ``lumatune.develop(dng, look="neutral")``; rawpy ``postprocess(demosaic_algorithm=...,
use_camera_wb=True, output_color=sRGB, no_auto_bright=True, output_bps=16, gamma=(2.4, 12.92))`` (LibRaw's
sRGB curve). Both white-balance with the DNG's AsShotNeutral, which the virtual camera sets to the exact
scene white, so the AWB error measures how the colour pipeline carries the neutral, not an estimator.

Lens shading is off (``Optics(shading=False)``): LibRaw does not apply the DNG GainMap opcode (OpcodeList2)
that undoes it, so with shading on rawpy's images would be vignetted and every figure would measure that.
Scene sizes, exposure and seed are the constants below; the run takes well under a minute here.

    python benchmarks/quality.py [--json results.json]

References
----------
- CIE 142-2001, *Improvement to industrial colour-difference evaluation* (CIEDE2000).
- ISO 12233:2017, *Resolution and spatial frequency responses* (slanted-edge e-SFR, MTF50).
- Adobe, DNG Specification 1.6.0.0 (AsShotNeutral, colour matrices, OpcodeList2 GainMap).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ILLUMINANTS = ("D65", "A", "F11")
CAMERAS = ("Nikon 5100 (NPL)", "Sigma SDMerill (NPL)")
ISOS = (100, 1600)
SCENE_SIZES = {"colorchecker": (1536, 1024), "slanted-edge": (384, 384), "zone-plate": (384, 384)}
"""The chart is large so that the patch means (about 11,000 pixels each) carry little sampling noise."""
EV = -0.5
"""Every scene half a stop under the simulator's default, perfect white at 60 % of full scale. At ev 0
(85 %) LibRaw's ``adjust_maximum_thr`` (0.75) takes the image's own maximum as the white level, which
brightens its rendering by a quarter stop and clips the white patch: its colour and AWB figures would
measure the clip. rawpy's options are the issue's, so the capture moves instead."""
TRUTH_IMAGE_SCENES = ("zone-plate",)
"""Only the zone plate's figures need the truth image (its artefact measures cost seconds on the chart)."""
RAWPY_METHODS = ("AHD", "DHT", "LINEAR")
CONTENDERS = ("lumatune neutral", *(f"rawpy {method}" for method in RAWPY_METHODS))
SEED = 7

COLUMNS = (
    ("de00_mean", "ΔE00 mean", "{:9.2f}", "low"),
    ("de00_max", "ΔE00 max", "{:8.2f}", "low"),
    ("awb_deg", "AWB err°", "{:8.2f}", "low"),
    ("mtf50", "MTF50", "{:6.3f}", "high"),
    ("psnr_db", "PSNR dB", "{:7.2f}", "high"),
    ("false_colour", "false C*", "{:8.2f}", "low"),
)
"""Row key, title, format, and which way is better."""

REQUIRED = ("de00_mean", "de00_max", "awb_deg")
"""Figures on which lumatune must be at least as good as rawpy's best (the issue's bar: ΔE00 and AWB)."""


NOTE = f"""\
Virtual camera, ev {EV:+g}, lens shading OFF (Optics(shading=False)): LibRaw does not apply the DNG GainMap
opcode that undoes it. Both contenders white-balance with AsShotNeutral (the exact scene white).
colorchecker {SCENE_SIZES['colorchecker'][0]}x{SCENE_SIZES['colorchecker'][1]}: ΔE00 (one exposure scale fitted \
on the greys);
  AWB err = mean angle between the rendered greys and the truth's greys in linear sRGB
slanted-edge {SCENE_SIZES['slanted-edge'][0]}x{SCENE_SIZES['slanted-edge'][1]}: MTF50 in cy/px (ISO 12233 e-SFR)
zone-plate {SCENE_SIZES['zone-plate'][0]}x{SCENE_SIZES['zone-plate'][1]}: PSNR (sRGB codes) against the noiseless, \
unblurred truth image;
  false C* = mean a*b* distance to the grey truth; both after the chart's exposure scale, both include the
  lens blur and the sensor noise, the same for every contender.
"""


def develop_lumatune(dng: Path) -> np.ndarray:
    """lumatune's neutral look: float32 sRGB codes in [0, 1]."""
    import lumatune

    return lumatune.develop(dng, look="neutral")


def develop_rawpy(dng: Path, method: str) -> np.ndarray:
    """LibRaw with the DNG's white balance and sRGB output: uint16 sRGB codes."""
    import rawpy

    with rawpy.imread(str(dng)) as raw:
        return raw.postprocess(
            demosaic_algorithm=getattr(rawpy.DemosaicAlgorithm, method),
            use_camera_wb=True,
            output_color=rawpy.ColorSpace.sRGB,
            no_auto_bright=True,
            output_bps=16,
            gamma=(2.4, 12.92),  # LibRaw's sRGB curve; rawpy's default is BT.709's
        )


def develop(contender: str, dng: Path) -> np.ndarray:
    if contender.startswith("rawpy "):
        return develop_rawpy(dng, contender.removeprefix("rawpy "))
    return develop_lumatune(dng)


def write_captures(folder: Path, illuminant: str, camera: str, iso: int) -> dict[str, tuple[Path, Path]]:
    """Simulate the three scenes of one capture condition; scene -> (DNG, truth JSON)."""
    from lumatune.sim import Optics, simulate, write_sim

    captures = {}
    for scene, size in SCENE_SIZES.items():
        result = simulate(
            scene,
            illuminant=illuminant,
            camera=camera,
            iso=iso,
            ev=EV,
            seed=SEED,
            size=size,
            optics=Optics(shading=False),
        )
        tag = f"{scene}-{illuminant}-{camera.split()[0]}-{iso}"
        captures[scene] = write_sim(folder / f"{tag}.dng", result, with_truth_image=scene in TRUTH_IMAGE_SCENES)
    return captures


def measure_contender(contender: str, captures: dict[str, tuple[Path, Path]]) -> dict[str, float | None]:
    """Every figure of one contender on one capture condition."""
    from lumatune.lab.measure import measure

    def run(scene: str, **options) -> dict:
        dng, truth = captures[scene]
        return measure(develop(contender, dng), truth, space="srgb", **options)

    chart = run("colorchecker")
    edge = run("slanted-edge")
    plate = run("zone-plate", exposure_scale=chart["exposure_scale"])
    return {
        "de00_mean": chart["de00_mean"],
        "de00_max": chart["de00_max"],
        "awb_deg": chart["awb_error_vs_reference_deg"],
        "awb_vs_neutral_deg": chart["awb_error_deg"],
        "exposure_scale": chart["exposure_scale"],
        "clipped_patches": chart["clipped_patches"],
        "mtf50": edge["mtf50"],
        "mtf50_truth": edge["mtf50_truth"],
        "psnr_db": plate["psnr_db"],
        "false_colour": plate["false_colour"],
    }


def run_all(folder: Path) -> list[dict]:
    """Rows: one per capture condition and contender."""
    rows = []
    conditions = list(itertools.product(ILLUMINANTS, CAMERAS, ISOS))
    for index, (illuminant, camera, iso) in enumerate(conditions, start=1):
        start = time.perf_counter()
        captures = write_captures(folder, illuminant, camera, iso)
        for contender in CONTENDERS:
            figures = measure_contender(contender, captures)
            rows.append({"illuminant": illuminant, "camera": camera, "iso": iso, "contender": contender, **figures})
        elapsed = time.perf_counter() - start
        progress = f"[{index:2d}/{len(conditions)}] {illuminant:3s} {camera:22s} ISO {iso:<5d} {elapsed:5.1f} s"
        print(progress, file=sys.stderr)
    return rows


def _cells(row: dict) -> str:
    """The row's figures, each right-aligned under its column title."""
    cells = ("–" if row[key] is None else fmt.format(row[key]) for key, _, fmt, _ in COLUMNS)
    return " ".join(cell.rjust(len(title)) for cell, (_, title, _, _) in zip(cells, COLUMNS))


def summarise(rows: list[dict], contender: str) -> dict:
    """Means over the capture conditions; for ΔE00 max, the worst."""
    mine = [r for r in rows if r["contender"] == contender]
    summary = {key: float(np.mean([r[key] for r in mine])) for key, *_ in COLUMNS}
    summary["de00_max"] = max(r["de00_max"] for r in mine)
    return summary


def print_table(rows: list[dict]) -> None:
    titles = " ".join(title for _, title, _, _ in COLUMNS)
    header = f"{'illuminant':10s} {'camera':22s} {'ISO':>5s}  {'contender':17s} {titles}"
    print(header)
    print("-" * len(header))
    for row in rows:
        label = f"{row['illuminant']:10s} {row['camera']:22s} {row['iso']:5d}"
        print(f"{label}  {row['contender']:17s} {_cells(row)}")
        if row["contender"] == CONTENDERS[-1]:
            print()
    conditions = len(rows) // len(CONTENDERS)
    print(f"all {conditions} captures: mean of each figure, worst ΔE00 max")
    for contender in CONTENDERS:
        print(f"{'':40s}{contender:17s} {_cells(summarise(rows, contender))}")
    print(f"(MTF50 of the optics alone, from the truth: {np.mean([r['mtf50_truth'] for r in rows]):.3f} cy/px)")


def _best_or_tied(mine: float, theirs: float, direction: str) -> bool:
    return mine <= theirs if direction == "low" else mine >= theirs


def _best_rawpy(values: dict[str, float], direction: str) -> str:
    rawpy = {name: value for name, value in values.items() if name != CONTENDERS[0]}
    return (min if direction == "low" else max)(rawpy, key=rawpy.get)


def print_verdict(rows: list[dict]) -> None:
    """lumatune against rawpy's best per figure: on the summary and capture by capture."""
    print("\nlumatune neutral against rawpy's best (lower is better, except MTF50 and PSNR):")
    conditions = sorted({(r["illuminant"], r["camera"], r["iso"]) for r in rows}, key=str)
    for key, title, fmt, direction in COLUMNS:
        overall = {contender: summarise(rows, contender)[key] for contender in CONTENDERS}
        best = _best_rawpy(overall, direction)
        wins = 0
        for condition in conditions:
            here = {r["contender"]: r[key] for r in rows if (r["illuminant"], r["camera"], r["iso"]) == condition}
            wins += _best_or_tied(here[CONTENDERS[0]], here[_best_rawpy(here, direction)], direction)
        verdict = "ok" if _best_or_tied(overall[CONTENDERS[0]], overall[best], direction) else "BEHIND"
        required = "  (required)" if key in REQUIRED else ""
        ours, theirs = fmt.format(overall[CONTENDERS[0]]).strip(), fmt.format(overall[best]).strip()
        print(
            f"  {title:10s} lumatune {ours:>6s}  best rawpy {theirs:>6s} ({best.removeprefix('rawpy '):6s}) "
            f"{verdict:6s}  best or tied in {wins:2d} of {len(conditions)} captures{required}"
        )
    for row in (r for r in rows if r["clipped_patches"]):
        where = f"{row['illuminant']} {row['camera']} ISO {row['iso']}"
        print(f"  warning: {row['contender']} clipped {row['clipped_patches']} chart patches at {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write every row as JSON to this file")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        rows = run_all(Path(folder))
    print(NOTE)
    print_table(rows)
    print_verdict(rows)
    elapsed = time.perf_counter() - start
    print(f"\n{len(rows) // len(CONTENDERS)} captures x {len(CONTENDERS)} contenders in {elapsed:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
