"""Tests of lumatune.io.atomic: all-or-nothing output files."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from lumatune.errors import OutputError
from lumatune.io import atomic
from lumatune.io.atomic import atomic_output


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_success_renames_temp_into_place(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_output(target) as temp:
        assert temp.parent == tmp_path
        assert temp != target
        assert not target.exists()
        temp.write_bytes(b"pixels")
    assert target.read_bytes() == b"pixels"
    assert names(tmp_path) == ["out.bin"]


def test_missing_folder_is_refused(tmp_path):
    target = tmp_path / "nowhere" / "out.bin"
    with pytest.raises(OutputError, match="output folder does not exist"), atomic_output(target):
        pytest.fail("body must not run")
    assert names(tmp_path) == []


def test_existing_file_is_kept_without_overwrite(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(OutputError, match=r"exists \(use --overwrite\)"), atomic_output(target):
        pytest.fail("body must not run")
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["out.bin"]


def test_overwrite_replaces(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_output(target, overwrite=True) as temp:
        temp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["out.bin"]


def test_failure_in_body_leaves_nothing_and_propagates(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(ZeroDivisionError), atomic_output(target) as temp:
        temp.write_bytes(b"half a file")
        raise ZeroDivisionError
    assert names(tmp_path) == []


def test_failure_with_overwrite_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target, overwrite=True) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("encoder crashed")
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["out.bin"]


def test_disk_full_becomes_output_error_with_reason(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(OutputError, match="No space left on device"), atomic_output(target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert names(tmp_path) == []


def test_unwritable_folder_becomes_output_error(tmp_path, monkeypatch):
    def refuse(target):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(atomic, "create_temp_beside", refuse)
    with pytest.raises(OutputError, match="Permission denied"), atomic_output(tmp_path / "out.bin"):
        pytest.fail("body must not run")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_becomes_output_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(OutputError, match="Permission denied"), atomic_output(folder / "out.bin"):
            pytest.fail("body must not run")
    finally:
        folder.chmod(stat.S_IRWXU)


def test_target_appearing_during_write_is_not_overwritten(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(OutputError, match="exists"), atomic_output(target) as temp:
        temp.write_bytes(b"mine")
        target.write_bytes(b"someone else's")
    assert target.read_bytes() == b"someone else's"
    assert names(tmp_path) == ["out.bin"]


def test_filesystem_without_hard_links_still_writes(tmp_path, monkeypatch):
    def no_links(source, destination):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "out.bin"
    with atomic_output(target) as temp:
        temp.write_bytes(b"pixels")
    assert target.read_bytes() == b"pixels"
    assert names(tmp_path) == ["out.bin"]


@pytest.mark.skipif(os.name != "posix", reason="umask is POSIX")
def test_new_file_permissions_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        with atomic_output(tmp_path / "out.bin") as temp:
            temp.write_bytes(b"pixels")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.bin").stat().st_mode) == 0o640


def test_other_files_are_untouched(tmp_path):
    neighbour = tmp_path / "neighbour.jpg"
    neighbour.write_bytes(b"keep")
    with atomic_output(tmp_path / "out.bin") as temp:
        temp.write_bytes(b"pixels")
    assert names(tmp_path) == ["neighbour.jpg", "out.bin"]
    assert neighbour.read_bytes() == b"keep"


@pytest.mark.parametrize("stem", ["x" * 250, "é" * 125])
def test_longest_file_name_still_fits_the_temp_name(tmp_path, stem):
    target = tmp_path / (stem + ".jpg")
    with atomic_output(target) as temp:
        temp.write_bytes(b"pixels")
    assert names(tmp_path) == [target.name]
