"""``lumatune studio``: one line with its URL and token, loopback only unless ``--host`` (with a warning)."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

START_S = 120
"""Longest wait for the URL line (the process imports numba and the pipeline)."""


def start(folder, *extra):
    return subprocess.Popen([sys.executable, "-m", "lumatune", "studio", str(folder), "--no-browser", "--port", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_studio_prints_one_url_with_a_token_and_binds_loopback_only(raw_folder):
    default, other = start(raw_folder), start(raw_folder, "--host", "127.0.0.2")
    try:
        line = default.stdout.readline().strip()
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{22,})", line)
        assert match, line
        assert status_of(line) == 200
        assert status_of(line.split("?")[0]) == 403
        assert status_of(line.replace("127.0.0.1", "localhost")) == 200
        with pytest.raises(urllib.error.URLError):  # not listening on another address of the machine
            urllib.request.urlopen(line.replace("127.0.0.1", "127.0.0.2"), timeout=5)
        other_line = other.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.2:\d+/\?token=[A-Za-z0-9_-]{22,}", other_line), other_line
        assert status_of(other_line) == 200  # the Host named by --host is accepted
    finally:
        for process in (default, other):
            process.terminate()
            process.wait(timeout=30)
    warning = other.stderr.read()
    assert "warning: listening on 127.0.0.2" in warning and warning.count("\n") == 1
    assert "warning" not in default.stderr.read()


def test_studio_on_a_missing_folder_fails_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lumatune", "studio", str(tmp_path / "nope"), "--no-browser"],
                            capture_output=True, text=True, timeout=START_S)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no such folder" in result.stderr
