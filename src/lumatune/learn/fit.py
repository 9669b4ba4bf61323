"""Fit a look to pairs, one richer stage at a time, keeping a stage only while the held-out error falls.

The stages, in order, each starting from the last one kept:

1.  ``exposure``: one offset in EV (the scene colours are the neutral rendering's, exposure as recorded);
2.  ``curve``: a monotone tone curve, :data:`CURVE_INPUTS` knots joined by the tone stage's monotone cubic,
    applied per channel; the exposure is folded into it (the curve starts as the fitted exposure);
3.  ``vignette``: amount, midpoint, feather and roundness of the ``[vignette]`` stage, refitted with the
    curve, kept only when the target has one (it lowers the held-out error and reaches :data:`MIN_VIGNETTE`).
    The issue lists it last; it is fitted here, before the colour stages, because a vignette those stages
    are fitted without bends them (on the sim check with a vignetted secret look: held-out error 2.59 with
    the vignette fitted last, 0.76 fitted here), and once found it is part of every later fit;
4.  ``colour``: global saturation and vibrance and the eight-hue table (hue shift, saturation, lightness)
    of the ``[colour]`` stage, refitted with the curve, a small ridge holding hues without data at 0;
5.  ``lut``: a smooth 3-D LUT over the colorimetric rendering (display-encoded Rec.2020), a correction of
    what the stages above leave, by Gauss-Newton on the lattice with a thin-plate smoothness term and a pull
    towards the identity (:data:`LUT_SHRINK`), so that colours with no sample stay where the other stages
    put them; the smoothness weight is chosen among :data:`LUT_SMOOTHNESS` on the held-out samples.

Stages 1-4 minimise the CIELAB difference between the look's rendering (the pipeline's own stage functions,
:func:`lumatune.learn.model.render_samples`) and the target by bounded nonlinear least squares with a soft-L1
loss (:data:`ROBUST_SCALE`), the LUT the same misfit linearised. A stage is kept when it lowers the
held-out mean CIEDE2000 by more than :data:`STOP_GAIN`; one that does not is left out and the next, richer
stage is tried on top of the last kept one (a white-balance difference, for one, only the LUT can express,
so stopping at a hue table that cannot help would miss it).

References
----------
-   F. N. Fritsch, R. E. Carlson, "Monotone piecewise cubic interpolation", SIAM J. Numer. Anal. 17(2), 1980.
-   M. A. Branch, T. F. Coleman, Y. Li, "A subspace, interior, and conjugate gradient method for large-scale
    bound-constrained minimization problems", SIAM J. Sci. Comput. 21(1), 1999 (``scipy.optimize.least_squares``
    'trf').
-   J. M. Kasson, S. I. Nin, W. Plouffe, J. L. Hafner, "Performing color space conversions with
    three-dimensional linear interpolation", J. Electronic Imaging 4(3), 1995 (tetrahedral weights).
-   G. Wahba, "Spline Models for Observational Data", SIAM, 1990, ch. 2 (thin-plate smoothing penalty).
-   M. R. Hestenes, E. Stiefel, "Methods of conjugate gradients for solving linear systems", J. Res. NBS 49(6),
    1952 (the lattice's normal equations).
-   G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula: implementation notes",
    Color Res. Appl. 30(1), 2005.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.colour.difference import delta_e00
from lumatune.colour.spaces import decode_eotf, encode_oetf, srgb_to_lab
from lumatune.learn.model import (
    LearnedLook,
    as_image,
    from_image,
    identity_lut,
    lut_plan_of,
    pointwise_walk,
    render_samples,
    vignette_weights,
    vignetted,
)
from lumatune.learn.samples import Samples
from lumatune.pipeline import Prepared
from lumatune.runtime.numba import numba_threads
from lumatune.stages.look_colour import ColourParams
from lumatune.stages.lut import lut_input, lut_output, tetrahedral_weights
from lumatune.stages.tone import monotone_cubic, monotone_slopes
from lumatune.stages.vignette import VignetteParams

__all__ = [
    "CURVE_INPUTS",
    "STOP_GAIN",
    "LUT_SMOOTHNESS",
    "LUT_SHRINK",
    "StageResult",
    "FitResult",
    "held_out_error",
    "fit_exposure",
    "fit_curve",
    "fit_colour",
    "fit_lut",
    "fit_vignette",
    "fit_look",
]

CURVE_INPUTS = (0.0, 0.04, 0.08, 0.13, 0.2, 0.28, 0.37, 0.47, 0.58, 0.7, 0.82, 0.92, 1.0)
"""sRGB-encoded inputs of the tone curve's knots (denser in the shadows, where curves bend most)."""
STOP_GAIN = 0.01
"""Held-out mean CIEDE2000 a stage must remove to be kept."""
MIN_VIGNETTE = 0.05
"""Smallest |amount| (darkening or lightening at the corners) of a vignette the target is said to have."""
HUE_RIDGE = 2e-3
"""Weight (per sample, ΔE*ab^2 per unit^2) holding the hue table's saturation and lightness at 0 without data."""
HUE_SHIFT_RIDGE = 2e-6
"""The same per degree^2 of hue shift."""
NONLINEAR_SAMPLES = 12000
"""Samples the nonlinear stages fit on at most (a seeded subset); the LUT uses them all."""
MAX_EVALUATIONS = 60
"""Evaluations of the residuals per nonlinear fit, beyond the Jacobian's."""
FIT_TOLERANCE = 1e-6
"""Relative change of the cost or the parameters at which a nonlinear fit stops."""
LUT_SMOOTHNESS = (0.6, 0.06, 0.006)
"""Thin-plate weights tried for the LUT, on the correction's squared second derivatives integrated over the
unit cube (against the mean squared CIELAB misfit, so independent of the lattice size); the held-out
samples choose."""
LUT_SHRINK = 400.0
"""Pull of the correction towards 0 (the identity): weight of its square integrated over the unit cube."""
LUT_ITERATIONS = 2
"""Gauss-Newton steps for the first (stiffest) smoothness weight; each later weight, starting from the
previous table, takes one."""
COARSE_LUT_SIZE = 17
"""Lattice the LUT's smoothness is chosen on; a larger ``--lut-size`` is refined from it."""
LUT_CG_ITERATIONS = 400
"""Conjugate-gradient iterations per Gauss-Newton step at most."""
LUT_STEP = 1e-3
"""Finite-difference step (encoded units) of the rendering after the LUT."""
ROBUST_SCALE = 3.0
"""CIELAB difference (per component) beyond which a residual counts less than its square (soft L1 loss): a
sample the registration or the target's sharpening spoilt does not pull the fit."""
FINITE_STEP = 1e-3
"""Absolute step of the finite-difference Jacobians, in each parameter's unit (EV, curve output, degrees...)."""
_CG_TOLERANCE = 1e-4
_VIGNETTE_START = (-0.2, 0.6, 0.6, 0.5)  # amount, midpoint, feather, roundness: a mild lens-like falloff


@dataclass(frozen=True)
class StageResult:
    """One fitted stage: the look with it, its held-out mean CIEDE2000, and whether it was kept."""

    name: str
    look: LearnedLook
    held_out_de00: float
    kept: bool
    note: str = ""


@dataclass(frozen=True)
class FitResult:
    """The chosen look, the neutral rendering's held-out error, and the log of every stage tried."""

    look: LearnedLook
    neutral_de00: float
    log: tuple[StageResult, ...]

    @property
    def held_out_de00(self) -> float:
        kept = [s for s in self.log if s.kept]
        return kept[-1].held_out_de00 if kept else self.neutral_de00


def _render(look: LearnedLook, samples: Samples) -> np.ndarray:
    return render_samples(look, samples.scene, samples.position, samples.frame_index, samples.frames)


def held_out_error(look: LearnedLook, samples: Samples, target_lab: np.ndarray | None = None) -> float:
    """Mean CIEDE2000 between the look's rendering of ``samples`` and their target."""
    target_lab = srgb_to_lab(samples.target) if target_lab is None else target_lab
    return float(delta_e00(srgb_to_lab(_render(look, samples)), target_lab).mean())


def _subset(samples: Samples, count: int, seed: int) -> Samples:
    if len(samples) <= count:
        return samples
    chosen = np.sort(np.random.default_rng(seed).choice(len(samples), count, replace=False))
    return Samples(
        samples.scene[chosen], samples.target[chosen], samples.position[chosen], samples.frame_index[chosen],
        samples.frames,
    )


def _forward_jacobian(residuals, x: np.ndarray, high: np.ndarray, step: float) -> np.ndarray:
    """Forward differences with an absolute ``step`` (backwards at an upper bound).

    The renderings are float32 and read tables, so the relative steps scipy would take at parameters
    that start at 0 (1.5e-8) change nothing; a step of :data:`FINITE_STEP` of each parameter's unit does.
    """
    f0 = residuals(x)
    jacobian = np.empty((f0.size, x.size))
    for i in range(x.size):
        h = step if x[i] + step <= high[i] else -step
        moved = x.copy()
        moved[i] += h
        jacobian[:, i] = (residuals(moved) - f0) / h
    return jacobian


def _least_squares(residuals, x0, bounds, step: float = FINITE_STEP):
    """Bounded soft-L1 least squares (trust-region reflective). LSMR solves each step without an SVD of the
    tall Jacobian; scipy's LSMR path cannot take a one-parameter problem, which gets the exact solver."""
    from scipy.optimize import least_squares  # lazy: scipy (0.6 s)

    low, high = (np.asarray(b, np.float64) for b in bounds)
    x0 = np.clip(np.asarray(x0, np.float64), low, high)
    jacobian = lambda x: _forward_jacobian(residuals, x, high, step)
    return least_squares(residuals, x0, jac=jacobian, bounds=(low, high), method="trf", max_nfev=MAX_EVALUATIONS,
                         x_scale="jac", loss="soft_l1", f_scale=ROBUST_SCALE, ftol=FIT_TOLERANCE, xtol=FIT_TOLERANCE,
                         tr_solver="lsmr" if x0.size > 1 else "exact").x


def _lab_residuals(look: LearnedLook, samples: Samples, target_lab: np.ndarray) -> np.ndarray:
    return (srgb_to_lab(_render(look, samples)) - target_lab).ravel()


@numba_threads(1)  # small sample sets: parallel kernels would mostly wait on a busy machine
def fit_exposure(samples: Samples) -> LearnedLook:
    """The exposure offset (EV) that brings the neutral rendering closest to the target."""
    target_lab = srgb_to_lab(samples.target)
    x = _least_squares(lambda p: _lab_residuals(LearnedLook(ev=float(p[0])), samples, target_lab), [0.0],
                       ([-4.0], [4.0]))
    return LearnedLook(ev=float(x[0]), stages=("exposure",))


def _curve_from_exposure(ev: float) -> np.ndarray:
    """Knot outputs of the curve that does what an exposure offset ``ev`` does to the neutral rendering."""

    linear = decode_eotf(np.asarray(CURVE_INPUTS, np.float32), "srgb") * np.float32(2.0**ev)
    return encode_oetf(np.clip(linear, 0.0, 1.0), "srgb").astype(np.float64)


def _increments(outputs: np.ndarray) -> np.ndarray:
    return np.diff(np.concatenate([[0.0], np.maximum.accumulate(np.clip(outputs, 0.0, 1.0))]))


def _start_curve(look: LearnedLook) -> np.ndarray:
    """Knot increments of ``look``'s curve read at :data:`CURVE_INPUTS` (its exposure's when it has none)."""
    if not look.points:
        return _increments(_curve_from_exposure(look.ev))
    xs, ys = (np.array([p[i] for p in look.points]) for i in (0, 1))
    return _increments(monotone_cubic(np.asarray(CURVE_INPUTS), xs, ys, monotone_slopes(xs, ys)))


def _points(increments: np.ndarray) -> tuple[tuple[float, float], ...]:
    outputs = np.minimum(np.cumsum(np.maximum(increments, 0.0)), 1.0)
    return tuple((float(x), float(y)) for x, y in zip(CURVE_INPUTS, outputs))


@numba_threads(1)  # small sample sets: parallel kernels would mostly wait on a busy machine
def fit_curve(samples: Samples, start: LearnedLook) -> LearnedLook:
    """A monotone tone curve (the exposure folded in), per channel, fitted to the target."""
    target_lab = srgb_to_lab(samples.target)
    x0 = _increments(_curve_from_exposure(start.ev))
    n = len(CURVE_INPUTS)

    def residuals(p):
        return _lab_residuals(LearnedLook(points=_points(p)), samples, target_lab)

    x = _least_squares(residuals, x0, (np.zeros(n), np.ones(n)))
    return LearnedLook(points=_points(x), stages=start.stages + ("curve",))


_COLOUR_BOUNDS = (
    [0.0, -1.0] + [-60.0] * 8 + [-1.0] * 8 + [-2.0] * 8,
    [3.0, 1.0] + [60.0] * 8 + [1.0] * 8 + [2.0] * 8,
)


def _colour_params(p: np.ndarray) -> ColourParams:
    return ColourParams(
        saturation=float(p[0]),
        vibrance=float(p[1]),
        hue_shift=tuple(float(v) for v in p[2:10]),
        hue_saturation=tuple(float(v) for v in p[10:18]),
        hue_lightness=tuple(float(v) for v in p[18:26]),
    )


@numba_threads(1)  # small sample sets: parallel kernels would mostly wait on a busy machine
def fit_colour(samples: Samples, start: LearnedLook) -> LearnedLook:
    """Saturation, vibrance and the eight-hue table, refitted together with the tone curve."""
    target_lab = srgb_to_lab(samples.target)
    n = len(CURVE_INPUTS)
    x0 = np.concatenate([[1.0, 0.0], np.zeros(24), _start_curve(start)])
    ridge = np.sqrt(len(samples)) * np.concatenate(
        [[0.0, 0.0], np.full(8, np.sqrt(HUE_SHIFT_RIDGE)), np.full(16, np.sqrt(HUE_RIDGE))]
    )

    base = start.replace(ev=0.0)  # the curve holds the exposure

    def residuals(p):
        look = base.replace(points=_points(p[26:]), colour=_colour_params(p[:26]))
        return np.concatenate([_lab_residuals(look, samples, target_lab), ridge * p[:26]])

    bounds = (np.concatenate([_COLOUR_BOUNDS[0], np.zeros(n)]), np.concatenate([_COLOUR_BOUNDS[1], np.ones(n)]))
    x = _least_squares(residuals, x0, bounds)
    return base.replace(points=_points(x[26:]), colour=_colour_params(x[:26]), stages=start.stages + ("colour",))


def _second_differences(size: int):
    """Sparse second differences along each axis of a ``size``^3 lattice (rows: one per interior triple)."""
    import scipy.sparse as sp  # lazy: scipy (0.1 s)

    index = np.arange(size**3).reshape(size, size, size)
    blocks = []
    for axis in range(3):
        along = np.moveaxis(index, axis, 0)
        columns = [along[k : k + size - 2].ravel() for k in range(3)]
        rows = np.arange(columns[0].size)
        data = np.concatenate([np.full(rows.size, w) for w in (1.0, -2.0, 1.0)])
        blocks.append(sp.csr_matrix((data, (np.tile(rows, 3), np.concatenate(columns))), shape=(rows.size, size**3)))
    return sp.vstack(blocks).tocsr()


def _lut_inputs(look: LearnedLook, scene: np.ndarray) -> np.ndarray:
    """What the LUT stage reads: the scene through the look's stages before it, gamut-clipped and display-encoded
    in :data:`~lumatune.learn.model.LUT_SPACE` (:func:`lumatune.stages.lut.lut_input`), in [0, 1]."""
    image = as_image(scene)
    graded = from_image(pointwise_walk(look, image).before("lut")(image), len(scene))
    return lut_input(graded, lut_plan_of(identity_lut(2)))


@dataclass(frozen=True)
class _AfterLut:
    """The rendering of LUT outputs, planned once for a look: the LUT stage's decoding, the look's stages after
    the LUT (:func:`lumatune.learn.model.pointwise_walk`) and, when it has one, its vignette's per-sample weights."""

    walk: Prepared
    vignette: tuple[float, np.ndarray] | None

    @classmethod
    def of(cls, look: LearnedLook, samples: Samples) -> _AfterLut:
        walk = pointwise_walk(look, as_image(samples.scene)).after("lut")
        if look.vignette is None:
            return cls(walk, None)
        weights = vignette_weights(look.vignette, samples.position, samples.frame_index, samples.frames)
        return cls(walk, (look.vignette.amount, weights))

    def __call__(self, outputs: np.ndarray) -> np.ndarray:
        """CIELAB of the display rendering of LUT outputs (display-encoded Rec.2020, (n, 3))."""
        linear = lut_output(outputs, lut_plan_of(identity_lut(2)))
        display = from_image(self.walk(as_image(linear)), len(outputs))
        if self.vignette is not None:
            display = vignetted(display, *self.vignette)
        return srgb_to_lab(display)


def _after_lut_jacobian(after: _AfterLut, outputs: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """(n, 3, 3) derivative of ``after`` at ``outputs`` by forward differences (backwards near 1)."""
    jacobian = np.empty((len(outputs), 3, 3))
    for c in range(3):
        h = np.where(outputs[:, c] + LUT_STEP <= 1.0, LUT_STEP, -LUT_STEP)
        moved = outputs.copy()
        moved[:, c] += h
        jacobian[:, :, c] = (after(moved) - lab) / h[:, None]
    return jacobian


def _linearised_design(indices: np.ndarray, weights: np.ndarray, jacobian: np.ndarray, nodes: int):
    """Sparse (3 n, 3 nodes) map from lattice corrections (node-major, channel-minor) to CIELAB changes:
    row ``3 i + c`` holds ``weights[i, k] * jacobian[i, c, d]`` at column ``3 indices[i, k] + d``."""
    import scipy.sparse as sp  # lazy: scipy (0.2 s)

    n = len(indices)
    values = weights[:, None, :, None] * jacobian[:, :, None, :]  # (n, c, k, d)
    rows = np.broadcast_to((3 * np.arange(n))[:, None, None, None] + np.arange(3)[None, :, None, None], values.shape)
    columns = np.broadcast_to(3 * indices[:, None, :, None] + np.arange(3)[None, None, None, :], values.shape)
    return sp.csr_matrix((values.ravel(), (rows.ravel(), columns.ravel())), shape=(3 * n, 3 * nodes))


def _gauss_newton_lut(after, lattice, target_lab, size, smoothness, table, iterations):
    """Refine ``table`` (size^3, 3) by Gauss-Newton steps on the soft-L1 CIELAB misfit plus the penalties.

    ``after`` renders LUT outputs (:class:`_AfterLut`); ``lattice`` is the samples' tetrahedral
    ``(indices, weights)``. Each step solves
    ``(B^T W B + P) step = B^T W r - P (table - identity)`` by conjugate gradients (Jacobi preconditioner),
    ``B`` the linearised design, ``W`` the soft-L1 weights over the sample count, ``P`` the penalties.
    """
    import scipy.sparse as sp  # lazy: scipy (0.2 s)
    from scipy.sparse.linalg import cg  # lazy: scipy (0.3 s)

    indices, weights = lattice
    n, nodes = len(indices), size**3
    identity = identity_lut(size).reshape(-1, 3).astype(np.float64)
    second = _second_differences(size)
    spacing = 1.0 / (size - 1)  # lattice step on the unit cube: the sums below approximate integrals
    penalty = smoothness / spacing * (second.T @ second) + LUT_SHRINK * spacing**3 * sp.identity(nodes)
    penalty = sp.kron(penalty, sp.identity(3)).tocsr()
    for _ in range(iterations):
        outputs = np.einsum("nk,nkc->nc", weights, table[indices])
        lab = after(outputs)
        residual = target_lab - lab
        robust = 1.0 / np.sqrt(1.0 + (np.linalg.norm(residual, axis=1) / ROBUST_SCALE) ** 2) / n
        design = _linearised_design(indices, weights, _after_lut_jacobian(after, outputs, lab), nodes)
        row_weights = sp.diags(np.repeat(robust, 3))
        normal = (design.T @ row_weights @ design + penalty).tocsr()
        right = design.T @ (np.repeat(robust, 3) * residual.ravel()) - penalty @ (table - identity).ravel()
        preconditioner = sp.diags(1.0 / normal.diagonal())
        step, _ = cg(normal, right, rtol=_CG_TOLERANCE, maxiter=LUT_CG_ITERATIONS, M=preconditioner)
        table = np.clip(table + step.reshape(-1, 3), 0.0, 1.0)
    return table


def _lut_lattice(look: LearnedLook, scene: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Tetrahedral ``(indices, weights)`` of each sample's LUT input on a ``size`` lattice."""
    return tetrahedral_weights(_lut_inputs(look, scene), size)


def _resampled(table: np.ndarray, size: int) -> np.ndarray:
    """A (n^3, 3) table read (tetrahedrally, as the LUT stage reads it) at the nodes of a ``size`` lattice."""
    coarse = round(len(table) ** (1.0 / 3.0))
    indices, weights = tetrahedral_weights(identity_lut(size).reshape(-1, 3), coarse)
    return np.einsum("nk,nkc->nc", weights, table[indices])


@numba_threads(1)  # small sample sets: parallel kernels would mostly wait on a busy machine
def fit_lut(samples: Samples, held: Samples, start: LearnedLook, size: int = 33) -> tuple[LearnedLook, str]:
    """A smooth 3-D LUT correcting what ``start`` leaves, its smoothness chosen on ``held``; and a note.

    Gauss-Newton on the lattice: the rendering after the LUT (tone curve, gamut clip, encoding, CIELAB) is
    linearised per sample, and each step solves the penalised normal equations by conjugate gradients. The
    smoothness weights are tried from the stiffest down, each starting where the previous one ended, on a
    lattice of at most :data:`COARSE_LUT_SIZE`; a finer lattice starts from the chosen coarse table and
    takes one more step (the penalties are integrals over the cube, so they mean the same at every size).
    """
    target_lab = srgb_to_lab(samples.target)
    held_lab = srgb_to_lab(held.target)
    after = _AfterLut.of(start, samples)
    coarse = min(size, COARSE_LUT_SIZE)
    lattice = _lut_lattice(start, samples.scene, coarse)
    table = identity_lut(coarse).reshape(-1, 3).astype(np.float64)
    best, scores = None, []
    for step, smoothness in enumerate(sorted(LUT_SMOOTHNESS, reverse=True)):
        iterations = LUT_ITERATIONS if step == 0 else 1
        table = _gauss_newton_lut(after, lattice, target_lab, coarse, smoothness, table, iterations)
        look = start.replace(lut=_as_table(table, coarse), stages=start.stages + ("lut",))
        error = held_out_error(look, held, held_lab)
        scores.append(f"{smoothness:g}: {error:.3f}")
        if best is None or error < best[0]:
            best = (error, look, smoothness, table)
    error, look, smoothness, table = best
    note = f"smoothness {smoothness:g} chosen (held-out mean ΔE00 {', '.join(scores)} at {coarse}^3)"
    if size == coarse:
        return look, note
    fine = _gauss_newton_lut(after, _lut_lattice(start, samples.scene, size), target_lab, size, smoothness,
                             _resampled(table, size), 1)
    return start.replace(lut=_as_table(fine, size), stages=start.stages + ("lut",)), note


def _as_table(table: np.ndarray, size: int) -> np.ndarray:
    return np.ascontiguousarray(table.reshape(size, size, size, 3), dtype=np.float32)


@numba_threads(1)  # small sample sets: parallel kernels would mostly wait on a busy machine
def fit_vignette(samples: Samples, start: LearnedLook) -> LearnedLook:
    """The ``[vignette]`` (amount, midpoint, feather, roundness) that best explains the target's corners,
    fitted together with the tone curve (a vignette the curve was fitted without has bent it)."""
    target_lab = srgb_to_lab(samples.target)
    n = len(CURVE_INPUTS)

    def params(p):
        return VignetteParams(amount=float(p[0]), midpoint=float(p[1]), feather=float(p[2]), roundness=float(p[3]))

    base = start.replace(ev=0.0)  # the curve holds the exposure

    def residuals(p):
        return _lab_residuals(base.replace(points=_points(p[4:]), vignette=params(p[:4])), samples, target_lab)

    x0 = np.concatenate([_VIGNETTE_START, _start_curve(start)])
    bounds = (np.concatenate([[-1.0, 0.0, 0.05, 0.0], np.zeros(n)]), np.concatenate([[1.0, 1.0, 1.0, 1.0], np.ones(n)]))
    x = _least_squares(residuals, x0, bounds)
    return base.replace(points=_points(x[4:]), vignette=params(x[:4]), stages=start.stages + ("vignette",))


def _vignette_verdict(params: VignetteParams, lowers_error: bool) -> tuple[bool, str]:
    """Keep a vignette only when it lowers the error and is one: at least :data:`MIN_VIGNETTE` at the corners."""
    described = (f"amount {params.amount:+.3f}, midpoint {params.midpoint:.2f}, feather {params.feather:.2f}, "
                 f"roundness {params.roundness:.2f}")
    if abs(params.amount) < MIN_VIGNETTE:
        return False, f"{described}: too weak to be a vignette (|amount| < {MIN_VIGNETTE})"
    return lowers_error, described


def fit_look(
    train: Samples,
    held: Samples,
    *,
    lut_size: int = 33,
    seed: int = 0,
    nonlinear_samples: int = NONLINEAR_SAMPLES,
    progress=None,
) -> FitResult:
    """Fit the stages in order on ``train``, keeping each only while the error on ``held`` falls.

    Parameters
    ----------
    train, held : training and held-out samples (:func:`lumatune.learn.samples.draw_samples`).
    lut_size : lattice points per axis of the LUT.
    seed : seed of the subset the nonlinear stages fit on.
    nonlinear_samples : size of that subset at most.
    progress : called with each stage's name before it is fitted.
    """
    with numba_threads(1):
        return _fit_stages(train, held, lut_size, _subset(train, nonlinear_samples, seed), progress)


def _fit_stages(train: Samples, held: Samples, lut_size: int, small: Samples, progress) -> FitResult:
    held_lab = srgb_to_lab(held.target)
    neutral = held_out_error(LearnedLook(), held, held_lab)
    best, best_error, log = LearnedLook(), neutral, []
    steps = (
        ("exposure", lambda look: (fit_exposure(small), "")),
        ("curve", lambda look: (fit_curve(small, look), "")),
        ("vignette", lambda look: (fit_vignette(small, look), "")),
        ("colour", lambda look: (fit_colour(small, look), "")),
        ("lut", lambda look: fit_lut(train, held, look, lut_size)),
    )
    for name, step in steps:
        if progress is not None:
            progress(name)
        look, note = step(best)
        error = held_out_error(look, held, held_lab)
        kept = error < best_error - STOP_GAIN
        if name == "vignette":
            kept, note = _vignette_verdict(look.vignette, kept)
        log.append(StageResult(name=name, look=look, held_out_de00=error, kept=kept, note=note))
        if kept:
            best, best_error = look, error
    return FitResult(look=best, neutral_de00=neutral, log=tuple(log))
