"""Small virtual-camera raws shared by the calibration tests (written once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHART_SIZE = (240, 160)
FLAT_SIZE = (240, 160)
WEDGE_SIZE = (640, 480)
"""Step-wedge raws for the noise fit: at 320 x 240 the two-frame estimate of the read-noise term scattered by
2-3 % (1 sigma) between noise realisations (numpy 1.26 and 2.4 draw different ones) and crossed the 5 % limit;
at 640 x 480 the worst of 12 terms over both versions was 3.0 %."""
CAMERA = "Nikon 5100 (NPL)"
OTHER_CAMERA = "Sigma SDMerill (NPL)"


def simulate_to(folder: Path, name: str, scene: str, size: tuple[int, int], **options) -> Path:
    from lumatune.sim import simulate, write_sim

    return write_sim(folder / f"{name}.dng", simulate(scene, size=size, **options), overwrite=True)[0]


@pytest.fixture(scope="session")
def sim_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("calibrate-sim")


@pytest.fixture(scope="session")
def chart_raws(sim_folder) -> dict[str, Path]:
    """ColorChecker raws of CAMERA: calibration shots under D65 and A, held-out shots, one of OTHER_CAMERA."""
    return {
        "D65": simulate_to(sim_folder, "cc-d65", "colorchecker", CHART_SIZE, illuminant="D65", camera=CAMERA, seed=1),
        "A": simulate_to(sim_folder, "cc-a", "colorchecker", CHART_SIZE, illuminant="A", camera=CAMERA, seed=1),
        "D50-held-out": simulate_to(
            sim_folder, "cc-d50", "colorchecker", CHART_SIZE, illuminant="D50", camera=CAMERA, seed=9
        ),
        "other-camera": simulate_to(
            sim_folder, "cc-other", "colorchecker", CHART_SIZE, illuminant="D65", camera=OTHER_CAMERA, seed=1
        ),
    }


@pytest.fixture(scope="session")
def flat_raws(sim_folder) -> list[Path]:
    return [simulate_to(sim_folder, f"flat-{seed}", "flat-field", FLAT_SIZE, seed=seed) for seed in (1, 2, 3)]


@pytest.fixture(scope="session")
def wedge_raws(sim_folder) -> list[Path]:
    return [simulate_to(sim_folder, f"wedge-{seed}", "step-wedge", WEDGE_SIZE, iso=800, seed=seed) for seed in (1, 2)]
