"""Burst and bracket merge on the virtual camera: noise gain, ghosting, dynamic range, speed and memory.

Every figure is measured by the lab (``lumatune.lab.burst``: LibRaw reads the DNGs, the truth is the simulator's
noise-free reference frame) and printed beside its peers measured in the same run:

1. a static handheld burst of 8 noisy frames: the reference frame alone, plain averaging of the aligned frames
   (``lumatune merge --average``) and the robust merge; PSNR on the static mask and the gain over the reference;
2. the same with an object moving across the frame: PSNR on the moving mask (no worse than the reference by
   more than 0.5 dB = no ghost) and on the static mask;
3. a -2/0/+2 EV bracket of the step wedge: dynamic range (ISO 15739, SNR 1 and 10) of the 0 EV frame, of the
   merge and of Debian's ``hdrmerge`` (command-line mode, run headless with ``QT_QPA_PLATFORM=offscreen``) on the
   same frames, and their shadow SNR;
4. 8 frames of 12 MP: ``lumatune merge`` wall time (start-up included) beside ``hdrmerge`` on the same frames;
   8 frames of 24 MP: peak resident memory of ``lumatune merge``;
5. a PNG of crops side by side: reference frame, plain averaging, robust merge, truth.

    python benchmarks/burst.py [--folder DIR] [--size 1536x1024] [--report burst.png] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LUMATUNE = [sys.executable, "-m", "lumatune"]
BURST_ISO = 25600
"""High noise: the reference frame's PSNR is about 30 dB on the natural scene."""


def _sim(folder: Path, *args: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    command = [*LUMATUNE, "sim", "burst", "-o", str(folder), "--overwrite", *args]
    subprocess.run(command, check=True, capture_output=True)
    return sorted(folder.glob("frame_*.dng"))


def _merge(frames: list[Path], out: Path, *extra: str) -> tuple[float, int, float]:
    """Run ``lumatune merge``; return (wall seconds, peak resident memory in bytes, CPU seconds user + system)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", *LUMATUNE, "merge", *map(str, frames), "-o", str(out), "--overwrite",
         *extra],
        capture_output=True, text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"lumatune merge failed: {done.stderr.strip()}")
    peak_kb, user, system = done.stderr.strip().splitlines()[-1].split()
    return wall, int(peak_kb) * 1024, float(user) + float(system)


def _hdrmerge(frames: list[Path], out: Path) -> float | None:
    """Debian's hdrmerge on the frames (headless); wall seconds, or None when it is not installed or fails."""
    if shutil.which("hdrmerge") is None:
        return None
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    start = time.perf_counter()
    done = subprocess.run(
        ["hdrmerge", "--no-crop", "-b", "16", "-o", str(out), *map(str, frames)], capture_output=True, env=env
    )
    return time.perf_counter() - start if done.returncode == 0 and out.exists() else None


def _measure(merged: Path, truth: Path) -> dict:
    from lumatune.lab.burst import measure_burst

    return measure_burst(merged, truth)


def _row(name: str, result: dict, key: str, reference: bool = False) -> str:
    psnr = result[f"psnr_{key}_reference_db" if reference else f"psnr_{key}_merged_db"]
    gain = 0.0 if reference else result[f"gain_{key}_db"]
    return f"  {name:28s} PSNR {psnr:6.2f} dB   gain {gain:+6.2f} dB"


def burst_section(folder: Path, size: str, moving: bool) -> dict:
    label = "moving object" if moving else "static scene"
    frames = _sim(folder, "--frames", "8", "--iso", str(BURST_ISO), "--size", size, "--seed", "2",
                  *(["--moving"] if moving else []))
    truth = folder / "truth.json"
    _merge(frames, folder / "merged.dng")
    _merge(frames, folder / "averaged.dng", "--average")
    robust, averaged = _measure(folder / "merged.dng", truth), _measure(folder / "averaged.dng", truth)
    print(f"\n8-frame burst, {label}, ISO {BURST_ISO}, {size} (ideal gain 10 log10 8 = {10 * math.log10(8):.2f} dB)")
    print("  static region:")
    print(_row("reference frame alone", robust, "static", reference=True))
    print(_row("plain average of aligned", averaged, "static"))
    print(_row("lumatune merge (robust)", robust, "static"))
    if moving:
        print("  moving region:")
        print(_row("reference frame alone", robust, "moving", reference=True))
        print(_row("plain average of aligned", averaged, "moving"))
        print(_row("lumatune merge (robust)", robust, "moving"))
        print(f"  ghosting (dB worse than the reference on the moving region): average {averaged['ghosting_db']:.2f}, "
              f"robust {robust['ghosting_db']:.2f}")
    return {"robust": robust, "averaged": averaged}


def _snr_at(wedge: dict, log2_luminance: float) -> float | None:
    """SNR interpolated at a luminance (log2) from the wedge steps (None outside the unclipped steps)."""
    steps = sorted((s for s in wedge["steps"] if not s["clipped"] and s["snr"] == s["snr"]),
                   key=lambda s: s["relative_luminance"])
    xs = [math.log2(s["relative_luminance"]) for s in steps]
    if not xs or not xs[0] <= log2_luminance <= xs[-1]:
        return None
    return float(np.interp(log2_luminance, xs, [s["snr"] for s in steps]))


def bracket_section(folder: Path, size: str) -> dict:
    frames = _sim(folder, "--scene", "step-wedge", "--bracket", "0,-2,2", "--ev", "1", "--iso", "100",
                  "--size", size, "--rotation", "0", "--seed", "5")
    truth = folder / "truth.json"
    _merge(frames, folder / "merged.dng")
    ours = _measure(folder / "merged.dng", truth)
    peer_time = _hdrmerge(frames, folder / "hdrmerge.dng")
    peer = _measure(folder / "hdrmerge.dng", truth) if peer_time is not None else None
    print(f"\n-2/0/+2 EV bracket of the step wedge (0 EV frame first, ISO 100, handheld shifts, {size})")
    print(f"  {'':28s} {'DR SNR=1':>9s} {'DR SNR=10':>10s} {'SNR @2^-10':>11s} {'SNR @2^-12':>11s}")
    rows = [("0 EV frame alone", ours["wedge_reference"]), ("lumatune merge", ours["wedge_merged"])]
    if peer is not None:
        rows.append(("hdrmerge (Debian, CLI)", peer["wedge_merged"]))
    for name, wedge in rows:
        cells = [wedge["dr_snr1_stops"], wedge["dr_snr10_stops"], _snr_at(wedge, -10), _snr_at(wedge, -12)]
        print(f"  {name:28s} " + " ".join("      –  " if v is None else f"{v:9.2f} " for v in cells))
    gain = ours["wedge_merged"]["dr_snr1_stops"] - ours["wedge_reference"]["dr_snr1_stops"]
    print(f"  dynamic range gained over the 0 EV frame: {gain:+.2f} stops (SNR = 1)")
    if peer is None:
        print("  hdrmerge: not installed or failed (apt-get install -y hdrmerge; it runs headless with "
              "QT_QPA_PLATFORM=offscreen)")
    return {"ours": ours, "hdrmerge": peer, "dr_gain_stops": gain}


def speed_section(folder: Path) -> dict:
    out = {}
    frames = _sim(folder / "12mp", "--frames", "8", "--iso", "3200", "--size", "4000x3000", "--seed", "7")
    _merge(frames[:2], folder / "warm.dng")  # numba's kernel cache filled, as for any later run
    load = os.getloadavg()[0]
    wall, peak, cpu = _merge(frames, folder / "12mp.dng")
    peer = _hdrmerge(frames, folder / "12mp_hdrmerge.dng")
    print(f"\n8 frames of 12 MP (4000x3000): lumatune merge {wall:.2f} s wall, {cpu:.2f} s CPU (user + system; start-up"
          f" and DNG write included), peak memory {peak / 2**30:.2f} GiB; load average {load:.1f} on "
          f"{os.cpu_count()} cores before the run (other processes share the cores: on 2 idle cores the wall time "
          f"is about the CPU time / 2 for the parallel kernels)")
    if peer is not None:
        print(f"  hdrmerge on the same 8 frames: {peer:.2f} s wall ({peer / wall:.2f}x lumatune's time)")
    out["12mp_s"], out["12mp_cpu_s"], out["12mp_peak_bytes"], out["hdrmerge_12mp_s"] = wall, cpu, peak, peer
    shutil.rmtree(folder / "12mp")
    frames = _sim(folder / "24mp", "--frames", "8", "--iso", "3200", "--size", "6000x4000", "--seed", "8")
    wall, peak, cpu = _merge(frames, folder / "24mp.dng")
    print(f"8 frames of 24 MP (6000x4000): lumatune merge {wall:.2f} s wall, {cpu:.2f} s CPU, peak memory "
          f"{peak / 2**30:.2f} GiB "
          f"(one frame's uint16 mosaic is {6000 * 4000 * 2 / 2**20:.0f} MB)")
    out["24mp_s"], out["24mp_cpu_s"], out["24mp_peak_bytes"] = wall, cpu, peak
    shutil.rmtree(folder / "24mp")
    return out


def report_image(folder: Path, path: Path) -> None:
    """Crops of the moving-object burst: reference frame, plain average, robust merge, truth."""
    from lumatune.lab.burst import burst_figure, load_burst_truth, read_mosaic

    moving = folder / "moving"
    truth, arrays = load_burst_truth(moving / "truth.json")
    reference, colours, _ = read_mosaic(moving / "frame_00.dng")
    panels = {"reference frame": (reference, colours)}
    for name, file in (("plain average", "averaged.dng"), ("lumatune merge", "merged.dng")):
        values, _, baseline = read_mosaic(moving / file)
        panels[name] = (values * np.float32(2.0**baseline), colours)
    panels["truth"] = (arrays["reference"], colours)
    h, w = reference.shape
    ys, xs = np.nonzero(arrays["moving_mask"])
    cy, cx, side = int(ys.mean()), int(xs.mean()), 192
    boxes = [
        (max(cx - side, 0), max(cy - side // 2, 0), min(cx + side, w), min(cy + side // 2, h)),
        (w // 2, h // 5, w // 2 + 2 * side, h // 5 + side),
    ]
    burst_figure(panels, boxes, path)
    print(f"\nreport image: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--size", default="1536x1024", help="frame size of the quality bursts")
    parser.add_argument("--report", type=Path, default=Path("burst_report.png"), help="PNG of crops to write")
    parser.add_argument("--skip-speed", action="store_true", help="leave out the 12 MP / 24 MP runs")
    parser.add_argument("--json", type=Path, default=None, help="write every figure as JSON here")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="lumatune-burst-"))
    figures = {
        "static": burst_section(folder / "static", args.size, moving=False),
        "moving": burst_section(folder / "moving", args.size, moving=True),
        "bracket": bracket_section(folder / "bracket", "1024x768"),
    }
    report_image(folder, args.report)
    if not args.skip_speed:
        figures["speed"] = speed_section(folder)
    print(f"\nmax resident memory of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
