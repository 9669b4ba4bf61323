"""The batch engine behind ``lumatune batch`` (:mod:`lumatune.cli.batch`): develop a folder of raws into an output
folder, resumably, locally or on a Dask cluster (:mod:`lumatune.jobs.cluster`).

Every input found under INPUT_DIR (recursively, raw extensions only, hidden files and linked folders skipped)
becomes the file of the same relative path in OUT_DIR with the output format's extension. Workers develop
into a staging folder inside OUT_DIR; this process alone records each result in the manifest and only then
moves the file into place. So the manifest is a write-ahead log: a batch killed at any moment leaves only
complete outputs (a rename is atomic), and the next run skips every input whose output the manifest vouches
for (same input, same settings, output bytes unchanged) and redoes the rest, without duplicating anything.

The manifest, ``OUT_DIR/lumatune-manifest.jsonl``, has one JSON object per line::

    {"version": 1, "input": "day1/IMG_0001.CR2", "input_sha256": "...", "input_size": 25123456,
     "input_mtime_ns": ..., "settings": "<sha256 of the settings>", "settings_detail": {...},
     "output": "day1/IMG_0001.jpg", "output_sha256": "...", "output_size": 8123456, "lumatune": "0.1.0"}

An input that failed in a worker (unreadable, the decoder crashed, past ``--timeout``) gets a record with
``"failed": "<one-line reason>"`` (and its input's size and time, the settings, and ``output`` carried over from
its earlier record, if any). A resumed batch does not try it again while the input and the settings are the
same; it reports it as failed with that reason, unless ``--retry-failed``.

The last line for an input wins; a line cut short by a kill is ignored. Files in OUT_DIR that the manifest
does not list are never replaced without ``--overwrite``; files it lists are the batch's own and are redone
when their input, the settings or their bytes changed.

Each file has ``--timeout`` seconds in its worker process; a worker past it is killed and replaced and the
file fails. SIGINT or SIGTERM stops the batch: its workers are killed, the staging folder is removed, the
manifest (synced record by record) stays as it is, and the command exits with one line and 128 + the signal
number (130, 143). Workers end by themselves when the batch process dies, even by SIGKILL (see
:mod:`lumatune.jobs.develop_files`).

With ``--scheduler tcp://HOST:PORT`` the same jobs run on a Dask distributed cluster; INPUT_DIR and OUT_DIR
must then be visible to every worker at the same paths (a shared filesystem; they are made absolute before they
are sent, since a worker's working folder is not ours), and the outputs are the ones a local batch writes,
byte for byte.

References
----------
- C. Mohan et al., "ARIES: a transaction recovery method supporting fine-granularity locking and partial
  rollbacks using write-ahead logging", ACM TODS 17(1), 1992: log the intent before the change.
- POSIX.1-2017, ``rename()`` and ``link()`` (atomic placement); ``fsync()`` (the log survives a crash).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lumatune._version import __version__
from lumatune.errors import LumatuneError, OutputError, UnreadableInputError
from lumatune.io.atomic import atomic_output, move_into_place
from lumatune.io.formats import FORMATS
from lumatune.jobs.cluster import cluster_threads, connect_cluster
from lumatune.jobs.develop_files import PREFETCH_LIMIT, BegunAhead, DevelopJob, develop_file, prefetch_raw, run_jobs

__all__ = [
    "MANIFEST_NAME",
    "RAW_EXTENSIONS",
    "BatchJob",
    "BatchResult",
    "BatchSettings",
    "BatchStopped",
    "BatchSummary",
    "Manifest",
    "develop_batch_job",
    "find_raws",
    "output_paths",
    "run_batch",
]

MANIFEST_NAME = "lumatune-manifest.jsonl"
MANIFEST_VERSION = 1
STAGING_NAME = ".lumatune-staging"

#: File extensions taken for raws (LibRaw's formats); other files in INPUT_DIR are left alone.
RAW_EXTENSIONS = frozenset(
    ".3fr .ari .arw .bay .cr2 .cr3 .crw .cs1 .dcr .dcs .dng .erf .fff .iiq .k25 .kdc .mdc .mef .mos .mrw .nef "
    ".nrw .orf .ori .pef .ptx .pxn .qtk .raf .raw .rw2 .rwl .rwz .sr2 .srf .srw .sti .x3f".split()
)

_HASH_CHUNK = 1 << 20

DEFAULT_TIMEOUT_S = 600
"""Default ``--timeout``: a 24-MP raw develops in seconds, the largest raws in well under a minute; ten minutes
is far beyond any file that is merely slow (a loaded machine, a network folder) yet bounds a decoder that hangs."""


@dataclass(frozen=True)
class BatchSettings:
    """How every file of a batch is developed and encoded."""

    look: object
    tuning: object | None = None
    format: str = "jpeg"
    quality: int = 95
    bits: int | None = None
    space: str = "srgb"
    ev: float = 0.0

    def detail(self) -> dict:
        """The settings as JSON values; looks and tunings by name and the hash of their full TOML."""
        return {
            "look": self.look.name,
            "look_sha256": _text_sha256(self.look.to_toml()),
            "tuning_sha256": None if self.tuning is None else _text_sha256(self.tuning.to_toml()),
            "format": self.format,
            "quality": self.quality,
            "bits": self.bits,
            "space": self.space,
            "ev": self.ev,
        }

    def key(self) -> str:
        """sha256 of :meth:`detail`: two batches with the same key write the same bytes for the same input."""
        return _text_sha256(json.dumps(self.detail(), sort_keys=True))

    @property
    def extension(self) -> str:
        return FORMATS[self.format][0]


@dataclass(frozen=True)
class BatchJob:
    """One input: its manifest key (path relative to INPUT_DIR), the develop job into a staging file, the target."""

    key: str
    develop: object  # lumatune.jobs.develop_files.DevelopJob whose target is the staging file
    target: Path


@dataclass(frozen=True)
class BatchResult:
    """What a worker made of a job: a staging file with its hashes, or a one-line error."""

    key: str
    source: Path
    target: Path
    staging: Path | None = None
    input_sha256: str | None = None
    input_size: int | None = None
    input_mtime_ns: int | None = None
    output_sha256: str | None = None
    output_size: int | None = None
    error: str | None = None


@dataclass
class BatchSummary:
    """Inputs developed in this run, skipped because already done, and failed with their one-line reasons."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    stopped: int | None = None  # the signal that stopped the run before every file was tried

    def line(self) -> str:
        total = len(self.done) + len(self.skipped) + len(self.failed)
        return (
            f"{total} raw files: {len(self.done)} developed, {len(self.skipped)} skipped (already done), "
            f"{len(self.failed)} failed"
        )

    def stop_line(self) -> str:
        """The one line of a run stopped by a signal."""
        return (
            f"stopped by {signal.Signals(self.stopped).name}: {len(self.done)} raw files developed in this run are in "
            "place and recorded, nothing half-written was kept; run the same command again to resume"
        )


class BatchStopped(BaseException):
    """Raised in the main thread by the batch command's SIGINT/SIGTERM handler (:mod:`lumatune.cli.batch`).

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def develop_batch_job(job: BatchJob) -> BatchResult:
    """Worker side: develop one input into its staging file and hash input and output; never raises."""
    source, staging = job.develop.source, job.develop.target
    result = develop_file(job.develop)
    if result.error:
        _HASHING.pop(source)
        return BatchResult(job.key, source, job.target, error=result.error.replace(str(staging), str(job.target)))
    try:
        info = source.stat()
        return BatchResult(
            job.key, source, job.target, staging=staging, input_sha256=_HASHING.take(source), input_size=info.st_size,
            input_mtime_ns=info.st_mtime_ns, output_sha256=file_sha256(staging), output_size=staging.stat().st_size,
        )
    except OSError as error:
        return BatchResult(job.key, source, job.target, error=f"{source}: cannot read it back ({error.strerror})")


def _job_failure(job: BatchJob, reason: str) -> BatchResult:
    return BatchResult(job.key, job.develop.source, job.target, error=f"{job.develop.source}: {reason}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_HASHING = BegunAhead(file_sha256, "lumatune-hash", PREFETCH_LIMIT)
"""Input hashes begun by :func:`_read_ahead`, for the job that develops those inputs."""


def _read_ahead(job: BatchJob) -> None:
    """Begin the read and the input hash of a job that waits behind another (:func:`lumatune.jobs.pool.ahead_of`):
    both release the GIL, so they overlap the running job's stages."""
    prefetch_raw(job.develop.source)
    _HASHING.begin(job.develop.source)


develop_batch_job.ahead = _read_ahead


# --- inputs and outputs -------------------------------------------------------------------------------------


def find_raws(folder: Path, skip: Path | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Raw files under ``folder`` (relative paths, sorted), and (folder, reason) for folders that cannot be listed.

    Linked folders are not followed (a batch never leaves INPUT_DIR through a link); linked files are taken
    (a broken or looping link then fails in one line). Hidden files and folders (``.name``, e.g. macOS
    ``._IMG.CR2`` resource forks) and the folder ``skip`` (OUT_DIR inside INPUT_DIR) are left out.
    """
    found, problems = [], []

    def unlisted(error: OSError) -> None:
        problems.append((str(error.filename), f"{error.filename}: cannot list folder ({error.strerror})"))

    skip = skip.resolve() if skip is not None else None
    for root, folders, files in os.walk(folder, onerror=unlisted):
        here = Path(root)
        folders[:] = sorted(d for d in folders if not d.startswith(".") and (here / d).resolve() != skip)
        found += [
            (here / name).relative_to(folder)
            for name in sorted(files)
            if not name.startswith(".") and Path(name).suffix.lower() in RAW_EXTENSIONS
        ]
    return found, problems


def output_paths(inputs: list[Path], extension: str) -> dict[Path, Path]:
    """Output path (relative to OUT_DIR) of each input: its path with ``extension``.

    Inputs that would share an output (``IMG_1.CR2`` and ``IMG_1.DNG``) keep their own extension in the
    name (``IMG_1.CR2.jpg``), so that no output is written twice.
    """
    by_target = defaultdict(list)
    for source in inputs:
        by_target[source.with_suffix(extension)].append(source)
    return {
        source: target if len(group) == 1 else source.with_name(source.name + extension)
        for target, group in by_target.items()
        for source in group
    }


# --- the manifest --------------------------------------------------------------------------------------------


class Manifest:
    """The batch's write-ahead log: one JSON line per output, appended and synced before the output is moved
    into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = None

    def load(self) -> dict[str, dict]:
        """Input key -> its last valid record; lines cut short by a kill, or of another version, are ignored."""
        try:
            text = self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise OutputError(f"{self.path}: cannot read the manifest ({error.strerror})") from None
        records = {}
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("version") == MANIFEST_VERSION and isinstance(record.get("input"), str):
                records[record["input"]] = record
        return records

    def open(self) -> None:
        """Open for appending and lock it (one batch per output folder at a time; the lock dies with the process).

        A last line cut short by a kill is closed off, so that the next record stands alone.
        """
        new = not self.path.exists()
        try:
            self._file = open(self.path, "a+b")
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.close()
                raise OutputError(f"{self.path.parent}: another lumatune batch is writing there") from None
            if self._file.tell() > 0:
                self._file.seek(-1, os.SEEK_END)
                if self._file.read(1) != b"\n":
                    self._write(b"\n")
        except OSError as error:
            raise OutputError(f"{self.path}: cannot write the manifest ({error.strerror})") from None
        if new:
            _sync_folder(self.path.parent)

    def append(self, record: dict) -> None:
        """Write one record and make it durable (fsync) before returning."""
        self._write((json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def compact(self) -> None:
        """Rewrite the log with one line per input (synced, then renamed over it), once a run appended duplicates."""
        records = self.load()
        lines = self.path.read_bytes().count(b"\n")
        if lines == len(records):
            return
        text = "".join(json.dumps(records[key], sort_keys=True) + "\n" for key in sorted(records))
        with atomic_output(self.path, overwrite=True) as temp, open(temp, "wb") as file:
            file.write(text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that a file just created in it survives a crash (POSIX; a no-op where unsupported)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _record(result: BatchResult, settings: BatchSettings, output: Path) -> dict:
    return {
        "version": MANIFEST_VERSION,
        "input": result.key,
        "input_sha256": result.input_sha256,
        "input_size": result.input_size,
        "input_mtime_ns": result.input_mtime_ns,
        "settings": settings.key(),
        "settings_detail": settings.detail(),
        "output": output.as_posix(),
        "output_sha256": result.output_sha256,
        "output_size": result.output_size,
        "lumatune": __version__,
    }


def _failure_record(result: BatchResult, settings: BatchSettings, earlier: dict | None) -> dict:
    """The record of an input that failed in its worker: the reason, and what decides whether it is tried again
    (the input's size and modification time, the settings). ``output`` stays the earlier record's, so that a
    file the batch wrote before remains its own."""
    try:
        info = result.source.stat()
        size, mtime_ns = info.st_size, info.st_mtime_ns
    except OSError:
        size = mtime_ns = None  # never equal to a later stat: the input is tried again
    return {
        "version": MANIFEST_VERSION,
        "input": result.key,
        "failed": result.error,
        "input_size": size,
        "input_mtime_ns": mtime_ns,
        "settings": settings.key(),
        "settings_detail": settings.detail(),
        "output": (earlier or {}).get("output"),
        "lumatune": __version__,
    }


def _failed_before(record: dict | None, source: Path, settings_key: str) -> bool:
    """Whether the last record of this input is a failure for the same settings and the same input file (by size
    and modification time; a failed input may be unreadable, so it is not hashed)."""
    if record is None or not isinstance(record.get("failed"), str) or record.get("settings") != settings_key:
        return False
    try:
        info = source.stat()
    except OSError:
        return False
    return (info.st_size, info.st_mtime_ns) == (record.get("input_size"), record.get("input_mtime_ns"))


def _vouched(record: dict | None, source: Path, target: Path, settings_key: str, output: str) -> bool:
    """Whether the manifest vouches for ``target``: same settings, same input bytes, output bytes unchanged.

    An input whose size and modification time match the record is taken as unchanged (as make and rsync do);
    otherwise it is hashed. The output is always hashed.
    """
    if record is None or record.get("settings") != settings_key or record.get("output") != output:
        return False
    try:
        source_info, target_info = source.stat(), target.stat()
    except OSError:
        return False
    if not (stat.S_ISREG(source_info.st_mode) and stat.S_ISREG(target_info.st_mode)):
        return False
    same_input = (source_info.st_size, source_info.st_mtime_ns) == (record.get("input_size"), record.get("input_mtime_ns"))
    try:
        if not same_input and file_sha256(source) != record.get("input_sha256"):
            return False
        return target_info.st_size == record.get("output_size") and file_sha256(target) == record.get("output_sha256")
    except OSError:
        return False


# --- running a batch -----------------------------------------------------------------------------------------


def run_batch(
    input_dir: Path,
    out_dir: Path,
    settings: BatchSettings,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    overwrite: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    retry_failed: bool = False,
    progress: bool = False,
    work=develop_batch_job,
) -> BatchSummary:
    """Develop every raw under ``input_dir`` into ``out_dir``, skipping what an earlier run finished.

    Parameters
    ----------
    input_dir, out_dir : the folders (``out_dir`` is created if needed).
    settings : look, tuning, format and encoding of every output.
    workers : local worker processes (ignored with ``scheduler``); each file runs in one, even with one worker.
    scheduler : address of a Dask distributed scheduler (``tcp://HOST:PORT``) to run the jobs on.
    overwrite : replace outputs that the manifest does not list (files this batch did not write).
    timeout : seconds a file may take in its worker before it is killed and the file fails (``None``: no limit).
    retry_failed : try again the inputs whose last record is a failure (same input, same settings).
    progress : show a progress bar.
    work : the function a worker runs on each :class:`BatchJob` (tests put a misbehaving double here).

    Returns
    -------
    BatchSummary : inputs developed, skipped and failed (with one-line reasons); ``stopped`` holds the signal
    when a :class:`BatchStopped` ended the run (its workers killed, its finished outputs kept and recorded).
    """
    if scheduler:  # the workers' working folders are not ours; a shared filesystem has the same absolute paths
        input_dir, out_dir = input_dir.absolute(), out_dir.absolute()
    if not input_dir.is_dir():
        raise UnreadableInputError(f"{input_dir}: no such folder")
    _make_folder(out_dir)
    inputs, unlisted = find_raws(input_dir, skip=out_dir)
    if not inputs and not unlisted:
        raise UnreadableInputError(f"{input_dir}: no raw files found")
    summary = BatchSummary(failed=list(unlisted))
    manifest = Manifest(out_dir / MANIFEST_NAME)
    try:
        with contextlib.ExitStack() as cleanup:
            manifest.open()  # and lock: a second batch into the same folder would empty this one's staging folder
            cleanup.callback(manifest.close)
            records = manifest.load()
            client = cleanup.enter_context(connect_cluster(scheduler)) if scheduler else None
            staging = _fresh_staging(out_dir)
            cleanup.callback(shutil.rmtree, staging, ignore_errors=True)
            ours = {record.get("output") for record in records.values()}  # outputs this batch may replace
            jobs = _plan(input_dir, out_dir, staging, inputs, records, ours, settings, overwrite, retry_failed, summary)
            run_jobs(
                jobs, workers=cluster_threads(client) if client else workers, progress=progress, work=work,
                failure=_job_failure, on_result=_committer(manifest, settings, out_dir, records, ours, overwrite, summary),
                executor=client.get_executor(pure=False) if client else None, isolate=True, timeout=timeout,
                label="batch", already_done=len(summary.skipped) + len(summary.failed),
            )
            # still under the lock, so that no other batch appends to the file being replaced
            with contextlib.suppress(OutputError):  # the appended log is valid as it is; compacting only tidies it
                manifest.compact()
    except BatchStopped as stop:  # the workers are killed, staging removed, the manifest closed (every record synced)
        summary.stopped = stop.signum
    return summary


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{folder}: exists and is not a folder") from None
    except OSError as error:
        raise OutputError(f"{folder}: cannot create output folder ({error.strerror})") from None


def _fresh_staging(out_dir: Path) -> Path:
    """An empty staging folder; what a killed run left there (unfinished outputs) is removed."""
    staging = out_dir / STAGING_NAME
    shutil.rmtree(staging, ignore_errors=True)
    _make_folder(staging)
    return staging


def _plan(input_dir, out_dir, staging, inputs, records, ours, settings, overwrite, retry_failed, summary) -> list[BatchJob]:
    """The jobs still to do; inputs already done go to ``summary.skipped``, impossible ones and (unless
    ``retry_failed``) those that failed before to ``failed``."""
    targets = output_paths(inputs, settings.extension)
    key = settings.key()
    jobs = []
    for relative in inputs:
        source, output = input_dir / relative, targets[relative]
        name, target = relative.as_posix(), out_dir / output
        if _vouched(records.get(name), source, target, key, output.as_posix()):
            summary.skipped.append(name)
            continue
        if not retry_failed and _failed_before(records.get(name), source, key):
            reason = records[name]["failed"]
            summary.failed.append((name, f"{reason} (in an earlier run; --retry-failed tries it again)"))
            continue
        if os.path.lexists(target) and not overwrite and output.as_posix() not in ours:
            summary.failed.append((name, f"{target}: exists and is not from this batch (use --overwrite)"))
            continue
        develop = DevelopJob(
            source=source, target=staging / f"{secrets.token_hex(8)}{settings.extension}", look=settings.look,
            tuning=settings.tuning, space=settings.space, ev=settings.ev, quality=settings.quality, bits=settings.bits,
        )
        jobs.append(BatchJob(key=name, develop=develop, target=target))
    return jobs


def _committer(manifest: Manifest, settings: BatchSettings, out_dir: Path, records: dict, ours: set, overwrite: bool,
               summary):
    """The function that takes each worker result: record it (synced), then move the output into place; or record
    the failure, so that a resumed batch does not try the input again unless asked."""
    def commit(result: BatchResult) -> None:
        if result.error:
            summary.failed.append((result.key, result.error))
            with contextlib.suppress(OSError):  # unrecorded, the input is merely tried again next time
                manifest.append(_failure_record(result, settings, records.get(result.key)))
            return
        output = result.target.relative_to(out_dir)
        try:
            manifest.append(_record(result, settings, output))
            result.target.parent.mkdir(parents=True, exist_ok=True)
            move_into_place(result.staging, result.target, overwrite or output.as_posix() in ours)
        except LumatuneError as error:
            summary.failed.append((result.key, str(error)))
        except OSError as error:
            summary.failed.append((result.key, f"{result.target}: cannot write: {error.strerror or error}"))
        else:
            summary.done.append(result.key)

    return commit
