"""LUT files: .cube round trips, agreement with colour-science, Hald CLUTs, one-line errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.errors import BadFileError, OutputError, UnsupportedError
from lumatune.io.lut import Lut, load_lut, read_cube, read_hald, read_lut, write_cube
from lumatune.stages.lut import tetrahedral

LATTICE_TOLERANCE = 1e-6
"""Round trip through a .cube file, read back at the lattice points (the file keeps 7 decimals)."""
INDEPENDENT_TOLERANCE = 1e-4
"""Our tetrahedral interpolation against colour-science's LUT3D, off the lattice."""


def _graded_table(size: int) -> np.ndarray:
    """A smooth, non-separable 3-D table (a hue-mixing, contrast-changing grade) indexed [r, g, b]."""
    g = np.linspace(0.0, 1.0, size)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    out = np.stack([0.8 * r**1.3 + 0.2 * gg * b, gg**0.9 * (0.9 + 0.1 * r), 0.6 * b + 0.4 * np.sqrt(r * gg)], -1)
    return out.astype(np.float32)


def _lattice_points(size: int) -> np.ndarray:
    g = np.linspace(0.0, 1.0, size)
    return np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)


def test_cube_round_trip_is_exact_on_the_lattice(tmp_path):
    lut = Lut(table=_graded_table(17), title="graded")
    path = write_cube(tmp_path / "graded.cube", lut)
    back = read_cube(path)
    assert back.size == 17 and back.dimensions == 3 and back.title == "graded"
    np.testing.assert_allclose(back.table, lut.table, atol=LATTICE_TOLERANCE)
    applied = tetrahedral(_lattice_points(17), back.table, back.domain_min, back.domain_max)
    np.testing.assert_allclose(applied, lut.table.reshape(-1, 3), atol=LATTICE_TOLERANCE)


def test_cube_order_is_red_fastest(tmp_path):
    table = _graded_table(3)
    write_cube(tmp_path / "t.cube", Lut(table=table))
    rows = [line for line in (tmp_path / "t.cube").read_text().splitlines() if line[:1].isdigit()]
    np.testing.assert_allclose([float(v) for v in rows[1].split()], table[1, 0, 0], atol=1e-6)
    np.testing.assert_allclose([float(v) for v in rows[3].split()], table[0, 1, 0], atol=1e-6)


def test_domain_round_trip_and_use(tmp_path):
    lut = Lut(table=_graded_table(9), domain_min=np.array([0.0, -0.5, 0.0]), domain_max=np.array([2.0, 1.5, 4.0]))
    back = read_cube(write_cube(tmp_path / "d.cube", lut))
    np.testing.assert_allclose(back.domain_min, lut.domain_min)
    np.testing.assert_allclose(back.domain_max, lut.domain_max)
    corner = tetrahedral(np.array([[2.0, 1.5, 4.0]]), back.table, back.domain_min, back.domain_max)
    np.testing.assert_allclose(corner[0], lut.table[-1, -1, -1], atol=LATTICE_TOLERANCE)


def test_agrees_with_colour_science_off_the_lattice(tmp_path):
    colour = pytest.importorskip("colour")
    from colour.algebra import table_interpolation_tetrahedral

    lut = Lut(table=_graded_table(17))
    path = write_cube(tmp_path / "graded.cube", lut)
    rng = np.random.default_rng(0)
    points = rng.random((5000, 3))
    ours = tetrahedral(points, read_cube(path).table, np.zeros(3), np.ones(3))
    theirs = colour.io.read_LUT(str(path)).apply(points, interpolator=table_interpolation_tetrahedral)
    np.testing.assert_allclose(ours, theirs, atol=INDEPENDENT_TOLERANCE)
    independent = colour.LUT3D(table=lut.table.astype(np.float64)).apply(
        points, interpolator=table_interpolation_tetrahedral
    )
    np.testing.assert_allclose(ours, independent, atol=INDEPENDENT_TOLERANCE)


def test_1d_cube_round_trip(tmp_path):
    table = np.stack([np.linspace(0, 1, 64) ** p for p in (0.5, 1.0, 2.0)], axis=-1).astype(np.float32)
    back = read_cube(write_cube(tmp_path / "curve.cube", Lut(table=table)))
    assert back.dimensions == 1 and back.size == 64
    np.testing.assert_allclose(back.table, table, atol=LATTICE_TOLERANCE)


def test_resolve_input_range_and_comments(tmp_path):
    path = tmp_path / "resolve.cube"
    rows = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in _graded_table(2).transpose(2, 1, 0, 3).reshape(-1, 3))
    path.write_text(f"# a comment\nTITLE \"x\"\nLUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 0.0 2.0\n\n{rows}\n# end\n")
    lut = read_cube(path)
    np.testing.assert_allclose(lut.domain_max, [2.0, 2.0, 2.0])


def _hald_image(level: int, table: np.ndarray, dtype=np.uint16) -> np.ndarray:
    size = level * level
    peak = np.iinfo(dtype).max
    pixels = np.rint(table.transpose(2, 1, 0, 3).reshape(size**3, 3) * peak).astype(dtype)  # red fastest
    return pixels.reshape(level**3, level**3, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_hald_clut_reads_as_its_table(tmp_path, dtype):
    import imagecodecs

    level = 4
    table = _graded_table(level * level)
    path = tmp_path / "hald.png"
    path.write_bytes(imagecodecs.png_encode(_hald_image(level, table, dtype)))
    lut = read_lut(path)
    assert lut.size == 16 and lut.dimensions == 3
    np.testing.assert_allclose(lut.table, table, atol=1.0 / np.iinfo(dtype).max)


def test_hald_identity_is_identity(tmp_path):
    import imagecodecs

    identity = _lattice_points(16).reshape(16, 16, 16, 3)
    path = tmp_path / "identity.png"
    path.write_bytes(imagecodecs.png_encode(_hald_image(4, identity)))
    points = np.random.default_rng(1).random((100, 3))
    np.testing.assert_allclose(tetrahedral(points, read_hald(path).table, np.zeros(3), np.ones(3)), points, atol=2e-5)


def _cube(tmp_path, text: str):
    path = tmp_path / "bad.cube"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, error, fragment",
    [
        ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7, BadFileError, "expected 8 table lines"),
        ("LUT_3D_SIZE 300\n0 0 0\n", BadFileError, r"size 300 is out of range \[2, 256\]"),
        ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "0 nan 0\n" + "0 0 0\n" * 4, BadFileError, "line 5: '0 nan 0' is not a finite"),
        ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "0 0\n" + "0 0 0\n" * 4, BadFileError, "line 5: expected 3 numbers"),
        ("LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 1\nDOMAIN_MAX 1 1 1\n" + "0 0 0\n" * 8, BadFileError, "DOMAIN_MIN .* below"),
        ("TITLE \"no size\"\n0 0 0\n", BadFileError, "no LUT_3D_SIZE"),
        ("LUT_3D_SIZE two\n", BadFileError, "expected a whole number"),
        ("LUT_1D_SIZE 2\nLUT_3D_SIZE 2\n", UnsupportedError, "both LUT_1D_SIZE and LUT_3D_SIZE"),
    ],
)
def test_bad_cube_files(tmp_path, text, error, fragment):
    with pytest.raises(error, match=fragment) as caught:
        read_cube(_cube(tmp_path, text))
    assert "\n" not in str(caught.value) and "bad.cube" in str(caught.value)


def test_missing_and_non_lut_files(tmp_path):
    with pytest.raises(BadFileError, match="no such LUT file"):
        load_lut(tmp_path / "absent.cube")
    with pytest.raises(BadFileError, match="not a LUT"):
        read_lut(tmp_path / "grade.txt")
    (tmp_path / "square.png").write_bytes(__import__("imagecodecs").png_encode(np.zeros((10, 10, 3), np.uint8)))
    with pytest.raises(BadFileError, match="not a Hald CLUT"):
        read_lut(tmp_path / "square.png")


def test_write_refuses_to_overwrite(tmp_path):
    lut = Lut(table=_graded_table(2))
    write_cube(tmp_path / "a.cube", lut)
    with pytest.raises(OutputError, match="exists"):
        write_cube(tmp_path / "a.cube", lut)


def test_load_lut_rereads_a_changed_file(tmp_path):
    path = write_cube(tmp_path / "a.cube", Lut(table=_graded_table(2)))
    first = load_lut(path)
    assert load_lut(path) is first
    write_cube(path, Lut(table=_graded_table(3)), overwrite=True)
    assert load_lut(path).size == 3
