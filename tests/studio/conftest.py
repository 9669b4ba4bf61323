"""Shared fixtures of the studio tests: a folder of small virtual-camera raws."""

from __future__ import annotations

import pytest

from lumatune.sim import simulate, write_sim

SCENES = (("natural", "D65", (600, 400)), ("colorchecker", "D50", (480, 320)))
"""Small raws (binned previews of 300 x 200 and 240 x 160): the studio's paths without the time of big ones."""


@pytest.fixture(scope="session")
def raw_folder(tmp_path_factory):
    """A folder with two virtual-camera DNGs and their truth JSON (made once per session)."""
    folder = tmp_path_factory.mktemp("studio-raws")
    for scene, illuminant, size in SCENES:
        write_sim(folder / f"{scene}.dng", simulate(scene, illuminant=illuminant, size=size, seed=1))
    return folder
