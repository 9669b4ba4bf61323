"""Speed and peak memory of developing a 24-megapixel raw: lumatune beside its peers, in the same run.

Each contender runs as its own process (start-up counts, as it does for a user), alternating A/B/C over
several rounds; the table shows the median wall time, CPU time, peak RSS and the ratio to lumatune.

    python benchmarks/speed.py                 # sim-made 24-MP DNG (made once, cached in benchmarks/.cache)
    python benchmarks/speed.py --raw FILE      # any raw
    python benchmarks/speed.py --rounds 5

Peers: rawpy ``postprocess()`` (LibRaw AHD, camera WB, 8-bit sRGB) plus writing the JPEG with Pillow, and
the same with a 16-bit TIFF; darktable-cli and rawtherapee-cli when installed (Debian packages ``darktable``,
``rawtherapee``), each with throw-away config folders.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
SIZE_24MP = (6000, 4000)

RAWPY_SCRIPT = """
import sys, rawpy, numpy as np
from PIL import Image
with rawpy.imread(sys.argv[1]) as raw:
    rgb = raw.postprocess(demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD, use_camera_wb=True,
                          output_bps=16 if sys.argv[2].endswith('.tif') else 8)
if sys.argv[2].endswith('.tif'):
    import tifffile; tifffile.imwrite(sys.argv[2], rgb, compression='zlib', compressionargs={'level': 1})
else:
    Image.fromarray(rgb).save(sys.argv[2], quality=95)
"""


def make_24mp_dng() -> Path:
    """A 6000 x 4000 natural-scene DNG from the virtual camera, cached between runs."""
    path = CACHE / "natural-24mp.dng"
    if not path.exists():
        from lumatune.sim import simulate, write_sim

        CACHE.mkdir(exist_ok=True)
        print("making a 24-MP DNG with the virtual camera (once) ...", flush=True)
        write_sim(path, simulate("natural", illuminant="D65", size=SIZE_24MP, seed=3), overwrite=True)
    return path


def run_measured(command: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """Run a command; return (wall seconds, CPU seconds, peak RSS in MB) of that child alone."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed: {process.stderr.read().decode(errors='replace')[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def contenders(raw: Path, work: Path) -> dict[str, list[str]]:
    """Name -> command line, for every contender installed here."""
    lumatune = [sys.executable, "-m", "lumatune", "develop", str(raw), "--overwrite"]
    found = {
        "lumatune default -> JPEG": lumatune + ["-o", str(work / "lt.jpg")],
        "lumatune default -> 16-bit TIFF": lumatune + ["-o", str(work / "lt.tif")],
        "rawpy AHD -> JPEG": [sys.executable, "-c", RAWPY_SCRIPT, str(raw), str(work / "rp.jpg")],
        "rawpy AHD -> 16-bit TIFF": [sys.executable, "-c", RAWPY_SCRIPT, str(raw), str(work / "rp.tif")],
    }
    if shutil.which("darktable-cli"):
        cfg = work / "dt-config"
        found["darktable-cli -> JPEG"] = [
            "darktable-cli", str(raw), str(work / "dt.jpg"), "--apply-custom-presets", "false", "--core",
            "--configdir", str(cfg), "--cachedir", str(cfg / "cache"), "--library", ":memory:", "--disable-opencl",
        ]
    if shutil.which("rawtherapee-cli"):
        found["rawtherapee-cli -> JPEG"] = ["rawtherapee-cli", "-o", str(work / "rt.jpg"), "-d", "-Y", "-c", str(raw)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, help="raw file (default: a sim-made 24-MP DNG)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raw = args.raw or make_24mp_dng()
    for peer in ("darktable-cli", "rawtherapee-cli"):
        if not shutil.which(peer):
            print(f"skipping {peer}: not installed (apt-get install {peer.split('-')[0]})")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {**os.environ, "HOME": str(work)}
        commands = contenders(raw, work)
        for command in commands.values():  # warm-up: numba cache, page cache
            (work / "dt.jpg").unlink(missing_ok=True)
            run_measured(command, env)
        times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                (work / "dt.jpg").unlink(missing_ok=True)  # darktable-cli has no overwrite flag
                times[name].append(run_measured(command, env))
    _print_table(raw, times)


def _print_table(raw: Path, times: dict) -> None:
    import numpy as np

    reference = statistics.median(t[0] for t in times["lumatune default -> JPEG"])
    print(f"\nraw: {raw} ({os.path.getsize(raw) / 1e6:.1f} MB); {os.cpu_count()} CPUs; medians of "
          f"{len(next(iter(times.values())))} interleaved rounds")
    print(f"{'contender':34s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s} {'wall / lumatune JPEG':>21s}")
    for name, samples in times.items():
        wall, cpu, rss = (float(np.median([s[i] for s in samples])) for i in range(3))
        print(f"{name:34s} {wall:8.2f} {cpu:8.2f} {rss:8.0f} {wall / reference:21.2f}")


if __name__ == "__main__":
    main()
