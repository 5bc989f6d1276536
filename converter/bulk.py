"""Bulk conversion: a folder of returned workbooks → canonical JSON, a findings CSV and a summary workbook.

The work per file is one pure function, ``process_file`` (path in → outcome out, never an exception), so the
same function runs in the local watchdog pool or on a Dask cluster. The parent only writes: outcomes arrive
in input order and are streamed to disk, so memory stays flat however large the folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import itertools
import multiprocessing as mp
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from . import canonical
from .atomic import create_bytes, replace_dir
from .findings import SEVERITY_LABELS, Finding, Severity
from .model import field_labels
from .pool import Failure, WatchdogPool
from .reading import DEFAULT_MEMORY, DEFAULT_TIMEOUT, failure_finding, read_file
from .rules import CATALOGUE

JSON_DIR = "json"
FINDINGS_CSV = "findings.csv"
SUMMARY_XLSX = "汇总.xlsx"
LABELS = field_labels()
SUMMARY_HEADER = ("文件", "工作表", LABELS["unit_name"], LABELS["project.name"], LABELS["project.category"],
                  LABELS["budget.total"], LABELS["budget.current_year"], LABELS["budget.prior_year_budget"],
                  LABELS["budget.prior_year_executed"], "错误数", "警告数", "状态", "JSON 文件")
FINDINGS_HEADER = ("文件", "工作表", "单元格", "字段", "项目", "代码", "级别", "说明")
STATUS_OK, STATUS_WARN, STATUS_ERROR = "通过", "有警告", "有错误"


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

    rel: str
    declarations: list[DeclarationOut] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    status: str = ""
    failed: bool = False  # the task did not finish: a worker may have left part of its JSON behind


_NUMBERED = re.compile(r"\.\d\d$")


def json_names(rel: str, count: int) -> list[str]:
    """``sub/a.xlsx`` → ``json/sub/a.xlsx.json``, or ``….01.json``… for a file with several declarations.

    A file whose own name ends in ``.01`` (``a.xlsx.01``) is always numbered (``a.xlsx.01.01.json``): its
    plain name would be the first JSON of ``a.xlsx``. So no two declarations of a batch share a name."""
    if count == 1 and not _NUMBERED.search(rel):
        return [f"{JSON_DIR}/{rel}.json"]
    return [f"{JSON_DIR}/{rel}.{i:02d}.json" for i in range(1, count + 1)]


def _status(findings: list[Finding]) -> str:
    if any(f.severity == Severity.ERROR for f in findings):
        return STATUS_ERROR
    return STATUS_WARN if any(f.severity == Severity.WARNING for f in findings) else STATUS_OK


def process_file(path: str, rel: str) -> FileOutcome:
    """Read and check one file. Pure: the same file always gives the same outcome; nothing is written."""
    # Findings name the file by its path relative to the input folder: stable wherever the folder lies.
    result = read_file(path, display=rel)
    outcome = FileOutcome(rel, findings=[finding_row(f) for f in result.findings])
    for d, name in zip(result.declarations, json_names(rel, len(result.declarations)), strict=True):
        found = d.findings
        decl = d.declaration
        errors = sum(f.severity == Severity.ERROR for f in found)
        warnings = sum(f.severity == Severity.WARNING for f in found)
        amounts = [None if v is None else float(v) for v in decl.budget.model_dump().values()]
        summary = (rel, d.sheet, decl.unit_name, decl.project.name, decl.project.category, *amounts, errors,
                   warnings, _status(found), name)
        outcome.declarations.append(DeclarationOut(d.sheet, name, canonical.dumps(decl), summary))
        outcome.findings.extend(finding_row(f) for f in found)
    if not result.declarations:
        first = result.findings[0] if result.findings else None
        outcome.status = CATALOGUE[first.code].title if first else STATUS_ERROR
    return outcome


def staging_dir(out_dir: Path) -> Path:
    """Where this run's JSON files are written, to be put in place of ``json/`` whole when the run ends."""
    return out_dir / f".{JSON_DIR}.{os.getpid()}.staging"


def prepare_staging(out_dir: Path) -> Path:
    """Create OUT_DIR and an empty staging folder in it, before any worker writes there."""
    staging = staging_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)  # left by an earlier process with this id
    staging.mkdir()
    return staging


def _staged(staging: Path, json_name: str) -> Path:
    """``json/sub/a.xlsx.json`` → ``staging/sub/a.xlsx.json``."""
    return _inside(staging, json_name.split("/", 1)[1])


class WriteJson:
    """The local workers' task: ``process_file``, then write the JSON files into the staging folder.

    Writing in the workers spreads the file output over the cores and keeps the JSON text off the pipe; on a
    Dask cluster, whose workers may not share the output disk, the parent writes instead (same bytes)."""

    def __init__(self, staging: Path, func: Callable[[str, str], FileOutcome]) -> None:
        self.staging, self.func = staging, func

    def __call__(self, path: str, rel: str) -> FileOutcome:
        outcome = self.func(path, rel)
        for d in outcome.declarations:
            if d.json_text is not None:
                create_bytes(_staged(self.staging, d.json_name), d.json_text.encode("utf-8"))
                d.json_text = None
        return outcome


def failed_outcome(rel: str, failure: Failure) -> FileOutcome:
    finding = failure_finding(failure).located(file=rel)
    return FileOutcome(rel, findings=[finding_row(finding)], status=CATALOGUE[finding.code].title, failed=True)


# ----------------------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------------------
def walk_inputs(in_dir: Path, out_dir: Path) -> Iterator[tuple[str, str]]:
    """(path, relative posix path) of every regular file under ``in_dir``, skipping ``out_dir``: a folder's
    files by name, then its subfolders by name, as ``os.walk`` goes.

    Symbolic links are not followed: a link could lead outside the folder the centre was asked to convert.
    Directory entries tell their own type, so a folder of thousands of files costs one listing, not a
    ``stat`` per file. A subfolder that cannot be listed is yielded itself, so that it is reported as
    unreadable rather than skipped in silence; the walk keeps a stack, so no nesting depth can exhaust it.
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
            yield folder, prefix.rstrip("/")
            continue
        subfolders = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.path != out:
                    subfolders.append((entry.path, f"{prefix}{entry.name}/"))
            elif entry.is_file() and not entry.name.startswith(("~$", ".~lock")):
                yield entry.path, f"{prefix}{entry.name}"
        stack.extend(reversed(subfolders))


# ----------------------------------------------------------------------------------------------------------
# Outputs, streamed in input order
# ----------------------------------------------------------------------------------------------------------
def _inside(out_dir: Path, rel: str) -> Path:
    """``out_dir / rel``, refused unless ``rel`` is a plain relative path (no ``..``, not absolute).

    ``rel`` comes from walking the input folder, where no name is ``..``; the check is lexical so that it
    costs nothing per file, and OUT_DIR itself holds only what we write."""
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or any(p in ("..", ".", "") for p in parts) or "\\" in rel:
        raise ValueError(f"output outside {out_dir}: {rel}")
    return out_dir / rel


class Writer:
    """Writes outcomes as they come: JSON files (unless a worker did), CSV rows and summary rows.

    JSON files go to a staging folder that replaces ``json/`` when the run closes, so ``json/`` holds exactly
    this run's declarations: none left over from inputs since removed, never a mix of two runs.
    The summary workbook is written with XlsxWriter in constant-memory mode: rows go to disk as they are added
    and strings are stored inline, so memory does not grow with the folder (openpyxl's write-only mode keeps
    a shared-strings table in memory)."""

    def __init__(self, out_dir: Path, staging: Path | None = None) -> None:
        import xlsxwriter

        self.out_dir = out_dir
        self.staging = staging or prepare_staging(out_dir)
        self._csv_tmp = tempfile.NamedTemporaryFile("w", encoding="utf-8-sig", newline="", dir=out_dir,
                                                    prefix=".findings.", suffix=".tmp", delete=False)
        self._csv = csv.writer(self._csv_tmp)
        self._csv.writerow(FINDINGS_HEADER)
        self._xlsx_tmp = out_dir / f".{SUMMARY_XLSX}.{os.getpid()}.tmp"
        options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                   "strings_to_urls": False}
        self._wb = xlsxwriter.Workbook(str(self._xlsx_tmp), options)
        self._wb.set_properties({"author": "perfgoal", "created": dt.datetime(2020, 1, 1)})
        self._bold = self._wb.add_format({"bold": True})
        self._money = self._wb.add_format({"num_format": "#,##0.00"})
        self._summary = self._wb.add_worksheet("汇总")
        self._problems = self._wb.add_worksheet("问题清单")
        self.rows = {"汇总": 0, "问题清单": 0}
        for ws, header in ((self._summary, SUMMARY_HEADER), (self._problems, FINDINGS_HEADER)):
            ws.freeze_panes(1, 0)
            self._append(ws, header, self._bold)
        self.files = 0
        self.declarations = 0

    def _append(self, ws: Any, row: Iterable[Any], fmt: Any = None) -> None:
        r = self.rows[ws.name]
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value, fmt)  # never a formula, whatever the text
            elif ws is self._summary and 5 <= c <= 8:
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
                create_bytes(_staged(self.staging, d.json_name), d.json_text.encode("utf-8"))
            self._append(self._summary, d.summary)
            self.declarations += 1
        if not outcome.declarations:
            errors = sum(row[6] == _ERROR for row in outcome.findings)
            warnings = sum(row[6] == _WARNING for row in outcome.findings)
            self._append(self._summary, [outcome.rel, None, None, None, None, None, None, None, None, errors,
                                         warnings, outcome.status, None])
        for row in outcome.findings:
            self._csv.writerow(row)
            self._append(self._problems, row)

    def _discard(self, rel: str) -> None:
        """Remove what a worker stopped mid-task may have written: no JSON without its summary row."""
        base = _staged(self.staging, f"{JSON_DIR}/{rel}")
        for path in [base.with_name(f"{base.name}.json"),
                     *map(Path, glob.glob(f"{glob.escape(str(base))}.[0-9][0-9].json"))]:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        try:
            replace_dir(self.staging, self.out_dir / JSON_DIR)
        except BaseException:  # e.g. a JSON file held open on Windows: the earlier outputs stay as they were
            self.abort()
            raise
        self._csv_tmp.close()
        os.chmod(self._csv_tmp.name, 0o644)
        os.replace(self._csv_tmp.name, self.out_dir / FINDINGS_CSV)
        for ws, header in ((self._summary, SUMMARY_HEADER), (self._problems, FINDINGS_HEADER)):
            ws.autofilter(0, 0, max(0, self.rows[ws.name] - 1), len(header) - 1)
        self._wb.close()
        os.replace(self._xlsx_tmp, self.out_dir / SUMMARY_XLSX)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self._csv_tmp.close()
        Path(self._csv_tmp.name).unlink(missing_ok=True)
        try:
            self._wb.close()
        finally:
            self._xlsx_tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------------------
# Executors
# ----------------------------------------------------------------------------------------------------------
Task = tuple[str, str]


def run_local(tasks: Sequence[Task], jobs: int, timeout: float, memory: int | None,
              func: Callable[[str, str], FileOutcome] = process_file, start_method: str | None = None
              ) -> Iterator[FileOutcome]:
    pool: WatchdogPool[FileOutcome] = WatchdogPool(func, jobs, timeout, memory, start_method=start_method)
    for (_, rel), result in zip(tasks, pool.map(tasks), strict=True):  # the pool keeps the input order
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
             ) -> Iterator[FileOutcome]:
    """The same per-file function on a Dask cluster (``address``) or a local one; results in input order.

    Files go out ``per_task`` to a Dask task (``process_batch``), at most ``window`` tasks at a time, so the
    results held in memory stay bounded however large the folder."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise RuntimeError("未安装 Dask：pip install 'perfgoal[dask]'") from exc
    cluster = None
    if address:
        client = Client(address)  # type: ignore[no-untyped-call]
    else:
        with dask.config.set({"distributed.worker.daemon": False}):  # see process_batch
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1,  # type: ignore[no-untyped-call]
                                   processes=True, dashboard_address=None)
        client = Client(cluster)  # type: ignore[no-untyped-call]
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


@dataclass
class BulkReport:
    files: int
    declarations: int


def run_bulk(in_dir: Path, out_dir: Path, *, jobs: int = 2, executor: str = "local", address: str | None = None,
             timeout: float = DEFAULT_TIMEOUT, memory: int | None = DEFAULT_MEMORY, progress: bool | None = None,
             func: Callable[[str, str], FileOutcome] = process_file) -> BulkReport:
    tasks = list(walk_inputs(in_dir, out_dir))  # paths only: small even for a very large folder
    staging = prepare_staging(out_dir)
    outcomes = iter(run_dask(tasks, jobs, address, timeout, memory, func=func) if executor == "dask"
                    else run_local(tasks, jobs, timeout, memory, WriteJson(staging, func)))
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: the workers are forked after the bar exists
        outcomes = iter(tqdm(outcomes, total=len(tasks), unit="份", desc="批量转换", file=sys.stderr))
    writer: Writer | None = None
    try:
        # Asking for the first result starts the workers; the summary workbook is set up while they run.
        first = next(outcomes, None)
        writer = Writer(out_dir, staging)
        for outcome in itertools.chain([first] if first is not None else [], outcomes):
            writer.add(outcome)
    except BaseException:
        if writer is not None:
            writer.abort()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    writer.close()
    return BulkReport(writer.files, writer.declarations)
