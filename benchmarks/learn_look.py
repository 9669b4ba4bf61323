"""Learned looks, measured: a secret look recovered on the virtual camera, and camera JPEGs learned from real raws.

1.  **Sim check.** Virtual-camera raws (``natural``, ``chart-wide``, ``colorchecker`` under several lights)
    are rendered in a secret look (a tone curve with hue preservation, a hue table and a 3-D LUT over sRGB:
    the test suite's, see tests/learn/learn_sim.py), stored as turned, shrunk JPEGs, and learned
    (stages chosen on a validation scene); the learned look file and the secret look then develop held-out
    scenes, and the CIEDE2000 between them is printed (mean, 95th percentile) beside ``neutral``'s and
    ``default``'s.
2.  **Real raws** in ``../shared/data/raw``: which carry an embedded JPEG of at least 640 px (rawpy
    ``extract_thumb``); those that do are learned, leave-one-out per camera where a camera has several,
    otherwise with the right 20 % of the picture held out, and the held-out mean / 95th percentile CIEDE2000
    of the learned look against the camera JPEG is printed beside ``neutral``'s and ``default``'s (end to end
    through ``lumatune develop``, on the held-out pixels that are neither clipped nor busy).
3.  **Another developer's rendering** as the target (``RAW=IMAGE``): LibRaw's rendering (rawpy
    ``postprocess(no_auto_bright=True)``: 8-bit sRGB, no per-picture brightening, so one look for all) of
    every real raw, learned the same way (leave-one-out for the three Kodak C330 raws, two of which show one
    scene: the third, a different scene, is learned from that one scene alone).

    python benchmarks/learn_look.py [--json results.json] [--skip-sim] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the sim check's secret look lives with the tests

SHARED_RAWS = HERE.parent.parent / "shared" / "data" / "raw"
SIM_LUT_SIZE = 33
SIM_SCALE = 2  # sim scenes at twice the test suite's sizes


def _de00(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from lumatune.colour.difference import delta_e00
    from lumatune.colour.spaces import srgb_to_lab

    return delta_e00(srgb_to_lab(a.reshape(-1, 3)), srgb_to_lab(b.reshape(-1, 3)))


def _stats(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()), "p95": float(np.percentile(values, 95))}


def sim_check(folder: Path) -> dict:
    from learn.learn_sim import SECRET_TOML, TEST_SCENES, TRAIN_SCENES, VALIDATION_SCENES, secret_lut, secret_pairs

    import lumatune
    from lumatune.io.lut import Lut, write_cube
    from lumatune.learn.fit import fit_look
    from lumatune.learn.model import write_look
    from lumatune.learn.pairs import Pair, PairSpec
    from lumatune.learn.samples import Part, draw_samples, prepare_pair

    write_cube(folder / "secret.cube", Lut(table=secret_lut()), overwrite=True)
    secret = folder / "secret.toml"
    secret.write_text(SECRET_TOML, encoding="utf-8")

    def bigger(scenes):
        return [(s, i, (w * SIM_SCALE, h * SIM_SCALE), ev) for s, i, (w, h), ev in scenes]

    start = time.perf_counter()
    pairs = {name: secret_pairs(folder, secret, name, bigger(scenes)) for name, scenes in
             (("train", TRAIN_SCENES), ("validation", VALIDATION_SCENES), ("test", TEST_SCENES))}

    def parts(group):
        prepared = [prepare_pair(Pair(PairSpec(p.dng), lumatune.open_raw(p.dng), p.target, 1 - 0.5 / 255, "sim"))
                    for p in pairs[group]]
        return [Part(p, p.usable) for p in prepared]

    result = fit_look(draw_samples(parts("train"), 0), draw_samples(parts("validation"), 1), lut_size=SIM_LUT_SIZE)
    learned = folder / "learned-sim.toml"
    write_look(result.look, learned, overwrite=True)
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "stages": [(s.name, round(s.held_out_de00, 3), s.kept) for s in result.log]}
    for name, look in (("learned", learned), ("neutral", "neutral"), ("default", "default")):
        out[name] = _stats(np.concatenate([_de00(lumatune.develop(p.dng, look=look), p.secret) for p in pairs["test"]]))
    return out


def preview_census() -> list[dict]:
    from lumatune.learn.pairs import PairError, camera_name, embedded_preview
    from lumatune.raw import open_raw

    rows = []
    for path in sorted(SHARED_RAWS.glob("*")):
        row = {"raw": path.name, "camera": camera_name(open_raw(path))}
        try:
            row["preview"] = "x".join(str(v) for v in embedded_preview(path).shape[1::-1])
        except PairError as error:
            row["preview"] = str(error).split(": ", 1)[1]
        rows.append(row)
    return rows


def _evaluate_left_out(look: Path, spec) -> dict:
    from lumatune.learn.pairs import load_pair
    from lumatune.learn.report import BASELINES, evaluate_looks
    from lumatune.learn.samples import Part, prepare_pair

    prepared = prepare_pair(load_pair(spec))
    metrics, _ = evaluate_looks([Part(prepared, prepared.usable)], {**{b: b for b in BASELINES}, "learned": look})
    return {name: {"mean": m["mean"], "p95": m["p95"], "pixels": m["pixels"]} for name, m in metrics.items()}


def learn_real(specs, folder: Path, tag: str) -> list[dict]:
    """Leave-one-out per camera where a camera has several pairs, else a held-out band; one row per raw."""
    from lumatune.learn.learner import learn_look
    from lumatune.learn.pairs import PairError, load_pair

    by_camera = defaultdict(list)
    rows = []
    for spec in specs:
        try:
            by_camera[load_pair(spec).camera].append(spec)
        except PairError as error:
            rows.append({"raw": spec.raw.name, "error": str(error)})
    for camera, group in by_camera.items():
        for spec in group:
            others = [s for s in group if s != spec]
            output = folder / f"{tag}-{spec.raw.stem}.toml"
            start = time.perf_counter()
            row = {"raw": spec.raw.name, "camera": camera}
            try:
                if others:
                    learn_look(others, output, overwrite=True, report=False)
                    row |= {"protocol": f"leave-one-out ({len(others)} others)", **_evaluate_left_out(output, spec)}
                else:
                    outcome = learn_look([spec], output, overwrite=True)
                    row |= {"protocol": "right 20% held out", **outcome.held_out}
            except Exception as error:  # noqa: BLE001  a benchmark reports every raw, whatever happens to one
                row["error"] = f"{error.__class__.__name__}: {error}"
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
    return rows


def libraw_targets(folder: Path):
    import cv2
    import rawpy

    from lumatune.learn.pairs import PairSpec

    specs = []
    for path in sorted(SHARED_RAWS.glob("*")):
        with rawpy.imread(str(path)) as raw:
            image = raw.postprocess(no_auto_bright=True)
        target = folder / f"libraw-{path.stem}.png"
        cv2.imwrite(str(target), image[..., ::-1])
        specs.append(PairSpec(path, target))
    return specs


def _print_rows(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'raw':34s} {'protocol':28s} {'learned':>13s} {'neutral':>13s} {'default':>13s}")
    for row in rows:
        if "error" in row:
            print(f"{row['raw']:34s} {row['error']}")
            continue
        cells = [f"{row[k]['mean']:5.2f} / {row[k]['p95']:5.2f}" for k in ("learned", "neutral", "default")]
        print(f"{row['raw']:34s} {row['protocol']:28s} {cells[0]:>13s} {cells[1]:>13s} {cells[2]:>13s}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write every number to this file")
    parser.add_argument("--skip-sim", action="store_true", help="only the real raws")
    parser.add_argument("--keep", type=Path, help="keep the learned looks and reports in this folder")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        if not args.skip_sim:
            results["sim"] = sim_check(folder)
            sim = results["sim"]
            print(f"sim check ({sim['seconds']:.0f} s): held-out scenes, ΔE00 to the secret look, mean / p95")
            for name in ("learned", "neutral", "default"):
                print(f"  {name:8s} {sim[name]['mean']:5.2f} / {sim[name]['p95']:5.2f}")
            print("  stages (validation mean ΔE00, kept):", sim["stages"])
        if not SHARED_RAWS.is_dir():
            print(f"\nreal raws: {SHARED_RAWS} is absent; skipped")
        else:
            from lumatune.learn.pairs import PairSpec

            results["previews"] = preview_census()
            print("\nembedded previews (rawpy extract_thumb):")
            for row in results["previews"]:
                print(f"  {row['raw']:34s} {row['camera']:20s} {row['preview']}")
            usable = [PairSpec(SHARED_RAWS / r["raw"]) for r in results["previews"] if "x" in r["preview"]
                      and r["preview"][0].isdigit()]
            results["camera_jpeg"] = learn_real(usable, folder, "camera")
            _print_rows("camera JPEG learned (held-out ΔE00 to it, mean / p95):", results["camera_jpeg"])
            results["libraw"] = learn_real(libraw_targets(folder), folder, "libraw")
            _print_rows("LibRaw's rendering learned (held-out ΔE00 to it, mean / p95):", results["libraw"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
