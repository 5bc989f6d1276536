"""The per-file function: a path in, declarations and findings out — never an exception for a bad file.

Bulk conversion is a loop (or a process pool) over ``read_file``; the CLI's ``to-json`` and ``check``
call it too, so there is one reading path for every caller.
"""

from __future__ import annotations

import functools
import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from .findings import Finding, Severity, made
from .flat import display_name
from .input_files import MAX_FILE_BYTES, NotAFile, TooLarge, read_limited
from .model import Declaration
from .options import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT  # light for the command line; re-exported
from .pool import Failure, WatchdogPool
from .profile import UnknownProfileError, profile_names
from .readers.grid import CellRange, Grid
from .readers.locate import FormRead, locate_forms, not_a_declaration
from .readers.text_export import decode, grid_from_text
from .readers.workbook import template_names, workbook_grids
from .rules import (
    FILE_ENCRYPTED,
    FILE_NOT_DECLARATION,
    FILE_READER_CRASHED,
    FILE_SUSPICIOUS_PACKAGE,
    FILE_TIMEOUT,
    FILE_TOO_LARGE,
    FILE_UNKNOWN_FORMAT,
    FILE_UNREADABLE,
    rule_verdicts,
)
from .syserrors import os_reason, trim_detail

DEFAULT_MEMORY = 2 << 30  # bytes of address space for one reading process
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
        """Whether the file could be read at all: no file finding (F…) but F003, which is said of a file that was
        read and held no declaration. A file that timed out or killed its reader was not read."""
        return not any(f.code.startswith("F") and f.code != FILE_NOT_DECLARATION.code for f in self.findings)

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for d in self.declarations for f in d.findings)]


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


def _sniff(data: bytes) -> tuple[str, Names, list[zipfile.ZipInfo] | None]:
    """The format by content, not by extension — xlsx, ods, ole (xls or encrypted OOXML), text or unknown —
    and, for xlsx, our template's defined names (read in the same pass over the zip); and a workbook package's
    directory, which the side channel then reads no second time."""
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
                        return "encrypted", _NO_NAMES, None
                    return "ods", _NO_NAMES, z.infolist()
                if {n.replace("\\", "/").lower() for n in names} & {"[content_types].xml", "xl/workbook.xml"}:
                    return "xlsx", template_names(z, data), z.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
            return "damaged-zip", _NO_NAMES, None
        return "unknown", _NO_NAMES, None
    if data.startswith(_OLE_MAGIC):
        return "ole", _NO_NAMES, None
    return "text", _NO_NAMES, None


_BIFF_BOF, _BIFF_EOF, _BIFF_FILEPASS, _BIFF_BOUNDSHEET = 0x0809, 0x000A, 0x002F, 0x0085


def _biff_has_filepass(stream: bytes) -> bool:
    """Whether a BIFF5/BIFF8 workbook stream is encrypted: a FILEPASS record among the workbook globals,
    which Excel writes right after the first BOF; the globals end at the first sheet entry or at EOF.

    Record headers (type, length) are never encrypted, so the walk holds for every cipher Excel uses."""
    pos = 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        if pos == 0 and kind != _BIFF_BOF:
            return False  # not a BIFF5/8 workbook stream: let the reader say what it is
        if kind == _BIFF_FILEPASS:
            return True
        if kind in (_BIFF_BOUNDSHEET, _BIFF_EOF):
            return False
        pos += 4 + size
    return False


def _ole_encrypted(data: bytes) -> bool:
    """Whether an OLE compound file is an encrypted workbook, by its content whatever its name:
    a password-protected xlsx/xlsb is an OLE container holding an ``EncryptedPackage`` stream, and an
    encrypted xls keeps its ``Workbook`` (BIFF8) or ``Book`` (BIFF5) stream but starts it with FILEPASS.

    A compound file olefile cannot parse is left to calamine, which names the damage."""
    import olefile  # only OLE files need it: not imported on every start (tests/test_startup.py)

    try:
        with olefile.OleFileIO(data) as ole:
            if ole.exists("EncryptedPackage"):
                return True
            stream = next((name for name in ("Workbook", "Book") if ole.exists(name)), None)
            return stream is not None and _biff_has_filepass(ole.openstream(stream).read())
    except Exception:  # olefile raises several types for damaged containers
        return False


# What calamine's messages mean, most specific first: (a fragment of the lower-cased message, phrase).
_READER_PHRASES = (
    ("cell limit exceeded", "表格范围过大，超过可读取的单元格数"),
    ("failed to fill whole buffer", "文件不完整，数据在中途结束"),
    ("unexpected eof", "文件不完整，数据在中途结束"),
    ("declared uncompressed size", "压缩包中部件的实际大小与声明不符"),
    ("zip error", "压缩结构已损坏"),
    ("invalid zip", "压缩结构已损坏"),
    ("xml error", "工作簿中的 XML 内容损坏"),
    ("xml attribute", "工作簿中的 XML 内容损坏"),
    ("xml encoding", "工作簿中的 XML 内容损坏"),
    ("cfb error", "旧版 Excel 文件（xls）的复合文档结构损坏"),
    ("xlsb error", "二进制工作簿（xlsb）内容损坏"),
    ("xlsx error", "工作簿（xlsx）内容损坏"),
    ("xls error", "旧版 Excel 工作簿（xls）内容损坏"),
    ("ods error", "开放文档表格（ods）内容损坏"),
    ("vba error", "工作簿中的宏项目损坏"),
    ("deserializer error", "单元格内容无法解析"),
    ("i/o error", "读取文件内容时出错"),
)
_READER_TYPES: tuple[tuple[type[Exception], str], ...] = (
    (python_calamine.ZipError, "压缩结构已损坏"),
    (python_calamine.XmlError, "工作簿中的 XML 内容损坏"),
)


def reader_reason(exc: Exception) -> str:
    """A Chinese phrase for why calamine could not read a workbook, with its own words as detail:
    ``旧版 Excel 工作簿（xls）内容损坏（Xls error: …）``. Unknown messages get a general phrase, never only English."""
    detail = trim_detail(str(exc)) or type(exc).__name__
    lowered = detail.lower()
    phrase = next((p for fragment, p in _READER_PHRASES if fragment in lowered), None)
    if phrase is None:
        phrase = next((p for kind, p in _READER_TYPES if isinstance(exc, kind)), "读取工作簿时出错")
    return f"{phrase}（{detail}）"


def _grids(path: Path, profile: str | None = None
           ) -> tuple[list[Grid], str | None, dict[str, dict[str, CellRange]]]:
    try:  # once: the checks, the names and calamine all read from memory
        data = read_limited(path, MAX_FILE_BYTES)
    except NotAFile as exc:
        raise FileProblem(FILE_UNREADABLE.finding(reason="不是普通文件（设备、管道等），未读取")) from exc
    except TooLarge as exc:
        raise FileProblem(FILE_TOO_LARGE.finding(size=f"{exc.size / 1048576:.1f} MB",
                                                 limit=f"{MAX_FILE_BYTES // 1048576} MB")) from exc
    if not data:
        raise FileProblem(FILE_UNREADABLE.finding(reason="文件为空（0 字节）"))
    kind, (names, named_profile), infos = _sniff(data)
    if kind == "damaged-zip":
        raise FileProblem(FILE_UNREADABLE.finding(reason="压缩结构已损坏（文件可能不完整）"))
    if kind == "unknown":
        raise FileProblem(FILE_UNKNOWN_FORMAT.finding())
    if kind == "encrypted" or (kind == "ole" and _ole_encrypted(data)):
        raise FileProblem(FILE_ENCRYPTED.finding())
    if kind == "text":
        text = decode(data)
        if text is None:
            raise FileProblem(FILE_UNKNOWN_FORMAT.finding())
        return [grid_from_text(text)], None, {}
    try:
        # A forced profile is passed on as if the names had given it: the meta sheet is then not read at all.
        grids, found = workbook_grids(path, profile or named_profile, data, infos)
        return grids, found, names
    except Exception as exc:  # calamine raises several error types for damaged files
        text = str(exc).lower()
        if isinstance(exc, python_calamine.PasswordError) or "password" in text or "encrypt" in text:
            raise FileProblem(FILE_ENCRYPTED.finding()) from exc
        if "cannot detect file format" in text:
            raise FileProblem(FILE_UNKNOWN_FORMAT.finding()) from exc
        raise FileProblem(FILE_UNREADABLE.finding(reason=reader_reason(exc))) from exc


def cell_of(form: FormRead, field: str | None) -> str | None:
    """The cell a rule's field came from: the field's own, its parent's, or its indicator row's."""
    path = field
    cell = None
    while path and cell is None:
        cell = form.cell(path)
        if cell is None:
            path = path.rsplit(".", 1)[0] if "." in path else None
    if cell is None and field and field.startswith("indicators["):
        # a column the form does not print (a comparator written into the 指标值): the target's cell, else the
        # row's first
        prefix = field.split("]", 1)[0] + "]."
        cell = form.cell(prefix + "target") or form.first_cell(prefix)
    return cell


def form_findings(form: FormRead, shown: str | None, *, run_rules: bool = True) -> list[Finding]:
    """The reader's findings and the rule catalogue's, each with file, sheet, cell and project."""
    name = form.declaration.project.name
    found = [f.located(file=shown, project=name) for f in form.findings]
    if run_rules:
        # One cell, one verdict: a cell the reader could not read (an error at that field) is not also
        # "not filled" or otherwise judged by the rules; the reader's finding says what is wrong with it.
        unread = {f.field for f in form.findings if f.severity == Severity.ERROR and f.field}
        sheet, cell = form.sheet, form.cell
        for code, severity, message, field in rule_verdicts(form.declaration):  # plain data: one Finding each
            if field not in unread:
                # the field's own cell, as ``cell_of`` finds it first (a field a rule names is mostly one placed)
                at = None if field is None else cell(field)
                found.append(made(code, severity, message, field, shown, sheet,
                                  at if at is not None else cell_of(form, field), name))
    return found


def read_file(path: str | Path, *, run_rules: bool = True, display: str | None = None,
              profile: str | None = None) -> FileResult:
    """Read every declaration in one file and, by default, check each against the rule catalogue.

    Findings name the file as ``display`` (bulk conversion passes the path relative to its input folder).
    ``profile`` forces a form version, over what the file's meta sheet says and what its vocabulary suggests
    (for a form whose version cannot be told from its content); an unknown name raises
    ``UnknownProfileError``, as it is the caller's mistake, not the file's.
    """
    if profile is not None and profile not in profile_names():
        raise UnknownProfileError(profile)
    shown = display if display is not None else display_name(str(path))
    p = Path(path)
    result = FileResult(shown)
    try:
        grids, detected, names = _grids(p, profile)
    except FileProblem as problem:
        result.findings.append(problem.finding.located(file=shown))
        return result
    except OSError as exc:
        result.findings.append(FILE_UNREADABLE.finding(reason=os_reason(exc)).located(file=shown))
        return result
    if profile is None and detected in profile_names():
        profile = detected  # the meta sheet's; a name unknown there leaves it to the vocabulary
    for grid in grids:
        for form in locate_forms(grid, names.get(grid.sheet or ""), profile):
            found = form_findings(form, shown, run_rules=run_rules)
            result.declarations.append(DeclarationResult(form.declaration, found, form.sheet, form.anchor))
    if not result.declarations:
        result.findings.append(FILE_NOT_DECLARATION.finding(detail=_what_was_seen(grids)).located(file=shown))
    return result


def _what_was_seen(grids: list[Grid]) -> str:
    """For F003: what each sheet turned out to be, and what was looked for."""
    known = [(g.sheet, not_a_declaration(g)) for g in grids]
    named = [f"工作表“{sheet}”是{kind}，不是申报表" if sheet else f"文本是{kind}，不是申报表"
             for sheet, kind in known if kind]
    if named:
        return "；".join(named)
    sheets = "、".join(g.sheet for g in grids if g.sheet)
    looked = "已查找标题“……绩效目标申报表”、栏目（项目名称等）和指标表表头（一级指标、二级指标、三级指标、指标值）"
    return f"{looked}；已查看：{sheets}" if sheets else f"{looked}；文本中都没有"


_EXIT_CODE = re.compile(r"\bexit code (-?\d+)")
_ALLOCATION = re.compile(r"memory allocation of (\d+) bytes failed")


def _allocation(m: re.Match[str]) -> str:
    """The native reader's own words on dying for memory, in Chinese (a sheet whose cells span the whole grid
    asks for hundreds of GB); the original stays in brackets."""
    size = int(m.group(1))
    return f"读取器需要 {size / (1 << 30):.0f} GB 内存（工作表中可能有远离表格的单元格）（{m.group()}）"


def failure_finding(failure: Failure) -> Finding:
    """Why an isolated read gave no result: over time (F006), or the reading process died or failed (F008)."""
    if failure.kind == "timeout":
        limit = failure.detail
        return FILE_TIMEOUT.finding(limit=f"{limit[:-2]} 秒" if limit.endswith(" s") else limit)
    reason = {"memory": "内存超过上限", "crashed": "进程退出", "error": "内部错误"}[failure.kind]
    detail = _ALLOCATION.sub(_allocation, _EXIT_CODE.sub(r"退出码 \1", failure.detail))
    detail = trim_detail(detail, limit=160)
    return FILE_READER_CRASHED.finding(reason=f"{reason}，{detail}" if detail else reason)


def read_files(paths: list[str], *, run_rules: bool = True, timeout: float = DEFAULT_TIMEOUT,
               memory: int | None = DEFAULT_MEMORY, profile: str | None = None) -> list[FileResult]:
    """``read_file`` for each path, each in a worker process with a time limit and a memory cap, in order.

    A file built to exhaust a reader (a sheet whose cells span a million rows, say) can abort the native
    reader, and with it the process; here only a worker dies, and the file gets a finding like any other."""
    if profile is not None and profile not in profile_names():
        raise UnknownProfileError(profile)  # once here, not as a failure in every worker
    func = functools.partial(read_file, run_rules=run_rules, profile=profile)  # picklable, for spawned workers
    pool: WatchdogPool[FileResult] = WatchdogPool(func, min(len(paths), os.cpu_count() or 1), timeout, memory)
    results = []
    for path, result in zip(paths, pool.map((p,) for p in paths), strict=True):
        if isinstance(result, Failure):
            result = FileResult(path, findings=[failure_finding(result).located(file=path)])
        results.append(result)
    return results
