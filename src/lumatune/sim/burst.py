"""The virtual camera's burst: N raws of one scene with handheld motion, independent noise, optionally a moving
object and bracketed exposures, with the ground truth a burst merge is measured against.

Each frame sees the scene (rendered once, with a margin, through the lens blur) moved by a random sub-pixel
translation and a small rotation about the image centre (the first frame, the reference, is not moved), then
lens shading, the colour filter array and the sensor's noise, with a seed of its own. A moving object (a disc of
its own colour) crosses the frame at a steady speed, independently of the camera. An exposure bracket
changes the exposure time per frame (``ev``), as a camera's auto-bracketing does.

The truth (``<stem>.json``, ``kind = "lumatune-sim-burst-truth"``) lists the frames and their motion, and
names an ``.npz`` beside it with ``reference``: the reference frame's noise-free mosaic (black subtracted,
1 = white level, before clipping, so a bracket's highlights above white are there), ``static_mask`` (pixels
every frame sees and no moving object ever covers) and ``moving_mask`` (pixels the object covers in any
frame, in the reference's coordinates).

References
----------
.. [1] NTIRE 2021 Burst Super-Resolution challenge (Bhat et al., CVPR workshops 2021): synthetic bursts from
       random translations and rotations of a clean linear image, then mosaic and noise.
.. [2] S. W. Hasinoff et al., "Burst photography for high dynamic range and low-light imaging on mobile
       cameras", ACM TOG 35(6), 2016 (bursts of equal short exposures).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from lumatune.errors import OutputError, UnsupportedError
from lumatune.io.atomic import atomic_output
from lumatune.io.dng import write_dng
from lumatune.sim import colorimetry, optics as optics_model, sensor as sensor_model, spectra
from lumatune.sim.camera import (
    CAPTURE_DATETIME,
    WHITE_AT_EV0,
    _cfa_pattern,
    _effective_wavelengths,
    _lens_description,
    _paint,
    _shading_gain_map,
)
from lumatune.sim.optics import Optics
from lumatune.sim.scenes import SCENES, make_scene
from lumatune.sim.sensor import Sensor

__all__ = ["BURST_TRUTH_KIND", "BurstResult", "simulate_burst", "write_burst"]

BURST_TRUTH_KIND = "lumatune-sim-burst-truth"
BURST_TRUTH_VERSION = 1

OBJECT_CAMERA_RGB = (0.55, 0.22, 0.08)
"""Camera RGB of the moving object relative to the white at ev 0 (an orange ball)."""

OBJECT_RADIUS = 0.06
"""Radius of the moving object as a fraction of the image height."""

OBJECT_SPEED = 0.012
"""Speed of the moving object, fraction of the image width per frame, left to right."""

MASK_MARGIN_PX = 3
"""The moving mask covers the object's footprints grown by this many pixels (its blurred edge)."""


@dataclass(frozen=True)
class BurstResult:
    """A simulated burst: the frames' mosaics and DNG metadata, and the truth (JSON-ready plus arrays)."""

    mosaics: list[np.ndarray]
    metadata: list[dict]
    truth: dict
    reference: np.ndarray = field(repr=False)
    static_mask: np.ndarray = field(repr=False)
    moving_mask: np.ndarray = field(repr=False)


def _motions(frames: int, motion_px: float, rotation_deg: float, seed: int) -> list[tuple[float, float, float]]:
    """(dy, dx, angle_deg) per frame; the first is (0, 0, 0). Normal with the given standard deviations."""
    rng = np.random.default_rng([seed, 15])
    out = [(0.0, 0.0, 0.0)]
    for _ in range(frames - 1):
        dy, dx = rng.normal(0.0, motion_px, 2)
        out.append((float(dy), float(dx), float(rng.normal(0.0, rotation_deg))))
    return out


def _affine(dy: float, dx: float, angle_deg: float, width: int, height: int, margin: int) -> np.ndarray:
    """2x3 map from the frame's pixel to the padded scene's: rotate about the centre, then translate."""
    theta = math.radians(angle_deg)
    c, s = math.cos(theta), math.sin(theta)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    # scene = R (p - centre) + centre + margin + (dx, dy)
    return np.array(
        [
            [c, -s, cx + margin + dx - (c * cx - s * cy)],
            [s, c, cy + margin + dy - (s * cx + c * cy)],
        ],
        dtype=np.float64,
    )


def _disc(width: int, height: int, centre: tuple[float, float], radius: float) -> np.ndarray:
    """Anti-aliased disc coverage (H, W) float32 in [0, 1] (a one-pixel linear ramp at the edge)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot(x - centre[0], y - centre[1])
    return np.clip(radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)


def _check(frames: int, bracket: list[float] | None, motion_px: float, rotation_deg: float, scene: str) -> None:
    if scene not in SCENES:
        raise UnsupportedError(f"scene {scene!r}: expected one of {', '.join(SCENES)}")
    if not 2 <= frames <= 64:
        raise UnsupportedError(f"frames {frames}: a burst has 2 to 64 frames")
    if bracket is not None and len(bracket) != frames:
        raise UnsupportedError(f"bracket of {len(bracket)} exposures for {frames} frames: give one ev per frame")
    if not (0 <= motion_px <= 100 and 0 <= rotation_deg <= 5):
        raise UnsupportedError("motion must be in [0, 100] px and rotation in [0, 5] degrees")


def simulate_burst(
    scene: str = "natural",
    *,
    frames: int = 8,
    size: tuple[int, int] = (1024, 768),
    iso: float = 12800,
    ev: float = 0.0,
    bracket: list[float] | None = None,
    motion_px: float = 6.0,
    rotation_deg: float = 0.3,
    moving: bool = False,
    seed: int = 0,
    camera: str = spectra.DEFAULT_CAMERA,
    cfa: str = "RGGB",
    illuminant: str = "D65",
    optics: Optics = Optics(),
    sensor: Sensor = Sensor(),
) -> BurstResult:
    """Simulate a handheld burst (or bracket) of ``frames`` raws of ``scene``.

    Parameters
    ----------
    scene
        A scene of :data:`lumatune.sim.SCENES`.
    frames
        Number of frames (the first is the reference).
    size
        (width, height) of each frame.
    iso, ev
        Capture ISO and exposure (as :func:`lumatune.sim.simulate`); ``bracket`` adds one ev per frame to ``ev``.
    motion_px, rotation_deg
        Standard deviations of the random translation (pixels, each axis) and rotation (degrees) of the camera
        between the reference and each other frame.
    moving
        Add an object that moves across the frame independently of the camera.
    seed
        Seed of the motion and of the frames' noise (frame k's noise uses ``seed * 1000 + k``).
    camera, cfa, illuminant, optics, sensor
        As :func:`lumatune.sim.simulate`; the CFA may be any Bayer pattern or XTRANS.
    """
    _check(frames, bracket, motion_px, rotation_deg, scene)
    evs = [float(ev) + float(v) for v in bracket] if bracket is not None else [float(ev)] * frames
    pattern = _cfa_pattern(cfa)
    width, height = (int(v) for v in size)
    motions = _motions(frames, motion_px, rotation_deg, seed)
    extent = max(abs(m[0]) + abs(m[1]) + abs(math.radians(m[2])) * math.hypot(width, height) / 2 for m in motions)
    margin = int(math.ceil(extent)) + 8

    light = spectra.illuminant_spd(illuminant)
    sensitivities = spectra.camera_sensitivities(camera)
    rendered = make_scene(scene, width + 2 * margin, height + 2 * margin)
    white_rgb = light @ sensitivities
    exposure = WHITE_AT_EV0 / white_rgb.max()
    label_rgb = colorimetry.camera_response(rendered.reflectances, light, sensitivities) * exposure
    padded = _paint(label_rgb, rendered)
    kernels = optics_model.psf_kernels(optics, _effective_wavelengths(light, sensitivities))
    optics_model.apply_psf(padded, kernels)
    shading = optics_model.lens_shading(width, height, optics)
    object_rgb = np.asarray(OBJECT_CAMERA_RGB, dtype=np.float32) * np.float32(WHITE_AT_EV0)
    radius = OBJECT_RADIUS * height
    start = (0.3 * width, 0.55 * height)

    mosaics, metadata, footprints = [], [], []
    reference = None
    for k, ((dy, dx, angle), frame_ev) in enumerate(zip(motions, evs)):
        matrix = _affine(dy, dx, angle, width, height, margin)
        image = cv2.warpAffine(
            padded, matrix, (width, height), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )
        if moving:
            centre = (start[0] + k * OBJECT_SPEED * width, start[1])
            cover = cv2.GaussianBlur(_disc(width, height, centre, radius), (0, 0), optics.sigma_px or 0.6)
            image = image * (1 - cover[:, :, None]) + object_rgb[None, None, :] * cover[:, :, None]
            footprints.append((k, centre, matrix))
        if shading is not None:
            image *= shading[:, :, None]
        image *= np.float32(2.0**frame_ev)
        signal = sensor_model.mosaic_signal(image.astype(np.float32), pattern)
        del image
        if k == 0:
            reference = signal.copy()
        mosaics.append(sensor_model.capture(signal, sensor, iso=iso, ev=frame_ev, seed=seed * 1000 + k))
        profile = sensor.noise_profile(iso, frame_ev)
        metadata.append(
            {
                "cfa_pattern": pattern,
                "black_level": sensor.black_dn,
                "white_level": sensor.white_level,
                **colorimetry.dng_colour_tags(camera),
                "as_shot_neutral": white_rgb / white_rgb[1],
                "baseline_exposure": 0.0,
                "noise_profile": [profile] * 3,
                "opcode_list_2": _shading_gain_map(width, height, optics),
                "make": "lumatune",
                "model": camera,
                "unique_camera_model": f"lumatune {camera}",
                "exposure_time": sensor.exposure_time_s(iso, frame_ev),
                "f_number": optics.f_number,
                "iso": int(round(iso)),
                "focal_length": optics.focal_length_mm(width, height),
                "datetime_original": CAPTURE_DATETIME,
                "lens_model": _lens_description(optics),
            }
        )
    moving_mask = _moving_mask(footprints, motions[0], width, height, margin, radius)
    border = margin + 8
    static_mask = np.zeros((height, width), dtype=bool)
    static_mask[border : height - border, border : width - border] = True
    static_mask &= ~moving_mask
    truth = {
        "kind": BURST_TRUTH_KIND,
        "version": BURST_TRUTH_VERSION,
        "scene": rendered.name,
        "frames": [
            {"ev": e, "shift_px": [m[0], m[1]], "rotation_deg": m[2]} for m, e in zip(motions, evs, strict=True)
        ],
        "iso": iso,
        "cfa": cfa.upper(),
        "image_size": [width, height],
        "moving_object": bool(moving),
        "noise_profile": [list(sensor.noise_profile(iso, e)) for e in evs],
    }
    if rendered.wedge:
        truth["wedge"] = _wedge(rendered, light, margin, width, height)
    return BurstResult(mosaics, metadata, truth, reference, static_mask, moving_mask)


def _moving_mask(footprints, reference_motion, width: int, height: int, margin: int, radius: float) -> np.ndarray:
    """Pixels of the reference covered by the object in any frame (each footprint mapped into the reference)."""
    mask = np.zeros((height, width), dtype=bool)
    if not footprints:
        return mask
    ref = _affine(*reference_motion, width, height, margin)
    ref_inverse = cv2.invertAffineTransform(ref)
    for _k, centre, matrix in footprints:
        scene_point = matrix @ np.array([centre[0], centre[1], 1.0])
        point = ref_inverse @ np.array([scene_point[0], scene_point[1], 1.0])
        mask |= _disc(width, height, (float(point[0]), float(point[1])), radius + MASK_MARGIN_PX) > 0
    return mask


def _wedge(rendered, light, margin: int, width: int, height: int) -> dict:
    """The wedge steps' boxes in reference pixels, shrunk inside the frame, with their relative luminance."""
    luminance = colorimetry.relative_xyz(rendered.reflectances, light)[:, 1]
    steps = []
    for step in rendered.wedge:
        x0, y0, x1, y1 = step.box
        box = [max(x0 - margin, 0), max(y0 - margin, 0), min(x1 - margin, width), min(y1 - margin, height)]
        if box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
            relative = float(luminance[step.label] * step.shading)
            steps.append({"box": [int(v) for v in box], "relative_luminance": relative})
    return {"steps": steps}


def write_burst(folder: str | Path, result: BurstResult, *, stem: str = "frame", overwrite: bool = False) -> list[Path]:
    """Write the frames as ``<stem>_00.dng`` ... and the truth as ``truth.json`` + ``truth.npz`` in ``folder``.

    Returns
    -------
    list of pathlib.Path
        The frames' DNGs, the truth JSON and the arrays, in that order.

    Raises
    ------
    OutputError
        The folder is missing or an output exists without ``overwrite``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(f"{folder}: output folder does not exist")
    names = [folder / f"{stem}_{k:02d}.dng" for k in range(len(result.mosaics))]
    json_path, arrays_path = folder / "truth.json", folder / "truth.npz"
    existing = [p for p in [*names, json_path, arrays_path] if p.exists()]
    if existing and not overwrite:
        raise OutputError(f"{existing[0]}: exists (use --overwrite)")
    for name, mosaic, metadata in zip(names, result.mosaics, result.metadata, strict=True):
        write_dng(name, mosaic, **metadata, overwrite=overwrite)
    with atomic_output(arrays_path, overwrite) as temp:
        with open(temp, "wb") as handle:
            np.savez_compressed(
                handle, reference=result.reference, static_mask=result.static_mask, moving_mask=result.moving_mask
            )
    truth = dict(result.truth)
    truth["reference"] = names[0].name
    truth["arrays"] = arrays_path.name
    for entry, name in zip(truth["frames"], names, strict=True):
        entry["file"] = name.name
    with atomic_output(json_path, overwrite) as temp:
        temp.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return [*names, json_path, arrays_path]
