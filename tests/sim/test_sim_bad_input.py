"""Bad input to ``lumatune sim`` through the real command: exit code 1, one line on stderr naming the valid values."""

from __future__ import annotations

import pytest

from lumatune.cli import main as cli_main
from lumatune.sim.scenes import SCENES
from lumatune.sim.spectra import CAMERAS

EXIT_FAILED = 1


def _run(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    return exit_.value.code or 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nope"], list(SCENES)),
        (["colorchecker", "--illuminant", "D66"], ["D65", "A", "F11", "<N>K"]),
        (["colorchecker", "--camera", "Canon"], list(CAMERAS)),
        (["colorchecker", "--cfa", "RGBW"], ["RGGB", "XTRANS"]),
        (["colorchecker", "--size", "16x16"], ["32"]),
    ],
    ids=["scene", "illuminant", "camera", "cfa", "size"],
)
def test_unknown_names_are_one_line_listing_the_valid_ones(tmp_path, capsys, args, named):
    code, err = _run(["sim", *args, "-o", str(tmp_path / "x.dng")], capsys)
    assert code == EXIT_FAILED
    assert err.startswith("lumatune: ") and err.count("\n") == 1 and "Traceback" not in err
    for name in named:
        assert name in err
    assert list(tmp_path.iterdir()) == []
