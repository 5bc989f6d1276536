"""Bulk conversion: a folder of returned workbooks → canonical JSON, CSV tables (findings, indicators,
declarations), a summary workbook with an overview, and on request a marked-up copy of each returned file.

The work per file is one pure function, ``process_file`` (path in → outcome out, never an exception), so the
same function runs in the local watchdog pool or on a Dask cluster. The parent only writes: outcomes arrive
in input order and are streamed to disk, so memory stays flat however large the folder; what it keeps is a
few values a declaration for the checks across files (``crossfile.py``), run once the batch is read.

The output folder is the user's: bulk conversion replaces only what it can prove it wrote. Its marker file
(``.perfgoal-bulk``) says the folder's ``OUTPUTS`` are ours; without it, any of those names already there
stops the run before anything is touched (``BulkRefused``); so does a file under ``json/`` or ``反馈/`` that
the last run did not publish there (its ``MANIFEST``), which replacing those folders would remove. A run writes
into its staging area (``.perfgoal-staging``, with the workers' logs and the summary's spill files) and
publishes the outputs together at the end; the next run clears whatever a killed one left there.
"""

from __future__ import annotations

import functools
import glob
import itertools
import math
import multiprocessing as mp
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, NamedTuple

from . import canonical
from .atomic import create_bytes, publish, roll_back
from .crossfile import CrossIndex, CrossKey, cross_key
from .feedback import (
    FEEDBACK_DIR,
    FeedbackOptions,
    converted_suffixes,
    copy_names,
    feedback_copies,
    name_digest,
)
from .fields import get_field
from .findings import SEVERITY_LABELS, Finding, Severity
from .flat import (
    DECLARATION_HEADER,
    DECLARATIONS_CSV,
    INDICATOR_HEADER,
    INDICATORS_CSV,
    declaration_row,
    indicator_rows,
)
from .flat import display_name as display_name  # re-exported: callers import it from here
from .fragments import Fragments, csv_bytes, finding_csv, render_outcome
from .options import EXECUTORS
from .places import field_text, finding_order, place_text
from .pool import MAX_JOBS, Failure, WatchdogPool
from .profile import profile_names, unknown_profile
from .reading import DEFAULT_MEMORY, DEFAULT_TIMEOUT, failure_finding, read_file
from .rules import CATALOGUE
from .sheet_rows import UNLINKABLE
from .summary import BLANK_FIELDS, EXCEL_MAX_ROWS, STATUS_ERROR, SUMMARY_FIELDS, Extra, SummaryWorkbook, status_of
from .summary import FINDINGS_HEADER as FINDINGS_HEADER  # re-exported: callers import these from here
from .summary import SUMMARY_HEADER as SUMMARY_HEADER
from .summary import SUMMARY_XLSX as SUMMARY_XLSX
from .syserrors import os_reason, trim_detail

JSON_DIR = "json"
FINDINGS_CSV = "findings.csv"
# Published in this order: the one most often held open first. 反馈/ (the marked-up copies) is always staged,
# empty without --feedback, so that an earlier run's copies never stay beside this run's outputs.
OUTPUTS = (SUMMARY_XLSX, FINDINGS_CSV, INDICATORS_CSV, DECLARATIONS_CSV, JSON_DIR, FEEDBACK_DIR)
_FOLDERS = (JSON_DIR, FEEDBACK_DIR)
MARKER = ".perfgoal-bulk"
# What a run published under ``_FOLDERS`` (paths from the folder, NUL-separated, as the file system spells them),
# published with it: the next run replaces those folders whole, and refuses while they hold anything else.
MANIFEST = ".perfgoal-outputs"
PUBLISHED = (*OUTPUTS, MANIFEST)
STAGING = ".perfgoal-staging"
MANAGED = (*PUBLISHED, STAGING)
MARKER_TEXT = (f"本文件夹中的 {'、'.join(f'{n}/' if n in _FOLDERS else n for n in OUTPUTS)} 由 perfgoal bulk 生成，"
               "每次批量转换都会整体替换它们。请勿在其中存放其他文件。\n")
SKIPPED_LOCK = "已跳过：Office 临时锁定文件"
SKIPPED_LINK = "已跳过：符号链接（不跟随）"
SKIPPED_SPECIAL = "已跳过：不是普通文件"
SKIPPED_OUTPUT = "已跳过：本工具此前生成的输出文件夹"


class BulkRefused(Exception):
    """The run stopped and the output folder's earlier outputs are as they were; ``str()`` is the Chinese
    message to show (the CLI prints it and exits 2).

    Raised before anything is touched for a bad option (``BulkOptionError``), an input folder that is not
    one, an output folder equal to the input or holding it in ``json/``, outputs there that are not ours,
    or a run already writing there; and, as ``OutputFailed``, when the outputs could not be written."""


class BulkOptionError(BulkRefused, ValueError):
    """An option value out of range (jobs, timeout, executor, profile)."""


class OutputFailed(BulkRefused):
    """Writing or publishing the outputs failed (disk full, a summary held open): nothing was published."""


@dataclass
class DeclarationOut:
    sheet: str | None
    json_name: str
    json_bytes: bytes | None  # the JSON file's bytes; None once a local worker has written it
    summary: tuple[Any, ...]  # its 汇总 row (SUMMARY_HEADER), amounts as Decimal
    flat: tuple[str | None, ...] = ()  # its declarations.csv row
    indicators: list[tuple[str | None, ...]] = field(default_factory=list)  # its indicators.csv rows
    key: CrossKey | None = None  # what the cross-file checks need


# A finding as the CSV and the 问题清单 sheet show it (FINDINGS_HEADER).
FindingRow = tuple[str | None, str | None, str | None, str | None, str | None, str | None, str, str, str, str | None]


def finding_row(f: Finding, unit: str | None = None, profile: str | None = None) -> FindingRow:
    """A finding as the row the CSV and the 问题清单 sheet show (FINDINGS_HEADER): the unit of the declaration it
    is about, a text export's line as 第N行, and the field as the declaration's form names it."""
    return (f.file, unit, f.project, f.sheet, place_text(f.sheet, f.cell), field_text(f.field, profile),
            SEVERITY_LABELS[f.severity], f.code, f.message, f.field)


_ERROR, _WARNING = SEVERITY_LABELS[Severity.ERROR], SEVERITY_LABELS[Severity.WARNING]


@dataclass
class FileOutcome:
    """Everything the writer needs for one input file; plain data (findings as their output rows, a third of
    the cost of pickling the models), so it crosses process boundaries cheaply."""

    rel: str  # the path under the input folder, as the file system gave it (see ``display_name``)
    declarations: list[DeclarationOut] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    status: str = ""
    failed: bool = False  # the task did not finish: a worker may have left part of its JSON behind
    write_error: str | None = None  # the worker could not write its JSON: the run stops (never a finding)
    feedback: list[tuple[str, bytes | None]] = field(default_factory=list)  # copies under 反馈/ (None: written)
    feedback_failed: str | None = None  # why no copy could be made (the run lists the file in its report)
    fragments: Fragments | None = None  # its rows of every output, rendered by the worker (``fragments.py``)


# ----------------------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------------------
_UNSAFE = re.compile(r'[\x00-\x1f\x7f\\:*?"<>|\ud800-\udfff]')  # not allowed, or not the same, everywhere
_HASHED = re.compile(r"~[0-9a-f]{16}$")
MAX_PART_BYTES = 200  # a name part of a JSON file, leaving room for ".01.json" under the usual 255
MAX_REL_BYTES = 1024  # a JSON file's path under json/, well inside every system's path limit


def _hashed(text: str, readable: str, room: int) -> str:
    """``readable`` cut to fit ``room`` bytes, then ``~`` and 16 hex digits of ``text``: names made so
    always end that way and differ when ``text`` does; a name kept as it is never ends that way."""
    cut = readable.encode("utf-8")[: room - 17].decode("utf-8", "ignore")
    return f"{cut}~{name_digest(text)}"


def _safe_part(part: str) -> str:
    """One folder or file name, kept as it is when every system can hold it as a JSON file's name."""
    if not _UNSAFE.search(part) and len(part.encode("utf-8")) <= MAX_PART_BYTES and not _HASHED.search(part):
        return part
    return _hashed(part, _UNSAFE.sub("_", part), MAX_PART_BYTES)


_NUMBERED = re.compile(r"\.\d\d$")


def safe_rel(rel: str) -> str:
    """``sub/a.xlsx`` as a relative path every system can hold: names no system can hold (a backslash, a byte
    that is not UTF-8, a control character) or too long for one are replaced part by part with a readable
    stand-in and a hash of the original, and a path too deep is folded into one such name: deterministic, and
    never equal to another file's (docstring of ``_hashed``), so one odd name never stops the batch."""
    parts = rel.split("/")
    # A folder named like a JSON file (a.xlsx.json/) would hold JSON files where a.xlsx's JSON file goes:
    # such folder names are hashed, so a folder's name never equals a file's.
    safe = "/".join(_hashed(p, _UNSAFE.sub("_", p), MAX_PART_BYTES)
                    if i < len(parts) - 1 and p.lower().endswith(".json") else _safe_part(p)
                    for i, p in enumerate(parts))
    if len(safe.encode("utf-8")) > MAX_REL_BYTES:
        safe = _hashed(rel, safe.replace("/", "_"), MAX_PART_BYTES)
    return safe


def json_base(rel: str) -> str:
    """``sub/a.xlsx`` → ``json/sub/a.xlsx``: where a file's JSON goes, before ``.json`` or ``.01.json``."""
    return f"{JSON_DIR}/{safe_rel(rel)}"


def feedback_name(name: str) -> str:
    """``sub/a.xlsx`` → ``反馈/sub/a.xlsx``: where a marked-up copy goes."""
    return f"{FEEDBACK_DIR}/{safe_rel(name)}"


def json_names(rel: str, count: int) -> list[str]:
    """``sub/a.xlsx`` → ``json/sub/a.xlsx.json``, or ``….01.json``… for a file with several declarations.

    A file whose own name ends in ``.01`` (``a.xlsx.01``) is always numbered (``a.xlsx.01.01.json``): its
    plain name would be the first JSON of ``a.xlsx``. So no two declarations of a batch share a name."""
    base = json_base(rel)
    if count == 1 and not _NUMBERED.search(base):
        return [f"{base}.json"]
    return [f"{base}.{i:02d}.json" for i in range(1, count + 1)]


def feedback_conflicts(rels: Iterable[str]) -> frozenset[str]:
    """Inputs whose converted copy's plain name (``a.xls`` → ``a.xls.xlsx``) is another input's name, which
    that input's own copy takes: their copies get a hashed name instead (``feedback_copies``)."""
    names = set(rels)
    suffixes = converted_suffixes(profile_names())
    return frozenset(r for r in names if any(r + s in names for s in suffixes))


# ----------------------------------------------------------------------------------------------------------
# The per-file function
# ----------------------------------------------------------------------------------------------------------
def process_file(path: str, rel: str, profile: str | None = None,
                 feedback: FeedbackOptions | None = None) -> FileOutcome:
    """Read and check one file. Pure: the same file always gives the same outcome; nothing is written (the
    marked-up copies asked for with ``feedback`` come back as bytes)."""
    # Findings name the file by its path relative to the input folder: stable wherever the folder lies.
    shown = display_name(rel)
    result = read_file(path, display=shown, profile=profile)
    outcome = FileOutcome(rel, findings=[finding_row(f) for f in sorted(result.findings, key=finding_order)])
    for d, name in zip(result.declarations, json_names(rel, len(result.declarations)), strict=True):
        decl = d.declaration
        found = sorted(d.findings, key=finding_order)
        errors = sum(f.severity == Severity.ERROR for f in found)
        warnings = sum(f.severity == Severity.WARNING for f in found)
        summary = (shown, d.sheet, decl.profile, *(get_field(decl, p) for p in SUMMARY_FIELDS), errors, warnings,
                   status_of(errors, warnings), name)
        outcome.declarations.append(DeclarationOut(
            d.sheet, name, canonical.dumps_bytes(decl), summary, declaration_row(shown, d.sheet, decl, name),
            indicator_rows(shown, d.sheet, decl), cross_key(decl)))
        outcome.findings.extend(finding_row(f, decl.unit_name, decl.profile) for f in found)
    if not result.declarations:
        first = result.findings[0] if result.findings else None
        outcome.status = CATALOGUE[first.code].title if first else STATUS_ERROR
    elif feedback is not None:
        try:
            outcome.feedback = [(feedback_name(n), data) for n, data in feedback_copies(path, rel, result, feedback)]
        except Exception as exc:  # a copy that cannot be made costs the copy, never the file's conversion
            outcome.feedback_failed = trim_detail(f"{type(exc).__name__}: {exc}")
    return outcome


def _staged(folder: Path, json_name: str) -> Path:
    """``json/sub/a.xlsx.json`` → ``folder/json/sub/a.xlsx.json``, refused unless a plain relative path.

    The name comes from ``json_names``, whose parts are never ``..`` or empty; the check is lexical so that it
    costs nothing per file."""
    parts = PurePosixPath(json_name).parts
    if not parts or json_name.startswith("/") or any(p in ("..", ".", "") for p in parts) or "\\" in json_name:
        raise ValueError(f"output outside {folder}: {json_name}")
    return folder / json_name


class WriteJson:
    """The local workers' task: ``process_file``, then write the JSON files (and marked-up copies) into the
    staging folder.

    Writing in the workers spreads the file output over the cores and keeps the JSON text off the pipe; on a
    Dask cluster, whose workers may not share the output disk, the parent writes instead (same bytes). The
    outcome's rows of the other outputs are rendered here too (``fragments.py``), so the parent only appends.
    A failed write is the run's problem, not the file's: it travels back as ``write_error``."""

    def __init__(self, folder: Path, func: Callable[[str, str], FileOutcome], link_base: str | None = None) -> None:
        self.folder, self.func, self.link_base = folder, func, link_base

    def __call__(self, path: str, rel: str) -> FileOutcome:
        outcome = self.func(path, rel)
        outcome.fragments = render_outcome(outcome, self.link_base)
        outcome.findings = []  # rendered and counted: no need to send them twice
        for d in outcome.declarations:
            d.indicators, d.flat = [], ()
        try:
            _write_files(self.folder, outcome)
        except OSError as exc:
            outcome.write_error = os_reason(exc)
        return outcome


def _write_files(folder: Path, outcome: FileOutcome) -> None:
    """Create the outcome's JSON files and marked-up copies still held as text or bytes, and let go of them: in
    a local worker (``WriteJson``), or in the parent for what a Dask worker sent (``Writer.add``)."""
    for d in outcome.declarations:
        if d.json_bytes is not None:
            create_bytes(_staged(folder, d.json_name), d.json_bytes)
            d.json_bytes = None
    for i, (name, data) in enumerate(outcome.feedback):
        if data is not None:
            create_bytes(_staged(folder, name), data)
            outcome.feedback[i] = (name, None)


def failed_outcome(rel: str, failure: Failure) -> FileOutcome:
    finding = failure_finding(failure).located(file=display_name(rel))
    return FileOutcome(rel, findings=[finding_row(finding)], status=CATALOGUE[finding.code].title, failed=True)


# ----------------------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------------------
class Entry(NamedTuple):
    """A file under the input folder: read unless ``skipped`` says why not (it is listed all the same)."""

    path: str
    rel: str
    skipped: str | None = None


def walk_inputs(in_dir: Path, out_dir: Path) -> Iterator[Entry]:
    """Every entry under ``in_dir`` but ``out_dir``: a folder's files by name, then its subfolders by name,
    as ``os.walk`` goes.

    Symbolic links are not followed (a link could lead outside the folder the centre was asked to convert),
    Office lock files (``~$…``, ``.~lock…``) hold no form, and pipes or devices could block a reader: each is
    listed with the reason it was skipped. Directory entries tell their own type, so a folder of thousands of
    files costs one listing, not a ``stat`` per file. A subfolder that cannot be listed is yielded itself, so
    that it is reported as unreadable rather than skipped in silence; the walk keeps a stack, so no nesting
    depth can exhaust it.
    """
    root = in_dir.resolve()
    out = str(out_dir.resolve())
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            if not prefix:
                raise  # the input folder itself: the run cannot go
            yield Entry(folder, prefix.rstrip("/"))
            continue
        subfolders = []
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            try:
                if entry.is_symlink():
                    yield Entry(entry.path, rel, SKIPPED_LINK)
                elif entry.is_dir():
                    if os.path.lexists(os.path.join(entry.path, MARKER)) and entry.path != out:
                        yield Entry(entry.path, rel, SKIPPED_OUTPUT)  # an earlier run's outputs, not inputs
                    elif entry.path != out:
                        subfolders.append((entry.path, f"{rel}/"))
                elif not entry.is_file():
                    yield Entry(entry.path, rel, SKIPPED_SPECIAL)
                elif entry.name.startswith(("~$", ".~lock")):
                    yield Entry(entry.path, rel, SKIPPED_LOCK)
                else:
                    yield Entry(entry.path, rel)
            except OSError:  # gone or unreadable since the listing: reading it will say so
                yield Entry(entry.path, rel)
        stack.extend(reversed(subfolders))


class Listing:
    """Every entry of the input folder in walk order, held as little as may be: a relative path a file (its path
    is the input folder's joined with it), and aside only what differs from that (the skipped entries with their
    reasons, a path not so made). A folder of 100,000 files costs the parent a few MB, and each worker forked from
    it no more."""

    def __init__(self, in_dir: Path, entries: Iterable[Entry]) -> None:
        self._root = str(in_dir.resolve())
        self._rels: list[str] = []
        self._skipped: dict[int, str] = {}
        self._paths: dict[int, str] = {}
        for i, entry in enumerate(entries):
            self._rels.append(entry.rel)
            if entry.skipped is not None:
                self._skipped[i] = entry.skipped
            if entry.path != self._path(entry.rel):
                self._paths[i] = entry.path

    def _path(self, rel: str) -> str:
        return os.path.join(self._root, *rel.split("/"))

    def __len__(self) -> int:
        return len(self._rels)

    def __iter__(self) -> Iterator[Entry]:
        skipped, paths = self._skipped, self._paths
        for i, rel in enumerate(self._rels):
            yield Entry(paths.get(i) or self._path(rel), rel, skipped.get(i))

    def tasks(self) -> Iterator[Task]:
        """(path, relative path) of every entry to read, in walk order."""
        return ((e.path, e.rel) for e in self if e.skipped is None)


# ----------------------------------------------------------------------------------------------------------
# The output folder
# ----------------------------------------------------------------------------------------------------------
def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


class OutputFolder:
    """OUT_DIR as a run manages it: the marker that proves the outputs are ours, a lock so that one run at a
    time writes there, and the staging area (``new/`` for this run's outputs, ``logs/`` for spawned workers'
    logs, ``spill/`` for the summary's temporary files, ``old/`` while publishing)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.marker = root / MARKER
        self.staging = root / STAGING
        self.new, self.aside = self.staging / "new", self.staging / "old"
        self.logs, self.spill = self.staging / "logs", self.staging / "spill"
        self._lock: int | None = None

    def check(self, in_dir: Path) -> None:
        """Refuse, touching nothing, an output folder where a run could lose something of the user's."""
        if os.path.lexists(self.root) and not self.root.is_dir():
            raise BulkRefused(f"{self.root}：不是文件夹")
        source, out = in_dir.resolve(), self.root.resolve()
        if source == out:
            raise BulkRefused(f"{self.root}：输出文件夹不能与输入文件夹相同（转换结果会被当作输入再读一遍）")
        for name in MANAGED:
            if any(_inside(source, managed) for managed in (out / name, (self.root / name).resolve())):
                raise BulkRefused(f"{in_dir}：输入文件夹位于输出文件夹的 {name} 中，转换会替换它；"
                                  "请另选一个输出文件夹")
        if self.marker.is_file() and not self.marker.is_symlink():
            self._refuse_foreign(BulkRefused, "为免删除，未做任何改动")
            return
        found = [name for name in MANAGED if os.path.lexists(self.root / name)]
        if found:
            raise BulkRefused(f"{self.root}：文件夹中已有 {'、'.join(found)}，但不是本工具生成的（没有 {MARKER} "
                              "标记文件）。为免覆盖，未做任何改动；请另选一个输出文件夹，或先移走它们")

    def claim(self) -> None:
        """Make the folder ours for this run: marker, lock, an interrupted publication undone, a clean
        staging area."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # Never through a link: the marker is a file of our own, written only here.
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
            fd = os.open(self.marker, flags, 0o644)
        except OSError as exc:
            raise OutputFailed(f"{self.root}：无法写入输出文件夹（{os_reason(exc)}）") from exc
        if not _try_lock(fd):
            os.close(fd)
            raise BulkRefused(f"{self.root}：另一个批量转换正在写入该文件夹，请等它结束后再试")
        self._lock = fd
        try:
            if os.fstat(fd).st_size == 0:
                os.write(fd, MARKER_TEXT.encode("utf-8"))
            roll_back(self.new, self.root, PUBLISHED, self.aside)  # a run killed while publishing
            shutil.rmtree(self.staging, ignore_errors=True)  # whatever a killed run left
            for folder in (self.new, self.logs, self.spill):
                folder.mkdir(parents=True)
        except OSError as exc:
            self.release()
            raise OutputFailed(f"{self.root}：无法写入输出文件夹（{os_reason(exc)}）") from exc

    def _refuse_foreign(self, error: type[BulkRefused], kept: str) -> None:
        """Stop before a publication would remove what the user put into an output folder (``_foreign``)."""
        try:
            foreign = _foreign(self.root)
        except OSError as exc:
            raise error(f"{self.root}：无法读取输出文件夹（{os_reason(exc)}）") from exc
        if foreign:
            shown = "、".join(display_name(f) for f in foreign[:3]) + ("等" if len(foreign) > 3 else "")
            raise error(f"{self.root}：{'、'.join(f'{n}/' for n in _FOLDERS)}中有不是上次批量转换生成的文件"
                        f"（{shown}，共 {len(foreign)} 个），转换会整体替换这些文件夹。{kept}；"
                        "请先移走这些文件，或另选一个输出文件夹")

    def publish(self) -> None:
        self._refuse_foreign(OutputFailed, "本次结果未发布，上次的结果保持不变")  # put there while this run ran
        try:
            _write_manifest(self.new)
            publish(self.new, self.root, PUBLISHED, self.aside)
            with os.scandir(self.root / FEEDBACK_DIR) as copies:
                empty = next(copies, None) is None
            if empty:
                os.rmdir(self.root / FEEDBACK_DIR)  # staged empty only to retire an earlier run's copies
        except OSError as exc:
            where = exc.filename or self.root
            raise OutputFailed(f"{where}：无法替换上次的结果（{os_reason(exc)}）；上次的结果保持不变。"
                               f"若 {SUMMARY_XLSX} 正在 Excel 中打开，请关闭后重试") from exc

    def release(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _files_under(root: Path) -> Iterator[str]:
    """Every entry but a folder under ``_FOLDERS`` of ``root`` (a link to a folder included), as a path from
    ``root`` with "/" between its parts."""
    for name in _FOLDERS:
        top = root / name
        if not top.is_dir() or top.is_symlink():
            if os.path.lexists(top):
                yield name
            continue
        for folder, dirs, files in os.walk(top, onerror=_raise):
            rel = Path(folder).relative_to(root).as_posix()
            yield from (f"{rel}/{n}" for n in files)
            yield from (f"{rel}/{n}" for n in dirs if os.path.islink(os.path.join(folder, n)))


def _raise(exc: OSError) -> None:
    raise exc


def _write_manifest(staged: Path) -> None:
    (staged / MANIFEST).write_bytes(b"\0".join(sorted(map(os.fsencode, _files_under(staged)))))  # a rerun: same bytes


def _foreign(root: Path) -> list[str]:
    """What ``_FOLDERS`` of an output folder hold that its last run did not publish there (``MANIFEST``); none
    where no run recorded it (an output folder of an earlier version is replaced as it was)."""
    try:
        listed = (root / MANIFEST).read_bytes()
    except FileNotFoundError:
        return []
    published = set(map(os.fsdecode, listed.split(b"\0"))) if listed else set()
    return sorted(f for f in _files_under(root) if f not in published)


def _try_lock(fd: int) -> bool:
    """Take the folder's lock without waiting; the system drops it when the process ends, however it ends."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


# ----------------------------------------------------------------------------------------------------------
# Outputs, streamed in input order
# ----------------------------------------------------------------------------------------------------------
def _csv(path: Path, header: Sequence[str]) -> BinaryIO:
    fh = open(path, "xb")
    fh.write(b"\xef\xbb\xbf" + csv_bytes([header]))  # a BOM: Excel opens the file as UTF-8
    return fh


class Writer:
    """Writes outcomes as they come into ``folder`` (the staging area's ``new/``): JSON files and marked-up
    copies (unless a worker did), rows of the three CSV files and of the summary workbook (``summary.py``);
    ``close`` adds the cross-file findings and finishes every output for publication.

    Memory stays flat however large the folder: rows go to disk as they come; what is kept is a few values a
    declaration for the cross-file checks, and the overview's tallies (a count per unit and per rule)."""

    def __init__(self, folder: Path, spill: Path | None = None, max_rows: int = EXCEL_MAX_ROWS,
                 link_base: str | None = None) -> None:
        self.folder = folder
        for name in _FOLDERS:
            (folder / name).mkdir(parents=True, exist_ok=True)
        self._files: list[BinaryIO] = []
        self._findings = self._open(FINDINGS_CSV, FINDINGS_HEADER)
        self._indicators = self._open(INDICATORS_CSV, INDICATOR_HEADER)
        self._declarations = self._open(DECLARATIONS_CSV, DECLARATION_HEADER)
        self.book = SummaryWorkbook(folder / SUMMARY_XLSX, spill, max_rows, link_base)
        self.cross = CrossIndex(spill / ".cross.sqlite" if spill is not None else None)
        self.files = 0
        self.declarations = 0
        self.skipped = 0
        self.copies = 0
        self.copies_failed: list[str] = []

    def _open(self, name: str, header: Sequence[str]) -> BinaryIO:
        fh = _csv(self.folder / name, header)
        self._files.append(fh)
        return fh

    def add(self, outcome: FileOutcome) -> None:
        self.files += 1
        if outcome.failed:
            self._discard(outcome.rel)
        made = outcome.fragments or render_outcome(outcome, self.book.link_base)
        _write_files(self.folder, outcome)
        for d in outcome.declarations:
            if d.key is not None:
                self.cross.add(self.declarations, d.summary[0], d.sheet, d.key)
            self.declarations += 1
        self.book.add_rows([d.summary for d in outcome.declarations], made.summary, "declaration")
        self._declarations.write(made.declarations_csv)
        self._indicators.write(made.indicators_csv)
        self.copies += len(outcome.feedback)
        if outcome.feedback_failed is not None:
            self.copies_failed.append(display_name(outcome.rel))
        if not outcome.declarations:
            errors = sum(n for severity, _, _, n in made.tally if severity == _ERROR)
            warnings = sum(n for severity, _, _, n in made.tally if severity == _WARNING)
            self.book.add_row([display_name(outcome.rel), *BLANK_FIELDS, errors, warnings, outcome.status, None],
                              "unread")
        self._findings.write(made.findings_csv)
        for severity, code, unit, n in made.tally:
            self.book.count_findings(severity, code, unit, n)
        self.book.findings.take_packed(made.findings)

    def skip(self, entry: Entry) -> None:
        """A file listed but not read: a row of its own, with the reason as its status."""
        self.files += 1
        self.skipped += 1
        self.book.add_row([display_name(entry.rel), *BLANK_FIELDS, 0, 0, entry.skipped, None], "skipped")

    def _discard(self, rel: str) -> None:
        """Remove what a worker stopped mid-task may have written: no JSON or copy without its summary row."""
        base = self.folder / json_base(rel)
        names = [self.folder / feedback_name(n) for n in copy_names(rel, profile_names())]
        for path in [base.with_name(f"{base.name}.json"), *names,
                     *map(Path, glob.glob(f"{glob.escape(str(base))}.[0-9][0-9].json"))]:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """The cross-file findings (last in findings.csv and 问题清单, counted in their declarations' rows), then
        every output finished."""
        self.book.close(self.files, self.skipped, self._cross_findings())
        self.cross.close()
        for fh in self._files:
            fh.close()

    def _cross_findings(self) -> Iterator[Extra]:
        """Each cross-file finding written as the summary takes it, in the batch's order (``SummaryWorkbook.close``
        counts them into their declarations' rows as those pass): none is held, however many resubmissions."""
        for index, key, finding in self.cross.findings():
            row = finding_row(finding, key.unit, key.profile)
            self._findings.write(finding_csv([row]))
            self.book.add_finding(row)
            yield index, finding.severity == Severity.ERROR, finding.severity == Severity.WARNING

    def abort(self) -> None:
        """Let go of the open files, quietly (the disk may be full); the staging area they are in is removed
        by the caller."""
        for fh in self._files:
            try:
                fh.close()
            except OSError:
                pass
        self.cross.close()
        self.book.abort()


# ----------------------------------------------------------------------------------------------------------
# Executors
# ----------------------------------------------------------------------------------------------------------
Task = tuple[str, str]


def run_local(tasks: Iterable[Task], jobs: int, timeout: float, memory: int | None,
              func: Callable[[str, str], FileOutcome] = process_file, start_method: str | None = None,
              log_dir: Path | None = None) -> Generator[FileOutcome, None, None]:
    pool: WatchdogPool[FileOutcome] = WatchdogPool(func, jobs, timeout, memory, start_method=start_method,
                                                   log_dir=log_dir)
    sent, kept = itertools.tee(tasks)  # what ``kept`` holds back is what the pool has out: its window at most
    with closing(pool.map(sent)) as results:  # closing this generator stops the workers at once
        for (_, rel), result in zip(kept, results, strict=True):  # the pool keeps the input order
            yield failed_outcome(rel, result) if isinstance(result, Failure) else result


def process_batch(tasks: list[Task], timeout: float, memory: int | None,
                  reader: Callable[[str, str], FileOutcome] = process_file) -> list[FileOutcome]:
    """One Dask task: a few files, each read in a watchdog worker inside the Dask worker.

    So the per-file time limit and memory cap hold on a cluster too, and a file that kills its reader kills
    only that worker: without this it takes the Dask worker down with every file running there, and Dask
    blames them all (KilledWorker). The worker is started from a fork server where there is one (a Dask
    worker runs threads, and forking a threaded process is unsafe), else spawned. Dask workers are daemonic
    unless configured otherwise (``distributed.worker.daemon: false``, as the local cluster here is), and a
    daemonic process may not start one: there the files are read in the Dask worker itself, without limits."""
    if mp.current_process().daemon:  # Dask's default: such a worker may not start processes of its own
        return [reader(path, rel) for path, rel in tasks]
    start = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    return list(run_local(tasks, 1, timeout, memory, reader, start_method=start))


def run_dask(tasks: Iterable[Task], jobs: int, address: str | None, timeout: float, memory: int | None,
             func: Callable[[str, str], FileOutcome] = process_file, per_task: int = 32, window: int = 64
             ) -> Generator[FileOutcome, None, None]:
    """The same per-file function on a Dask cluster (``address``) or a local one; results in input order.

    Files go out ``per_task`` to a Dask task (``process_batch``), at most ``window`` tasks at a time, so the
    results held in memory stay bounded however large the folder."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise BulkOptionError("未安装 Dask：pip install 'perfgoal[dask]'") from exc
    cluster = None
    try:
        if address:
            client = Client(address)  # type: ignore[no-untyped-call]
        else:
            with dask.config.set({"distributed.worker.daemon": False}):  # see process_batch
                cluster = LocalCluster(n_workers=jobs, threads_per_worker=1,  # type: ignore[no-untyped-call]
                                       processes=True, dashboard_address=None)
            client = Client(cluster)  # type: ignore[no-untyped-call]
    except OSError as exc:  # not an output problem: the cluster could not be reached or started
        raise BulkRefused(f"无法连接或启动 Dask 集群{f'（{address}）' if address else ''}：{exc}") from exc
    try:
        source = iter(tasks)
        while group := [b for b in (list(itertools.islice(source, per_task)) for _ in range(window)) if b]:
            futures = client.map(process_batch, group, timeout=timeout, memory=memory, reader=func, pure=False)
            for batch, fut in zip(group, futures, strict=True):
                try:
                    outcomes: list[FileOutcome] = fut.result()
                    yield from outcomes
                except Exception as exc:  # the Dask worker itself failed: every file of the task says so
                    detail = f"Dask：{type(exc).__name__}"
                    yield from (failed_outcome(rel, Failure("error", detail)) for _, rel in batch)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------------------------------------
# A run
# ----------------------------------------------------------------------------------------------------------
@dataclass
class BulkReport:
    files: int
    declarations: int
    skipped: int = 0  # listed with a reason, not read (lock files, links)
    copies: int = 0  # marked-up copies written under 反馈/
    copies_failed: tuple[str, ...] = ()  # files with declarations whose copy could not be made


def check_options(jobs: int, timeout: float, executor: str, profile: str | None) -> None:
    """Refuse option values that cannot make a sensible run (``BulkOptionError``, a Chinese message)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise BulkOptionError(f"并行进程数（--jobs）须为 1 到 {MAX_JOBS} 之间的整数，收到：{jobs}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise BulkOptionError(f"处理时限（--timeout）须为大于 0 的有限秒数，收到：{timeout}")
    if executor not in EXECUTORS:
        raise BulkOptionError(f"执行方式须为 {' 或 '.join(EXECUTORS)}，收到：{executor}")
    if profile is not None and profile not in profile_names():
        raise BulkOptionError(unknown_profile(profile))


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """A SIGTERM (a service stopping, ``kill``) ends the run as Ctrl-C does: the workers stopped, the
    staging area removed, the earlier outputs as they were. (Python's default would end the process on
    the spot; the workers would still follow it, and the next run clear the staging area.)"""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _in_order(entries: Iterable[Entry], results: Iterable[FileOutcome]) -> Iterator[Entry | FileOutcome]:
    """Every entry in walk order: skipped ones as they are, the others as the executor's outcomes."""
    outcomes = iter(results)
    for entry in entries:
        yield entry if entry.skipped else next(outcomes)


def run_bulk(in_dir: Path, out_dir: Path, *, jobs: int = 2, executor: str = "local", address: str | None = None,
             timeout: float = DEFAULT_TIMEOUT, memory: int | None = DEFAULT_MEMORY, progress: bool | None = None,
             func: Callable[[str, str], FileOutcome] = process_file, profile: str | None = None,
             feedback: bool = False) -> BulkReport:
    """Convert every file under ``in_dir`` into ``out_dir``; ``BulkRefused`` (with a Chinese message) when the
    run cannot go or its outputs cannot be written, the earlier outputs then being as they were.

    ``feedback`` also writes a marked-up copy of each returned file with declarations under ``反馈/``. It is
    off by default: loading and saving each workbook with openpyxl costs ~15 times the reading itself, and
    the copies double the output; the centre asks for them when it is ready to send results back."""
    check_options(jobs, timeout, executor, profile)
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise BulkRefused(f"{in_dir}：不是文件夹")
    folder = OutputFolder(out_dir)
    folder.check(in_dir)
    try:
        entries = Listing(in_dir, walk_inputs(in_dir, out_dir))
    except OSError as exc:
        raise BulkRefused(f"{in_dir}：无法读取输入文件夹（{os_reason(exc)}）") from exc
    if profile is not None:
        forced: Callable[..., FileOutcome] = func
        func = functools.partial(forced, profile=profile)
    if feedback:
        asked: Callable[..., FileOutcome] = func
        func = functools.partial(asked, feedback=FeedbackOptions(feedback_conflicts(e.rel for e in entries)))
    with _terminate_as_exit():
        folder.claim()
        try:
            report = _convert(entries, folder, jobs, executor, address, timeout, memory, progress, func,
                              link_base(in_dir, out_dir))
            folder.publish()
        finally:
            folder.release()
    return report


def _convert(entries: Listing, folder: OutputFolder, jobs: int, executor: str, address: str | None,
             timeout: float, memory: int | None, progress: bool | None,
             func: Callable[[str, str], FileOutcome], links: str | None = None) -> BulkReport:
    """Run the files through the executor and write this run's outputs into the staging area."""
    from xlsxwriter.exceptions import XlsxFileError

    tasks = entries.tasks()
    results = (run_dask(tasks, jobs, address, timeout, memory, func=func) if executor == "dask"
               else run_local(tasks, jobs, timeout, memory, WriteJson(folder.new, func, links), log_dir=folder.logs))
    writer: Writer | None = None
    with closing(results):
        items: Iterator[Entry | FileOutcome] = _in_order(entries, results)
        if sys.stderr is not None and (sys.stderr.isatty() if progress is None else progress):
            from tqdm import tqdm

            tqdm.monitor_interval = 0  # no monitor thread: the workers are forked after the bar exists
            items = iter(tqdm(items, total=len(entries), unit="份", desc="批量转换", file=sys.stderr))
        try:
            # Asking for the first result starts the workers; the summary workbook is set up while they run.
            first = next(items, None)
            writer = Writer(folder.new, folder.spill, link_base=links)
            for item in ([first] if first is not None else []):
                _add(writer, item, folder)
            for item in items:
                _add(writer, item, folder)
            writer.close()
        except (OSError, XlsxFileError) as exc:
            if writer is not None:
                writer.abort()
            reason = os_reason(exc) if isinstance(exc, OSError) else _xlsx_reason(exc)
            raise OutputFailed(f"{folder.root}：无法写入输出（{reason}）；上次的结果保持不变") from exc
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
    return BulkReport(writer.files, writer.declarations, writer.skipped, writer.copies, tuple(writer.copies_failed))


def link_base(in_dir: Path, out_dir: Path) -> str | None:
    """The input folder as the summary (in ``out_dir``) links to it: relative, so that the two folders can
    move together (to a share, another drive); absolute where no relative path exists (another drive). None,
    and the files listed without links, where that path holds what a link cannot carry, as for a file's name
    (``sheet_rows.file_url``): a "#" ends a link's file part, a "%" reads as an escape, and a backslash that is
    part of a folder's name reads as a separator."""
    try:
        rel = os.path.relpath(in_dir.resolve(), out_dir.resolve())
    except ValueError:  # Windows: another drive
        base = in_dir.resolve().as_posix()
    else:
        base = "" if rel == "." else PurePosixPath(Path(rel).as_posix()).as_posix()
    return None if UNLINKABLE.search(base) else base


def _xlsx_reason(exc: Exception) -> str:
    """XlsxWriter wraps the system's error (``FileCreateError(OSError)``)."""
    cause = next((a for a in exc.args if isinstance(a, OSError)), None)
    return os_reason(cause) if cause is not None else str(exc)


def _add(writer: Writer, item: Entry | FileOutcome, folder: OutputFolder) -> None:
    if isinstance(item, Entry):
        writer.skip(item)
        return
    if item.write_error is not None:
        raise OutputFailed(f"{folder.root}：无法写入输出（{item.write_error}）；上次的结果保持不变")
    writer.add(item)
