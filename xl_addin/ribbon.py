"""What the ribbon's buttons do. Each handler takes a ``Book`` and a ``UI``; the ``*_main`` entry points,
which the add-in's VBA reaches through ``RunPython``, only wrap the calling workbook in them.

All messages are Chinese; every rule is the converter's.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from converter import canonical
from converter.atomic import write_text
from converter.bulk import SUMMARY_XLSX, BulkRefused, BulkReport, run_bulk
from converter.findings import SEVERITY_LABELS, Finding, Severity, count_by_severity, severity_rank
from converter.json_input import JsonRejected, load_declarations
from converter.model import Declaration
from converter.profile import profile_names
from converter.readers.locate import FormRead, locate_forms
from converter.reading import form_findings
from converter.rules import CATALOGUE
from converter.syserrors import os_reason
from converter.template_layout import LISTS_SHEET, META_PROFILE_LABEL, META_SHEET, PROFILE_NAME
from converter.writers.xlsx import MixedProfilesError, write_workbook

from .book import UI, Book

RESULTS_SHEET = "校验结果"
RESULTS_HEADER = ["级别", "代码", "说明", "工作表", "单元格", "字段"]
NOT_FORMS = (LISTS_SHEET, META_SHEET, RESULTS_SHEET)
JSON_KIND = "JSON 文件 (*.json),*.json"
XLSX_KIND = "Excel 工作簿 (*.xlsx),*.xlsx"


def _profile(book: Book) -> str | None:
    """The profile our template's meta sheet names (as ``perfgoal check`` reads it), or None to detect it."""
    rows = book.read_sheet(META_SHEET) or []
    found = next((str(r[1]) for r in rows if len(r) > 1 and r[0] == META_PROFILE_LABEL and r[1]), None)
    return found if found in profile_names() else None


def _forms(book: Book, sheet: str) -> list[FormRead]:
    names = book.names(sheet)
    ours = {k: v for k, v in names.items() if k != PROFILE_NAME}
    return locate_forms(book.grid(sheet), ours or None, _profile(book))


def _previous_marks(book: Book, sheet: str) -> set[str]:
    rows = book.read_sheet(RESULTS_SHEET) or []
    return {str(r[4]) for r in rows[1:] if len(r) > 4 and r[3] == sheet and r[4]}


def validate_sheet(book: Book, ui: UI) -> list[Finding]:
    """校验本表: every rule on the active sheet; offending cells coloured and commented; a 校验结果 sheet."""
    sheet = book.active_sheet()
    if sheet in NOT_FORMS:
        ui.alert("请先切换到要校验的申报表工作表，再点“校验本表”。")
        return []
    forms = _forms(book, sheet)
    if not forms:
        ui.alert(f"工作表“{sheet}”中没有找到申报表（{CATALOGUE['F003'].code}）。")
        return []
    findings = [f for form in forms for f in form_findings(form, book.name)]
    for cell in _previous_marks(book, sheet):
        book.mark(sheet, cell, None, None)
    by_cell: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.cell and f.severity != Severity.INFO:
            by_cell[f.cell].append(f)
    for cell, group in by_cell.items():
        group.sort(key=severity_rank)
        book.mark(sheet, cell, group[0].severity, "\n".join(f"【{SEVERITY_LABELS[f.severity]}】{f.message}"
                                                             for f in group))
    ordered = sorted(findings, key=severity_rank)
    rows: list[list[Any]] = [RESULTS_HEADER]
    links: dict[tuple[int, int], str] = {}
    for i, f in enumerate(ordered, start=1):
        rows.append([SEVERITY_LABELS[f.severity], f.code, f.message, sheet, f.cell, f.field])
        if f.cell:
            links[(i, 4)] = f"'{sheet}'!{f.cell}"
    book.write_sheet(RESULTS_SHEET, rows, links)
    counts = count_by_severity(findings)
    ui.alert(f"校验完成：错误 {counts[Severity.ERROR]} 条，警告 {counts[Severity.WARNING]} 条，"
             f"提示 {counts[Severity.INFO]} 条。详见“{RESULTS_SHEET}”工作表。")
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
        report = run_bulk(Path(source), Path(target), progress=False)
    except BulkRefused as exc:
        ui.alert(str(exc))
        return None
    ui.alert(f"批量转换完成：{report.files} 个文件，{report.declarations} 份申报表。结果在 {target}")
    ui.open_workbook(str(Path(target) / SUMMARY_XLSX))
    return report


# ----------------------------------------------------------------------------------------------------------
# Entry points for RunPython (the VBA callbacks in macros/RibbonMyAddin.bas call these)
# ----------------------------------------------------------------------------------------------------------
def _run(handler: Any) -> None:  # pragma: no cover - needs desktop Excel
    import xlwings as xw

    from .book import ExcelUI, XlwingsBook

    book = xw.Book.caller()
    handler(XlwingsBook(book), ExcelUI(book.app))


def validate_sheet_main() -> None:  # pragma: no cover
    _run(validate_sheet)


def export_json_main() -> None:  # pragma: no cover
    _run(export_json)


def import_json_main() -> None:  # pragma: no cover
    _run(import_json)


def new_form_main() -> None:  # pragma: no cover
    _run(new_form)


def bulk_convert_main() -> None:  # pragma: no cover
    _run(bulk_convert)


ENTRY_POINTS = {
    "PgValidateSheet": validate_sheet_main,
    "PgExportJson": export_json_main,
    "PgImportJson": import_json_main,
    "PgNewForm": new_form_main,
    "PgBulkConvert": bulk_convert_main,
}
