"""Pairs: RAW or RAW=IMAGE, the embedded preview, one line per unusable pair, cameras not mixed unless asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from realraws import SHARED_RAWS, requires_shared

from lumatune.learn.pairs import (
    MIN_PREVIEW_SIZE,
    PairError,
    PairSpec,
    embedded_preview,
    load_pairs,
    parse_pair,
    read_target,
)


def _write_png(path: Path, image: np.ndarray, bits: int = 8) -> Path:
    import cv2

    top = 2**bits - 1
    codes = np.clip(np.rint(image * top), 0, top).astype(np.uint8 if bits == 8 else np.uint16)
    cv2.imwrite(str(path), codes[..., ::-1])
    return path


def test_parse_pair(tmp_path):
    assert parse_pair("a.dng") == PairSpec(Path("a.dng"))
    assert parse_pair("a.dng=b.jpg") == PairSpec(Path("a.dng"), Path("b.jpg"))
    odd = tmp_path / "x=y.dng"
    odd.write_bytes(b"")
    assert parse_pair(str(odd)) == PairSpec(odd)


def test_a_raw_without_preview_is_one_line(sim_pairs):
    dng = sim_pairs["train"][0].dng
    with pytest.raises(PairError, match="no embedded JPEG preview") as error:
        embedded_preview(dng)
    assert str(dng) in str(error.value) and "\n" not in str(error.value)


def test_read_target_16_bit_png(tmp_path):
    image = np.linspace(0.0, 1.0, 200 * 120 * 3, dtype=np.float32).reshape(120, 200, 3)
    target, clip = read_target(_write_png(tmp_path / "t.png", image, bits=16))
    np.testing.assert_allclose(target, image, atol=1.0 / 65535)
    assert clip > 1.0 - 1.0 / 65535


def test_a_tiny_target_is_refused(tmp_path):
    with pytest.raises(PairError, match="below"):
        read_target(_write_png(tmp_path / "tiny.png", np.zeros((40, 60, 3), np.float32)))


def test_bad_pairs_give_one_line_each_and_the_rest_load(sim_pairs, tmp_path):
    good = sim_pairs["train"][0]
    png = _write_png(tmp_path / "good.png", good.target)
    specs = [
        PairSpec(good.dng, png),
        PairSpec(good.dng),  # no embedded preview
        PairSpec(tmp_path / "missing.dng", png),  # no raw
        PairSpec(good.dng, tmp_path / "missing.jpg"),  # no target
    ]
    pairs, problems = load_pairs(specs)
    assert [p.spec for p in pairs] == specs[:1]
    assert len(problems) == 3 and all("\n" not in p for p in problems)
    assert "missing.dng" in problems[1] and "missing.jpg" in problems[2]


def test_cameras_are_not_mixed_unless_allowed(sim_pairs, other_camera_raw, tmp_path):
    png = _write_png(tmp_path / "t.png", sim_pairs["train"][0].target)
    specs = [PairSpec(sim_pairs["train"][0].dng, png), PairSpec(sim_pairs["train"][3].dng, png),
             PairSpec(other_camera_raw, png)]
    pairs, problems = load_pairs(specs)
    assert len(pairs) == 2
    assert len(problems) == 1 and "--allow-mixed" in problems[0] and str(other_camera_raw) in problems[0]
    pairs, problems = load_pairs(specs, allow_mixed=True)
    assert len(pairs) == 3 and not problems


@requires_shared
def test_real_previews():
    """The Canon CRW carries a usable 1440x960 JPEG; the LG DNG's 256x144 one is too small; the Kodak C330
    raws have none."""
    assert embedded_preview(SHARED_RAWS / "canon_eos_d30.crw").shape == (960, 1440, 3)
    with pytest.raises(PairError, match=f"below {MIN_PREVIEW_SIZE} px"):
        embedded_preview(SHARED_RAWS / "lg_g4_h815_lossy_linear.dng")
    with pytest.raises(PairError, match="no embedded JPEG"):
        embedded_preview(SHARED_RAWS / "kodak_c330_yrgb422.raw")
