"""Chart finding on virtual-camera shots: lumatune's built-in finder beside colour-checker-detection.

Each shot is a ColorChecker at a random placement (seeded): area between a sixth and a third of the frame,
tilt in [-45, 45] degrees plus a random multiple of 90 (every corner orientation), an illuminant drawn from
the virtual camera's named ones, ISO 100 to 6400. Both finders run on the same raw through
``lumatune.calibrate.chart`` (each renders the same preview first, included in its time). A hit puts every
patch centre within a fifth of a patch pitch of the truth's exact centre; anything else (a wrong place,
nothing found) is a miss. colour-checker-detection runs only where it is installed.

    python benchmarks/chart_finder.py [--shots 20] [--size 1536x1024] [--seed 2026]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

HIT_LIMIT = 0.2
"""A hit: every patch centre within this many pitches of the truth (issue 13)."""

ISOS = (100, 400, 1600, 6400)


def make_shots(folder: Path, count: int, size: tuple[int, int], seed: int) -> list[tuple[Path, np.ndarray, str]]:
    """Simulate ``count`` placed charts; return each raw, its true patch centres and a one-line description."""
    from lumatune.sim import simulate, write_sim
    from lumatune.sim.scenes import random_placement
    from lumatune.sim.spectra import ILLUMINANTS

    rng = np.random.default_rng(seed)
    names = list(ILLUMINANTS)
    shots = []
    for index in range(count):
        placement = random_placement(rng, *size)
        illuminant, iso = names[rng.integers(len(names))], int(rng.choice(ISOS))
        result = simulate(
            "colorchecker", size=size, placement=placement, illuminant=illuminant, iso=iso, seed=index
        )
        raw, _ = write_sim(folder / f"shot-{index:03d}.dng", result, overwrite=True, with_truth_image=False)
        centres = np.array([patch["centre"] for patch in result.truth["patches"]])
        label = f"{placement.angle_deg:7.1f} deg, area {placement.area:.3f}, {illuminant}, ISO {iso}"
        shots.append((raw, centres, label))
    return shots


def centre_error(corners: np.ndarray, truth: np.ndarray) -> float:
    """Largest distance of a found patch centre from the truth, in patch pitches."""
    from lumatune.lab.chart_finder import patch_centres

    pitch = float(np.median(np.hypot(*np.diff(truth.reshape(4, 6, 2), axis=1).reshape(-1, 2).T)))
    return float(np.hypot(*(patch_centres(corners) - truth).T).max() / pitch)


def run_finder(finder, shots) -> dict:
    """Hits, misses, worst error (pitches, over the charts it returned) and mean seconds per shot."""
    from lumatune.calibrate.capture import load_captures

    errors, seconds, misses = [], [], []
    for raw, truth, label in shots:
        capture = load_captures([raw])[0]
        start = time.perf_counter()
        try:
            corners = finder(capture)
        except Exception as error:  # a benchmark counts every failure as a miss, whatever it raised
            seconds.append(time.perf_counter() - start)
            misses.append(f"{raw.name} ({label}): {error.__class__.__name__}: {str(error)[-120:]}")
            continue
        seconds.append(time.perf_counter() - start)
        errors.append(centre_error(corners, truth))
        if errors[-1] > HIT_LIMIT:
            misses.append(f"{raw.name} ({label}): centre error {errors[-1]:.2f} pitch")
    hits = sum(error <= HIT_LIMIT for error in errors)
    worst = max(errors) if errors else float("nan")
    return {"hits": hits, "misses": misses, "worst": worst, "seconds": float(np.mean(seconds))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=20)
    parser.add_argument("--size", default="1536x1024", help="frame WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))

    from lumatune.calibrate.chart import detect_chart_corners, find_chart_corners

    try:
        import colour_checker_detection  # noqa: F401

        finders = {"lumatune built-in": find_chart_corners, "colour-checker-detection": detect_chart_corners}
    except ImportError:
        finders = {"lumatune built-in": find_chart_corners}
    with tempfile.TemporaryDirectory() as folder:
        shots = make_shots(Path(folder), args.shots, size, args.seed)
        results = {name: run_finder(finder, shots) for name, finder in finders.items()}
    print(f"{args.shots} shots, {size[0]}x{size[1]}, seed {args.seed}; hit: every patch centre within {HIT_LIMIT} pitch")
    print(f"{'finder':26s} {'hits':>5s} {'misses':>6s} {'worst err (pitch)':>18s} {'s/shot':>7s}")
    for name, result in results.items():
        row = f"{name:26s} {result['hits']:5d} {len(result['misses']):6d} {result['worst']:18.3f}"
        print(f"{row} {result['seconds']:7.3f}")
    if "colour-checker-detection" not in results:
        print(f"{'colour-checker-detection':26s} not installed")
    for name, result in results.items():
        for miss in result["misses"]:
            print(f"  miss, {name}: {miss}")


if __name__ == "__main__":
    main()
