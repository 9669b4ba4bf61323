"""Lens corrections on the virtual camera: DNG opcodes applied by ``lumatune develop``, against rawpy (none applied).

For each virtual lens (barrel -5 % and pincushion +3 % at the corner, lateral colour 1.5 px at the corner,
vignetting -1.2 EV at the corner, all written as OpcodeList3 by the simulator) a checkerboard and a flat field
are simulated, developed with ``lumatune develop --look neutral`` (16-bit TIFF, no tone curve, decoded to
linear) and with rawpy (LibRaw, linear 16-bit output; it applies no opcode), and measured by the lab
(:mod:`lumatune.lab.lens`, OpenCV): grid RMS after a similarity fit to the truth's undistorted corners, lateral
CA (R and B corners against G), flat-field deviation. Then the lens stage's cost at ``--cost-size`` (24 MP by
default) under ``--profile``, beside OpenCV's ``remap`` (bicubic, same size, this machine, this run).

    python benchmarks/lens.py [--size 1536x1024] [--cost-size 6000x4000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LENSES = {
    "barrel -5 %": {"distortion": -0.05, "lateral_ca_px": 1.5, "vignetting_ev": -1.2},
    "pincushion +3 %": {"distortion": 0.03, "lateral_ca_px": 1.5, "vignetting_ev": -1.2},
}

MUST = {"grid_rms_px": 0.3, "lateral_ca_px": 0.15, "flat_field_percent": 2.0}
"""The issue's bounds after ``develop``."""


def _lumatune(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "lumatune", *args], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"lumatune {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout + done.stderr


PSF_SIGMAS = (0.6, 0.8)
"""Gaussian PSF of the virtual lens, px: the simulator's default (sharp: the red and blue sites of the mosaic alias)
and a slightly softer lens, as an optical low-pass filter makes it."""

FLOOR_LENS = {"distortion": -0.05, "lateral_ca_px": 0.0, "vignetting_ev": -1.2}
"""The barrel lens without lateral colour: what the lateral CA measure gives on a capture that has none."""


def _simulate(folder: Path, name: str, scene: str, size, lens: dict, sigma: float = 0.6) -> tuple[Path, dict]:
    from lumatune.sim import simulate, write_sim
    from lumatune.sim.lens import VirtualLens
    from lumatune.sim.optics import Optics

    result = simulate(scene, size=size, lens=VirtualLens(**lens), optics=Optics(shading=False, sigma_px=sigma))
    dng, truth = write_sim(folder / f"{name}.dng", result, overwrite=True, with_truth_image=False)
    return dng, json.loads(truth.read_text())


def _developed(dng: Path) -> np.ndarray:
    import tifffile

    from lumatune.lab.lens import linear_from_srgb

    tif = dng.with_suffix(".tif")
    _lumatune("develop", str(dng), "-o", str(tif), "--look", "neutral", "--bits", "16", "--overwrite")
    return linear_from_srgb(tifffile.imread(tif).astype(np.float64) / 65535.0)


def _rawpy(dng: Path) -> np.ndarray:
    import rawpy

    with rawpy.imread(str(dng)) as raw:
        rgb = raw.postprocess(gamma=(1, 1), no_auto_bright=True, output_bps=16, use_camera_wb=True)
    return rgb.astype(np.float64) / 65535.0


def measure(folder: Path, size) -> list[dict]:
    from lumatune.lab.lens import flat_field_residual, grid_residual, lateral_ca

    rows = []
    for lens_name, lens in LENSES.items():
        tag = lens_name.split()[0]
        for sigma in PSF_SIGMAS:
            grid_dng, truth = _simulate(folder, f"grid-{tag}-{sigma}", "checkerboard", size, lens, sigma)
            flat_dng, _ = _simulate(folder, f"flat-{tag}-{sigma}", "flat-field", size, lens, sigma)
            corners = np.array(truth["lens"]["grid"]["corners"])
            pattern = tuple(truth["lens"]["grid"]["pattern"])
            developers = (("lumatune develop", _developed), ("rawpy (no opcodes)", _rawpy))
            for developer, develop in developers if sigma == PSF_SIGMAS[0] else developers[:1]:
                grid_image = develop(grid_dng)
                grid = grid_residual(grid_image, corners, pattern)
                ca = lateral_ca(grid_image, pattern)
                flat = flat_field_residual(develop(flat_dng))
                ca_values = [v for v in (ca["red_px"], ca["blue_px"]) if v is not None]
                rows.append({
                    "lens": lens_name, "psf_sigma_px": sigma, "developer": developer, "grid_rms_px": grid["rms_px"],
                    "grid_max_px": grid["max_px"], "lateral_ca_px": max(ca_values) if ca_values else None,
                    "flat_field_percent": flat["max_percent"], "flat_corner_percent": flat["corner_percent"],
                })
    return rows


def floor(folder: Path, size) -> float:
    """Lateral CA measured on :data:`FLOOR_LENS`'s checkerboard after ``develop`` (default PSF)."""
    from lumatune.lab.lens import lateral_ca

    dng, truth = _simulate(folder, "grid-floor", "checkerboard", size, FLOOR_LENS)
    ca = lateral_ca(_developed(dng), tuple(truth["lens"]["grid"]["pattern"]))
    return max(v for v in (ca["red_px"], ca["blue_px"]) if v is not None)


def cost(folder: Path, size) -> dict:
    """The lens stage's ms under ``--profile`` on a ``size`` barrel DNG (default look), and cv2.remap bicubic."""
    dng, _ = _simulate(folder, "cost", "flat-field", size, LENSES["barrel -5 %"])
    text = _lumatune("develop", str(dng), "-o", str(dng.with_suffix(".jpg")), "--overwrite", "--profile")
    width, height = size
    lens_ms = float(re.search(r"lens\s*│\s*([\d.]+)", text).group(1))
    passes = float(re.search(r"lens\s*│\s*[\d.]+\s*│\s*([\d.]+)", text).group(1))
    found = re.search(r"lens_ca\s*│\s*([\d.]+)", text)
    lens_ca_ms = float(found.group(1)) if found else 0.0
    kernel_ms, remap_ms = _kernels(dng, size)
    bands = re.search(r"ran in (\d+) bands", text)
    return {"size": f"{width}x{height}", "lens_core_ms": lens_ms, "lens_passes": passes, "lens_ca_ms": lens_ca_ms,
            "bands": int(bands.group(1)) if bands else 0, "kernel_core_ms": kernel_ms,
            "cv2_remap_cubic_core_ms": remap_ms}


def _kernels(dng: Path, size) -> tuple[float, float]:
    """CPU ms of the lens stage's compiled kernel on the whole image, one thread, and of cv2.remap (bicubic, one
    thread, a map of the same shape): the same work without the bands' margins and without contention."""
    import cv2
    import numba

    from lumatune.raw.read import open_raw
    from lumatune.stages.base import Frame
    from lumatune.stages.lens import LensParams, apply_lens_band, band_reach, lens_plan
    from lumatune.stages.lens_ca import LensCaParams, lens_ca_plan

    width, height = size
    raw = open_raw(dng)
    frame = Frame(raw=raw)
    lens_ca_plan(LensCaParams(), frame, raw.data.shape)
    plan = lens_plan(LensParams(), frame, (height, width, 3))
    image = np.random.default_rng(0).random((height, width, 3), dtype=np.float32)
    first, last = band_reach(plan, height // 2, height // 2 + 16)  # a band whose rows are all computed
    apply_lens_band(image[first:last], plan, first)  # the kernels compiled (or loaded from the cache) before timing
    numba.set_num_threads(1)
    start = time.process_time()
    apply_lens_band(image, plan, 0)
    kernel_ms = (time.process_time() - start) * 1e3
    map_x = (np.arange(width, dtype=np.float32)[None, :] * 0.999 + 1.3).repeat(height, 0)
    map_y = (np.arange(height, dtype=np.float32)[:, None] * 0.999 + 1.7).repeat(width, 1)
    cv2.setNumThreads(1)
    start = time.process_time()
    cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC)
    return kernel_ms, (time.process_time() - start) * 1e3


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1536x1024", help="virtual captures measured (WxH)")
    parser.add_argument("--cost-size", default="6000x4000", help="capture the lens stage is timed on ('' to skip)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lumatune-lens-") as tmp:
        folder = Path(tmp)
        rows = measure(folder, _size(args.size))
        ca_floor = floor(folder, _size(args.size))
        timing = cost(folder, _size(args.cost_size)) if args.cost_size else None
    print(f"{'lens':17} {'PSF px':>6} {'developer':20} {'grid RMS px':>11} {'grid max px':>11} {'lateral CA px':>13} "
          f"{'flat max %':>10} {'corners %':>9}")
    for row in rows:
        cells = [row[k] for k in ("grid_rms_px", "grid_max_px", "lateral_ca_px", "flat_field_percent",
                                  "flat_corner_percent")]
        text = [f"{v:.3f}" if v is not None else "n/a" for v in cells]
        print(f"{row['lens']:17} {row['psf_sigma_px']:>6} {row['developer']:20} {text[0]:>11} {text[1]:>11} {text[2]:>13} {text[3]:>10} "
              f"{text[4]:>9}")
    print(f"must (after develop): grid RMS <= {MUST['grid_rms_px']} px, lateral CA <= {MUST['lateral_ca_px']} px, "
          f"flat field within +-{MUST['flat_field_percent']} %")
    print(f"floor: lateral CA of the barrel lens without lateral colour, lumatune develop, PSF {PSF_SIGMAS[0]} px: "
          f"{ca_floor:.3f} px")
    if timing:
        print(f"lens stage at {timing['size']}: {timing['lens_core_ms']:.0f} ms under --profile (band times summed, "
              f"{timing['bands']} bands with their margins, two at a time; {timing['lens_passes']:.1f} float32 passes), "
              f"lens_ca (mosaic, before the bands) {timing['lens_ca_ms']:.0f} ms")
        print(f"kernel alone, whole image, one thread: {timing['kernel_core_ms']:.0f} core-ms; cv2.remap bicubic, "
              f"one thread, same size, this run: {timing['cv2_remap_cubic_core_ms']:.0f} core-ms (ratio "
              f"{timing['kernel_core_ms'] / timing['cv2_remap_cubic_core_ms']:.2f}); target 150 core-ms")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "lateral_ca_floor_px": ca_floor, "cost": timing}, indent=1) + "\n")


if __name__ == "__main__":
    main()
