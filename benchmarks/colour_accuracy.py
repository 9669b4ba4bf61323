"""Colour accuracy: ColorChecker DNGs from the virtual camera, developed by lumatune (``neutral``) and rawpy.

For each illuminant x CFA pattern x noise level, the virtual camera writes a ColorChecker DNG (with
ColorMatrix1/2 for Std A and D65 fitted from the camera's spectral sensitivities, and AsShotNeutral = the true
white). Both contenders develop it in the same run:

- lumatune: ``develop(raw, look="neutral")``, sRGB;
- rawpy: ``postprocess(use_camera_wb=True, output_color=sRGB, no_auto_bright=True, output_bps=16,
  gamma=(2.4, 12.92))`` (AHD; the gamma is LibRaw's setting for the sRGB curve, rawpy's default is BT.709's).

The lab fits one exposure scale on the neutral patches for each rendering and reports CIEDE2000 against the
scene's truth (Lab under D65, chromatically adapted from the scene illuminant).

    python benchmarks/colour_accuracy.py [--camera NAME] [--size 600x400]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

ILLUMINANTS = ("D65", "D50", "A", "F2", "F11")
CFAS = ("RGGB", "GBRG")
ISOS = (100, 1600)


def develop_lumatune(dng: Path) -> np.ndarray:
    import lumatune

    image = lumatune.develop(dng, look="neutral")
    return np.rint(np.clip(image, 0, 1) * 65535).astype(np.uint16)


def develop_rawpy(dng: Path) -> np.ndarray:
    import rawpy

    with rawpy.imread(str(dng)) as raw:
        return raw.postprocess(
            use_camera_wb=True, output_color=rawpy.ColorSpace.sRGB, no_auto_bright=True, output_bps=16,
            demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD, gamma=(2.4, 12.92),  # LibRaw's sRGB curve
        )


def run(camera: str | None, size: tuple[int, int]) -> list[dict]:
    from lumatune.lab.measure import measure
    from lumatune.sim import simulate, write_sim
    from lumatune.sim.optics import Optics

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for illuminant in ILLUMINANTS:
            for cfa in CFAS:
                for iso in ISOS:
                    # No lens shading: LibRaw does not apply the DNG GainMap, and this benchmark is about colour.
                    options = dict(illuminant=illuminant, cfa=cfa, iso=iso, size=size, seed=7,
                                   optics=Optics(shading=False))
                    if camera:
                        options["camera"] = camera
                    dng, truth = write_sim(Path(folder) / f"cc-{illuminant}-{cfa}-{iso}.dng",
                                           simulate("colorchecker", **options))
                    for name, develop in (("lumatune neutral", develop_lumatune), ("rawpy AHD", develop_rawpy)):
                        result = measure(develop(dng), truth, space="srgb")
                        rows.append(dict(illuminant=illuminant, cfa=cfa, iso=iso, contender=name,
                                         de00_mean=result["de00_mean"], de00_max=result["de00_max"],
                                         awb=result.get("awb_error_deg")))
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'illuminant':10s} {'CFA':5s} {'ISO':>5s} | {'lumatune mean':>13s} {'max':>6s} | "
          f"{'rawpy mean':>10s} {'max':>6s} | {'better':>8s}")
    for i in range(0, len(rows), 2):
        ours, theirs = rows[i], rows[i + 1]
        better = "lumatune" if ours["de00_mean"] <= theirs["de00_mean"] else "rawpy"
        print(f"{ours['illuminant']:10s} {ours['cfa']:5s} {ours['iso']:5d} | {ours['de00_mean']:13.2f} "
              f"{ours['de00_max']:6.2f} | {theirs['de00_mean']:10.2f} {theirs['de00_max']:6.2f} | {better:>8s}")
    for contender in ("lumatune neutral", "rawpy AHD"):
        means = [r["de00_mean"] for r in rows if r["contender"] == contender]
        print(f"overall {contender}: mean dE00 {np.mean(means):.2f}, worst scene mean {np.max(means):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--camera", help="virtual camera (see `lumatune sim --list`)")
    parser.add_argument("--size", default="600x400", help="chart image size WxH")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    print_table(run(args.camera, (width, height)))


if __name__ == "__main__":
    main()
