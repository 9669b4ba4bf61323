"""Calibration on the virtual camera, proved on held-out captures: colour, lens shading, noise.

For each simulated camera, ColorChecker raws under D65 and A (one seed) calibrate a tuning (``lumatune
calibrate colour``: least mean ΔE2000 matrices, white preserved, interpolated in 1/CCT). Held-out charts
(other seeds; the two calibration lights, lights between them and beyond them) are developed with look
``neutral`` in Rec.2020 (no gamut clipping of the chart) once with the raw's metadata matrices and once with
the tuning, and measured by the lab (ΔE2000 after one exposure scale fitted on the greys). The hue/saturation
table's gain is measured on the same held-out charts' raw patch values rendered through the written DCP with
and without the table. Shading: gains calibrated on two flats, flatness of held-out flats (other seeds and
ISO) after correction. Noise: pairs of step-wedge raws at several ISOs, the fitted NoiseProfile against the
simulator's.

    python benchmarks/calibration.py [--size 600x400] [--report report.html]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

CALIBRATION_LIGHTS = ("D65", "A")
HELD_OUT_LIGHTS = ("D65", "A", "3500K", "4000K", "D50", "2400K", "D75", "10000K")
HELD_OUT_SEEDS = (21, 22)
CALIBRATION_SEED = 11
NOISE_ISOS = (100, 800, 3200)


def _sim(folder: Path, name: str, scene: str, size, **options) -> tuple[Path, Path]:
    from lumatune.sim import simulate, write_sim

    return write_sim(folder / f"{name}.dng", simulate(scene, size=size, **options), overwrite=True)


def colour_rows(folder: Path, camera: str, size) -> tuple[list[dict], dict]:
    """Calibrate one camera; return the held-out rows and the calibration's parts for the report."""
    import lumatune
    from lumatune.calibrate.capture import load_captures
    from lumatune.calibrate.chart import NEUTRAL_PATCHES, read_chart
    from lumatune.calibrate.colour import calibrate_colour, exposure_scale
    from lumatune.colour.difference import delta_e00
    from lumatune.calibrate.dcp import profile_from_calibration, read_dcp, render_xyz_d65, write_dcp
    from lumatune.calibrate.huesat import fit_calibration_hue_sat_maps
    from lumatune.calibrate.reference import chart_reference_xyz
    from lumatune.calibrate.tuningfile import write_tuning_blocks
    from lumatune.colour.spaces import XYZ_to_Lab
    from lumatune.lab.measure import measure

    tag = camera.split()[0]
    raws = [
        _sim(
            folder, f"{tag}-cal-{light}", "colorchecker", size, illuminant=light, camera=camera, seed=CALIBRATION_SEED
        )[0]
        for light in CALIBRATION_LIGHTS
    ]
    calibration = calibrate_colour(raws)
    tuning = write_tuning_blocks(
        folder / f"{tag}.toml", {"colour_matrix": calibration.block()}, camera=calibration.camera, overwrite=True
    )
    maps, hue_sat_de00 = fit_calibration_hue_sat_maps(calibration)
    dcp = read_dcp(
        write_dcp(folder / f"{tag}.dcp", profile_from_calibration(calibration, hue_sat_maps=maps), overwrite=True)
    )
    greys = np.isin(np.arange(24), NEUTRAL_PATCHES)
    rows = []
    for light in HELD_OUT_LIGHTS:
        for seed in HELD_OUT_SEEDS:
            dng, truth = _sim(
                folder, f"{tag}-test-{light}-{seed}", "colorchecker", size, illuminant=light, camera=camera, seed=seed
            )
            raw = lumatune.open_raw(dng)
            metadata = measure(lumatune.develop(raw, look="neutral", space="rec2020"), truth, space="rec2020")
            tuned = measure(
                lumatune.develop(raw, look="neutral", space="rec2020", tuning=tuning), truth, space="rec2020"
            )
            capture = load_captures([dng])[0]
            rgb, reference = read_chart(capture).rgb, chart_reference_xyz(light)
            neutral = raw.as_shot_neutral / raw.as_shot_neutral[1]
            dcp_de00 = {}
            for use in (False, True):
                xyz = render_xyz_d65(dcp, rgb, neutral, use_hue_sat_map=use)
                scale = exposure_scale(xyz[greys, 1], reference[greys, 1])
                dcp_de00[use] = float(delta_e00(XYZ_to_Lab(xyz * scale), XYZ_to_Lab(reference)).mean())
            rows.append(
                dict(
                    camera=camera,
                    illuminant=light,
                    seed=seed,
                    de00_metadata=metadata["de00_mean"],
                    de00_tuned=tuned["de00_mean"],
                    de00_max_metadata=metadata["de00_max"],
                    de00_max_tuned=tuned["de00_max"],
                    dcp_matrix=dcp_de00[False],
                    dcp_hue_sat=dcp_de00[True],
                )
            )
    return rows, {"colour": calibration, "hue_sat_de00": hue_sat_de00}


def shading_rows(folder: Path, size) -> tuple[list[dict], object]:
    from lumatune.calibrate.capture import load_captures
    from lumatune.calibrate.shading import calibrate_shading, flatness
    from lumatune.calibrate.tuningfile import tuning_from_blocks

    flats = [_sim(folder, f"flat-{seed}", "flat-field", size, seed=seed)[0] for seed in (1, 2)]
    calibration = calibrate_shading(flats)
    params = tuning_from_blocks({"lens_shading": calibration.block()}).blocks.params["lens_shading"]
    rows = []
    for iso, seed in ((100, 31), (400, 32), (1600, 33)):
        dng = _sim(folder, f"flat-test-{seed}", "flat-field", size, seed=seed, iso=iso)[0]
        before = load_captures([dng], correct_shading=False)[0]
        after = load_captures([dng], lens_shading=params)[0]
        rows.append(
            dict(
                iso=iso,
                seed=seed,
                before=flatness(before.mosaic, before.raw.cfa).max(),
                after=flatness(after.mosaic, after.raw.cfa).max(),
            )
        )
    return rows, calibration


def noise_rows(folder: Path, size) -> tuple[list[dict], object]:
    from lumatune.calibrate.noise import calibrate_noise

    raws = [
        _sim(folder, f"wedge-{iso}-{seed}", "step-wedge", size, iso=iso, seed=seed)[0]
        for iso in NOISE_ISOS
        for seed in (1, 2)
    ]
    calibration = calibrate_noise(raws)
    rows = []
    for fit in calibration.fits:
        truth = json.loads(Path(fit.paths[0]).with_suffix(".json").read_text())["noise"]["noise_profile"]
        error = fit.profile / np.asarray(truth) - 1
        rows.append(
            dict(iso=fit.iso, method=fit.method, s_error=np.abs(error[:, 0]).max(), o_error=np.abs(error[:, 1]).max())
        )
    return rows, calibration


def print_colour(rows: list[dict]) -> None:
    print(
        f"{'camera':22s} {'illuminant':10s} {'seed':>4s} | {'metadata':>8s} {'tuned':>6s} | "
        f"{'max meta':>8s} {'max tuned':>9s} | "
        f"{'DCP matrix':>10s} {'+hue/sat':>8s}"
    )
    for r in rows:
        print(
            f"{r['camera']:22s} {r['illuminant']:10s} {r['seed']:4d} | "
            f"{r['de00_metadata']:8.2f} {r['de00_tuned']:6.2f} | {r['de00_max_metadata']:8.2f} "
            f"{r['de00_max_tuned']:9.2f} | {r['dcp_matrix']:10.2f} {r['dcp_hue_sat']:8.2f}"
        )
    for camera in dict.fromkeys(r["camera"] for r in rows):
        mine = [r for r in rows if r["camera"] == camera]
        meta, tuned = np.mean([r["de00_metadata"] for r in mine]), np.mean([r["de00_tuned"] for r in mine])
        wins = sum(r["de00_tuned"] < r["de00_metadata"] for r in mine)
        hsm = np.mean([r["dcp_hue_sat"] for r in mine]) - np.mean([r["dcp_matrix"] for r in mine])
        print(
            f"{camera}: held-out mean ΔE00 metadata {meta:.2f}, tuned {tuned:.2f} (ratio {tuned / meta:.2f}; "
            f"tuned better on {wins}/{len(mine)} scenes); hue/sat table changes the DCP rendering by {hsm:+.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="600x400", help="image size WxH of the simulated raws")
    parser.add_argument("--report", type=Path, help="write the HTML report here")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    from lumatune.sim import CAMERAS

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        rows, parts = [], {"colour": [], "hue_sat_de00": []}
        for camera in CAMERAS:
            camera_rows, camera_parts = colour_rows(folder, camera, size)
            rows += camera_rows
            for key in parts:
                parts[key].append(camera_parts[key])
        print_colour(rows)
        shading, shading_calibration = shading_rows(folder, size)
        for r in shading:
            print(
                f"shading held-out flat ISO {r['iso']} seed {r['seed']}: "
                f"worst channel departure {r['before']:.1%} -> {r['after']:.2%}"
            )
        noise, noise_calibration = noise_rows(folder, size)
        for r in noise:
            print(
                f"noise ISO {r['iso']:g} ({r['method']}): "
                f"worst channel error S {r['s_error']:.1%}, O {r['o_error']:.1%}"
            )
        if args.report:
            from lumatune.calibrate.report import write_report

            write_report(
                args.report,
                overwrite=True,
                held_out=rows,
                shading=shading_calibration,
                noise=noise_calibration,
                **parts,
            )
            print(f"report: {args.report}")


if __name__ == "__main__":
    main()
