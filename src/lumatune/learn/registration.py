"""Register a target rendering to the ``neutral`` rendering of its raw: quarter turn, scale, crop, shift.

Targets differ from the raw's rendering in size (previews are smaller), crop, orientation and tone, so the
match is made on luminance after a histogram match (which undoes any monotone tone difference) and in
two steps:

1.  For each of the four quarter turns of the target, starting guesses of the affine map from target
    pixels to reference pixels: the target frame laid over the whole reference frame, and, when ORB
    features (binary intensity tests, unchanged by monotone tone curves) give enough RANSAC inliers, the
    similarity they agree on.
2.  Each guess is refined by ECC (enhanced correlation coefficient maximisation, affine motion) on blurred
    luminance, coarse then fine; the turn and map with the highest correlation win. A best correlation
    below :data:`MIN_CORRELATION` means no registration: the two images are not the same shot.

Coordinates follow OpenCV: pixel centres at integer positions, ``x`` to the right, ``y`` down.

References
----------
-   G. D. Evangelidis, E. Z. Psarakis, "Parametric image alignment using enhanced correlation coefficient
    maximization", IEEE TPAMI 30(10), 1858-1865, 2008 (``cv2.findTransformECC``).
-   E. Rublee, V. Rabaud, K. Konolige, G. Bradski, "ORB: an efficient alternative to SIFT or SURF",
    ICCV 2011.
-   M. A. Fischler, R. C. Bolles, "Random sample consensus", Comm. ACM 24(6), 381-395, 1981.
-   R. C. Gonzalez, R. E. Woods, "Digital Image Processing", 4th ed., 2018, 3.3.2 (histogram matching).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "MIN_CORRELATION",
    "MIN_OVERLAP",
    "COARSE_SIZE",
    "FINE_SIZE",
    "Registration",
    "RegistrationError",
    "luminance",
    "match_histogram",
    "register",
    "warp_to_target",
    "target_to_reference",
]

MIN_CORRELATION = 0.9
"""ECC correlation (after the histogram match, on blurred luminance) below which two images are not one shot
(measured: the same shot 0.98 to 0.999, JPEG previews included; its mirror image 0.76; other shots 0.3 to 0.4)."""
COARSE_SIZE = 256
"""Long side (px) of the images the quarter turns and starting guesses are compared at."""
FINE_SIZE = 1024
"""Long side (px) at most of the images the winning map is refined at."""
MIN_OVERLAP = 0.5
"""Fraction of the target that must land inside the reference."""
MIN_INLIERS = 12
"""ORB matches agreeing on one similarity needed for it to be tried as a starting guess."""
_BLUR_SIGMA = 1.0  # px at the working size: ECC needs smooth images
_FINE_SLACK = 0.02  # finer images correlate a little less: the fine map is kept unless it falls further
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
_MIN_SCALE, _MAX_SCALE = 0.05, 20.0  # plausible target/reference scale range
_MAX_ANISOTROPY = 1.15  # ratio of the map's two scales: a preview is not stretched
_MAX_ROTATION = 10.0  # degrees of rotation left after the quarter turn (a straightened or tilted export)
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


class RegistrationError(ValueError):
    """No registration found between a target and its reference."""


@dataclass(frozen=True)
class Registration:
    """Where the target lies in the reference.

    Attributes
    ----------
    turns : counter-clockwise quarter turns (``np.rot90(target, turns)``) that make the target upright
        like the reference.
    matrix : (2, 3) affine map from pixels of the turned target to pixels of the reference.
    correlation : ECC correlation coefficient reached (1: identical up to a monotone tone change).
    """

    turns: int
    matrix: np.ndarray
    correlation: float


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Display-encoded Rec.709 luma of an (H, W, 3) image (float32)."""
    return np.ascontiguousarray(np.asarray(rgb, np.float32) @ _LUMA)


def match_histogram(source: np.ndarray, template: np.ndarray) -> np.ndarray:
    """``source`` mapped by the monotone function that gives it the histogram of ``template``.

    References
    ----------
    Gonzalez and Woods, 2018, 3.3.2.
    """
    quantiles = np.linspace(0.0, 1.0, 257)
    src = np.quantile(source, quantiles)
    dst = np.quantile(template, quantiles)
    src = src + np.arange(src.size) * 1e-9  # strictly increasing for interpolation
    return np.interp(source, src, dst).astype(np.float32)


def _resized(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """``image`` shrunk (area averaging) so that its long side is at most ``long_side``; and the factor."""
    height, width = image.shape[:2]
    factor = min(1.0, long_side / max(height, width))
    if factor == 1.0:
        return image, 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), size[0] / width


def _scaling(factor: float) -> np.ndarray:
    """3x3 map of pixel centres from full size to an image resized by ``factor``."""
    return np.array([[factor, 0.0, 0.5 * factor - 0.5], [0.0, factor, 0.5 * factor - 0.5], [0.0, 0.0, 1.0]])


def _rescaled(matrix: np.ndarray, target_factor: float, reference_factor: float) -> np.ndarray:
    """An affine map between resized images -> the same map between the images at full size."""
    full = np.linalg.inv(_scaling(reference_factor)) @ np.vstack([matrix, [0, 0, 1]]) @ _scaling(target_factor)
    return full[:2]


def _frame_guess(target_shape: tuple[int, ...], reference_shape: tuple[int, ...]) -> np.ndarray:
    """The target frame laid over the whole reference frame (pixel edges on pixel edges)."""
    sy, sx = reference_shape[0] / target_shape[0], reference_shape[1] / target_shape[1]
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]])


def _feature_guess(target: np.ndarray, reference: np.ndarray) -> np.ndarray | None:
    """The similarity ORB matches agree on (RANSAC), or None when too few agree."""
    orb = cv2.ORB_create(nfeatures=1500)
    as_bytes = lambda image: np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    kt, dt = orb.detectAndCompute(as_bytes(target), None)
    kr, dr = orb.detectAndCompute(as_bytes(reference), None)
    if dt is None or dr is None or len(kt) < MIN_INLIERS or len(kr) < MIN_INLIERS:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(dt, dr, k=2)
    good = [m[0] for m in matches if len(m) == 2 and m[0].distance < 0.8 * m[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    src = np.float32([kt[m.queryIdx].pt for m in good])
    dst = np.float32([kr[m.trainIdx].pt for m in good])
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    if matrix is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    return matrix


def _blurred(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), _BLUR_SIGMA)


def _ecc(target: np.ndarray, reference: np.ndarray, guess: np.ndarray) -> tuple[float, np.ndarray] | None:
    """ECC refinement of ``guess`` (target -> reference pixels); None when it fails or goes implausible."""
    warp = guess.astype(np.float32).copy()
    try:
        correlation, warp = cv2.findTransformECC(
            _blurred(target), _blurred(reference), warp, cv2.MOTION_AFFINE, _ECC_CRITERIA, None, 1
        )
    except cv2.error:
        return None
    scales = np.linalg.svd(warp[:, :2], compute_uv=False)
    if not np.all(np.isfinite(warp)) or not (_MIN_SCALE < scales[1] <= scales[0] < _MAX_SCALE):
        return None
    if scales[0] / scales[1] > _MAX_ANISOTROPY or warp[0, 0] <= 0 or warp[1, 1] <= 0:  # sheared, mirrored, turned
        return None
    if abs(np.degrees(np.arctan2(warp[1, 0], warp[0, 0]))) > _MAX_ROTATION:  # the turns handle quarter turns
        return None
    return float(correlation), warp.astype(np.float64)


def _overlap(target_shape, reference_shape, matrix: np.ndarray) -> float:
    """Fraction of the target's area whose pixels land inside the reference."""
    height, width = target_shape[:2]
    ys, xs = np.mgrid[0 : height : max(1, height // 16), 0 : width : max(1, width // 16)]
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    x, y = matrix @ points
    inside = (x >= -0.5) & (x <= reference_shape[1] - 0.5) & (y >= -0.5) & (y <= reference_shape[0] - 0.5)
    return float(inside.mean())


def _coarse_candidates(target: np.ndarray, reference: np.ndarray):
    """(correlation, turns, matrix at coarse size, target factor, reference factor) of every turn and guess."""
    ref_small, ref_factor = _resized(reference, COARSE_SIZE)
    candidates = []
    for turns in range(4):
        turned = np.ascontiguousarray(np.rot90(target, turns))
        small, factor = _resized(turned, COARSE_SIZE)
        matched = match_histogram(ref_small, small)
        guesses = [_frame_guess(small.shape, ref_small.shape)]
        feature = _feature_guess(small, matched)
        if feature is not None:
            guesses.append(feature)
        for guess in guesses:
            result = _ecc(small, matched, guess)
            if result is not None and _overlap(small.shape, ref_small.shape, result[1]) > MIN_OVERLAP:
                candidates.append((result[0], turns, result[1], factor, ref_factor))
    return candidates


def register(target: np.ndarray, reference: np.ndarray, *, min_correlation: float = MIN_CORRELATION) -> Registration:
    """Find the quarter turn and affine map that put ``target`` on ``reference``.

    Parameters
    ----------
    target : the rendering to imitate, display-encoded RGB (h, w, 3) or luminance (h, w).
    reference : the raw's ``neutral`` rendering, upright, display-encoded RGB or luminance.
    min_correlation : below this best ECC correlation no registration is found.

    Raises
    ------
    RegistrationError : no turn and map reach ``min_correlation`` (different shots).
    """
    target = luminance(target) if np.ndim(target) == 3 else np.asarray(target, np.float32)
    reference = luminance(reference) if np.ndim(reference) == 3 else np.asarray(reference, np.float32)
    candidates = _coarse_candidates(target, reference)
    if not candidates:
        raise RegistrationError("no registration found (the alignment did not converge for any orientation)")
    correlation, turns, matrix, t_factor, r_factor = max(candidates, key=lambda c: c[0])
    turned = np.ascontiguousarray(np.rot90(target, turns))
    fine_target, ft = _resized(turned, FINE_SIZE)
    guess = _rescaled(matrix, t_factor, r_factor)
    scale = float(np.sqrt(abs(np.linalg.det(guess[:, :2]))))  # reference px per target px
    fine_reference, fr = _resized(reference, round(max(reference.shape) * min(1.0, ft / scale)))
    fine_guess = (_scaling(fr) @ np.vstack([guess, [0, 0, 1]]) @ np.linalg.inv(_scaling(ft)))[:2]
    refined = _ecc(fine_target, match_histogram(fine_reference, fine_target), fine_guess)
    if refined is not None and refined[0] >= correlation - _FINE_SLACK:
        correlation, matrix = refined[0], _rescaled(refined[1], ft, fr)
    else:
        matrix = guess
    if correlation < min_correlation:
        raise RegistrationError(
            f"no registration found (best correlation {correlation:.2f} < {min_correlation}): not the same shot?"
        )
    return Registration(turns=turns, matrix=matrix, correlation=correlation)


def target_to_reference(registration: Registration, shape: tuple[int, int]) -> np.ndarray:
    """(h, w, 2) reference pixel coordinates (x, y) of each pixel of the turned target of ``shape``."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    m = registration.matrix
    return np.stack([m[0, 0] * xs + m[0, 1] * ys + m[0, 2], m[1, 0] * xs + m[1, 1] * ys + m[1, 2]], axis=-1)


def warp_to_target(image: np.ndarray, registration: Registration, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The reference ``image`` resampled on the turned target's pixels, and where it was defined (bool).

    A reference much larger than the target is first shrunk by area averaging, so that the resampling
    does not alias.
    """
    scales = np.linalg.svd(registration.matrix[:, :2], compute_uv=False)
    shrink = min(1.0, 1.0 / float(scales.min()))
    small, factor = _resized(image, max(8, round(max(image.shape[:2]) * shrink)))
    matrix = (_scaling(factor) @ np.vstack([registration.matrix, [0, 0, 1]]))[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    size = (int(shape[1]), int(shape[0]))
    warped = cv2.warpAffine(np.ascontiguousarray(small, np.float32), matrix, size, flags=flags, borderValue=0)
    ones = np.ones(small.shape[:2], np.float32)
    valid = cv2.warpAffine(ones, matrix, size, flags=flags, borderValue=0) > 0.999
    return warped, valid
