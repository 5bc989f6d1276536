"""The per-file function: a path in, declarations and findings out — never an exception for a bad file.

Bulk conversion is a loop (or a process pool) over ``read_file``; the CLI's ``to-json`` and ``check``
call it too, so there is one reading path for every caller.
"""

from __future__ import annotations

import functools
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding
from .model import Declaration
from .pool import Failure, WatchdogPool
from .profile import profile_names
from .readers.grid import Grid
from .readers.legacy import FormRead, locate_forms
from .readers.text_export import decode, grid_from_text
from .readers.workbook import CellRange, template_names, workbook_grids
from .rules import (
    FILE_ENCRYPTED,
    FILE_NOT_DECLARATION,
    FILE_READER_CRASHED,
    FILE_SUSPICIOUS_PACKAGE,
    FILE_TIMEOUT,
    FILE_TOO_LARGE,
    FILE_UNKNOWN_FORMAT,
    FILE_UNREADABLE,
    check,
)

DEFAULT_TIMEOUT = 60.0  # seconds for one file
DEFAULT_MEMORY = 2 << 30  # bytes of address space for one reading process
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_INFLATED_BYTES = 512 * 1024 * 1024  # all members of a workbook package together, as declared
MAX_MEMBER_RATIO = 200  # inflated / compressed, for members past 16 MB
MAX_MEMBERS = 10_000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class DeclarationResult:
    declaration: Declaration
    findings: list[Finding]
    sheet: str | None
    anchor: str


@dataclass
class FileResult:
    path: str
    declarations: list[DeclarationResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # about the file itself (F…)

    @property
    def readable(self) -> bool:
        return not any(f.code in _FATAL for f in self.findings)

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for d in self.declarations for f in d.findings)]


_FATAL = {FILE_UNREADABLE.code, FILE_UNKNOWN_FORMAT.code, FILE_ENCRYPTED.code, FILE_TOO_LARGE.code}


class FileProblem(Exception):
    """A reason the file yields no grid, carried as a finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _package_problem(z: zipfile.ZipFile) -> str | None:
    """Why a workbook package must not be inflated, judged from declared sizes alone."""
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        return f"包含 {len(infos)} 个部件"
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 16 << 20 and info.file_size > MAX_MEMBER_RATIO * max(1, info.compress_size):
            return f"部件 {info.filename} 压缩比超过 {MAX_MEMBER_RATIO}:1"
    if total > MAX_INFLATED_BYTES:
        return f"解压后共 {total / (1 << 20):.0f} MB"
    return None


Names = tuple[dict[str, dict[str, CellRange]], str | None]
_NO_NAMES: Names = ({}, None)


def sniff(data: bytes) -> tuple[str, Names]:
    """The format by content, not by extension — xlsx, ods, ole (xls or encrypted OOXML), text or unknown —
    and, for xlsx, our template's defined names (read in the same pass over the zip)."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                problem = _package_problem(z)
                if problem:
                    raise FileProblem(FILE_SUSPICIOUS_PACKAGE.finding(reason=problem))
                names = set(z.namelist())
                if "mimetype" in names and b"opendocument.spreadsheet" in z.read("mimetype")[:100]:
                    manifest = z.getinfo("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else None
                    if manifest is not None and manifest.file_size < 1 << 20 and \
                            b"encryption-data" in z.read(manifest):
                        return "encrypted", _NO_NAMES
                    return "ods", _NO_NAMES
                if {n.replace("\\", "/").lower() for n in names} & {"[content_types].xml", "xl/workbook.xml"}:
                    return "xlsx", template_names(z)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
            return "damaged-zip", _NO_NAMES
        return "unknown", _NO_NAMES
    if data.startswith(_OLE_MAGIC):
        return "ole", _NO_NAMES
    return "text", _NO_NAMES


def _is_encrypted_ooxml(data: bytes) -> bool:
    """Password-protected xlsx files are OLE containers holding an ``EncryptedPackage`` stream."""
    return "EncryptedPackage".encode("utf-16-le") in data[: 1 << 20]


def _grids(path: Path) -> tuple[list[Grid], str | None, dict[str, dict[str, CellRange]]]:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileProblem(FILE_TOO_LARGE.finding(size=f"{size / 1048576:.1f} MB",
                                                 limit=f"{MAX_FILE_BYTES // 1048576} MB"))
    if size == 0:
        raise FileProblem(FILE_UNREADABLE.finding(reason="文件为空（0 字节）"))
    data = path.read_bytes()  # once: the checks, the names and calamine all read from memory
    kind, (names, named_profile) = sniff(data)
    if kind == "damaged-zip":
        raise FileProblem(FILE_UNREADABLE.finding(reason="压缩结构已损坏（文件可能不完整）"))
    if kind == "unknown":
        raise FileProblem(FILE_UNKNOWN_FORMAT.finding())
    if kind == "encrypted" or (kind == "ole" and _is_encrypted_ooxml(data)):
        raise FileProblem(FILE_ENCRYPTED.finding())
    if kind == "text":
        text = decode(data)
        if text is None:
            raise FileProblem(FILE_UNKNOWN_FORMAT.finding())
        return [grid_from_text(text)], None, {}
    try:
        grids, profile = workbook_grids(path, named_profile, data)
        return grids, profile, names
    except Exception as exc:  # calamine raises several error types for damaged files
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        if "password" in reason.lower() or "encrypt" in reason.lower():
            raise FileProblem(FILE_ENCRYPTED.finding()) from exc
        raise FileProblem(FILE_UNREADABLE.finding(reason=reason)) from exc


def cell_of(form: FormRead, field: str | None) -> str | None:
    """The cell a rule's field came from: the field's own, its parent's, or its indicator row's."""
    path = field
    cell = None
    while path and cell is None:
        cell = form.cell(path)
        if cell is None:
            path = path.rsplit(".", 1)[0] if "." in path else None
    if cell is None and field and field.startswith("indicators["):
        prefix = field.split("]", 1)[0] + "]."
        cell = next((form.cell(p) for p in form.positions if p.startswith(prefix)), None)
    return cell


def form_findings(form: FormRead, shown: str | None, *, run_rules: bool = True) -> list[Finding]:
    """The reader's findings and the rule catalogue's, each with file, sheet, cell and project."""
    name = form.declaration.project.name
    found = [f.located(file=shown, project=name) for f in form.findings]
    if run_rules:
        found += [f.located(sheet=form.sheet, cell=cell_of(form, f.field), file=shown, project=name)
                  for f in check(form.declaration)]
    return found


def read_file(path: str | Path, *, run_rules: bool = True, display: str | None = None) -> FileResult:
    """Read every declaration in one file and, by default, check each against the rule catalogue.

    Findings name the file as ``display`` (bulk conversion passes the path relative to its input folder).
    """
    shown = display if display is not None else str(path)
    p = Path(path)
    result = FileResult(shown)
    try:
        grids, profile, names = _grids(p)
    except FileProblem as problem:
        result.findings.append(problem.finding.located(file=shown))
        return result
    except OSError as exc:
        result.findings.append(FILE_UNREADABLE.finding(reason=exc.strerror or type(exc).__name__).located(file=shown))
        return result
    if profile not in profile_names():
        profile = None  # an unknown profile in the meta sheet: take the one the vocabulary points to
    for grid in grids:
        for form in locate_forms(grid, names.get(grid.sheet or ""), profile):
            found = form_findings(form, shown, run_rules=run_rules)
            result.declarations.append(DeclarationResult(form.declaration, found, form.sheet, form.anchor))
    if not result.declarations:
        detail = "、".join(g.sheet for g in grids if g.sheet) or "文本中没有申报表的标题或栏目"
        result.findings.append(FILE_NOT_DECLARATION.finding(detail=f"已查看：{detail}").located(file=shown))
    return result


def failure_finding(failure: Failure) -> Finding:
    """Why an isolated read gave no result: over time (F006), or the reading process died or failed (F008)."""
    if failure.kind == "timeout":
        return FILE_TIMEOUT.finding(limit=failure.detail)
    reason = {"memory": "内存超过上限", "crashed": "进程退出", "error": "内部错误"}[failure.kind]
    return FILE_READER_CRASHED.finding(reason=f"{reason} {failure.detail}".strip())


def read_files(paths: list[str], *, run_rules: bool = True, timeout: float = DEFAULT_TIMEOUT,
               memory: int | None = DEFAULT_MEMORY) -> list[FileResult]:
    """``read_file`` for each path, each in a worker process with a time limit and a memory cap, in order.

    A file built to exhaust a reader (a sheet whose cells span a million rows, say) can abort the native
    reader, and with it the process; here only a worker dies, and the file gets a finding like any other."""
    func = functools.partial(read_file, run_rules=run_rules)  # picklable, for spawned workers
    pool: WatchdogPool[FileResult] = WatchdogPool(func, min(len(paths), os.cpu_count() or 1), timeout, memory)
    results = []
    for path, result in zip(paths, pool.map((p,) for p in paths), strict=True):
        if isinstance(result, Failure):
            result = FileResult(path, findings=[failure_finding(result).located(file=path)])
        results.append(result)
    return results
