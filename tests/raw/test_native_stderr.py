"""What LibRaw prints is caught as its complaint about the file; what other threads print meanwhile is not."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from robustness.tiny_raws import write_tiny_raws

CHATTER = "a message from another thread"

# A worker reads its next raw in a background thread while its main thread goes on: here the main thread prints on
# sys.stderr all the time each read runs (as a warning from a stage would), in a process whose descriptor 2 is real.
SCRIPT = textwrap.dedent(
    f"""
    import sys
    from pathlib import Path
    from lumatune.jobs.develop_files import _PREFETCHED, prefetch_raw
    for path in map(Path, sys.argv[1:]):
        prefetch_raw(path)
        read = _PREFETCHED.pop(path)
        while not read.done():
            print({CHATTER!r}, file=sys.stderr)
        read.result()  # raises the read's error, as the job taking it would
    """
)


def test_a_python_message_printed_by_another_thread_during_a_read_is_shown_and_fails_no_file(tmp_path):
    raws = write_tiny_raws(tmp_path, 40)
    run = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, raws)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]  # before the fix: "raw data is truncated or corrupt (a message...)"
    lines = run.stderr.splitlines()
    assert lines and set(lines) == {CHATTER}  # every line reached the terminal whole, none was swallowed into a complaint
