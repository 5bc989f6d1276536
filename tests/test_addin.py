"""The Excel add-in: live functions as Excel calls them, the built .xlam, and the ribbon's handlers."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import olefile
import openpyxl
import pytest
from lxml import etree
from oletools.olevba import VBA_Parser, decompress_stream

from converter import canonical
from converter.bulk import BulkRefused
from converter.findings import Severity
from converter.reading import read_file
from converter.template_layout import LIVE_BUDGET, LIVE_INDICATOR, LIVE_SUMMARY, LIVE_TARGET_PARTS
from xl_addin import functions, ovba, ribbon, ribbon_spec
from xl_addin.addin import Settings, build, default_settings, quickstart_addin
from xl_addin.book import FileKind, OpenpyxlBook
from xl_addin.ribbon import RESULTS_SHEET, bulk_convert, export_json, import_json, new_form, validate_sheet

from . import lo
from .conftest import DATA
from .shared import shared_tool

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.xlsx"))
SAMPLE_EXAMPLES = sorted((ROOT / "examples").glob("declarations-2020-*.xlsx"))
CUSTOMUI = "{http://schemas.microsoft.com/office/2006/01/customui}"
# [MS-CUSTOMUI] 2.1 / [MS-OI29500] 3.4.1.3: the part in the 2006/01 namespace is the target of this relationship.
UI_RELATIONSHIP_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"


# --- live functions ------------------------------------------------------------------------------------------
def test_function_names_are_the_ones_the_template_calls() -> None:
    names = {f.__name__ for f in functions.LIVE_FUNCTIONS}
    assert names == {LIVE_INDICATOR, LIVE_BUDGET, LIVE_SUMMARY, LIVE_TARGET_PARTS}


_CALL = re.compile(r'^=IFERROR\((PG_\w+)\(([^()]*)\),')  # the live call; its native fallback follows


def _excel_args(ws: Any, args: str) -> list[Any]:
    """The values Excel passes for a formula's arguments: a cell's value, a range as rows, a literal as text."""
    out: list[Any] = []
    for arg in args.split(","):
        arg = arg.replace("$", "")
        if arg.startswith('"'):
            out.append(arg.strip('"') or None)
        elif ":" in arg:
            out.append([[c.value for c in row] for row in ws[arg]])
        else:
            value = ws[arg].value
            out.append(float(value) if isinstance(value, int) else value)
    return out


def _live_checks(path: Path, sheet: str) -> dict[int, tuple[str, list[Any]]]:
    """Row → (function, arguments) of every live check the workbook's 校验 column holds."""
    ws = openpyxl.load_workbook(path)[sheet]
    calls = {}
    for row in ws.iter_rows():
        for cell in row:
            m = _CALL.match(cell.value) if isinstance(cell.value, str) else None
            if m:
                calls[cell.row] = (m.group(1), _excel_args(ws, m.group(2)))
    return calls


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_functions_agree_with_check_on_the_sample(path: Path) -> None:
    """What the template's 校验 column shows — its own formulas, evaluated with the values Excel would pass — is
    what `perfgoal check` says of the same rows and amounts."""
    (d,) = read_file(path).declarations
    calls = _live_checks(path, d.sheet or "")
    indicator_calls = [(row, args) for row, (fn, args) in sorted(calls.items()) if fn == LIVE_INDICATOR]
    filled = [(row, args) for row, args in indicator_calls if any(a for a in args[:4])]
    assert len(filled) == len(d.declaration.indicators)
    for i, (_row, args) in enumerate(filled):
        expected = [f.message for f in d.findings if (f.field or "").startswith(f"indicators[{i}].")
                    and f.severity != "info"]
        assert functions.PG_CHECK_INDICATOR(*args) == ("；".join(expected) if expected else "✓"), (i, args)
    budget_calls = [args for fn, args in calls.values() if fn == LIVE_BUDGET]
    budget = [f.message for f in d.findings if (f.field or "").startswith("budget.")]
    for args in budget_calls:
        assert functions.PG_CHECK_BUDGET(*args) == ("；".join(budget) if budget else "✓")
    (summary_args,) = [args for fn, args in calls.values() if fn == LIVE_SUMMARY]
    if d.declaration.indicators[0].period is None:  # two tables: the summary counts the annual one
        counted = [f for f in d.findings if f.code[0] in "BGI" and f.severity != "info"
                   and f.code != "I016"]  # the summary is given no plan dates
        errors = sum(f.severity == "error" for f in counted)
        warnings = sum(f.severity == "warning" for f in counted)
        assert functions.PG_SHEET_SUMMARY(*summary_args) == \
            ("✓" if not counted else f"错误 {errors} 条，警告 {warnings} 条")


def test_functions_cope_with_what_excel_passes() -> None:
    assert functions.PG_CHECK_INDICATOR(None, None, None, None) == ""
    assert functions.PG_CHECK_INDICATOR("#N/A", "数量", "x", "1个") == "单元格含错误值（#N/A）"
    assert functions.PG_CHECK_INDICATOR("产出目标", "数量", "数据量", 1200.0) != ""  # a number target
    assert functions.PG_CHECK_INDICATOR("效果目标", "满意度", "服务对象满意度", "≥90%", "not a date", "x") == "✓"
    assert functions.PG_TARGET_PARTS("≥90%") == [["≥", 90, "%"]]
    assert functions.PG_TARGET_PARTS("≥99.5%") == [["≥", 99.5, "%"]]
    assert functions.PG_TARGET_PARTS("健全") == [["定性", "", "健全"]]
    assert functions.PG_TARGET_PARTS(None) == [["", "", ""]]
    assert functions.PG_TARGET_PARTS(95.0) == [["", 95, ""]]
    assert functions.PG_TARGET_PARTS(dt.datetime(2020, 12, 31))[0][0] == "≤"
    assert functions.PG_TARGET_PARTS("#VALUE!") == [["单元格含错误值（#VALUE!）", "", ""]]
    assert functions.PG_CHECK_BUDGET(100.0, 200.0, None, None).startswith("项目当年预算 200.00 元大于")
    assert functions.PG_CHECK_BUDGET("1,000.00", "500", 0, 0) == "✓"
    assert "不是有效金额" in functions.PG_CHECK_BUDGET("abc", None, None, None)
    assert functions.PG_CHECK_BUDGET("#REF!", None, None, None).endswith("（#REF!）")
    assert functions.PG_SHEET_SUMMARY(None) == "错误 1 条，警告 0 条"  # no indicators at all
    assert functions.PG_CHECK_INDICATOR("产出目标", "数量", "x", "1个", profile="nope").startswith("未知的表式版本")


# --- the built add-in ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("addin"))


def _vba(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code.replace("\r\n", "\n") for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_ribbon_is_present_related_and_chinese(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        rels = etree.fromstring(z.read("_rels/.rels"))
        types = z.read("[Content_Types].xml").decode()
        ui = etree.fromstring(z.read("customUI/customUI.xml"))
    (ui_rel,) = [r for r in rels if r.get("Target") == "customUI/customUI.xml"]
    assert etree.QName(ui).namespace == CUSTOMUI[1:-1]
    assert ui_rel.get("Type") == UI_RELATIONSHIP_2006  # not the 2007 type the quickstart file carries
    assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in types
    (tab,) = ui.iter(f"{CUSTOMUI}tab")
    assert tab.get("label") == "绩效目标"
    buttons = {b.get("label"): b.get("onAction") for b in ui.iter(f"{CUSTOMUI}button")}
    assert set(buttons) >= {"校验本表", "导出JSON", "从JSON导入", "新建申报表", "批量转换"}
    ids = [e.get("id") for e in ui.iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_every_callback_reaches_vba_that_olevba_reads_back(xlam: Path) -> None:
    modules = _vba(xlam)
    assert set(modules) == {"ThisWorkbook", "Dictionary", "RibbonMyAddin", "Sheet2", "xlwings"}
    ui = etree.fromstring(zipfile.ZipFile(xlam).read("customUI/customUI.xml"))
    for button in ui.iter(f"{CUSTOMUI}button"):
        module, sub = button.get("onAction", "").split(".")
        assert re.search(rf"^Sub {sub}\(control As IRibbonControl\)$", modules[module], re.M), sub
        entry = re.search(rf"Sub {sub}\(control As IRibbonControl\)\s+PgRun \"(\w+)\", (True|False)\n",
                          modules[module])
        assert entry, sub
        declared = ribbon_spec.BY_KEY[entry[1]]
        assert callable(ribbon.HANDLERS[declared.key]) and entry[2] == str(declared.needs_workbook), sub
    assert 'RunPython "import xl_addin.ribbon; xl_addin.ribbon.run(\'" & key & "\')"' in modules["RibbonMyAddin"]
    assert modules["xlwings"] == _vba(quickstart_addin())["xlwings"]  # xlwings' own VBA is untouched


def test_a_wrapper_for_every_live_function(xlam: Path) -> None:
    code = _vba(xlam)["RibbonMyAddin"]
    for f in functions.LIVE_FUNCTIONS:
        assert re.search(rf"^Function {f.__name__}\(", code, re.M), f.__name__
        assert f'XLPy.CallUDF("xl_addin.functions", "{f.__name__}"' in code


def _config_rows(path: Path) -> list[tuple[Any, ...]]:
    """The config sheet as xlwings reads it: column A from A1 down to the last filled cell, with column B."""
    with zipfile.ZipFile(path) as z:
        assert 'name="myaddin.conf"' in z.read("xl/workbook.xml").decode()
        sheet = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    cells = {c.get("r"): "".join(c.itertext()) for c in sheet.iter(f"{main}c")}
    rows = []
    while f"A{len(rows) + 1}" in cells:
        n = len(rows) + 1
        rows.append((cells[f"A{n}"], cells.get(f"B{n}", "")))
    assert len(rows) == len(cells) // 2  # nothing below or beside what xlwings reads
    return rows


def test_config_sheet_holds_only_settings_with_a_value(xlam: Path, tmp_path: Path) -> None:
    """xlwings reads every key listed on the sheet before the user's config file: an empty Interpreter_Win
    or Conda row would mask %USERPROFILE%\\.myaddin\\myaddin.conf."""
    assert _config_rows(xlam) == [("UDF Modules", "xl_addin.functions")]  # built here, on Linux
    venv = r"C:\Users\张三\venv\Scripts\python.exe"
    chosen = build(tmp_path / "venv", Settings(interpreter=venv))
    assert _config_rows(chosen) == [("UDF Modules", "xl_addin.functions"), ("Interpreter_Win", venv)]
    conda = build(tmp_path / "conda", Settings(conda_path=r"C:\miniconda3", conda_env="perfgoal"))
    assert _config_rows(conda)[1:] == [("Conda Path", r"C:\miniconda3"), ("Conda Env", "perfgoal")]
    assert all(value for _, value in _config_rows(conda))
    with pytest.raises(ValueError):
        Settings(conda_path=r"C:\miniconda3")


def test_build_command_writes_the_interpreter_it_is_given(tmp_path: Path) -> None:
    perfgoal = shutil.which("perfgoal", path=str(Path(sys.executable).parent)) or "perfgoal"
    exe = r"D:\Python 3.11\python.exe"
    done = subprocess.run([perfgoal, "addin", "build", "-o", str(tmp_path), "--interpreter", exe],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0 and exe in done.stderr
    assert _config_rows(tmp_path / "perfgoal.xlam") == [("UDF Modules", "xl_addin.functions"), ("Interpreter_Win", exe)]
    half = subprocess.run([perfgoal, "addin", "build", "-o", str(tmp_path / "b"), "--conda-env", "pg"],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert half.returncode == 2 and "--conda-path" in half.stderr and not (tmp_path / "b").exists()


def test_default_interpreter_is_the_building_python_on_windows() -> None:
    exe, prefix = r"C:\Users\a\venv\Scripts\python.exe", r"C:\Users\a\venv"
    assert default_settings("linux", "/usr/bin/python3", "/usr", {}) == Settings()
    assert default_settings("win32", exe, prefix, {}) == Settings(interpreter=exe)
    base, env = r"C:\Users\a\miniconda3", r"C:\Users\a\miniconda3\envs\pg"
    conda_env = {"CONDA_EXE": base + r"\Scripts\conda.exe", "CONDA_PREFIX": env}
    assert default_settings("win32", env + r"\python.exe", env, conda_env) == Settings(conda_path=base, conda_env=env)
    assert default_settings("win32", exe, prefix, conda_env) == Settings(interpreter=exe)  # another env is active


def test_vba_project_is_version_independent_and_sound(xlam: Path, tmp_path: Path) -> None:
    """[MS-OVBA] 2.3.4.1: _VBA_PROJECT is seven bytes, Version 0xFFFF, no performance cache; no __SRP_ stream.
    The container and every module's compressed source pass the strict checkers written from the specs."""
    with zipfile.ZipFile(xlam) as z:
        project = tmp_path / "vbaProject.bin"
        project.write_bytes(z.read("xl/vbaProject.bin"))
    ole = olefile.OleFileIO(str(project))
    try:
        assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x01, 0x00])
        assert not [p for p in ole.listdir() if p[-1].upper().startswith("__SRP_")]
        directory = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    finally:
        ole.close()
    offsets = ovba.module_offsets(directory)
    assert offsets["RibbonMyAddin"] == 0 and set(offsets) == {"ThisWorkbook", "Dictionary", "RibbonMyAddin",
                                                             "Sheet2", "xlwings"}
    cfb_check = subprocess.run([sys.executable, str(shared_tool("cfb-strict-check")), str(project)],
                               capture_output=True, text=True, check=True)
    assert cfb_check.stdout.strip().endswith("problems: none"), cfb_check.stdout
    streams = ["dir=0", *(f"{name}={offset}" for name, offset in offsets.items())]
    strict = subprocess.run([sys.executable, str(shared_tool("ovba-strict-decompress")), str(project), *streams],
                            capture_output=True, text=True)
    assert strict.returncode == 0, strict.stderr
    assert strict.stdout.count("strict OK") == len(streams) and "equals oletools=False" not in strict.stdout


def test_libreoffice_lists_the_modules(xlam: Path, tmp_path: Path) -> None:
    lo.require_libreoffice()
    with __import__("tempfile").TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                        "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "ods", "--outdir", str(tmp_path),
                        str(xlam)], check=True, capture_output=True, timeout=300)
    with zipfile.ZipFile(tmp_path / "perfgoal.ods") as z:
        modules = {Path(n).stem for n in z.namelist() if n.startswith("Basic/MyAddin/") and "script-" not in n}
        ribbon = "".join(etree.fromstring(z.read("Basic/MyAddin/RibbonMyAddin.xml")).itertext())
    assert modules == {"ThisWorkbook", "Dictionary", "RibbonMyAddin", "Sheet2", "xlwings"}
    assert "Sub PgValidateSheet(control As IRibbonControl)" in ribbon
    assert '#Const App = "Microsoft Excel"' in ribbon
    assert "Function PG_CHECK_INDICATOR(" in ribbon


# --- the ribbon's handlers on real workbooks -----------------------------------------------------------------
class ScriptedUI:
    """Stands in for Excel's dialogs: the answers are given, what is shown is recorded."""

    def __init__(self, *answers: str | None) -> None:
        self.answers = list(answers)
        self.alerts: list[str] = []
        self.opened: list[str] = []

    def _next(self) -> str | None:
        return self.answers.pop(0)

    def choose_save(self, suggested: str, kind: FileKind) -> str | None:
        kind.excel_filter()  # what Excel would be given must be a valid filter
        return self._next()

    def choose_open(self, kind: FileKind) -> str | None:
        kind.excel_filter()
        return self._next()

    def choose_folder(self, title: str) -> str | None:
        return self._next()

    def open_workbook(self, path: str) -> None:
        self.opened.append(path)

    def alert(self, text: str) -> None:
        self.alerts.append(text)


def test_validate_sheet_marks_cells_and_lists_findings(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    shutil.copyfile(SAMPLE_EXAMPLES[0], path)
    book = OpenpyxlBook(path)
    ui = ScriptedUI()
    findings = validate_sheet(book, ui)
    book.save()
    assert ui.alerts[-1].startswith("校验完成：错误 2 条")
    wb = openpyxl.load_workbook(path)
    ws = wb[book.active_sheet()]
    bad = next(f for f in findings if f.code == "I008")
    assert ws[bad.cell].fill.fgColor.rgb.endswith("FFC7CE")
    assert "比率类指标" in ws[bad.cell].comment.text
    results = wb[RESULTS_SHEET]
    rows = list(results.iter_rows(values_only=True))
    assert rows[0] == ("级别", "代码", "说明", "工作表", "单元格", "字段")
    assert [r[1] for r in rows[1:3]] == ["I008", "I009"]
    link = results.cell(2, 5)
    assert link.hyperlink.location == f"'{ws.title}'!{bad.cell}" or link.hyperlink.target.endswith(bad.cell)
    # Fixing the value and validating again clears the mark.
    ws[bad.cell] = "≥95%"
    wb.save(path)
    book = OpenpyxlBook(path)
    validate_sheet(book, ui)
    book.save()
    ws = openpyxl.load_workbook(path)[book.active_sheet()]
    assert ws[bad.cell].comment is None and ws[bad.cell].fill.fill_type is None


def test_validate_refuses_the_results_sheet(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    shutil.copyfile(SAMPLE_EXAMPLES[0], path)
    book = OpenpyxlBook(path)
    validate_sheet(book, ScriptedUI())
    book.save()
    ui = ScriptedUI()
    assert validate_sheet(OpenpyxlBook(path, active=RESULTS_SHEET), ui) == []
    assert "请先切换" in ui.alerts[0]


def test_export_and_import_json(tmp_path: Path) -> None:
    expected = json.loads((DATA / "declarations-2020.expected.json").read_text(encoding="utf-8"))
    out = tmp_path / "out.json"
    assert export_json(OpenpyxlBook(SAMPLE_EXAMPLES[3]), ScriptedUI(str(out))) == out
    assert json.loads(out.read_text(encoding="utf-8")) == expected[3]
    ui = ScriptedUI(str(out))
    made = import_json(OpenpyxlBook(SAMPLE_EXAMPLES[0]), ui)
    assert made is not None and ui.opened == [str(made)]
    assert canonical.dumps(read_file(made).declarations[0].declaration) == out.read_text(encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    ui = ScriptedUI(str(bad))
    assert import_json(OpenpyxlBook(SAMPLE_EXAMPLES[0]), ui) is None and "不是有效" in ui.alerts[0]
    assert export_json(OpenpyxlBook(SAMPLE_EXAMPLES[0]), ScriptedUI(None)) is None  # cancelled


def test_new_form_and_bulk_convert(tmp_path: Path) -> None:
    ui = ScriptedUI(str(tmp_path / "新表.xlsx"))
    made = new_form(OpenpyxlBook(SAMPLE_EXAMPLES[0]), ui)
    assert made is not None and made.exists() and ui.opened == [str(made)]
    source = tmp_path / "收到"
    source.mkdir()
    for p in SAMPLE_EXAMPLES[:3]:
        shutil.copyfile(p, source / p.name)
    ui = ScriptedUI(str(source), str(tmp_path / "结果"))
    report = bulk_convert(OpenpyxlBook(SAMPLE_EXAMPLES[0]), ui)
    assert report is not None and (report.files, report.declarations) == (3, 3)
    assert ui.opened == [str(tmp_path / "结果" / "汇总.xlsx")]
    same = ScriptedUI(str(source), str(source))
    assert bulk_convert(OpenpyxlBook(SAMPLE_EXAMPLES[0]), same) is None and "相同" in same.alerts[0]
    user_json = tmp_path / "用户的文件夹"
    (user_json / "json").mkdir(parents=True)
    refused = ScriptedUI(str(source), str(user_json))
    assert bulk_convert(OpenpyxlBook(SAMPLE_EXAMPLES[0]), refused) is None and refused.alerts
    assert (user_json / "json").is_dir()  # the user's folder is left as it was


def test_validate_on_a_sheet_without_a_form(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "备注"  # type: ignore[union-attr]
    wb.active["A1"] = "这里没有申报表"  # type: ignore[index]
    wb.save(path)
    ui = ScriptedUI()
    assert validate_sheet(OpenpyxlBook(path), ui) == []
    assert ui.alerts == ["工作表“备注”中没有找到申报表（F003）。"]


# --- what the person at the keyboard sees when something fails ---------------------------------------------
def test_file_filters_are_what_excel_expects() -> None:
    """Excel's FileFilter is pairs of description and pattern separated by commas: one pair, two fields."""
    assert ribbon.JSON_KIND.excel_filter() == "JSON 文件 (*.json),*.json"
    assert ribbon.XLSX_KIND.excel_filter() == "Excel 工作簿 (*.xlsx),*.xlsx"
    with pytest.raises(ValueError):
        FileKind("a, b", "*.x").excel_filter()


def _raising(exc: Exception) -> Any:
    def handler(book: Any, ui: Any) -> None:
        raise exc
    return handler


def _validation_error() -> Exception:
    from converter.model import Budget

    try:
        Budget(total="not money")  # type: ignore[arg-type]
    except Exception as exc:
        return exc
    raise AssertionError("Budget accepted a text")


@pytest.mark.parametrize("exc, words", [
    (PermissionError(13, "Permission denied", "D:\\表\\a.json"), ("文件无法读写", "a.json", "没有访问权限")),
    (FileNotFoundError(2, "No such file or directory", "x.json"), ("文件无法读写", "不存在")),
    (RuntimeError("COM server went away"), ("操作未能完成", "COM server went away")),
    (ValueError("bad value"), ("内容无法处理", "bad value")),
    (None, ("申报表内容不符合要求", "total")),
    (BulkRefused("输出文件夹与输入文件夹相同"), ("输出文件夹与输入文件夹相同",)),
    (KeyError("x"), ("内部错误", "KeyError", "PERFGOAL_DEBUG")),
], ids=["permission", "missing", "runtime", "value", "pydantic", "bulk", "unexpected"])
def test_handler_errors_become_chinese_alerts(exc: Exception | None, words: tuple[str, ...],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERFGOAL_DEBUG", raising=False)
    ui = ScriptedUI()
    assert ribbon.invoke(_raising(exc or _validation_error()), OpenpyxlBook(SAMPLE_EXAMPLES[0]), ui) is None
    (alert,) = ui.alerts
    assert all(w in alert for w in words), alert
    assert "Traceback" not in alert and "File \"" not in alert
    monkeypatch.setenv("PERFGOAL_DEBUG", "1")  # for whoever maintains it: the error goes on to xlwings
    with pytest.raises(type(exc or _validation_error())):
        ribbon.invoke(_raising(exc or _validation_error()), OpenpyxlBook(SAMPLE_EXAMPLES[0]), ScriptedUI())


def test_a_real_handler_failing_on_disk_is_an_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERFGOAL_DEBUG", raising=False)
    (tmp_path / "一个文件").write_text("x", encoding="utf-8")
    ui = ScriptedUI(str(tmp_path / "一个文件" / "out.json"))  # the folder named is a file
    assert ribbon.invoke(ribbon.HANDLERS["ExportJson"], OpenpyxlBook(SAMPLE_EXAMPLES[0]), ui) is None
    assert ui.alerts[-1].startswith("文件无法读写") and "out.json" in ui.alerts[-1]
    ui = ScriptedUI(str(tmp_path / "新表.xlsx"))
    made = ribbon.invoke(ribbon.HANDLERS["NewForm"], OpenpyxlBook(SAMPLE_EXAMPLES[0]), ui)
    assert made == tmp_path / "新表.xlsx" and not ui.alerts


class _ExcelRange:
    """Excel's object model as ``XlwingsBook`` reaches it through xlwings, for the one thing desktop Excel is
    needed for here: which cells a mark lands on. A range is its cells; ``merge_area`` is xlwings' (the merged
    range holding the cell, or the cell itself)."""

    def __init__(self, sheet: _ExcelSheet, cells: list[str]) -> None:
        self.sheet, self.cells = sheet, cells
        self.api = self

    @property
    def merge_area(self) -> _ExcelRange:
        (cell,) = self.cells
        return next((_ExcelRange(self.sheet, area) for area in self.sheet.merged if cell in area), self)

    def __getitem__(self, i: int) -> _ExcelRange:
        return _ExcelRange(self.sheet, [self.cells[i]])

    @property
    def color(self) -> Any:
        return None

    @color.setter
    def color(self, rgb: Any) -> None:
        for cell in self.cells:
            self.sheet.fills[cell] = rgb

    def ClearComments(self) -> None:
        for cell in self.cells:
            self.sheet.comments.pop(cell, None)

    def AddComment(self, text: str) -> None:
        (cell,) = self.cells
        self.sheet.comments[cell] = text


class _ExcelSheet:
    def __init__(self, merged: list[list[str]]) -> None:
        self.merged = merged
        self.fills: dict[str, Any] = {}
        self.comments: dict[str, str] = {}

    def range(self, cell: str) -> _ExcelRange:
        return _ExcelRange(self, [cell])


def test_a_mark_in_excel_on_a_merged_cell_lands_where_excel_shows_it() -> None:
    """A finding at a cell inside a merged range (a level merged down its rows, as returned forms have it): the
    range is filled and the comment sits on its first cell, as the marked copies of ``bulk --feedback`` have it."""
    from xl_addin.book import XlwingsBook

    sheet = _ExcelSheet(merged=[["A5", "A6", "A7"]])
    book = XlwingsBook(type("Book", (), {"sheets": {"表1": sheet}})())
    book.mark("表1", "A6", Severity.ERROR, "一级指标不在本表式中")
    book.mark("表1", "C6", Severity.WARNING, "指标值不是百分数")
    assert set(sheet.comments) == {"A5", "C6"} and sheet.fills.keys() == {"A5", "A6", "A7", "C6"}
    book.mark("表1", "A7", None, None)  # cleared, as a recheck clears what is mended
    assert set(sheet.comments) == {"C6"} and sheet.fills["A5"] is None
