"""Bulk conversion: a folder of returned workbooks → canonical JSON, a findings CSV and a summary workbook.

The work per file is one pure function, ``process_file`` (path in → outcome out, never an exception), so the
same function runs in the local watchdog pool or on a Dask cluster. The parent only writes: outcomes arrive
in input order and are streamed to disk, so memory stays flat however large the folder.

The output folder is the user's: bulk conversion replaces only what it can prove it wrote. Its marker file
(``.perfgoal-bulk``) says the folder's ``json/``, ``findings.csv`` and ``汇总.xlsx`` are ours; without it,
any of those names already there stops the run before anything is touched (``BulkRefused``). A run writes
into its staging area (``.perfgoal-staging``, with the workers' logs and the summary's spill files) and
publishes the three outputs together at the end; the next run clears whatever a killed one left there.
"""

from __future__ import annotations

import csv
import functools
import glob
import hashlib
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
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, NamedTuple

from . import canonical
from .atomic import create_bytes, publish, roll_back
from .fields import BUDGET_FIELDS, HEADER, get_field
from .findings import SEVERITY_LABELS, Finding, Severity
from .pool import MAX_JOBS, Failure, WatchdogPool
from .profile import profile_names, strip_unit, unknown_profile
from .reading import DEFAULT_MEMORY, DEFAULT_TIMEOUT, failure_finding, read_file
from .rules import CATALOGUE
from .syserrors import os_reason
from .writers.stable_zip import FIXED_TIME

JSON_DIR = "json"
FINDINGS_CSV = "findings.csv"
SUMMARY_XLSX = "汇总.xlsx"
OUTPUTS = (SUMMARY_XLSX, FINDINGS_CSV, JSON_DIR)  # published in this order: the one most often held open first
MARKER = ".perfgoal-bulk"
STAGING = ".perfgoal-staging"
MANAGED = (*OUTPUTS, STAGING)
MARKER_TEXT = (f"本文件夹中的 {JSON_DIR}/、{FINDINGS_CSV} 和 {SUMMARY_XLSX} 由 perfgoal bulk 生成，"
               "每次批量转换都会整体替换它们。请勿在其中存放其他文件。\n")
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CHARS = 32_767  # UTF-16 code units in one cell
# The summary's row of a declaration: where it is, which form, the fields a reviewer sorts by, every amount (in
# 元, as in the JSON), its counts and its JSON file.
SUMMARY_FIELDS = ("unit_name", "project.name", "project.category", *BUDGET_FIELDS)
SUMMARY_HEADER = ("文件", "工作表", "表式", *(f"{strip_unit(HEADER[p].label)}（元）" if p in BUDGET_FIELDS
                                          else HEADER[p].label for p in SUMMARY_FIELDS),
                  "错误数", "警告数", "状态", "JSON 文件")
_MONEY_COLUMNS = frozenset(SUMMARY_HEADER.index(h) for h in SUMMARY_HEADER if h.endswith("（元）"))
_BLANK_FIELDS = (None,) * (len(SUMMARY_FIELDS) + 2)  # sheet, form and fields of a file with no declaration
FINDINGS_HEADER = ("文件", "工作表", "单元格", "字段", "项目", "代码", "级别", "说明")
STATUS_OK, STATUS_WARN, STATUS_ERROR = "通过", "有警告", "有错误"
SKIPPED_LOCK = "已跳过：Office 临时锁定文件"
SKIPPED_LINK = "已跳过：符号链接（不跟随）"
SKIPPED_SPECIAL = "已跳过：不是普通文件"
_CUT_MARK = "…（已截断）"


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
    json_text: str | None  # None once a local worker has written it
    summary: tuple[Any, ...]


FindingRow = tuple[str | None, str | None, str | None, str | None, str | None, str, str, str]


def finding_row(f: Finding) -> FindingRow:
    """A finding as the row the CSV and the 问题清单 sheet show (FINDINGS_HEADER)."""
    return f.file, f.sheet, f.cell, f.field, f.project, f.code, SEVERITY_LABELS[f.severity], f.message


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


# ----------------------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------------------
def display_name(rel: str) -> str:
    """How a file's relative path is shown: bytes that are not UTF-8 (Linux gives them to Python as lone
    surrogates) as ``\\xNN``, so that the CSV and the workbook can hold every name."""
    try:
        return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate from a Windows name
        return _clean(rel)


_UNSAFE = re.compile(r'[\x00-\x1f\x7f\\:*?"<>|\ud800-\udfff]')  # not allowed, or not the same, everywhere
_HASHED = re.compile(r"~[0-9a-f]{16}$")
MAX_PART_BYTES = 200  # a name part of a JSON file, leaving room for ".01.json" under the usual 255
MAX_REL_BYTES = 1024  # a JSON file's path under json/, well inside every system's path limit


def _hashed(text: str, readable: str, room: int) -> str:
    """``readable`` cut to fit ``room`` bytes, then ``~`` and 16 hex digits of ``text``: names made so
    always end that way and differ when ``text`` does; a name kept as it is never ends that way."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    cut = readable.encode("utf-8")[: room - 17].decode("utf-8", "ignore")
    return f"{cut}~{digest}"


def _safe_part(part: str) -> str:
    """One folder or file name, kept as it is when every system can hold it as a JSON file's name."""
    if not _UNSAFE.search(part) and len(part.encode("utf-8")) <= MAX_PART_BYTES and not _HASHED.search(part):
        return part
    return _hashed(part, _UNSAFE.sub("_", part), MAX_PART_BYTES)


_NUMBERED = re.compile(r"\.\d\d$")


def json_base(rel: str) -> str:
    """``sub/a.xlsx`` → ``json/sub/a.xlsx``: where a file's JSON goes, before ``.json`` or ``.01.json``.

    Names no system can hold (a backslash, a byte that is not UTF-8, a control character) or too long for
    one are replaced part by part with a readable stand-in and a hash of the original, and a path too deep
    is folded into one such name: deterministic, and never equal to another file's (module docstring of
    ``_hashed``), so one odd name never stops the batch."""
    safe = "/".join(_safe_part(p) for p in rel.split("/"))
    if len(safe.encode("utf-8")) > MAX_REL_BYTES:
        safe = _hashed(rel, safe.replace("/", "_"), MAX_PART_BYTES)
    return f"{JSON_DIR}/{safe}"


def json_names(rel: str, count: int) -> list[str]:
    """``sub/a.xlsx`` → ``json/sub/a.xlsx.json``, or ``….01.json``… for a file with several declarations.

    A file whose own name ends in ``.01`` (``a.xlsx.01``) is always numbered (``a.xlsx.01.01.json``): its
    plain name would be the first JSON of ``a.xlsx``. So no two declarations of a batch share a name."""
    base = json_base(rel)
    if count == 1 and not _NUMBERED.search(base):
        return [f"{base}.json"]
    return [f"{base}.{i:02d}.json" for i in range(1, count + 1)]


# ----------------------------------------------------------------------------------------------------------
# The per-file function
# ----------------------------------------------------------------------------------------------------------
def _status(findings: list[Finding]) -> str:
    if any(f.severity == Severity.ERROR for f in findings):
        return STATUS_ERROR
    return STATUS_WARN if any(f.severity == Severity.WARNING for f in findings) else STATUS_OK


def process_file(path: str, rel: str, profile: str | None = None) -> FileOutcome:
    """Read and check one file. Pure: the same file always gives the same outcome; nothing is written."""
    # Findings name the file by its path relative to the input folder: stable wherever the folder lies.
    shown = display_name(rel)
    result = read_file(path, display=shown, profile=profile)
    outcome = FileOutcome(rel, findings=[finding_row(f) for f in result.findings])
    for d, name in zip(result.declarations, json_names(rel, len(result.declarations)), strict=True):
        found = d.findings
        decl = d.declaration
        errors = sum(f.severity == Severity.ERROR for f in found)
        warnings = sum(f.severity == Severity.WARNING for f in found)
        values = [get_field(decl, p) for p in SUMMARY_FIELDS]
        summary = (shown, d.sheet, decl.profile, *(float(v) if isinstance(v, Decimal) else v for v in values),
                   errors, warnings, _status(found), name)
        outcome.declarations.append(DeclarationOut(d.sheet, name, canonical.dumps(decl), summary))
        outcome.findings.extend(finding_row(f) for f in found)
    if not result.declarations:
        first = result.findings[0] if result.findings else None
        outcome.status = CATALOGUE[first.code].title if first else STATUS_ERROR
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
    """The local workers' task: ``process_file``, then write the JSON files into the staging folder.

    Writing in the workers spreads the file output over the cores and keeps the JSON text off the pipe; on a
    Dask cluster, whose workers may not share the output disk, the parent writes instead (same bytes).
    A failed write is the run's problem, not the file's: it travels back as ``write_error``."""

    def __init__(self, folder: Path, func: Callable[[str, str], FileOutcome]) -> None:
        self.folder, self.func = folder, func

    def __call__(self, path: str, rel: str) -> FileOutcome:
        outcome = self.func(path, rel)
        try:
            for d in outcome.declarations:
                if d.json_text is not None:
                    create_bytes(_staged(self.folder, d.json_name), d.json_text.encode("utf-8"))
                    d.json_text = None
        except OSError as exc:
            outcome.write_error = os_reason(exc)
        return outcome


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
                    if entry.path != out:
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
            roll_back(self.new, self.root, OUTPUTS, self.aside)  # a run killed while publishing
            shutil.rmtree(self.staging, ignore_errors=True)  # whatever a killed run left
            for folder in (self.new, self.logs, self.spill):
                folder.mkdir(parents=True)
        except OSError as exc:
            self.release()
            raise OutputFailed(f"{self.root}：无法写入输出文件夹（{os_reason(exc)}）") from exc

    def publish(self) -> None:
        try:
            publish(self.new, self.root, OUTPUTS, self.aside)
        except OSError as exc:
            where = exc.filename or self.root
            raise OutputFailed(f"{where}：无法替换上次的结果（{os_reason(exc)}）；上次的结果保持不变。"
                               f"若 {SUMMARY_XLSX} 正在 Excel 中打开，请关闭后重试") from exc

    def release(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


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
def _clean(text: str) -> str:
    """Text every output can hold: a lone surrogate (from a name or a damaged file) as ``\\udcXX``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_field(value: str | None) -> str | None:
    """A CSV field that a spreadsheet application opens as text: one starting like a formula gets a leading
    ``'`` (OWASP's advice against CSV injection). The JSON and the summary workbook keep the exact text."""
    if value is None:
        return None
    value = _clean(value)
    return f"'{value}" if value.startswith(_FORMULA_START) else value


class _Sink:
    """The summary workbook's file, given to XlsxWriter as a file object so that it can be let go: after a
    failed write (a full disk) XlsxWriter's zip is left open, and when collected it would flush into the
    full disk and print "Exception ignored…" with a trace on the user's terminal. Once closed, this file
    takes and drops whatever still comes."""

    def __init__(self, path: Path) -> None:
        self._fh: BinaryIO | None = open(path, "xb")

    def write(self, data: bytes) -> int:
        return self._fh.write(data) if self._fh is not None else len(data)

    def tell(self) -> int:
        return self._fh.tell() if self._fh is not None else 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._fh.seek(offset, whence) if self._fh is not None else 0

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()


def _utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


class Writer:
    """Writes outcomes as they come into ``folder`` (the staging area's ``new/``): JSON files (unless a worker
    did), CSV rows and summary rows; ``close`` finishes the three outputs for publication.

    The summary workbook is written with XlsxWriter in constant-memory mode: rows go to disk as they are added
    and strings are stored inline, so memory does not grow with the folder (openpyxl's write-only mode keeps
    a shared-strings table in memory). A sheet stops at Excel's row limit and a cell at its text limit; the
    sheet's last row then says what was cut and that findings.csv, which is never cut, holds it all."""

    def __init__(self, folder: Path, spill: Path | None = None, max_rows: int = EXCEL_MAX_ROWS) -> None:
        import xlsxwriter

        self.folder, self.max_rows = folder, max_rows
        (folder / JSON_DIR).mkdir(parents=True, exist_ok=True)
        self._csv_file = open(folder / FINDINGS_CSV, "x", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(FINDINGS_HEADER)
        options: dict[str, Any] = {"constant_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False}
        if spill is not None:
            options["tmpdir"] = str(spill)
        self._xlsx = _Sink(folder / SUMMARY_XLSX)
        self._wb = xlsxwriter.Workbook(self._xlsx, options)
        self._wb.set_properties({"author": "perfgoal", "created": FIXED_TIME})
        self._bold = self._wb.add_format({"bold": True})
        self._money = self._wb.add_format({"num_format": "#,##0.00"})
        self._summary = self._wb.add_worksheet("汇总")
        self._problems = self._wb.add_worksheet("问题清单")
        self.rows = {"汇总": 0, "问题清单": 0}
        self.cut_rows = {"汇总": 0, "问题清单": 0}
        self.cut_cells = {"汇总": 0, "问题清单": 0}
        for ws, header in ((self._summary, SUMMARY_HEADER), (self._problems, FINDINGS_HEADER)):
            ws.freeze_panes(1, 0)
            self._append(ws, header, self._bold)
        self.files = 0
        self.declarations = 0
        self.skipped = 0

    def _text(self, ws: Any, value: str) -> str:
        value = _clean(value)
        if len(value) > EXCEL_MAX_CHARS // 2 and _utf16_len(value) > EXCEL_MAX_CHARS:
            self.cut_cells[ws.name] += 1
            keep = EXCEL_MAX_CHARS - len(_CUT_MARK)
            value = value.encode("utf-16-le")[: 2 * keep].decode("utf-16-le", "ignore") + _CUT_MARK
        return value

    def _append(self, ws: Any, row: Iterable[Any], fmt: Any = None) -> None:
        r = self.rows[ws.name]
        if r >= self.max_rows - 1:  # the last row is kept for the note saying what was cut
            self.cut_rows[ws.name] += 1
            return
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, self._text(ws, value), fmt)  # never a formula, whatever the text
            elif ws is self._summary and c in _MONEY_COLUMNS:
                ws.write_number(r, c, value, self._money)
            else:
                ws.write_number(r, c, value, fmt)
        self.rows[ws.name] = r + 1

    def add(self, outcome: FileOutcome) -> None:
        self.files += 1
        if outcome.failed:
            self._discard(outcome.rel)
        for d in outcome.declarations:
            if d.json_text is not None:
                create_bytes(_staged(self.folder, d.json_name), d.json_text.encode("utf-8"))
            self._append(self._summary, d.summary)
            self.declarations += 1
        if not outcome.declarations:
            errors = sum(row[6] == _ERROR for row in outcome.findings)
            warnings = sum(row[6] == _WARNING for row in outcome.findings)
            self._append(self._summary, [display_name(outcome.rel), *_BLANK_FIELDS, errors, warnings,
                                         outcome.status, None])
        for row in outcome.findings:
            self._csv.writerow([csv_field(v) for v in row])
            self._append(self._problems, row)

    def skip(self, entry: Entry) -> None:
        """A file listed but not read: a row of its own, with the reason as its status."""
        self.files += 1
        self.skipped += 1
        self._append(self._summary, [display_name(entry.rel), *_BLANK_FIELDS, 0, 0, entry.skipped, None])

    def _discard(self, rel: str) -> None:
        """Remove what a worker stopped mid-task may have written: no JSON without its summary row."""
        base = self.folder / json_base(rel)
        for path in [base.with_name(f"{base.name}.json"),
                     *map(Path, glob.glob(f"{glob.escape(str(base))}.[0-9][0-9].json"))]:
            path.unlink(missing_ok=True)

    def _note(self, ws: Any) -> int:
        """The row saying what the sheet had to leave out; returns the last data row."""
        last = self.rows[ws.name] - 1
        rows, cells = self.cut_rows[ws.name], self.cut_cells[ws.name]
        if rows or cells:
            parts = ([f"另有 {rows} 行超出 Excel 的行数上限（{EXCEL_MAX_ROWS:,} 行）未列出"] if rows else []) + (
                [f"{cells} 个单元格的文字超过 Excel 单元格上限（{EXCEL_MAX_CHARS:,} 个字符），已截断"] if cells else [])
            where = FINDINGS_CSV if ws is self._problems else f"{JSON_DIR}/ 中的 JSON 文件和 {FINDINGS_CSV}"
            ws.write_string(self.rows[ws.name], 0, f"本表不完整：{'；'.join(parts)}。完整内容见 {where}。", self._bold)
        return last

    def close(self) -> None:
        self._csv_file.close()
        for ws, header in ((self._summary, SUMMARY_HEADER), (self._problems, FINDINGS_HEADER)):
            ws.autofilter(0, 0, max(0, self._note(ws)), len(header) - 1)
        self._wb.close()
        self._xlsx.close()

    def abort(self) -> None:
        """Let go of the open files, quietly (the disk may be full); the staging area they are in is removed
        by the caller. The workbook is not finished: its sheets' spill files are closed unwritten."""
        for fh in (self._csv_file, self._xlsx):
            try:
                fh.close()
            except OSError:
                pass
        for ws in self._wb.worksheets():
            try:
                ws._opt_close()  # XlsxWriter's own clean-up of a constant-memory sheet's spill file
            except (OSError, AttributeError):
                pass


# ----------------------------------------------------------------------------------------------------------
# Executors
# ----------------------------------------------------------------------------------------------------------
Task = tuple[str, str]


def run_local(tasks: Sequence[Task], jobs: int, timeout: float, memory: int | None,
              func: Callable[[str, str], FileOutcome] = process_file, start_method: str | None = None,
              log_dir: Path | None = None) -> Generator[FileOutcome, None, None]:
    pool: WatchdogPool[FileOutcome] = WatchdogPool(func, jobs, timeout, memory, start_method=start_method,
                                                   log_dir=log_dir)
    with closing(pool.map(tasks)) as results:  # closing this generator stops the workers at once
        for (_, rel), result in zip(tasks, results, strict=True):  # the pool keeps the input order
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


def run_dask(tasks: Sequence[Task], jobs: int, address: str | None, timeout: float, memory: int | None,
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
        batches = [list(tasks[i:i + per_task]) for i in range(0, len(tasks), per_task)]
        for first in range(0, len(batches), window):
            group = batches[first:first + window]
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


def check_options(jobs: int, timeout: float, executor: str, profile: str | None) -> None:
    """Refuse option values that cannot make a sensible run (``BulkOptionError``, a Chinese message)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise BulkOptionError(f"并行进程数（--jobs）须为 1 到 {MAX_JOBS} 之间的整数，收到：{jobs}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise BulkOptionError(f"处理时限（--timeout）须为大于 0 的有限秒数，收到：{timeout}")
    if executor not in ("local", "dask"):
        raise BulkOptionError(f"执行方式须为 local 或 dask，收到：{executor}")
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


def _in_order(entries: Sequence[Entry], results: Iterable[FileOutcome]) -> Iterator[Entry | FileOutcome]:
    """Every entry in walk order: skipped ones as they are, the others as the executor's outcomes."""
    outcomes = iter(results)
    for entry in entries:
        yield entry if entry.skipped else next(outcomes)


def run_bulk(in_dir: Path, out_dir: Path, *, jobs: int = 2, executor: str = "local", address: str | None = None,
             timeout: float = DEFAULT_TIMEOUT, memory: int | None = DEFAULT_MEMORY, progress: bool | None = None,
             func: Callable[[str, str], FileOutcome] = process_file, profile: str | None = None) -> BulkReport:
    """Convert every file under ``in_dir`` into ``out_dir``; ``BulkRefused`` (with a Chinese message) when the
    run cannot go or its outputs cannot be written, the earlier outputs then being as they were."""
    check_options(jobs, timeout, executor, profile)
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise BulkRefused(f"{in_dir}：不是文件夹")
    folder = OutputFolder(out_dir)
    folder.check(in_dir)
    try:
        entries = list(walk_inputs(in_dir, out_dir))  # paths only: small even for a very large folder
    except OSError as exc:
        raise BulkRefused(f"{in_dir}：无法读取输入文件夹（{os_reason(exc)}）") from exc
    if profile is not None:
        forced: Callable[..., FileOutcome] = func
        func = functools.partial(forced, profile=profile)
    with _terminate_as_exit():
        folder.claim()
        try:
            report = _convert(entries, folder, jobs, executor, address, timeout, memory, progress, func)
            folder.publish()
        finally:
            folder.release()
    return report


def _convert(entries: Sequence[Entry], folder: OutputFolder, jobs: int, executor: str, address: str | None,
             timeout: float, memory: int | None, progress: bool | None,
             func: Callable[[str, str], FileOutcome]) -> BulkReport:
    """Run the files through the executor and write this run's outputs into the staging area."""
    from xlsxwriter.exceptions import XlsxFileError

    tasks = [(e.path, e.rel) for e in entries if e.skipped is None]
    results = (run_dask(tasks, jobs, address, timeout, memory, func=func) if executor == "dask"
               else run_local(tasks, jobs, timeout, memory, WriteJson(folder.new, func), log_dir=folder.logs))
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
            writer = Writer(folder.new, folder.spill)
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
    return BulkReport(writer.files, writer.declarations, writer.skipped)


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
