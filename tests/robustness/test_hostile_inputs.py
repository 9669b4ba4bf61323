"""Hostile inputs: every one gives one line on stderr and exit 1, never a traceback, a hang, a memory blow-up,
a partial output or a changed input.

The corpus is made here (``hostile.py``): real raws cut short, empty and random files with raw extensions,
damaged DNGs, files that are not raws or not files. Most cases run the CLI in this process (fast, and
``capfd`` sees what native code prints on file descriptor 2); the ones about permissions, full disks and
memory run ``python -m lumatune`` in a child process with the limit applied to it.
"""

from __future__ import annotations

import ctypes
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from realraws import requires_shared, shared_raws
from robustness.hostile import CORRUPT_DNGS, FILE_CASES, TOLERATED_DNGS, TRUNCATE_FRACTIONS, sha256_of, truncated_copy
from synthetic import write_chart_dng

from lumatune.cli import main as cli_main

CASE_TIMEOUT_S = 60
"""Longest a single hostile input may take (a hang fails the test instead of blocking the suite)."""

CHILD_TIMEOUT_S = 120
"""Longest a child ``lumatune`` process may run."""

CHILD_ADDRESS_SPACE_BYTES = 3 << 30
"""Virtual memory allowed to a child developing a DNG that declares a huge image (a blow-up fails there)."""

FULL_DISK_BYTES = 4096
"""File size limit (RLIMIT_FSIZE) that makes the output folder 'full' for a child process."""

FAILED = 1


def fingerprint(path: Path) -> tuple:
    """What must not change about an input: a file's bytes and mode, a link's target, a folder's listing."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        return ("file", sha256_of(path) if os.access(path, os.R_OK) else None, info.st_mode, info.st_mtime_ns)
    if stat.S_ISDIR(info.st_mode):
        return ("folder", sorted(os.listdir(path)), info.st_mode)
    return ("special", info.st_mode)


def run_cli(argv: list[str], capfd) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    out, err = capfd.readouterr()
    return exit_.value.code or 0, out, err


def assert_one_line_failure(code: int, err: str, *, exit_code: int = FAILED) -> str:
    """Exit 1 and exactly one line ``lumatune: ...`` that is not a bug report."""
    lines = err.splitlines()
    assert code == exit_code, err
    assert len(lines) == 1 and lines[0].startswith("lumatune: "), err
    for symptom in ("Traceback", "internal error", "out of memory"):
        assert symptom not in err
    return lines[0]


def assert_refused_cleanly(source: Path, argv_tail: list[str], out_dir: Path, capfd) -> str:
    before = fingerprint(source)
    code, out, err = run_cli(["develop", str(source), *argv_tail], capfd)
    line = assert_one_line_failure(code, err)
    assert out == ""
    assert list(out_dir.iterdir()) == [], "a failed develop left a file behind"
    assert fingerprint(source) == before, "the input changed"
    return line


@pytest.mark.timeout(CASE_TIMEOUT_S)
@pytest.mark.parametrize("case", list(CORRUPT_DNGS) + list(FILE_CASES))
def test_bad_input_is_refused_in_one_line(case, tmp_path, capfd):
    inputs, out_dir = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out_dir.mkdir()
    source = {**CORRUPT_DNGS, **FILE_CASES}[case](inputs)
    line = assert_refused_cleanly(source, ["-o", str(out_dir)], out_dir, capfd)
    assert source.name in line


TRUNCATED = [(raw, fraction) for raw in shared_raws() for fraction in TRUNCATE_FRACTIONS]


@requires_shared
@pytest.mark.timeout(CASE_TIMEOUT_S)
@pytest.mark.parametrize("raw, fraction", TRUNCATED, ids=[f"{r.name}-{f}" for r, f in TRUNCATED])
def test_truncated_real_raw_is_refused_or_intact(raw, fraction, tmp_path, capfd):
    """Cut short, a raw is refused in one line, unless the cut spares the image (a JPEG's final EOI byte):
    then it must develop exactly as the whole file does. Never a half-grey picture."""
    from lumatune.api import develop

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    source = truncated_copy(raw, fraction, tmp_path)
    before_original, before = sha256_of(raw), fingerprint(source)
    code, _, err = run_cli(["develop", str(source), "-o", str(out_dir)], capfd)
    if code == 0:
        assert err == ""
        np.testing.assert_array_equal(develop(source, "neutral"), develop(raw, "neutral"))
    else:
        assert_one_line_failure(code, err)
        assert list(out_dir.iterdir()) == []
    assert fingerprint(source) == before and sha256_of(raw) == before_original


@pytest.mark.timeout(CASE_TIMEOUT_S)
@pytest.mark.parametrize("case", list(TOLERATED_DNGS))
def test_harmless_damage_develops_as_the_undamaged_file(case, tmp_path, capfd):
    from lumatune.api import develop

    (tmp_path / "in").mkdir()
    damaged = TOLERATED_DNGS[case](tmp_path / "in")
    clean = write_chart_dng(tmp_path / "clean.dng")
    before = fingerprint(damaged)
    code, _, err = run_cli(["develop", str(damaged), "-o", str(tmp_path / "out.png")], capfd)
    assert code == 0 and err == ""
    np.testing.assert_array_equal(develop(damaged, "neutral"), develop(clean, "neutral"))
    assert fingerprint(damaged) == before


@pytest.mark.timeout(CASE_TIMEOUT_S)
@pytest.mark.parametrize("where", ["missing folder", "a file", "a symlink loop"])
def test_impossible_output_folder(where, tmp_path, capfd):
    source = write_chart_dng(tmp_path / "chart.dng")
    target = tmp_path / "target"
    if where == "a file":
        target.write_text("not a folder")
    elif where == "a symlink loop":
        target.symlink_to("target")
    before = {p.name: fingerprint(p) for p in tmp_path.iterdir()}
    code, _, err = run_cli(["develop", str(source), "-o", str(target / "x.jpg")], capfd)
    assert_one_line_failure(code, err)
    assert {p.name: fingerprint(p) for p in tmp_path.iterdir()} == before


# --- child processes: permissions, a full disk, a memory limit -------------------------------------------

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _without_root_file_access() -> None:
    """In the child, before exec: drop the capabilities that let root ignore file permissions."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _can_drop_root_file_access() -> bool:
    if os.geteuid() != 0:
        return True
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_without_root_file_access, capture_output=True, check=False)
    return probe.returncode == 0


requires_permissions = pytest.mark.skipif(
    not _can_drop_root_file_access(), reason="running as root without CAP_SETPCAP: file permissions cannot apply"
)


def run_child(argv: list[str], preexec=None) -> subprocess.CompletedProcess:
    """``python -m lumatune argv`` in a child process (``preexec`` runs in the child before exec)."""
    return subprocess.run(
        [sys.executable, "-m", "lumatune", *argv], capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
        preexec_fn=preexec, check=False,
    )


@requires_permissions
def test_unreadable_input_is_refused(tmp_path):
    source = write_chart_dng(tmp_path / "locked.dng")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    source.chmod(0)
    before = fingerprint(source)
    try:
        result = run_child(["batch", str(tmp_path), "-o", str(out_dir), "--jobs", "1"], _without_root_file_access)
    finally:
        source.chmod(0o644)
    assert result.returncode == FAILED, result.stderr
    assert "locked.dng: permission denied" in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in out_dir.iterdir() if p.suffix == ".jpg"] == []
    source.chmod(0)
    assert fingerprint(source) == before


@requires_permissions
def test_read_only_output_folder(tmp_path):
    source = write_chart_dng(tmp_path / "chart.dng")
    out_dir = tmp_path / "out"
    out_dir.mkdir(mode=0o555)
    before = fingerprint(source)
    result = run_child(["develop", str(source), "-o", str(out_dir)], _without_root_file_access)
    line = assert_one_line_failure(result.returncode, result.stderr)
    assert "Permission denied" in line
    assert list(out_dir.iterdir()) == [] and fingerprint(source) == before


def _file_size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_BYTES, FULL_DISK_BYTES))


def test_output_folder_full_leaves_no_partial_file(tmp_path):
    source = write_chart_dng(tmp_path / "chart.dng")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = fingerprint(source)
    result = run_child(["develop", str(source), "-o", str(out_dir / "chart.tif")], _file_size_limit)
    line = assert_one_line_failure(result.returncode, result.stderr)
    assert "cannot write" in line
    assert list(out_dir.iterdir()) == [] and fingerprint(source) == before


@pytest.fixture()
def tiny_filesystem(tmp_path):
    """A 64 KiB tmpfs (only where this process may mount one: root in a privileged container)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root in a privileged container)")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_disk_full_leaves_no_partial_file(tmp_path, tiny_filesystem):
    source = write_chart_dng(tmp_path / "chart.dng")
    (tiny_filesystem / "filler").write_bytes(b"\0" * (60 << 10))
    before = fingerprint(source)
    result = run_child(["develop", str(source), "-o", str(tiny_filesystem / "chart.tif")])
    line = assert_one_line_failure(result.returncode, result.stderr)
    assert "No space left on device" in line
    assert sorted(p.name for p in tiny_filesystem.iterdir()) == ["filler"] and fingerprint(source) == before


def _address_space_limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE_BYTES, CHILD_ADDRESS_SPACE_BYTES))


@pytest.mark.parametrize("case", ["30000 x 30000 pixels", "100000 x 100000 pixels", "GainMap 65535 x 65535 points"])
def test_huge_declared_sizes_are_refused_before_allocating(case, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    source = CORRUPT_DNGS[case](tmp_path)
    result = run_child(["develop", str(source), "-o", str(out_dir)], _address_space_limit)
    line = assert_one_line_failure(result.returncode, result.stderr)
    assert list(out_dir.iterdir()) == []
    if case == "30000 x 30000 pixels":
        assert "over the 200 MP cap" in line
