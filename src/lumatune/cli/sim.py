"""``lumatune sim``: simulate a raw of a test scene, written as a DNG with its ground truth beside it.

The command is a plain function with typer annotations; ``lumatune.cli`` mounts it with
``app.command("sim")(sim_command)``. Importing this module is cheap: the simulator (OpenCV,
colour-science) loads only when a scene is simulated.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from lumatune.errors import UnsupportedError
from lumatune.sim.scenes import SCENES, ChartPlacement
from lumatune.sim.spectra import CAMERAS, DEFAULT_CAMERA, illuminant_names

__all__ = ["parse_placement", "parse_size", "sim_command"]

_DEFAULT_SIZE = "1536x1024"
_CFA_NAMES = "RGGB, BGGR, GRBG, GBRG or XTRANS"


def parse_size(text: str) -> tuple[int, int]:
    """Parse "WxH" into (width, height).

    Raises
    ------
    UnsupportedError
        The text is not two positive integers joined by "x".

    Examples
    --------
    >>> parse_size("640x480")
    (640, 480)
    """
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        raise UnsupportedError(f"size {text!r}: expected WIDTHxHEIGHT, e.g. {_DEFAULT_SIZE}")
    return int(match.group(1)), int(match.group(2))


def parse_placement(centre: Optional[str], area: Optional[float], angle: Optional[float]):
    """A :class:`~lumatune.sim.scenes.ChartPlacement` from the ``--chart-*`` options; None when none is given.

    Raises
    ------
    UnsupportedError
        The centre is not two numbers "X,Y" in [0, 1].
    """

    if centre is None and area is None and angle is None:
        return None
    default = ChartPlacement()
    point = default.centre
    if centre is not None:
        match = re.fullmatch(r"\s*([0-9.]+)\s*,\s*([0-9.]+)\s*", centre)
        try:
            point = (float(match.group(1)), float(match.group(2))) if match else (-1.0, -1.0)
        except ValueError:
            point = (-1.0, -1.0)
        if not all(0 <= v <= 1 for v in point):
            raise UnsupportedError(f"--chart-centre {centre!r}: expected X,Y as fractions of the frame, e.g. 0.4,0.6")
    return ChartPlacement(point, default.area if area is None else area, 0.0 if angle is None else angle)


def _listing() -> str:
    """The scenes, illuminants and cameras, one section each."""
    return "\n".join(
        [
            "scenes:      " + ", ".join(SCENES),
            "illuminants: " + illuminant_names(),
            "cameras:     " + ", ".join(CAMERAS),
            "cfa:         " + _CFA_NAMES,
        ]
    )


def _output_path(output: Optional[Path], scene: str) -> Path:
    """The DNG to write: ``output``, ``output/<scene>.dng`` for a folder, or ``<scene>.dng``."""
    if output is None:
        return Path(f"{scene}.dng")
    if output.is_dir():
        return output / f"{scene}.dng"
    return output


def sim_command(
    scene: Optional[str] = typer.Argument(None, help="scene to simulate (see --list)"),
    output: Optional[Path] = typer.Option(
        None, "-o", "--output", help="DNG to write, or a folder (default: <scene>.dng); the truth goes beside it"
    ),
    illuminant: str = typer.Option("D65", "--illuminant", help="scene illuminant, e.g. D65, A, F11 or 3200K"),
    camera: str = typer.Option(DEFAULT_CAMERA, "--camera", help="camera spectral sensitivities (see --list)"),
    cfa: str = typer.Option("RGGB", "--cfa", help=f"colour filter array: {_CFA_NAMES}"),
    iso: int = typer.Option(100, "--iso", help="ISO speed (noise rises with it)"),
    ev: float = typer.Option(0.0, "--ev", help="exposure in stops relative to white at 85% of full scale"),
    seed: int = typer.Option(0, "--seed", help="seed of the sensor noise"),
    size: str = typer.Option(_DEFAULT_SIZE, "--size", help="image size WIDTHxHEIGHT"),
    chart_centre: Optional[str] = typer.Option(
        None, "--chart-centre", help="colorchecker: chart centre, X,Y as fractions of the frame (default 0.5,0.5)"
    ),
    chart_area: Optional[float] = typer.Option(
        None, "--chart-area", help="colorchecker: area of the chart as a fraction of the frame (default 0.3)"
    ),
    chart_angle: Optional[float] = typer.Option(
        None, "--chart-angle", help="colorchecker: chart rotation, degrees clockwise (90, 180, 270 move dark skin)"
    ),
    distortion: float = typer.Option(
        0.0, "--distortion", help="lens distortion at the corner, percent (-5: barrel, 3: pincushion), as OpcodeList3"
    ),
    lateral_ca: float = typer.Option(
        0.0, "--lateral-ca", help="lateral chromatic aberration at the corner, px (red out, blue in), as OpcodeList3"
    ),
    vignetting: float = typer.Option(0.0, "--vignetting", help="vignetting at the corner, EV (e.g. -1.2), as OpcodeList3"),
    list_: bool = typer.Option(False, "--list", help="list scenes, illuminants and cameras, then exit"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing output files"),
) -> None:
    """Simulate a raw of a test scene: writes a DNG and its ground truth (.json) beside it."""
    if list_:
        typer.echo(_listing())
        return
    if scene is None:
        raise UnsupportedError(f"no scene given: expected one of {', '.join(SCENES)} (or --list)")
    if scene not in SCENES:
        raise UnsupportedError(f"scene {scene!r}: expected one of {', '.join(SCENES)}")
    width, height = parse_size(size)
    from lumatune.sim.camera import simulate, write_sim  # lazy: cv2 (~60 ms)

    placement = parse_placement(chart_centre, chart_area, chart_angle)
    lens = None
    if distortion or lateral_ca or vignetting:
        from lumatune.sim.lens import VirtualLens  # lazy: cv2 (~60 ms)

        lens = VirtualLens(distortion=distortion / 100.0, lateral_ca_px=lateral_ca, vignetting_ev=vignetting)
    result = simulate(
        scene,
        illuminant=illuminant,
        camera=camera,
        cfa=cfa,
        iso=iso,
        ev=ev,
        seed=seed,
        size=(width, height),
        placement=placement,
        lens=lens,
    )
    dng_path, json_path = write_sim(_output_path(output, scene), result, overwrite=overwrite)
    typer.echo(f"{dng_path}\n{json_path}")
