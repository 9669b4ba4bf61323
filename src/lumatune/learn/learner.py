"""``look learn`` from end to end: pairs in; a look file, its LUT, its measured error and a report out.

:func:`learn_look` loads the pairs (one line per unusable pair, and the fit goes on with the rest if at
least :data:`~lumatune.learn.pairs.MIN_PAIRS` remain), registers and samples them, holds some out
(whole pairs, or a band of each target), fits the stages, writes the look TOML (+ ``.cube``) and measures
the written look end to end on the held-out pixels beside ``neutral`` and ``default``.

The look written is the one fitted on the training part: the held-out numbers are that look's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lumatune.errors import LumatuneError, OutputError
from lumatune.learn.fit import FitResult, fit_look
from lumatune.learn.model import write_look
from lumatune.learn.pairs import MIN_PAIRS, PairError, PairSpec, load_pairs, parse_pair
from lumatune.learn.report import BASELINES, evaluate_looks, report_paths, write_report
from lumatune.learn.samples import draw_samples, prepare_pair, split_holdout

__all__ = ["LearnOutcome", "learn_look", "check_output"]


@dataclass(frozen=True)
class LearnOutcome:
    """What :func:`learn_look` did: the files, the fit, the held-out numbers, and the pairs it could not use."""

    files: list[Path]
    fit: FitResult
    held_out: dict
    split: str
    used: list[str]
    problems: list[str]
    camera: str


def check_output(output: Path, *, with_lut: bool, report: bool, overwrite: bool) -> None:
    """Refuse before any work an output that is not a .toml in an existing folder, or that would overwrite."""
    if output.suffix.lower() != ".toml":
        raise OutputError(f"{output}: a learned look is written as a .toml file")
    if not output.parent.is_dir():
        raise OutputError(f"{output.parent}: output folder does not exist")
    if overwrite:
        return
    candidates = [output] + ([output.with_suffix(".cube")] if with_lut else [])
    candidates += list(report_paths(output).values()) if report else []
    for path in candidates:
        if os.path.lexists(path):
            raise OutputError(f"{path}: exists (use --overwrite)")


def _description(fit: FitResult, count: int, camera: str, held_out: dict) -> str:
    learned, neutral = held_out["learned"]["mean"], held_out["neutral"]["mean"]
    stages = ", ".join(s.name for s in fit.log if s.kept) or "nothing"
    return (f"learned from {count} pair{'s' * (count != 1)} ({camera}): {stages}; held-out mean ΔE00 {learned:.2f} "
            f"(neutral {neutral:.2f}, default {held_out['default']['mean']:.2f})")


def learn_look(
    pairs: list[str | os.PathLike | PairSpec],
    output: str | os.PathLike,
    *,
    holdout: float = 0.2,
    lut_size: int = 33,
    allow_mixed: bool = False,
    seed: int = 0,
    report: bool = True,
    overwrite: bool = False,
    progress=None,
    on_problem=None,
) -> LearnOutcome:
    """Learn a look from pairs and write it (with its ``.cube`` and, if asked, a report) at ``output``.

    Parameters
    ----------
    pairs : ``RAW`` (target: the embedded JPEG preview) or ``RAW=IMAGE`` specs, or :class:`PairSpec`.
    output : the look ``.toml`` to write; the ``.cube`` and report files go beside it.
    holdout : fraction held out (whole pairs when there are enough, else a band of each target).
    lut_size : lattice points per axis of the LUT.
    allow_mixed : accept pairs from different cameras.
    seed : seed of every random choice (held-out pairs, sample draws).
    report : write the report files.
    overwrite : replace existing files.
    progress : called with a short message as the work advances.
    on_problem : called with each unusable pair's one-line message as it is found.

    Raises
    ------
    LumatuneError : fewer than :data:`MIN_PAIRS` usable pairs (the message says how many were usable), or
        no usable held-out pixel.
    OutputError : see :func:`check_output`.
    """
    say = progress or (lambda message: None)
    output = Path(output)
    check_output(output, with_lut=True, report=report, overwrite=overwrite)
    specs = [p if isinstance(p, PairSpec) else parse_pair(p) for p in pairs]
    loaded, problems = load_pairs(specs, allow_mixed=allow_mixed)
    for problem in problems:
        (on_problem or say)(problem)
    prepared = []
    for pair in loaded:
        say(f"registering {pair.spec.label}")
        try:
            prepared.append(prepare_pair(pair))
        except PairError as error:
            problems.append(str(error))
            (on_problem or say)(str(error))
    if len(prepared) < MIN_PAIRS:
        raise LumatuneError(
            f"no look learned: {len(prepared)} of {len(specs)} pairs usable, at least {MIN_PAIRS} needed"
        )
    train_parts, held_parts, split = split_holdout(prepared, holdout, seed)
    train, held = draw_samples(train_parts, seed), draw_samples(held_parts, seed + 1)
    if len(train) == 0 or len(held) == 0:
        raise LumatuneError(f"no look learned: no usable {'training' if len(train) == 0 else 'held-out'} pixels ({split})")
    fit = fit_look(train, held, lut_size=lut_size, seed=seed, progress=lambda name: say(f"fitting {name}"))
    camera = ", ".join(sorted({p.pair.camera for p in prepared}))
    comments = [
        "Learned by lumatune look learn: use it like any look (lumatune develop --look this.toml).",
        f"Pairs: {', '.join(p.label for p in prepared)}; {split}.",
    ]
    _write(fit, output, f"learned from {len(prepared)} pairs ({camera})", comments, overwrite)
    say("measuring the held-out error")
    looks = {name: name for name in BASELINES} | {"learned": output}
    held_out, renderings = evaluate_looks(held_parts, looks)
    description = _description(fit, len(prepared), camera, held_out)
    files = _write(fit, output, description, comments, True)  # the same look, its numbers now in the description
    if report:
        summary = {
            "look": str(output),
            "description": description,
            "camera": camera,
            "pairs_used": [p.label for p in prepared],
            "problems": problems,
            "split": split,
            "samples": {"training": len(train), "held_out": len(held)},
            "stages": [
                {"name": s.name, "held_out_de00": s.held_out_de00, "kept": s.kept, "note": s.note} for s in fit.log
            ],
            "neutral_samples_de00": fit.neutral_de00,
            "held_out": held_out,
        }
        files += write_report(output, summary, fit, held, held_parts, renderings, overwrite=overwrite)
    return LearnOutcome(files=files, fit=fit, held_out=held_out, split=split, used=[p.label for p in prepared],
                        problems=problems, camera=camera)


def _write(fit: FitResult, output: Path, description: str, comments: list[str], overwrite: bool) -> list[Path]:
    return write_look(fit.look, output, description=description, comments=comments, overwrite=overwrite)
