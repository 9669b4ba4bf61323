"""The virtual camera: spectral scene -> optics -> sensor -> DNG metadata and exact ground truth.

:func:`simulate` renders a scene (labels + reflectance spectra) under an illuminant through a
camera's measured spectral sensitivities, blurs and shades it with a lens model, samples it with a
colour filter array and adds sensor noise. :func:`write_sim` writes the raw as a DNG (with
ColorMatrix/ForwardMatrix fitted from the same sensitivities, AsShotNeutral, NoiseProfile and a
GainMap that undoes the lens shading) and the ground truth as JSON beside it (schema version 1).

This package never imports ``lumatune.stages`` or ``lumatune.pipeline``: the truth must not share
code with what it measures.

References
----------
.. [1] Adobe, DNG Specification 1.6.0.0 (tags written, colour model of chapter 6, GainMap).
.. [2] ISO 12233:2017 (slanted edge), ISO 14524:2009 (OECF step wedge), EMVA 1288 (sensor model).
"""

from __future__ import annotations

import datetime as dt
import json
import numbers
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import tifffile

from lumatune.errors import OutputError, UnsupportedError
from lumatune.io.atomic import atomic_output
from lumatune.io.dng import BAYER_PATTERNS, write_dng
from lumatune.raw.opcodes import encode_opcode_list, gain_map_opcode
from lumatune.sim import colorimetry, lens as sim_lens, optics as optics_model, sensor as sensor_model, spectra
from lumatune.sim.optics import Optics
from lumatune.sim.lens import VirtualLens
from lumatune.sim.scene_types import Scene
from lumatune.sim.scenes import ChartPlacement, make_scene
from lumatune.sim.sensor import Sensor

__all__ = [
    "CFA_PATTERNS",
    "DEFAULT_SIZE",
    "SimResult",
    "simulate",
    "truth_image",
    "write_sim",
]

XTRANS_PATTERN = np.array(
    [
        [1, 1, 0, 1, 1, 2],
        [1, 1, 2, 1, 1, 0],
        [2, 0, 1, 0, 2, 1],
        [1, 1, 2, 1, 1, 0],
        [1, 1, 0, 1, 1, 2],
        [0, 2, 1, 2, 0, 1],
    ],
    dtype=np.uint8,
)
"""Fujifilm X-Trans 6x6 layout (0=R, 1=G, 2=B); LibRaw demosaics it only from 512 px up."""

CFA_PATTERNS: dict[str, np.ndarray] = {**BAYER_PATTERNS, "XTRANS": XTRANS_PATTERN}

DEFAULT_SIZE = (1536, 1024)
"""(width, height) of a simulated raw when none is given (1.6 MP)."""

WHITE_AT_EV0 = 0.85
"""Largest channel of a perfect white at the image centre, as a fraction of full scale, at ev 0."""

CAPTURE_DATETIME = dt.datetime(2024, 6, 1, 12, 0, 0)
"""DateTimeOriginal of every simulated raw (fixed, so files are reproducible)."""

GAIN_MAP_POINTS = 65
"""Map points along each axis of the GainMap that undoes the lens shading."""

MIN_BOX_SIDE = 2
"""A truth box keeps at least this many pixels a side (a whole Bayer cell; a sample noise estimate)."""

TRUTH_IMAGE_MAX_PIXELS = 4_000_000
"""``write_sim`` writes the XYZ truth image only up to this many pixels (12 bytes per pixel)."""

TRUTH_KIND = "lumatune-sim-truth"
TRUTH_VERSION = 1


@dataclass(frozen=True)
class SimResult:
    """A simulated capture.

    Attributes
    ----------
    mosaic : numpy.ndarray
        (H, W) uint16 raw CFA image, black level included.
    dng_metadata : dict
        Keyword arguments of :func:`lumatune.io.dng.write_dng` (everything but path and mosaic).
    truth : dict
        The ground truth, JSON-ready (schema version 1, without ``truth_image``).
    patch_camera_rgb : numpy.ndarray
        (patches, 3) noiseless camera RGB of each patch in ``truth["patches"]``, in units of the white level (black
        subtracted), without lens shading, before clipping: what the mean of each CFA channel over
        the patch's box tends to when the lens shading is off.
    scene : Scene
        The rendered scene (for :func:`truth_image`).
    illuminant : str
        The scene illuminant.
    optics : Optics
        The lens model (its geometry places the truth image).
    """

    mosaic: np.ndarray
    dng_metadata: dict
    truth: dict
    patch_camera_rgb: np.ndarray
    scene: Scene = field(repr=False)
    illuminant: str
    optics: Optics


def _cfa_pattern(cfa: str) -> np.ndarray:
    """The CFA pattern of a name in :data:`CFA_PATTERNS`."""
    key = cfa.upper().replace("-", "")
    if key not in CFA_PATTERNS:
        raise UnsupportedError(f"CFA {cfa!r}: expected one of {', '.join(CFA_PATTERNS)}")
    return CFA_PATTERNS[key]


def _is_number_in(value, low: float, high: float) -> bool:
    """Whether ``value`` is a real number (not a bool) in [low, high]."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and low <= value <= high


def _check_capture(iso: float, ev: float, size: tuple[int, int]) -> tuple[int, int]:
    """Validate ISO, ev and size; return the size as integers."""
    if not _is_number_in(iso, 1, 409600):
        raise UnsupportedError(f"ISO {iso!r}: must be a number in [1, 409600]")
    if not _is_number_in(ev, -20, 20):
        raise UnsupportedError(f"ev {ev!r}: must be a number in [-20, 20]")
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise UnsupportedError(f"size {size!r}: expected (width, height)") from None
    return width, height


def _paint(lut: np.ndarray, scene: Scene) -> np.ndarray:
    """(H, W, C) float32 image of per-label values ``lut`` (labels, C) times the scene shading."""
    image = lut.astype(np.float32)[scene.labels]
    if scene.shading is not None:
        image *= scene.shading[:, :, None]
    return image


def _effective_wavelengths(light: np.ndarray, sensitivities: np.ndarray) -> tuple[float, float, float]:
    """Mean wavelength of each channel's response to the illuminant, nm."""
    weights = light[:, None] * sensitivities
    return tuple(float(v) for v in spectra.WAVELENGTHS @ weights / weights.sum(axis=0))


def _luminance_kernel(kernels: list[np.ndarray], camera: str, illuminant: str) -> np.ndarray:
    """The kernel a neutral edge's luminance sees: channel kernels weighted by their share of Y."""
    if all(k is kernels[0] for k in kernels):
        return kernels[0]
    fit = colorimetry.fit_camera_to_xyz(camera, illuminant)
    weights = fit.matrix[1] * fit.white_rgb / fit.white_xyz[1]
    size = max(k.shape[0] for k in kernels)
    combined = np.zeros((size, size))
    for weight, kernel in zip(weights, kernels):
        pad = (size - kernel.shape[0]) // 2
        combined[pad : size - pad, pad : size - pad] += weight * kernel
    return combined


def _shading_gain_map(width: int, height: int, optics: Optics) -> bytes | None:
    """OpcodeList2 with one GainMap that undoes the lens shading (None when it is off)."""
    if not optics.shading:
        return None
    rows = np.linspace(0.0, height, GAIN_MAP_POINTS)[:, None] - height / 2
    cols = np.linspace(0.0, width, GAIN_MAP_POINTS)[None, :] - width / 2
    rho = np.sqrt(rows * rows + cols * cols) / (0.5 * np.hypot(width, height))
    gains = 1.0 / optics_model.shading_of_radius(rho, optics)
    return encode_opcode_list([gain_map_opcode(gains.astype(np.float32), (width, height))])


def _box_list(box: tuple[int, int, int, int], width: int, height: int, optics: Optics) -> list[int] | None:
    """A scene box in output pixels (through the lens geometry); None when too little is left.

    A box keeps what lies inside the image, and only if that is :data:`MIN_BOX_SIDE` pixels a side.
    """
    x0, y0, x1, y1 = optics_model.map_box(box, width, height, optics)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 - x0 < MIN_BOX_SIDE or y1 - y0 < MIN_BOX_SIDE:
        return None
    return [int(x0), int(y0), int(x1), int(y1)]


def _patch_truth(scene: Scene, illuminant: str, width: int, height: int, optics: Optics) -> list[dict]:
    """The ``patches`` entries of the truth: box, neutrality, D65-adapted XYZ and Lab.

    A placed chart's patches also give their exact ``centre`` (x, y), pixel edges at integers, when the
    lens moves no pixels. Patches too small at this image size to keep a safe box are left out.
    """
    if not scene.patches:
        return []
    reflectances = np.stack([scene.reflectances[p.label] * p.shading for p in scene.patches])
    xyz, lab = colorimetry.true_colours(reflectances, illuminant)
    entries = []
    for i, patch in enumerate(scene.patches):
        box = _box_list(patch.box, width, height, optics)
        if box is not None:
            entry = {
                "name": patch.name,
                "box": box,
                "neutral": bool(patch.neutral),
                "XYZ": [float(v) for v in xyz[i]],
                "Lab": [float(v) for v in lab[i]],
            }
            if patch.centre is not None and not optics.has_geometry:
                entry["centre"] = list(patch.centre)
            entries.append(entry)
    return entries


def _edge_truth(scene: Scene, kernel: np.ndarray, width: int, height: int, optics: Optics) -> dict | None:
    """The ``edge`` entry: box, angle and the capture's analytic MTF (None if no box is left)."""
    box = _box_list(scene.edge.box, width, height, optics)
    if box is None:
        return None
    return {
        "box": box,
        "angle_deg": float(scene.edge.angle_deg),
        "mtf": {
            "frequency_cy_px": [float(f) for f in optics_model.MTF_FREQUENCIES],
            "mtf": [round(float(m), 6) for m in optics_model.mtf_of_capture(kernel)],
        },
        "mtf50_cy_px": round(optics_model.mtf50(kernel), 6),
    }


def _wedge_truth(scene: Scene, illuminant: str, width: int, height: int, optics: Optics) -> dict:
    """The ``wedge`` entry: each step's box and luminance relative to a perfect white (Y = 1).

    Steps too small at this image size to keep a safe box are left out.
    """
    light = spectra.illuminant_spd(illuminant)
    luminance = colorimetry.relative_xyz(scene.reflectances, light)[:, 1]
    steps = []
    for step in scene.wedge:
        box = _box_list(step.box, width, height, optics)
        if box is not None:
            steps.append({"box": box, "relative_luminance": float(luminance[step.label] * step.shading)})
    return {"steps": steps}


def _noise_truth(sensor: Sensor, iso: float, ev: float) -> dict:
    """The ``noise`` entry: sensor constants and the DNG NoiseProfile (same for R, G, B)."""
    profile = [float(v) for v in sensor.noise_profile(iso, ev)]
    return {
        "full_well_e": float(sensor.full_well_e),
        "read_noise_e": float(sensor.read_noise_e),
        "gain_dn_per_e": float(sensor.gain_dn_per_e(iso)),
        "white_level": int(sensor.white_level),
        "black_level": int(sensor.black_dn),
        "noise_profile": [profile, profile, profile],
    }


def _lens_description(optics: Optics) -> str:
    """LensModel text of the virtual lens."""
    if optics.psf == "gaussian":
        return f"lumatune virtual lens (Gaussian PSF {optics.sigma_px:g} px)"
    if optics.psf == "airy":
        return f"lumatune virtual lens (diffraction-limited f/{optics.f_number:g})"
    return "lumatune virtual lens (no blur)"


def simulate(
    scene: str,
    *,
    illuminant: str = "D65",
    camera: str = spectra.DEFAULT_CAMERA,
    cfa: str = "RGGB",
    iso: float = 100,
    ev: float = 0.0,
    seed: int = 0,
    size: tuple[int, int] = DEFAULT_SIZE,
    optics: Optics = Optics(),
    sensor: Sensor = Sensor(),
    placement: ChartPlacement | None = None,
    lens: VirtualLens | None = None,
) -> SimResult:
    """Simulate a raw capture of a named scene with exact ground truth.

    Parameters
    ----------
    scene
        A name in :data:`lumatune.sim.SCENES`.
    illuminant
        A name in :data:`lumatune.sim.ILLUMINANTS` or "<N>K" (Planckian below 4000 K, CIE daylight
        from 4000 K up).
    camera
        A name in :data:`lumatune.sim.CAMERAS` (measured spectral sensitivities).
    cfa
        "RGGB", "BGGR", "GRBG", "GBRG" or "XTRANS".
    iso
        Capture ISO: the conversion gain rises with it; the exposure is set so that a perfect white
        still lands at 85 % of full scale (times ``2**ev``), so noise rises with ISO.
    ev
        Exposure relative to that default, stops.
    seed
        Seed of the temporal noise (scene textures and fixed-pattern noise do not depend on it).
    size
        (width, height) in pixels.
    optics, sensor
        Lens and sensor models.
    placement
        Position, size and rotation of the chart of the "colorchecker" scene (None: upright, centred).
    lens
        Distortion, lateral colour and vignetting written as OpcodeList3 (see :mod:`lumatune.sim.lens`); the
        truth keeps the scene's undistorted geometry (its ``lens`` entry lists the checkerboard's corners).

    Returns
    -------
    SimResult
        The mosaic, the DNG metadata and the ground truth.

    Raises
    ------
    UnsupportedError
        An unknown name or a value out of range (the message lists the valid names).

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0; EMVA 1288 (2021); ISO 12233:2017; CIE 015:2018.
    """
    pattern = _cfa_pattern(cfa)
    width, height = _check_capture(iso, ev, size)
    light = spectra.illuminant_spd(illuminant)
    sensitivities = spectra.camera_sensitivities(camera)
    rendered = make_scene(scene, width, height, placement)

    white_rgb = light @ sensitivities
    exposure = WHITE_AT_EV0 * 2.0**ev / white_rgb.max()
    label_rgb = colorimetry.camera_response(rendered.reflectances, light, sensitivities) * exposure
    image = _paint(label_rgb, rendered)
    if optics.has_geometry:
        image = optics_model.apply_geometry(image, optics)
    if lens is not None:
        image = sim_lens.apply_lens(image, lens)
    kernels = optics_model.psf_kernels(optics, _effective_wavelengths(light, sensitivities))
    optics_model.apply_psf(image, kernels)
    shading = optics_model.lens_shading(width, height, optics)
    if shading is not None:
        image *= shading[:, :, None]
    illumination = sim_lens.relative_illumination(width, height, lens) if lens is not None else None
    if illumination is not None:
        image *= illumination[:, :, None]
    signal = sensor_model.mosaic_signal(image, pattern)
    del image
    mosaic = sensor_model.capture(signal, sensor, iso=iso, ev=ev, seed=seed)

    profile = sensor.noise_profile(iso, ev)
    metadata = {
        "cfa_pattern": pattern,
        "black_level": sensor.black_dn,
        "white_level": sensor.white_level,
        **colorimetry.dng_colour_tags(camera),
        "as_shot_neutral": white_rgb / white_rgb[1],
        "baseline_exposure": 0.0,
        "noise_profile": [profile] * 3,
        "opcode_list_2": _shading_gain_map(width, height, optics),
        "opcode_list_3": sim_lens.opcode_list_3(lens, width, height) if lens is not None else None,
        "make": "lumatune",
        "model": camera,
        "unique_camera_model": f"lumatune {camera}",
        "exposure_time": sensor.exposure_time_s(iso, ev),
        "f_number": optics.f_number,
        "iso": int(round(iso)),
        "focal_length": optics.focal_length_mm(width, height),
        "datetime_original": CAPTURE_DATETIME,
        "lens_model": _lens_description(optics),
    }

    illuminant_xy = spectra.xyz_to_xy(colorimetry.relative_xyz(np.ones((1, light.size)), light)[0])
    truth: dict = {
        "kind": TRUTH_KIND,
        "version": TRUTH_VERSION,
        "scene": rendered.name,
        "illuminant": illuminant,
        "illuminant_xy": [float(v) for v in illuminant_xy],
        "cct": round(spectra.cct_of_xy(illuminant_xy), 1),
        "camera": camera,
        "cfa": cfa.upper().replace("-", ""),
        "iso": int(iso) if float(iso).is_integer() else float(iso),
        "ev": float(ev),
        "seed": int(seed),
        "image_size": [width, height],
        "white_camera_rgb": [float(v) for v in white_rgb / white_rgb[1]],
    }
    if placement is not None:
        truth["placement"] = asdict(placement)
    patches = _patch_truth(rendered, illuminant, width, height, optics)
    if patches:
        truth["patches"] = patches
    if rendered.edge is not None:
        edge = _edge_truth(rendered, _luminance_kernel(kernels, camera, illuminant), width, height, optics)
        if edge is not None:
            truth["edge"] = edge
    truth["noise"] = _noise_truth(sensor, iso, ev)
    if lens is not None and lens.active:
        truth["lens"] = sim_lens.lens_truth(lens, rendered, width, height)
    wedge = _wedge_truth(rendered, illuminant, width, height, optics) if rendered.wedge else None
    if wedge and wedge["steps"]:
        truth["wedge"] = wedge

    kept = {entry["name"] for entry in patches}
    patch_rgb = np.array([label_rgb[p.label] * p.shading for p in rendered.patches if p.name in kept]).reshape(-1, 3)
    return SimResult(mosaic, metadata, truth, patch_rgb, rendered, illuminant, optics)


def truth_image(result: SimResult) -> np.ndarray:
    """(H, W, 3) float32 linear XYZ of the scene, adapted to D65, perfect white Y = 1.

    Noiseless and unblurred, without lens shading, placed through the lens geometry (distortion)
    so that it lines up with the developed image.
    """
    xyz, _lab = colorimetry.true_colours(result.scene.reflectances, result.illuminant)
    image = _paint(xyz, result.scene)
    if result.optics.has_geometry:
        image = optics_model.apply_geometry(image, result.optics, chromatic=False)
    return image


def _truth_json_path(dng_path: Path) -> Path:
    return dng_path.with_suffix(".json")


def write_sim(
    path: str | os.PathLike, result: SimResult, overwrite: bool = False, *, with_truth_image: bool | None = None
) -> tuple[Path, Path]:
    """Write a simulated capture as ``path`` (DNG) and its ground truth beside it (``.json``).

    Parameters
    ----------
    path
        The DNG to write; the truth goes to the same name with ``.json`` and, when written, the
        truth image to ``<stem>_truth.tif`` (float32 XYZ).
    result
        What :func:`simulate` returned.
    overwrite
        Replace existing files; otherwise any existing output raises OutputError before writing.
    with_truth_image
        Write the truth image; by default only up to :data:`TRUTH_IMAGE_MAX_PIXELS` pixels.

    Returns
    -------
    tuple of pathlib.Path
        The DNG and JSON paths.

    Raises
    ------
    OutputError
        A folder is missing, an output exists without ``overwrite``, or a write fails.
    """

    dng_path = Path(path)
    json_path = _truth_json_path(dng_path)
    image_path = dng_path.with_name(f"{dng_path.stem}_truth.tif")
    if with_truth_image is None:
        with_truth_image = result.mosaic.size <= TRUTH_IMAGE_MAX_PIXELS
    outputs = [dng_path, json_path] + ([image_path] if with_truth_image else [])
    if dng_path.suffix.lower() == ".json":
        raise OutputError(f"{dng_path}: the raw must not have the truth's .json suffix")
    existing = [str(p) for p in outputs if p.exists()]
    if existing and not overwrite:
        raise OutputError(f"{existing[0]}: exists (use --overwrite)")
    if not dng_path.parent.is_dir():
        raise OutputError(f"{dng_path}: output folder does not exist")

    truth = dict(result.truth)
    if with_truth_image:
        with atomic_output(image_path, overwrite) as temp:
            tifffile.imwrite(temp, truth_image(result), photometric="rgb", metadata=None)
        truth["truth_image"] = image_path.name
    write_dng(dng_path, result.mosaic, **result.dng_metadata, overwrite=overwrite)
    with atomic_output(json_path, overwrite) as temp:
        temp.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return dng_path, json_path
