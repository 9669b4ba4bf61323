"""Demosaic quality and speed: lumatune's methods beside LibRaw's on the same synthetic mosaics, in one run.

Quality: synthetic ground-truth RGB images (the ones tests/stages/test_demosaic.py uses, plus a neutral
Siemens star, a saturated two-colour star and a slanted edge, all lens-blurred like a real capture) are
mosaicked, demosaicked and compared with the truth:

- PSNR (dB, peak 1) over the image less an 8-pixel border;
- false colour: mean |error of R - G| + |error of B - G| (x 1000), chroma the demosaic added or lost;
- MTF50 of the slanted edge's luminance (cycles/pixel), ISO 12233 e-SFR from ``lumatune.lab.sharpness``.

LibRaw reads the same mosaic from a DNG written by ``lumatune.io.dng.write_dng`` and develops it with
``output_color=raw, gamma=(1, 1), no_auto_bright, user_wb=[1, 1, 1, 1], output_bps=16`` (and
``adjust_maximum_thr=0``, else LibRaw rescales any image whose maximum exceeds 75 % of white). LibRaw's
LINEAR equals our bilinear on Bayer, which checks the alignment. On X-Trans, LibRaw's ``AHD`` setting runs
its Markesteijn 3-pass and ``PPG`` its 1-pass interpolation (``dcraw_process.cpp``: ``quality > 2 ? 3 : 1``).

Speed: each contender demosaics the same 6000 x 4000 mosaic in its own process, timed the same way: one
warm-up call (lumatune: a small crop, which loads the numba cache; LibRaw: one whole ``postprocess``, which
has no JIT but warms its allocations), then best of 3 warm calls, plus the peak memory the call added beyond
its RGB output. LibRaw's time is its whole ``postprocess`` on the same data, the DNG already opened and
unpacked (demosaic plus its light pre/post steps); the ratio is lumatune's best over LibRaw's best. For the
compiled methods, also the CPU time of one call on one thread and that in passes: one float32
read-modify-write of the 24-MP RGB image on one thread, timed in the same process (issue 17's unit).

    python benchmarks/demosaic.py                  # quality at 516 px, speed at 24 MP
    python benchmarks/demosaic.py --size 1032 --skip-speed
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/synthetic.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "stages"))
from test_demosaic import (  # noqa: E402  (the same synthetic truths and metrics as the tests)
    BAYER,
    METRIC_BORDER,
    XTRANS,
    false_colour,
    mosaic_of,
    natural_image,
    psnr_db,
    zone_plate,
)

from lumatune.stages.demosaic import DEMOSAIC_METHODS  # noqa: E402

WHITE = 65535
LENS_SIGMA = 0.5
"""Gaussian blur (pixels) standing in for the lens and anti-aliasing filter."""
SPEED_SHAPE = (4000, 6000)
BAYER_METHODS = ("bilinear", "menon2007", "menon2007_clamped", "rcd")
XTRANS_METHODS = ("bilinear", "markesteijn")


def blurred(rgb: np.ndarray, sigma: float = LENS_SIGMA) -> np.ndarray:
    fy = np.fft.fftfreq(rgb.shape[0])[:, None]
    fx = np.fft.fftfreq(rgb.shape[1])[None, :]
    gain = np.exp(-((fx**2 + fy**2) * (2 * np.pi * sigma) ** 2) / 2)
    return np.stack([np.real(np.fft.ifft2(np.fft.fft2(rgb[..., c]) * gain)) for c in range(3)], -1).astype(np.float32)


def siemens_star(size: int, light, dark, spokes: int = 48, supersample: int = 4) -> np.ndarray:
    """``spokes`` sectors alternating ``light`` and ``dark`` RGB, box-filtered then lens-blurred."""
    n = size * supersample
    y, x = (np.mgrid[:n, :n] + 0.5) / supersample - size / 2
    cover = (np.cos(spokes / 2 * np.arctan2(y, x)) > 0).reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    return blurred(cover[..., None] * np.asarray(light) + (1 - cover[..., None]) * np.asarray(dark))


def slanted_edge(size: int, angle_deg: float = 5.0, dark: float = 0.1, light: float = 0.7, supersample: int = 8):
    """A neutral edge ``angle_deg`` off vertical, box-filtered then lens-blurred."""
    n = size * supersample
    y, x = (np.mgrid[:n, :n] + 0.5) / supersample - size / 2
    cover = (x - np.tan(np.radians(angle_deg)) * y > 0).reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    return blurred(np.repeat((dark + (light - dark) * cover)[..., None], 3, axis=-1))


def test_images(size: int) -> dict[str, np.ndarray]:
    return {
        "zone plate": zone_plate(size),
        "Siemens star": siemens_star(size, (0.85,) * 3, (0.05,) * 3),
        "natural": natural_image(size),
        "colour star": siemens_star(size, (0.75, 0.35, 0.15), (0.15, 0.4, 0.7)),
        "slanted edge": slanted_edge(size),
    }


def mtf50(rgb: np.ndarray) -> float:
    from lumatune.lab.sharpness import slanted_edge_sfr

    b = METRIC_BORDER * 2
    luminance = (rgb[b:-b, b:-b, 0] + 2 * rgb[b:-b, b:-b, 1] + rgb[b:-b, b:-b, 2]) / 4
    return slanted_edge_sfr(luminance.astype(np.float64)).mtf50_cy_px or float("nan")


def libraw_develop(mosaic: np.ndarray, cfa: np.ndarray, algorithm: str) -> np.ndarray:
    """LibRaw's ``postprocess`` of ``mosaic`` written as a DNG; returns RGB in [0, 1]."""
    import rawpy

    from lumatune.io.dng import write_dng

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mosaic.dng"
        data = np.clip(np.round(mosaic * WHITE), 0, WHITE).astype(np.uint16)
        write_dng(path, data, cfa_pattern=cfa.astype(np.uint8), white_level=WHITE, color_matrix_1=np.eye(3),
                  as_shot_neutral=[1, 1, 1])
        with rawpy.imread(str(path)) as raw:
            rgb = raw.postprocess(
                demosaic_algorithm=getattr(rawpy.DemosaicAlgorithm, algorithm), output_color=rawpy.ColorSpace.raw,
                gamma=(1, 1), no_auto_bright=True, user_wb=[1, 1, 1, 1], output_bps=16, user_flip=0,
                adjust_maximum_thr=0.0,
            )
    return rgb.astype(np.float32) / WHITE


def quality_table(title: str, cfa: np.ndarray, contenders: dict, truths: dict[str, np.ndarray]) -> None:
    print(f"\n{title}: PSNR dB / false colour x1000 (lower is better); slanted edge: MTF50 cy/px / false colour")
    names = list(truths)
    print(f"{'method':<30}" + "".join(f"{name:>18}" for name in names))
    edge_truth = mtf50(truths["slanted edge"])
    for label, develop in contenders.items():
        cells = []
        for name, truth in truths.items():
            rgb = develop(mosaic_of(truth, cfa))
            if name == "slanted edge":
                cells.append(f"{mtf50(rgb):.3f} / {1000 * false_colour(rgb, truth):5.2f}")
            else:
                cells.append(f"{psnr_db(rgb, truth):5.2f} / {1000 * false_colour(rgb, truth):6.2f}")
        print(f"{label:<30}" + "".join(f"{cell:>18}" for cell in cells))
    print(f"{'(truth)':<30}" + " " * 18 * (len(names) - 1) + f"{edge_truth:>10.3f} /  0.00")


SPEED_SCRIPT = """
import json, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, sys.argv[3])
sys.path.insert(0, str(Path(sys.argv[3]).parent))  # tests/synthetic.py
from test_demosaic import natural_image, mosaic_of, BAYER, XTRANS
from lumatune.stages.demosaic import DEMOSAIC_METHODS, rows_demosaic

def status_mb(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key))
    return int(line.split()[1]) / 1024

method, pattern = sys.argv[1], sys.argv[2]
cfa = BAYER["RGGB"] if pattern == "bayer" else XTRANS
mosaic = np.ascontiguousarray(np.tile(mosaic_of(natural_image(516), cfa)[:504, :504], (8, 12))[:4000, :6000])
start = time.perf_counter(); DEMOSAIC_METHODS[method](mosaic[:96, :96], cfa); warm = time.perf_counter() - start
times = []
for _ in range(3):
    start = time.perf_counter(); rgb = DEMOSAIC_METHODS[method](mosaic, cfa); times.append(time.perf_counter() - start)
    del rgb
before = status_mb("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark (Linux)
rgb = DEMOSAIC_METHODS[method](mosaic, cfa)
extra = status_mb("VmHWM") - before - rgb.nbytes / 2**20
core_ms = pass_ms = None
rows = rows_demosaic(mosaic, cfa, method)
if rows is not None:  # CPU time on one thread, and one float32 read-modify-write pass over the RGB image
    cores = []
    for _ in range(3):
        start = time.process_time(); rows(0, mosaic.shape[0], threads=1); cores.append(time.process_time() - start)
    passes = []
    for _ in range(3):
        start = time.process_time(); rgb *= np.float32(1.0); passes.append(time.process_time() - start)
    core_ms, pass_ms = 1000 * min(cores), 1000 * min(passes)
print(json.dumps({"best": min(times), "warm": warm, "extra_mb": extra, "core_ms": core_ms, "pass_ms": pass_ms}))
"""


LIBRAW_SPEED_SCRIPT = """
import json, sys, tempfile, time
from pathlib import Path
import numpy as np
import rawpy
sys.path.insert(0, sys.argv[3])
sys.path.insert(0, str(Path(sys.argv[3]).parent))  # tests/synthetic.py
from test_demosaic import natural_image, mosaic_of, BAYER, XTRANS
from lumatune.io.dng import write_dng

def status_mb(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key))
    return int(line.split()[1]) / 1024

algorithm, pattern = sys.argv[1], sys.argv[2]
cfa = BAYER["RGGB"] if pattern == "bayer" else XTRANS
mosaic = np.ascontiguousarray(np.tile(mosaic_of(natural_image(516), cfa)[:504, :504], (8, 12))[:4000, :6000])
options = dict(demosaic_algorithm=getattr(rawpy.DemosaicAlgorithm, algorithm), output_color=rawpy.ColorSpace.raw,
               gamma=(1, 1), no_auto_bright=True, user_wb=[1, 1, 1, 1], output_bps=16, user_flip=0,
               adjust_maximum_thr=0.0)
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "mosaic.dng"
    write_dng(path, np.clip(np.round(mosaic * 65535), 0, 65535).astype(np.uint16), cfa_pattern=cfa.astype(np.uint8),
              white_level=65535, color_matrix_1=np.eye(3), as_shot_neutral=[1, 1, 1])
    with rawpy.imread(str(path)) as raw:
        raw.raw_image  # unpack before timing
        # Peak memory of the first call: LibRaw keeps its working buffers in the open file between calls.
        before = status_mb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark (Linux)
        start = time.perf_counter(); rgb = raw.postprocess(**options); warm = time.perf_counter() - start
        extra = status_mb("VmHWM") - before - rgb.nbytes / 2**20
        del rgb
        times = []
        for _ in range(3):
            start = time.perf_counter(); rgb = raw.postprocess(**options); times.append(time.perf_counter() - start)
            del rgb
print(json.dumps({"best": min(times), "warm": warm, "extra_mb": extra}))
"""


def _timed(script: str, name: str, pattern: str, tests_folder: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", script, name, pattern, str(tests_folder)],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def speed_rows(tests_folder: Path) -> None:
    print(f"\nSpeed on {SPEED_SHAPE[1]} x {SPEED_SHAPE[0]} (24 MP): every contender in its own process, one warm-up "
          "call, then best of 3 warm calls; extra MB = peak memory added beyond the RGB output")
    print("1-thread core ms: CPU time of the same call on one thread (banded form); passes: that over one float32 "
          "read-modify-write pass of the RGB image on one thread, measured in the same process")
    print(f"{'method':<36}{'seconds':>10}{'first call':>12}{'extra MB':>10}{'vs LibRaw':>11}"
          f"{'1-thread core ms':>18}{'passes':>8}")
    for pattern, methods, peer in (("bayer", BAYER_METHODS, "LibRaw AHD"),
                                   ("xtrans", XTRANS_METHODS, "LibRaw X-Trans 3-pass")):
        libraw = _timed(LIBRAW_SPEED_SCRIPT, "AHD", pattern, tests_folder)
        print(f"{peer + ' (postprocess)':<36}{libraw['best']:>10.3f}{libraw['warm']:>12.3f}"
              f"{libraw['extra_mb']:>10.0f}{1.0:>11.2f}")
        for method in methods:
            row = _timed(SPEED_SCRIPT, method, pattern, tests_folder)
            single = (f"{row['core_ms']:>18.0f}{row['core_ms'] / row['pass_ms']:>8.1f}" if row["core_ms"] is not None
                      else f"{'-':>18}{'-':>8}")
            print(f"{method + ' (' + pattern + ')':<36}{row['best']:>10.3f}{row['warm']:>12.3f}"
                  f"{row['extra_mb']:>10.0f}{row['best'] / libraw['best']:>11.2f}{single}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=516, help="side of the quality images (>= 512 for LibRaw X-Trans)")
    parser.add_argument("--skip-speed", action="store_true", help="quality tables only")
    args = parser.parse_args()
    truths = test_images(args.size)
    rggb = BAYER["RGGB"]
    bayer = {name: (lambda m, f=DEMOSAIC_METHODS[name]: f(m, rggb)) for name in BAYER_METHODS}
    bayer |= {f"LibRaw {a}": (lambda m, a=a: libraw_develop(m, rggb, a)) for a in ("LINEAR", "AHD")}
    quality_table("Bayer (RGGB)", rggb, bayer, truths)
    xtrans = {name: (lambda m, f=DEMOSAIC_METHODS[name]: f(m, XTRANS)) for name in XTRANS_METHODS}
    xtrans |= {"LibRaw X-Trans 1-pass (PPG)": lambda m: libraw_develop(m, XTRANS, "PPG"),
               "LibRaw X-Trans 3-pass (AHD)": lambda m: libraw_develop(m, XTRANS, "AHD")}
    quality_table("X-Trans (Fuji)", XTRANS, xtrans, truths)
    if not args.skip_speed:
        speed_rows(Path(__file__).resolve().parents[1] / "tests" / "stages")


if __name__ == "__main__":
    main()
