"""What the ribbon's buttons do. Each handler takes a ``Book`` and a ``UI``; ``run``, which the add-in's VBA
reaches through ``RunPython``, wraps the calling workbook in them and finds the handler by the button's key
(``ribbon_spec``). ``invoke`` turns whatever a handler raises into a Chinese alert.

All messages are Chinese; every rule is the converter's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from converter import canonical
from converter.atomic import write_text
from converter.bulk import SUMMARY_XLSX, BulkRefused, BulkReport, run_bulk
from converter.cli import DEBUG_HINT, debug_wanted
from converter.feedback import RESULTS_SHEET, apply, note_of
from converter.findings import Finding, count_by_severity
from converter.json_input import JsonRejected, load_declarations
from converter.model import Declaration
from converter.profile import UnknownProfileError, profile_names
from converter.readers.locate import FormRead, locate_forms
from converter.reading import form_findings
from converter.rules import CATALOGUE
from converter.severity import tally
from converter.syserrors import os_reason, trim_detail
from converter.template_layout import LISTS_SHEET, META_SHEET, PROFILE_NAME, meta_profile
from converter.writers.xlsx import MixedProfilesError, write_workbook

from .book import UI, Book, FileKind
from .ribbon_spec import BUTTONS

NOT_FORMS = (LISTS_SHEET, META_SHEET, RESULTS_SHEET)
JSON_KIND = FileKind("JSON 文件", "*.json")
XLSX_KIND = FileKind("Excel 工作簿", "*.xlsx")


def _profile(book: Book) -> str | None:
    """The profile our template's meta sheet names (as ``perfgoal check`` reads it), or None to detect it."""
    found = meta_profile(book.read_sheet(META_SHEET) or [])
    return found if found in profile_names() else None


def _forms(book: Book, sheet: str) -> list[FormRead]:
    names = book.names(sheet)
    ours = {k: v for k, v in names.items() if k != PROFILE_NAME}
    return locate_forms(book.grid(sheet), ours or None, _profile(book))


def validate_sheet(book: Book, ui: UI) -> list[Finding]:
    """校验本表: every rule on the active sheet; offending cells coloured and commented; a 校验结果 sheet. The
    marking is ``converter.feedback.apply``, the same as in the copies ``perfgoal bulk --feedback`` writes."""
    sheet = book.active_sheet()
    if sheet in NOT_FORMS:
        ui.alert("请先切换到要校验的申报表工作表，再点“校验本表”。")
        return []
    forms = _forms(book, sheet)
    if not forms:
        ui.alert(f"工作表“{sheet}”中没有找到申报表（{CATALOGUE['F003'].code}）。")
        return []
    found = [(form.declaration.profile, f) for form in forms for f in form_findings(form, book.name)]
    apply(book, [note_of(f, profile, sheet) for profile, f in found], [sheet])
    findings = [f for _, f in found]
    counts = count_by_severity(findings)
    ui.alert(f"校验完成：{tally(counts)}。详见“{RESULTS_SHEET}”工作表。")
    return findings


def _declarations(book: Book) -> list[Declaration]:
    return [form.declaration for sheet in book.sheet_names() if sheet not in NOT_FORMS
            for form in _forms(book, sheet)]


def export_json(book: Book, ui: UI) -> Path | None:
    """导出JSON: every form in the workbook as canonical JSON (an array when there are several)."""
    decls = _declarations(book)
    if not decls:
        ui.alert("本工作簿中没有找到申报表，未导出。")
        return None
    target = ui.choose_save(f"{Path(book.name).stem}.json", JSON_KIND)
    if not target:
        return None
    text = canonical.dumps(decls[0]) if len(decls) == 1 else canonical.dumps_many(decls)
    write_text(Path(target), text)
    ui.alert(f"已导出 {len(decls)} 份申报表到 {target}")
    return Path(target)


def import_json(book: Book, ui: UI) -> Path | None:
    """从JSON导入: canonical JSON → a filled form workbook beside it, opened in Excel."""
    source = ui.choose_open(JSON_KIND)
    if not source:
        return None
    try:
        decls = load_declarations(Path(source))
    except OSError as exc:
        ui.alert(f"文件无法读取：{source}（{os_reason(exc)}）")
        return None
    except JsonRejected as exc:
        ui.alert(f"不是有效的申报表 JSON：{source}（{exc}）")
        return None
    target = Path(source).with_suffix(".xlsx")
    k = 2
    while target.exists():
        target = Path(source).with_name(f"{Path(source).stem}-{k}.xlsx")
        k += 1
    try:
        write_workbook(target, decls)
    except MixedProfilesError:
        ui.alert("同一文件中的申报表使用了不同的表式版本，请分开导入。")
        return None
    ui.open_workbook(str(target))
    return target


def new_form(book: Book, ui: UI) -> Path | None:
    """新建申报表: a blank template, saved where the user says and opened."""
    target = ui.choose_save("绩效目标申报表.xlsx", XLSX_KIND)
    if not target:
        return None
    write_workbook(Path(target), [None])
    ui.open_workbook(target)
    return Path(target)


def bulk_convert(book: Book, ui: UI) -> BulkReport | None:
    """批量转换: a folder of returned workbooks → JSON, findings and the summary workbook."""
    source = ui.choose_folder("选择收到的申报表所在文件夹")
    if not source:
        return None
    target = ui.choose_folder("选择存放转换结果的文件夹")
    if not target:
        return None
    try:  # bulk refuses what would make an unsound run (the same folder, outputs there that are not ours…)
        # From the ribbon the centre also gets each unit's marked-up copy (反馈/), ready to send back.
        report = run_bulk(Path(source), Path(target), progress=False, feedback=True)
    except BulkRefused as exc:
        ui.alert(str(exc))
        return None
    failed = f"；{len(report.copies_failed)} 份反馈副本未能生成" if report.copies_failed else ""
    ui.alert(f"批量转换完成：{report.files} 个文件，{report.declarations} 份申报表，{report.copies} 份反馈副本"
             f"{failed}。结果在 {target}")
    ui.open_workbook(str(Path(target) / SUMMARY_XLSX))
    return report


# ----------------------------------------------------------------------------------------------------------
# The entry point for RunPython: every ribbon callback in macros/RibbonMyAddin.bas runs ``run('<button key>')``
# ----------------------------------------------------------------------------------------------------------
Handler = Callable[[Book, UI], object]


def failure_message(exc: Exception) -> str:
    """What the person at the keyboard is told when a handler fails: a Chinese reason, never a trace."""
    if isinstance(exc, (BulkRefused, JsonRejected, UnknownProfileError)):
        return str(exc)  # their text is the Chinese message
    if isinstance(exc, OSError):
        where = f"：{exc.filename}" if exc.filename else ""
        return f"文件无法读写{where}（{os_reason(exc)}）"
    if isinstance(exc, MemoryError):
        return "内存不足，操作已停止。"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0] if exc.errors() else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        detail = trim_detail(first["msg"]) if first else trim_detail(str(exc))
        return f"申报表内容不符合要求（{where}：{detail}），操作已停止。" if where else \
            f"申报表内容不符合要求（{detail}），操作已停止。"
    if isinstance(exc, ValueError):
        return f"内容无法处理（{trim_detail(str(exc))}），操作已停止。"
    if isinstance(exc, RuntimeError):
        return f"操作未能完成（{trim_detail(str(exc))}）。"
    return f"内部错误（{type(exc).__name__}：{trim_detail(str(exc))}），已停止；请把这条提示告诉维护人员{DEBUG_HINT}。"


def invoke(handler: Handler, book: Book, ui: UI) -> object:
    """Run one handler; whatever it raises ends as a Chinese alert (``failure_message``), not a Python trace.
    With PERFGOAL_DEBUG=1 the error goes on to xlwings, which shows the trace."""
    try:
        return handler(book, ui)
    except Exception as exc:
        if debug_wanted():
            raise
        try:
            ui.alert(failure_message(exc))
        except Exception:  # pragma: no cover - Excel itself is gone; nothing more can be shown
            pass
        return None


def run(key: str) -> None:  # pragma: no cover - needs desktop Excel
    """What a ribbon button runs: the handler declared for it in ``ribbon_spec``, on the calling workbook."""
    try:
        import xlwings as xw

        from .book import ExcelUI, XlwingsBook

        book = xw.Book.caller()
        ui = ExcelUI(book.app)
    except Exception as exc:  # xlwings shows what reaches stderr when the exit code is not 0
        sys.stderr.write(f"无法连接到 Excel（{type(exc).__name__}：{trim_detail(str(exc))}）\n")
        raise SystemExit(1) from None
    invoke(HANDLERS[key], XlwingsBook(book), ui)


# Each button's handler, by the button's key; a name in ribbon_spec without a function here fails at import.
HANDLERS: dict[str, Handler] = {b.key: globals()[b.handler] for b in BUTTONS}
