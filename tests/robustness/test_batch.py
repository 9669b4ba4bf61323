"""``lumatune batch``: a tree of raws in, the same tree of outputs out, a manifest that makes a killed batch
resume without redoing or duplicating work, one failure (or one file past ``--timeout``) never stopping the
rest, a signal that stops the batch and every process of it, and a Dask cluster that writes the same bytes as a
local run."""

from __future__ import annotations

import http.server
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from robustness import crashing_work, sleepy_work
from robustness.hostile import CORRUPT_DNGS, FILE_CASES
from robustness.test_hostile_inputs import fingerprint
from robustness.tiny_raws import write_tiny_raws

from lumatune.jobs.batch import (
    MANIFEST_NAME,
    RAW_EXTENSIONS,
    STAGING_NAME,
    BatchSettings,
    Manifest,
    file_sha256,
    output_paths,
    run_batch,
)
from lumatune.cli import main as cli_main
from lumatune.config.look import load_look
from lumatune.jobs import develop_files, pool
from lumatune.jobs.develop_files import DevelopJob, develop_file, prefetch_raw, run_jobs
from lumatune.jobs.pool import workers_started

BATCH_TIMEOUT_S = 120
"""Longest one batch of a dozen tiny raws may take (pool start-up included)."""

KILL_TEST_TIMEOUT_S = 300
"""Longest the 200-file kill-and-resume test may take in all."""

RESUME_FILES = 200
KILL_AFTER_RECORDS = RESUME_FILES // 2
"""The batch is killed once the manifest holds this many records (halfway)."""

RANDOM_KILLS = 2
"""Kills at random moments before the batch may finish."""

FILE_TIMEOUT_S = 3
"""``--timeout`` of the timeout tests: far above the milliseconds a test double's normal file takes."""

TIMEOUT_SLACK_S = 30
"""What a batch with one hanging file may take beyond its ``--timeout`` (worker start-ups on a loaded machine)."""

STOP_AFTER_RECORDS = 20
"""A running batch gets its signal once the manifest holds this many records."""

STOP_WITHIN_S = 10
"""Longest a batch may take to exit after SIGINT or SIGTERM."""

GONE_WITHIN_S = 5
"""Longest any process of a stopped or killed batch (workers, a resource tracker) may outlive it."""

SCHEDULER_TIMEOUT_S = 2
"""Dask connect and handshake limit in the scheduler tests (the command's own default is 10 s)."""

SCHEDULER_SLACK_S = 10
"""What a failed ``--scheduler`` may take beyond its limit (importing Dask, listing the inputs)."""

SUMMARY = re.compile(r"(\d+) raw files: (\d+) developed, (\d+) skipped \(already done\), (\d+) failed")


def run_batch_cli(argv: list[str], capfd) -> tuple[int, tuple[int, int, int, int], list[str]]:
    """Exit code, (total, developed, skipped, failed) from the summary line, and the lines on stderr."""
    with pytest.raises(SystemExit) as exit_:
        cli_main(["batch", *argv])
    out, err = capfd.readouterr()
    match = SUMMARY.search(out)
    assert match, out + err
    return exit_.value.code or 0, tuple(int(g) for g in match.groups()), err.splitlines()


def outputs_of(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file in an output folder but the manifest."""
    return {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


def manifest_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / MANIFEST_NAME).read_text().splitlines()]


@pytest.fixture()
def tree(tmp_path):
    """Twelve tiny raws (two in subfolders), a text file, a hidden resource fork and one bad raw."""
    folder = tmp_path / "in"
    write_tiny_raws(folder, 12)
    (folder / "notes.txt").write_text("not a raw")
    (folder / "._tiny_0000.dng").write_bytes(b"\0" * 4096)
    (folder / "bad.nef").write_bytes(b"garbage" * 500)
    return folder


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_batch_mirrors_the_tree_records_every_output_and_reports_failures(tree, tmp_path, capfd):
    out = tmp_path / "out"
    code, counts, err = run_batch_cli([str(tree), "-o", str(out), "--jobs", "2"], capfd)
    assert code == 3 and counts == (13, 12, 0, 1)
    assert err == [f"lumatune: {tree / 'bad.nef'}: not a raw file LibRaw can read (Unsupported file format or not RAW file)"]
    raws = sorted(p.relative_to(tree) for p in tree.rglob("tiny_*.dng"))
    expected = {target.as_posix() for target in output_paths(raws, ".jpg").values()}
    assert set(outputs_of(out)) == expected and len(expected) == 12
    records = {r["input"]: r for r in manifest_lines(out)}
    assert records.pop("bad.nef")["failed"] == err[0].removeprefix("lumatune: ")  # so that a resume need not retry it
    assert sorted(records) == sorted(p.as_posix() for p in raws)
    for record in records.values():
        assert "failed" not in record and record["output_sha256"] == file_sha256(out / record["output"])
        assert record["input_sha256"] == file_sha256(tree / record["input"])
    assert not (out / STAGING_NAME).exists()


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_rerun_skips_finished_work_and_redoes_damaged_or_changed_outputs(tree, tmp_path, capfd):
    out = tmp_path / "out"
    run_batch_cli([str(tree), "-o", str(out), "--jobs", "2"], capfd)
    first = outputs_of(out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
    code, counts, _ = run_batch_cli([str(tree), "-o", str(out), "--jobs", "2"], capfd)
    assert code == 3 and counts == (13, 0, 12, 1)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} == stamps  # nothing rewritten
    damaged, deleted = out / "tiny_0001.jpg", out / "tiny_0002.jpg"
    damaged.write_bytes(damaged.read_bytes()[:100])
    deleted.unlink()
    code, counts, _ = run_batch_cli([str(tree), "-o", str(out), "--jobs", "2"], capfd)
    assert counts == (13, 2, 10, 1) and outputs_of(out) == first
    code, counts, _ = run_batch_cli([str(tree), "-o", str(out), "--jobs", "2", "--look", "neutral"], capfd)
    assert counts == (13, 12, 0, 1)  # other settings: the batch's own outputs are redone in place
    assert set(outputs_of(out)) == set(first) and outputs_of(out) != first
    assert len(manifest_lines(out)) == 13  # compacted: one line per input, the failed one's included


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_outputs_the_batch_did_not_write_are_kept_unless_overwrite(tree, tmp_path, capfd):
    out = tmp_path / "out"
    out.mkdir()
    foreign = out / "tiny_0003.jpg"
    foreign.write_bytes(b"someone else's picture")
    code, counts, err = run_batch_cli([str(tree), "-o", str(out), "--jobs", "2"], capfd)
    assert code == 3 and counts == (13, 11, 0, 2)
    assert f"lumatune: {foreign}: exists and is not from this batch (use --overwrite)" in err
    assert foreign.read_bytes() == b"someone else's picture"
    code, counts, _ = run_batch_cli([str(tree), "-o", str(out), "--jobs", "2", "--overwrite"], capfd)
    assert counts == (13, 1, 11, 1) and foreign.read_bytes()[:2] == b"\xff\xd8"


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_a_line_torn_by_a_kill_does_not_spoil_the_manifest(tree, tmp_path, capfd):
    out = tmp_path / "out"
    run_batch_cli([str(tree), "-o", str(out), "--jobs", "2"], capfd)
    first = outputs_of(out)
    with open(out / MANIFEST_NAME, "ab") as manifest:
        manifest.write(b'{"version": 1, "input": "tiny_00')
    (out / "tiny_0004.jpg").unlink()
    code, counts, _ = run_batch_cli([str(tree), "-o", str(out), "--jobs", "1"], capfd)
    assert code == 3 and counts == (13, 1, 11, 1) and outputs_of(out) == first
    assert len(manifest_lines(out)) == 13


def test_one_batch_at_a_time_per_output_folder(tree, tmp_path, capfd):
    out = tmp_path / "out"
    out.mkdir()
    running = Manifest(out / MANIFEST_NAME)
    running.open()
    try:
        with pytest.raises(SystemExit) as exit_:
            cli_main(["batch", str(tree), "-o", str(out)])
    finally:
        running.close()
    assert exit_.value.code == 1
    assert capfd.readouterr().err.splitlines() == [f"lumatune: {out}: another lumatune batch is writing there"]


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_inputs_sharing_a_name_get_distinct_outputs(tmp_path, capfd):
    folder = tmp_path / "in"
    (raw,) = write_tiny_raws(folder, 1)
    shutil.copy(raw, folder / "tiny_0000.nef")
    code, counts, _ = run_batch_cli([str(folder), "-o", str(tmp_path / "out")], capfd)
    assert code == 0 and counts == (2, 2, 0, 0)
    assert set(outputs_of(tmp_path / "out")) == {"tiny_0000.dng.jpg", "tiny_0000.nef.jpg"}


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_every_hostile_input_fails_alone_in_one_line(tmp_path, capfd):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for index, build in enumerate({**CORRUPT_DNGS, **FILE_CASES}.values()):
        place = folder / f"case{index:03d}"
        place.mkdir()
        build(place)
    (folder / "case_newline").mkdir()
    (folder / "case_newline" / "line\nbreak.dng").write_bytes(b"junk" * 100)  # its error must stay on one line
    write_tiny_raws(folder / "good", 1)
    hostile = [
        p for p in folder.glob("case*/*")
        if p.suffix.lower() in RAW_EXTENSIONS and (p.is_symlink() or not p.is_dir())  # a folder named x.dng is no input
    ]
    before = {p: fingerprint(p) for p in hostile}
    code, (total, developed, skipped, failed), err = run_batch_cli([str(folder), "-o", str(out), "--jobs", "2"], capfd)
    assert code == 3 and developed == 1 and skipped == 0 and failed == len(hostile) == total - 1
    assert len(err) == failed and all(line.startswith("lumatune: ") for line in err)
    assert not any("internal error" in line or "Traceback" in line for line in err)
    assert set(outputs_of(out)) == {"good/tiny_0000.jpg"}
    assert {p: fingerprint(p) for p in hostile} == before


def test_a_crashing_worker_fails_its_job_only():
    jobs = [(f"job{i}", "crash" if i in (2, 5) else "ok") for i in range(8)]
    results = run_jobs(jobs, workers=2, work=crashing_work.work, failure=crashing_work.failure, isolate=True)
    crashed = "the raw decoder crashed on this file (its worker process died)"
    assert results == [f"job{i}: {crashed}" if i in (2, 5) else f"job{i}" for i in range(8)]


@pytest.fixture
def two_threads_per_worker(monkeypatch):
    """Workers of two threads (they hold a second job) whatever this machine's cores."""
    monkeypatch.setattr(pool, "_threads_per_worker", lambda workers: 2)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_crash_while_a_worker_holds_two_jobs_fails_only_the_one_that_crashes(workers, two_threads_per_worker):
    """A worker runs one job and holds the next, whose read it has begun: when it dies, either may have killed it;
    both run again alone, so that only the culprit fails."""
    actions = {2: "crash", 3: "crash ahead", 6: "crash ahead"}
    jobs = [(f"job{i}", actions.get(i, "ok")) for i in range(8)]
    results = run_jobs(jobs, workers=workers, work=crashing_work.work_with_ahead, failure=crashing_work.failure,
                       isolate=True)
    crashed = "the raw decoder crashed on this file (its worker process died)"
    assert results == [f"job{i}: {crashed}" if i in actions else f"job{i}" for i in range(8)]


@pytest.mark.parametrize("isolate", [True, False])
def test_the_next_job_is_begun_while_one_runs(tmp_path, isolate, two_threads_per_worker):
    jobs = [(f"job{i}", str(tmp_path / f"arrived{i}")) for i in range(4)]
    results = run_jobs(jobs, workers=1, work=crashing_work.timed, failure=crashing_work.failure, isolate=isolate)
    assert [name for name, *_ in results] == [f"job{i}" for i in range(4)]
    for (_, _, _, end), (_, arrival, start, _) in zip(results, results[1:]):
        assert arrival < end <= start  # the next job reached the worker (its read began) before this one ended


@pytest.mark.parametrize(
    ("args", "workers"),
    [
        (["batch", "in", "-o", "out"], pool.default_workers()),
        (["batch", "in", "--jobs", "3"], 3),
        (["batch", "--jobs=4", "in"], 4),
        (["batch", "-j", "2", "in"], 2),
        (["batch", "-j5", "in"], 5),
        (["batch", "in", "--jobs", "zero"], None),
        (["batch", "in", "--jobs", "0"], None),
        (["batch", "in", "--jobs"], None),
    ],
)
def test_the_worker_count_is_read_from_the_command_line_before_it_is_parsed(args, workers):
    assert pool._jobs_named(args) == workers


@pytest.mark.parametrize("args", [["develop", "a.dng"], ["batch", "--help"], ["batch", "in", "--scheduler", "tcp://x:1"],
                                  ["batch", "in", "--jobs", "nope"]])
def test_no_worker_starts_early_but_for_a_batch_that_will_run(args):
    pool.start_worker_early(args)
    with workers_started(0, workers=1) as started:
        assert started == []


def test_the_worker_started_early_is_the_one_the_batch_takes():
    pool.start_worker_early(["batch", "in", "-o", "out"])
    early = [worker.process.pid for worker in pool._STARTED]
    with workers_started(1, workers=pool.default_workers()) as started:
        assert started == early and len(early) == 1
        results = run_jobs([("a", "ok")], workers=pool.default_workers(), work=crashing_work.whose,
                           failure=crashing_work.failure, isolate=True)
        assert results[0][1] == early[0]


@pytest.mark.parametrize("named", [True, False])
def test_a_worker_started_ahead_begins_reading_the_file_named_for_it(tmp_path, named):
    raw = write_tiny_raws(tmp_path, 1)[0]
    with workers_started(1, workers=1, first=[raw] if named else []):
        results = run_jobs([("a", str(raw))], workers=1, work=crashing_work.read_begun, isolate=True)
    assert results == [named]


def test_a_read_begun_for_a_job_that_fails_before_reading_is_dropped(tmp_path):
    raw = write_tiny_raws(tmp_path / "in", 1)[0]
    target = tmp_path / "taken.jpg"
    target.write_bytes(b"not ours")
    prefetch_raw(raw)
    result = develop_file(DevelopJob(raw, target, load_look("default")))
    assert "exists (use --overwrite)" in result.error
    assert Path(raw) not in develop_files._PREFETCHED  # the decoded raw is not kept for the life of the worker


def test_workers_started_ahead_run_the_jobs_and_those_left_over_are_killed():
    jobs = [(f"job{i}", "ok") for i in range(4)]
    with workers_started(3, workers=2) as ahead:
        results = run_jobs(jobs, workers=2, work=crashing_work.whose, failure=crashing_work.failure, isolate=True)
        assert [name for name, _ in results] == [f"job{i}" for i in range(4)]
        ran_in = {pid for _, pid in results}
        assert ran_in <= set(ahead) and len(ran_in) == 2  # no worker was started for them: two of those waiting
    for pid in ahead:  # the two that ran are stopped by run_jobs, the one left over when the block ends
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("users", [None, "3"])
def test_a_worker_holds_openblas_to_one_thread_unless_the_user_chose(users, monkeypatch):
    if users is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", users)
    results = run_jobs([("a", "ok")], workers=2, work=crashing_work.blas_threads, isolate=True)
    assert results == [users or "1"]


# --- time limit ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.timeout(3 * (FILE_TIMEOUT_S + TIMEOUT_SLACK_S))
def test_a_file_past_the_timeout_fails_alone_and_is_retried_only_when_asked(tmp_path, workers):
    folder, out = tmp_path / "in", tmp_path / "out"
    raws = write_tiny_raws(folder, 6)
    hanging = raws[2]
    marker = hanging.with_suffix(sleepy_work.HANG_MARK)
    marker.touch()
    settings = BatchSettings(look=load_look("default"))
    others = sorted(raw.name for raw in raws if raw != hanging)

    def batch(**options):
        start = time.monotonic()
        summary = run_batch(folder, out, settings, workers=workers, timeout=FILE_TIMEOUT_S, work=sleepy_work.work,
                            **options)
        return summary, time.monotonic() - start

    summary, seconds = batch()
    reason = f"{hanging}: timed out after {FILE_TIMEOUT_S} s (its worker process was stopped)"
    assert summary.failed == [(hanging.name, reason)] and sorted(summary.done) == others
    assert FILE_TIMEOUT_S <= seconds < FILE_TIMEOUT_S + TIMEOUT_SLACK_S  # cut off, not waited for
    assert outputs_of(out) == {f"{Path(name).stem}.jpg": file_sha256(folder / name) for name in others}
    records = {r["input"]: r for r in manifest_lines(out)}
    assert len(records) == len(raws) and records[hanging.name]["failed"] == reason

    marker.unlink()  # the file would now go through: a resume that tried it again would develop it
    summary, _ = batch()
    assert summary.done == [] and sorted(summary.skipped) == others
    assert summary.failed == [(hanging.name, f"{reason} (in an earlier run; --retry-failed tries it again)")]
    summary, _ = batch(retry_failed=True)
    assert summary.done == [hanging.name] and sorted(summary.skipped) == others and not summary.failed
    records = manifest_lines(out)
    assert len(records) == len(raws) and not any("failed" in record for record in records)
    assert not (out / STAGING_NAME).exists()


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_timeout_and_retry_failed_options_of_the_command(tmp_path, capfd):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["batch", "--help"])
    help_text = capfd.readouterr().out
    assert exit_.value.code == 0 and "--timeout" in help_text and "--retry-failed" in help_text
    folder, out = tmp_path / "in", tmp_path / "out"
    raws = write_tiny_raws(folder, 3)
    argv = [str(folder), "-o", str(out), "--jobs", "2"]
    code, counts, err = run_batch_cli([*argv, "--timeout", "0.001"], capfd)  # no raw develops in a millisecond
    assert code == 1 and counts == (3, 0, 0, 3)
    assert sorted(err) == [f"lumatune: {raw}: timed out after 0.001 s (its worker process was stopped)" for raw in raws]
    code, counts, err = run_batch_cli(argv, capfd)
    assert code == 1 and counts == (3, 0, 0, 3)
    assert all(line.endswith("(in an earlier run; --retry-failed tries it again)") for line in err) and len(err) == 3
    code, counts, _ = run_batch_cli([*argv, "--retry-failed", "--timeout", "0"], capfd)  # 0: no limit
    assert code == 0 and counts == (3, 3, 0, 0)


# --- killed, stopped and resumed ----------------------------------------------------------------------------

HAVE_PROC = Path("/proc/self/stat").exists()
STOP_LINE = re.compile(
    r"lumatune: stopped by (SIGINT|SIGTERM): \d+ raw files developed in this run are in place and recorded, "
    r"nothing half-written was kept; run the same command again to resume"
)


def start_batch(source: Path, out: Path) -> subprocess.Popen:
    """A ``lumatune batch`` child in its own process group (so that a kill takes its workers too)."""
    return subprocess.Popen(
        [sys.executable, "-m", "lumatune", "batch", str(source), "-o", str(out), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def records_in(out: Path) -> int:
    try:
        return (out / MANIFEST_NAME).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def session_processes(session: int) -> list[str]:
    """Live processes (pid and command line) of a session: a batch started by :func:`start_batch`, its workers,
    and anything they started (a multiprocessing resource tracker, say), even once re-parented to init.
    Zombies are left out: they have ended, only their exit status waits to be collected."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            command = (stat_file.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):  # it ended meanwhile
            continue
        state, session_id = fields[0], int(fields[3])
        if session_id == session and state != "Z":
            found.append(f"{stat_file.parent.name}: {command[:120]}")
    return found


def seconds_until_gone(session: int) -> float:
    """Seconds until no process of ``session`` is left; fails if some outlive :data:`GONE_WITHIN_S`."""
    start = time.monotonic()
    while (left := session_processes(session)) and time.monotonic() - start < GONE_WITHIN_S:
        time.sleep(0.02)
    assert not left, f"outlived the batch: {left}"
    return time.monotonic() - start


def kill_main(child: subprocess.Popen) -> float:
    """SIGKILL the batch's main process alone (no clean-up can run); seconds until its workers are gone too."""
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    return seconds_until_gone(child.pid)


def finish_batch(source: Path, out: Path) -> tuple[int, int, int, int]:
    child = start_batch(source, out)
    stdout, stderr = child.communicate(timeout=KILL_TEST_TIMEOUT_S)
    assert child.returncode == 0, stderr
    return tuple(int(g) for g in SUMMARY.search(stdout).groups())


def visible_outputs(out: Path) -> dict[str, str]:
    return {k: v for k, v in outputs_of(out).items() if not k.startswith(STAGING_NAME)}


@pytest.fixture(scope="module")
def resume_inputs(tmp_path_factory):
    """200 tiny raws and the outputs one uninterrupted batch makes of them (the reference)."""
    folder = tmp_path_factory.mktemp("resume")
    source, reference = folder / "in", folder / "reference"
    write_tiny_raws(source, RESUME_FILES)
    assert finish_batch(source, reference) == (RESUME_FILES, RESUME_FILES, 0, 0)
    return source, outputs_of(reference)


@pytest.mark.skipif(not HAVE_PROC, reason="finding a batch's processes needs /proc")
@pytest.mark.timeout(KILL_TEST_TIMEOUT_S)
def test_200_files_killed_halfway_resume_to_every_output_once_and_correct(resume_inputs, tmp_path):
    source, reference = resume_inputs
    out = tmp_path / "out"
    child = start_batch(source, out)
    while records_in(out) < KILL_AFTER_RECORDS and child.poll() is None:
        time.sleep(0.01)
    running = session_processes(child.pid)
    gone_s = kill_main(child)
    assert child.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    assert len(running) >= 3, running  # the batch and its two workers, found by the scan that then found none
    present = visible_outputs(out)
    recorded = records_in(out)
    assert all(reference[name] == digest for name, digest in present.items()), "a corrupt output after the kill"
    # a record is synced before its output is moved into place: at most the result in hand lacks its file
    assert recorded >= KILL_AFTER_RECORDS and len(present) <= recorded <= len(present) + 1
    total, developed, skipped, failed = finish_batch(source, out)
    assert (total, failed) == (RESUME_FILES, 0)
    assert skipped == len(present) and developed == RESUME_FILES - len(present)  # nothing redone twice
    assert outputs_of(out) == reference  # every output once, byte for byte; no staging or temporary files
    records = manifest_lines(out)
    assert len(records) == RESUME_FILES and len({r["input"] for r in records}) == RESUME_FILES
    print(f"killed after {recorded} records with {len(present)} outputs, workers gone {gone_s:.2f} s later; "
          f"resumed: {developed} developed, {skipped} skipped")


@pytest.mark.skipif(not HAVE_PROC, reason="finding a batch's processes needs /proc")
@pytest.mark.timeout(KILL_TEST_TIMEOUT_S)
def test_killed_at_random_moments_the_outputs_stay_whole(resume_inputs, tmp_path):
    source, reference = resume_inputs
    out = tmp_path / "out"
    rng = random.Random(8)
    for _ in range(RANDOM_KILLS):
        child = start_batch(source, out)
        time.sleep(rng.uniform(0.5, 3.0))
        kill_main(child)
        assert all(reference[name] == digest for name, digest in visible_outputs(out).items())
    finish_batch(source, out)
    assert outputs_of(out) == reference


@pytest.mark.skipif(not HAVE_PROC, reason="finding a batch's processes needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.timeout(KILL_TEST_TIMEOUT_S)
def test_a_signal_stops_the_batch_and_all_its_processes_and_keeps_only_whole_outputs(resume_inputs, tmp_path, signum):
    source, reference = resume_inputs
    out = tmp_path / "out"
    child = start_batch(source, out)
    while records_in(out) < STOP_AFTER_RECORDS and child.poll() is None:
        time.sleep(0.01)
    running = session_processes(child.pid)
    child.send_signal(signum)
    sent = time.monotonic()
    _, stderr = child.communicate(timeout=STOP_WITHIN_S)
    stopped_s = time.monotonic() - sent
    gone_s = seconds_until_gone(child.pid)
    assert len(running) >= 3, running  # the batch and its two workers, found by the scan that then found none
    assert child.returncode == 128 + signum, stderr
    (line,) = stderr.splitlines()
    assert STOP_LINE.fullmatch(line) and signal.Signals(signum).name in line
    present = outputs_of(out)
    assert not (out / STAGING_NAME).exists() and set(present) <= set(reference)  # no staging, no temporary files
    assert all(reference[name] == digest for name, digest in present.items()), "a corrupt output after the stop"
    total, developed, skipped, failed = finish_batch(source, out)
    assert (total, failed) == (RESUME_FILES, 0)
    assert skipped == len(present) and developed == RESUME_FILES - len(present)  # nothing redone twice
    assert outputs_of(out) == reference
    records = manifest_lines(out)
    assert len(records) == RESUME_FILES and len({r["input"] for r in records}) == RESUME_FILES
    print(f"{signal.Signals(signum).name}: exited {stopped_s:.2f} s after the signal, every process gone "
          f"{gone_s:.2f} s after that; {len(present)} outputs kept; resumed: {developed} developed, {skipped} skipped")


# --- on a Dask cluster --------------------------------------------------------------------------------------


class SilentHTTPHandler(http.server.BaseHTTPRequestHandler):
    """An HTTP server's handler that logs nothing (its log would go to stderr, which the tests read)."""

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize("listener", ["closed port", "HTTP server"])
@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_an_address_without_a_dask_scheduler_fails_in_one_line_within_the_timeout(tree, tmp_path, capfd, monkeypatch,
                                                                                  listener):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed")
    monkeypatch.setattr("lumatune.jobs.cluster.SCHEDULER_TIMEOUT_S", SCHEDULER_TIMEOUT_S)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SilentHTTPHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        if listener == "closed port":
            server.shutdown()
            server.server_close()  # nothing listens on its port now
        address = f"tcp://127.0.0.1:{server.server_port}"
        start = time.monotonic()
        with pytest.raises(SystemExit) as exit_:
            cli_main(["batch", str(tree), "-o", str(tmp_path / "out"), "--scheduler", address])
        seconds = time.monotonic() - start
    finally:
        server.shutdown()
        server.server_close()
    lines = capfd.readouterr().err.splitlines()
    assert exit_.value.code == 1 and len(lines) == 1, lines
    expected = rf"lumatune: {re.escape(address)}: cannot reach the Dask scheduler within {SCHEDULER_TIMEOUT_S} s \(\w+: .+\)"
    assert re.fullmatch(expected, lines[0]), lines[0]
    assert seconds < SCHEDULER_TIMEOUT_S + SCHEDULER_SLACK_S
    print(f"{listener}: one line after {seconds:.1f} s")


@pytest.mark.timeout(BATCH_TIMEOUT_S)
def test_cluster_workers_elsewhere_take_relative_paths_and_write_the_local_bytes(tree, tmp_path, capfd, monkeypatch):
    distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the cluster's worker processes start in this folder
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        assert {Path(folder).resolve() for folder in client.run(os.getcwd).values()} == {elsewhere.resolve()}
        monkeypatch.chdir(tmp_path)  # the batch runs here, with paths relative to this folder
        code, counts, err = run_batch_cli([tree.name, "-o", "cluster", "--scheduler", cluster.scheduler_address], capfd)
    assert code == 3 and counts == (13, 12, 0, 1)
    assert any("bad.nef: not a raw file" in line for line in err)
    code, counts, _ = run_batch_cli([tree.name, "-o", "local", "--jobs", "2"], capfd)
    assert code == 3 and counts == (13, 12, 0, 1)
    local, remote = tmp_path / "local", tmp_path / "cluster"
    assert outputs_of(remote) == outputs_of(local)

    def essentials(folder: Path) -> list:
        return sorted((r["input"], r["output"], r.get("output_sha256"), r["settings"]) for r in manifest_lines(folder))

    assert essentials(remote) == essentials(local)
