"""Results staff can work from (issue 12): the summary workbook with its overview, the marked-up copies, the flat
tables, the cross-file checks and ``perfgoal check`` in a console.

One real bulk run (the CLI, ``--feedback``) over the examples, the text export and, where LibreOffice is
installed, an xls and an ods it wrote; every assertion reads the outputs back as a user's tools would: openpyxl,
python-calamine, the csv module, LibreOffice."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from copy import deepcopy
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from converter import canonical
from converter.bulk import FINDINGS_HEADER, SUMMARY_HEADER, run_bulk
from converter.feedback import FILLS, RESULTS_HEADER, RESULTS_SHEET
from converter.fields import COLUMNS
from converter.flat import DECLARATION_HEADER, INDICATOR_HEADER
from converter.model import Declaration
from converter.profile import load_profile
from converter.reading import read_file
from converter.sheettext import text_width
from converter.writers.xlsx import write_workbook
from xl_addin.book import OpenpyxlBook
from xl_addin.ribbon import validate_sheet

from . import lo
from .conftest import DATA

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.xlsx"))
PERFGOAL = str(Path(sys.executable).parent / "perfgoal")
F = {h: i for i, h in enumerate(FINDINGS_HEADER)}
S = {h: i for i, h in enumerate(SUMMARY_HEADER)}


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _has_libreoffice() -> bool:
    try:
        lo.require_libreoffice()
    except pytest.skip.Exception:
        return False
    return True


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples as units return them: workbooks in two folders, the text export, and (with LibreOffice)
    an xls and an ods re-saved from examples."""
    root = tmp_path_factory.mktemp("results") / "收到"
    (root / "二处").mkdir(parents=True)
    for i, path in enumerate(EXAMPLES):
        shutil.copyfile(path, (root / "二处" if i % 2 else root) / path.name)
    shutil.copyfile(ROOT / "examples" / "declarations-2020.txt", root / "二处" / "导出 declarations-2020.txt")
    if _has_libreoffice():
        made = tmp_path_factory.mktemp("lo")
        for fmt in ("xls", "ods"):
            (converted,) = lo.convert([ROOT / "examples" / "declarations-2020-03.xlsx"], fmt, made / fmt)
            shutil.copyfile(converted, root / f"另存 {converted.name}")
    return root


@pytest.fixture(scope="module")
def run(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    before = digest(batch)
    out = tmp_path_factory.mktemp("out") / "结果"
    done = subprocess.run([PERFGOAL, "bulk", str(batch), "-o", str(out), "--jobs", "2", "--feedback"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out, before


@pytest.fixture(scope="module")
def out(run: tuple[Path, dict[str, str]]) -> Path:
    return run[0]


def csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def findings(out: Path) -> list[list[str]]:
    return csv_rows(out / "findings.csv")[1:]


def declarations(out: Path) -> list[Declaration]:
    return [canonical.loads(p.read_bytes())[0] for p in sorted((out / "json").rglob("*.json"))]


# ----------------------------------------------------------------------------------------------------------
# 汇总.xlsx
# ----------------------------------------------------------------------------------------------------------
def test_summary_is_laid_out_for_a_reviewer(out: Path) -> None:
    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    assert wb.sheetnames == ["概览", "汇总", "问题清单"]
    for ws in wb:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and setup.paperSize == 9, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1)
        assert setup.fitToHeight == 0 and ws.freeze_panes == "A2" and ws.auto_filter.ref
    summary = wb["汇总"]
    rows = list(summary.iter_rows(min_row=2))
    for column in ("文件", "申报单位名称", "项目名称"):  # fitted to their content, wrapped past a cap
        letter = openpyxl.utils.get_column_letter(S[column] + 1)
        longest = max(text_width(str(r[S[column]].value)) for r in rows if r[S[column]].value)
        width = summary.column_dimensions[letter].width
        assert min(longest + 2, 20) <= width <= longest + 3, (column, width, longest)
        assert all(r[S[column]].alignment.wrap_text for r in rows if r[S[column]].value)
    money = [i for h, i in S.items() if h.endswith("（元）")]
    amounts = [r[i] for r in rows for i in money if r[i].value is not None]
    assert amounts and {c.number_format for c in amounts} == {"#,##0.00"}
    for i in money:  # wide enough for the formatted amount: no ###
        letter = openpyxl.utils.get_column_letter(i + 1)
        shown = [len(f"{c.value:,.2f}") for r in rows if (c := r[i]).value is not None]
        assert not shown or summary.column_dimensions[letter].width >= max(shown)
    problems = wb["问题清单"]
    header = [c.value for c in problems[1]]
    assert header == list(FINDINGS_HEADER)
    assert all(problems.cell(r, F["申报单位名称"] + 1).value for r in range(2, 30))


def test_findings_name_the_field_as_the_form_does(out: Path) -> None:
    rows = findings(out)
    by_path = {r[F["字段路径"]]: r[F["字段"]] for r in rows if r[F["字段路径"]]}
    assert by_path["indicators[8].target"] == "第9行 指标目标值"
    assert by_path["project.performance_type"] == "绩效类型"
    national = [r for r in rows if r[F["文件"]].endswith("national-2021.xlsx") and "indicators[" in r[F["字段路径"]]]
    profile = load_profile("national-2021")
    for r in national:  # that form's own headings (指标值, not 指标目标值)
        key = r[F["字段路径"]].rsplit(".", 1)[-1]
        assert r[F["字段"]].endswith(profile.column_label(key))
    text = [r for r in rows if r[F["文件"]].endswith(".txt")]
    assert text and all(re.fullmatch(r"第\d+行", r[F["单元格"]]) for r in text if r[F["单元格"]])


def _target(link: Any, out: Path) -> tuple[Path, str | None]:
    """Where a hyperlink of the summary leads: the file (relative to the summary) and the location in it."""
    target = unquote(str(link.target)).replace("\\", "/")  # a relationship's target is a URI
    assert not PurePosixPath(target).is_absolute() and ":" not in target, target  # relative, portable
    return (out / target).resolve(), link.location


def test_links_lead_to_the_returned_files_and_cells(batch: Path, out: Path) -> None:
    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    rows = list(wb["汇总"].iter_rows(min_row=2))
    linked = [r[S["文件"]] for r in rows if r[S["文件"]].hyperlink]
    assert len(linked) == len(rows)
    for c in linked:
        path, _ = _target(c.hyperlink, out)
        assert path == (batch / str(c.value)).resolve() and path.is_file()
    cells = 0
    sheets: dict[Path, list[str]] = {}
    for r in wb["问题清单"].iter_rows(min_row=2):
        file_link, cell_link = r[F["文件"]].hyperlink, r[F["单元格"]].hyperlink
        assert file_link is not None and _target(file_link, out)[0].is_file()
        if r[F["工作表"]].value is None or r[F["单元格"]].value is None:
            assert cell_link is None  # a text export's line, or a finding about no cell: nothing to jump into
            continue
        path, location = _target(cell_link, out)
        cells += 1
        if path not in sheets:
            sheets[path] = CalamineWorkbook.from_path(str(path)).sheet_names
        m = re.fullmatch(r"'((?:[^']|'')+)'!([A-Z]+\d+)", location or "")
        assert m and m.group(1).replace("''", "'") in sheets[path] and m.group(2) == r[F["单元格"]].value
    assert cells > 20


def _links(workbook: Path, sheet: str) -> dict[str, tuple[Path, str | None]]:
    """Each linked cell of a sheet: the file its link leads to (resolved beside the workbook) and the location."""
    wb = openpyxl.load_workbook(workbook)
    return {c.coordinate: _target(c.hyperlink, workbook.parent) for r in wb[sheet].iter_rows() for c in r
            if c.hyperlink}


def test_links_to_one_file_share_its_relationship(out: Path, tmp_path: Path) -> None:
    """A file's findings all link to it: one relationship serves them, so the sheet's relationships part stays
    small, and each cell still leads where it did, in LibreOffice (re-saved) as in openpyxl."""
    with zipfile.ZipFile(out / "汇总.xlsx") as z:
        part = z.read("xl/worksheets/sheet3.xml").decode()
        rels = z.read("xl/worksheets/_rels/sheet3.xml.rels").decode()
    used = re.findall(r'<hyperlink ref="[A-Z]+\d+" r:id="([^"]+)"', part)
    ids = re.findall(r'<Relationship Id="([^"]+)"', rels)
    assert len(ids) == len(set(ids)) and set(used) == set(ids) and len(ids) < len(used) / 2
    links = _links(out / "汇总.xlsx", "问题清单")
    assert len(links) == len(used)
    if _has_libreoffice():
        (resaved,) = lo.convert([out / "汇总.xlsx"], "xlsx", tmp_path)
        assert _links(resaved, "问题清单") == links


def test_excel_is_expected_to_open_the_summary_cleanly(out: Path) -> None:
    """The Open XML SDK's schema and semantic rules, and the repairs Excel is known to make (openxml-audit's
    app-compat rules): no finding of error severity, so no "we found a problem with some content" on opening.
    Desktop Excel itself cannot run here; this is the nearest independent judge."""
    from openxml_audit import OpenXmlValidator
    from openxml_audit.verdict import AppPrediction, predict

    result = OpenXmlValidator(max_errors=0, security_validation=True).validate(out / "汇总.xlsx")
    verdict = predict(result)
    assert verdict.prediction is AppPrediction.OPENS_CLEAN, (verdict.headline, result.errors[:5])


def _overview(out: Path) -> dict[str, Any]:
    """The 概览 sheet's totals and tables, read as values."""
    sheet = CalamineWorkbook.from_path(str(out / "汇总.xlsx")).get_sheet_by_name("概览").to_python()
    tables: dict[str, list[list[Any]]] = {}
    totals: dict[str, Any] = {}
    section = None
    for row in sheet:
        first = row[0] if row else ""
        if first in ("总计", "申报表状态", "各规则问题数", "各单位情况"):
            section = first
            tables[section] = []
        elif first == "":
            section = None if section != "总计" or totals else section
        elif section == "总计":
            totals[first] = row[1]
        elif section:
            tables[section].append([v for v in row[:5]])
    return {"totals": totals, **{k: v[1:] for k, v in tables.items() if k != "总计"}}


def test_overview_numbers_equal_the_csv(out: Path) -> None:
    seen = _overview(out)
    rows = findings(out)
    level = Counter(r[F["级别"]] for r in rows)
    totals = seen["totals"]
    assert (totals["错误"], totals["警告"], totals["提示"]) == (level["错误"], level["警告"], level["提示"])
    decls = declarations(out)
    assert totals["申报表数"] == len(decls) == len(csv_rows(out / "declarations.csv")) - 1
    assert Decimal(str(totals["项目总预算合计（元）"])) == sum(d.budget.total or 0 for d in decls)
    assert {r[0]: r[3] for r in seen["各规则问题数"]} == Counter(r[F["代码"]] for r in rows)
    by_unit: dict[str, Counter[str]] = {}
    for r in rows:
        by_unit.setdefault(r[F["申报单位名称"]] or "（未注明申报单位）", Counter())[r[F["级别"]]] += 1
    units = {r[0]: (r[2], r[3]) for r in seen["各单位情况"]}
    assert {u: (c["错误"], c["警告"]) for u, c in by_unit.items()} == {u: units[u] for u in by_unit}
    summary = CalamineWorkbook.from_path(str(out / "汇总.xlsx")).get_sheet_by_name("汇总").to_python()[1:]
    status = Counter(r[S["状态"]] for r in summary if r[S["JSON 文件"]])
    assert {r[0]: r[1] for r in seen["申报表状态"]} == {s: status[s] for s in ("通过", "有警告", "有错误")}
    assert sum(r[S["错误数"]] for r in summary) == level["错误"]  # cross-file findings counted in the rows too
    assert sum(r[S["警告数"]] for r in summary) == level["警告"]


def test_a_chart_part_per_chart(out: Path) -> None:
    with zipfile.ZipFile(out / "汇总.xlsx") as z:
        names = z.namelist()
        charts = sorted(n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 3
        kinds = [re.search(rb"<c:(pieChart|barChart)>", z.read(n)).group(1) for n in charts]  # type: ignore[union-attr]
        assert sorted(kinds) == [b"barChart", b"barChart", b"pieChart"]
        workbook = z.read("xl/workbook.xml").decode()
        assert workbook.index('name="概览"') < workbook.index('name="汇总"')  # the overview comes first
        assert b"drawing1.xml" in z.read("xl/worksheets/_rels/sheet1.xml.rels")  # drawn on the overview
        drawn = re.findall(rb'Target="../charts/(chart\d+\.xml)"', z.read("xl/drawings/_rels/drawing1.xml.rels"))
        assert sorted(f"xl/charts/{n.decode()}" for n in drawn) == charts


# ----------------------------------------------------------------------------------------------------------
# Marked-up copies
# ----------------------------------------------------------------------------------------------------------
def test_inputs_are_untouched_and_copies_mirror_the_tree(batch: Path, run: tuple[Path, dict[str, str]]) -> None:
    out, before = run
    assert digest(batch) == before
    copies = sorted(p.relative_to(out / "反馈").as_posix() for p in (out / "反馈").rglob("*") if p.is_file())
    expected = []
    for p in sorted(batch.rglob("*")):
        rel = p.relative_to(batch).as_posix()
        if p.is_file():
            expected.append(rel if rel.endswith(".xlsx") else f"{rel}.xlsx")
    assert copies == sorted(expected)


def _check_json(paths: list[Path]) -> list[dict[str, Any]]:
    done = subprocess.run([PERFGOAL, "check", *map(str, paths), "--format", "json"], capture_output=True,
                          timeout=300)
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_copies_mark_exactly_the_cells_check_names(batch: Path, out: Path) -> None:
    kept = sorted(p for p in batch.rglob("*.xlsx"))
    named = _check_json(kept)
    for path in kept:
        rel = path.relative_to(batch).as_posix()
        expected = {(f["sheet"], f["cell"]) for f in named if f["file"] == str(path) and f["cell"]
                    and f["severity"] != "info"}
        wb = openpyxl.load_workbook(out / "反馈" / rel)
        commented = {(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.comment}
        assert commented == expected, rel
        for sheet, cell in expected:
            worst = min((f for f in named if (f["file"], f["sheet"], f["cell"]) == (str(path), sheet, cell)),
                        key=lambda f: ["error", "warning"].index(f["severity"]))
            assert wb[sheet][cell].fill.fgColor.rgb.endswith(FILLS[worst["severity"]])
            assert worst["message"] in wb[sheet][cell].comment.text
        results = list(wb[RESULTS_SHEET].iter_rows(values_only=True))
        assert list(results[0]) == RESULTS_HEADER
        assert len(results) - 1 == len([f for f in named if f["file"] == str(path)])


def test_text_export_and_other_formats_get_a_new_workbook(batch: Path, out: Path) -> None:
    others = [p for p in batch.rglob("*") if p.is_file() and p.suffix != ".xlsx"]
    assert others
    for source in others:
        rel = source.relative_to(batch).as_posix()
        copy = out / "反馈" / f"{rel}.xlsx"
        original = read_file(source)
        again = read_file(copy)  # our template: it reads back to the same declarations
        assert [canonical.dumps(d.declaration) for d in again.declarations] == [
            canonical.dumps(d.declaration) for d in original.declarations]
        wb = openpyxl.load_workbook(copy)
        marked = {(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.comment}
        placed = {(d.sheet, f.cell) for d in again.declarations for f in d.findings
                  if f.cell and f.severity != "info"}
        assert marked == placed  # each finding where its field sits in the new workbook
        listed = list(wb[RESULTS_SHEET].iter_rows(values_only=True))[1:]
        assert len(listed) == len(original.all_findings())


def test_copies_survive_a_libreoffice_resave(out: Path, tmp_path: Path) -> None:
    copies = sorted((out / "反馈").glob("declarations-2020-0*.xlsx"))[:2]
    resaved = lo.convert(copies, "xlsx", tmp_path)
    for before, after in zip(copies, resaved, strict=True):
        a, b = openpyxl.load_workbook(before), openpyxl.load_workbook(after)
        assert b.sheetnames == a.sheetnames
        comments = [{(c.coordinate, c.comment.text) for row in wb[s].iter_rows() for c in row if c.comment}
                    for wb in (a, b) for s in [a.sheetnames[0]]]
        assert comments[0] == comments[1] and comments[0]
        assert list(a[RESULTS_SHEET].iter_rows(values_only=True)) == list(b[RESULTS_SHEET].iter_rows(values_only=True))
        assert [d.declaration for d in read_file(after).declarations] == [
            d.declaration for d in read_file(before).declarations]


class _Quiet:
    def alert(self, text: str) -> None:
        pass


def test_the_add_in_marks_as_the_copies_do(batch: Path, out: Path, tmp_path: Path) -> None:
    """校验本表 and bulk's copies are one implementation: the same cells, comments and result rows."""
    source = batch / "declarations-2020-02.xlsx" if (batch / "declarations-2020-02.xlsx").exists() else next(
        batch.rglob("declarations-2020-02.xlsx"))
    checked = tmp_path / "checked.xlsx"
    shutil.copyfile(source, checked)
    book = OpenpyxlBook(checked)
    validate_sheet(book, _Quiet())  # type: ignore[arg-type]
    book.save()
    mine = openpyxl.load_workbook(checked)
    theirs = openpyxl.load_workbook(out / "反馈" / source.relative_to(batch))
    sheet = mine.sheetnames[0]
    marks = [{(c.coordinate, c.comment.text, c.fill.fgColor.rgb) for row in wb[sheet].iter_rows() for c in row
              if c.comment} for wb in (mine, theirs)]
    assert marks[0] == marks[1] and marks[0]
    rows = [list(wb[RESULTS_SHEET].iter_rows(values_only=True)) for wb in (mine, theirs)]
    assert rows[0] == rows[1]


def test_feedback_is_asked_for_and_an_earlier_run_s_copies_go(batch: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copyfile(EXAMPLES[0], src / EXAMPLES[0].name)
    report = run_bulk(src, tmp_path / "out", jobs=1, progress=False, feedback=True)
    assert report.copies == 1 and (tmp_path / "out" / "反馈" / EXAMPLES[0].name).is_file()
    run_bulk(src, tmp_path / "again", jobs=1, progress=False, feedback=True)
    assert digest(tmp_path / "again") == digest(tmp_path / "out")  # copies too: the same bytes every run
    report = run_bulk(src, tmp_path / "out", jobs=1, progress=False)
    assert report.copies == 0 and not (tmp_path / "out" / "反馈").exists()


# ----------------------------------------------------------------------------------------------------------
# Flat tables
# ----------------------------------------------------------------------------------------------------------
def test_flat_tables(out: Path) -> None:
    decls = declarations(out)
    indicators = csv_rows(out / "indicators.csv")
    assert indicators[0] == list(INDICATOR_HEADER)
    assert len(indicators) - 1 == sum(len(d.indicators) for d in decls)
    col = {h: i for i, h in enumerate(INDICATOR_HEADER)}
    percent = next(r for r in indicators[1:] if r[col[COLUMNS["target"].label]] == "≥95%")
    assert (percent[col["比较符号（解析）"]], percent[col["数值（解析）"]], percent[col["计量单位（解析）"]]) == (
        "≥", "95", "%")
    assert {r[col["表式"]] for r in indicators[1:]} >= {"shanghai-2020", "county-2016", "national-2021"}
    county = [r for r in indicators[1:] if r[col["表式"]] == "county-2016"]
    assert {r[col[COLUMNS["period"].label]] for r in county} == {"长期绩效指标", "年度绩效指标"}
    rows = csv_rows(out / "declarations.csv")
    assert rows[0] == list(DECLARATION_HEADER)
    by_json = {r[-1]: r for r in rows[1:]}
    total = DECLARATION_HEADER.index("项目总预算（元）")
    for path in sorted((out / "json").rglob("*.json")):
        decl = canonical.loads(path.read_bytes())[0]
        row = by_json[path.relative_to(out).as_posix()]
        assert row[total] == (f"{decl.budget.total:.2f}" if decl.budget.total is not None else "")
        assert int(row[DECLARATION_HEADER.index("指标数")]) == len(decl.indicators)


def test_flat_tables_neutralise_formulas(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    text = (DATA / "declarations-2020.txt").read_text(encoding="utf-8")
    (src / "a.txt").write_text(text.replace("信息公开实现率", "=HYPERLINK(\"x\")", 1), encoding="utf-8")
    run_bulk(src, tmp_path / "out", jobs=1, progress=False)
    cells = [v for r in csv_rows(tmp_path / "out" / "indicators.csv") for v in r]
    assert "'=HYPERLINK(\"x\")" in cells and not any(v.startswith("=") for v in cells)


# ----------------------------------------------------------------------------------------------------------
# Cross-file checks
# ----------------------------------------------------------------------------------------------------------
def _variant(decl: Declaration, **changes: Any) -> Declaration:
    copy = deepcopy(decl)
    for path, value in changes.items():
        section, _, key = path.rpartition(".")
        setattr(getattr(copy, section) if section else copy, key, value)
    return copy


def test_resubmissions_and_consecutive_years(tmp_path: Path) -> None:
    base = read_file(EXAMPLES[0] if EXAMPLES[0].name.startswith("decl") else ROOT / "examples" /
                     "declarations-2020-01.xlsx").declarations[0].declaration
    src = tmp_path / "in"
    (src / "2021").mkdir(parents=True)
    first = _variant(base, year=2020, **{"budget.total": Decimal("1000000.00")})
    write_workbook(src / "a.xlsx", [first])
    write_workbook(src / "b 重报.xlsx", [first])  # the same project again: a resubmission
    later = _variant(base, year=2021, **{"budget.prior_year_budget": Decimal("900000.00"),
                                         "budget.prior_year_executed": Decimal("850000.00")})
    write_workbook(src / "2021" / "c.xlsx", [later])
    other = _variant(base, year=2021, **{"project.name": "另一个项目"})
    write_workbook(src / "2021" / "d.xlsx", [other])
    run_bulk(src, tmp_path / "out", jobs=2, progress=False)
    rows = [r for r in findings(tmp_path / "out") if r[F["代码"]].startswith("X")]
    assert [(r[F["文件"]], r[F["代码"]]) for r in rows] == [("b 重报.xlsx", "X001"), ("2021/c.xlsx", "X002"),
                                                           ("2021/c.xlsx", "X003")]
    assert "a.xlsx" in rows[0][F["说明"]] and "b 重报.xlsx" in rows[0][F["说明"]]
    assert "900000.00" in rows[1][F["说明"]] and "1000000.00" in rows[1][F["说明"]] and "a.xlsx" in rows[1][F["说明"]]
    assert "85.0%" in rows[2][F["说明"]]
    assert rows[1][F["字段"]] == "同名项目上年预算额（元）"
    summary = CalamineWorkbook.from_path(str(tmp_path / "out" / "汇总.xlsx")).get_sheet_by_name("汇总").to_python()
    row = next(r for r in summary if r[S["文件"]] == "2021/c.xlsx")
    own = [f for f in read_file(src / "2021" / "c.xlsx").declarations[0].findings if f.severity == "warning"]
    assert row[S["警告数"]] == len(own) + 1 and row[S["状态"]] != "通过"


# ----------------------------------------------------------------------------------------------------------
# perfgoal check in a console
# ----------------------------------------------------------------------------------------------------------
def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PERFGOAL, "check", *args], capture_output=True, text=True, timeout=300)


def test_check_is_readable_in_a_console() -> None:
    text = str(ROOT / "examples" / "declarations-2020.txt")
    workbook = str(ROOT / "examples" / "declarations-2020-02.xlsx")
    default = _check(workbook, text)
    assert default.returncode == 1
    lines = default.stdout.splitlines()
    assert lines[-1].startswith("合计：2 个文件，8 份申报表") and "提示未列出" in lines[-1]
    assert not any(" 提示 " in ln for ln in lines if ln.startswith("    "))
    assert sum(ln.startswith("== ") for ln in lines) == 2
    assert "  项目“公共资源交易平台专项经费”（工作表同名）" in lines  # named once
    findings_of = [ln.split()[0] for ln in lines[lines.index("  项目“公共资源交易平台专项经费”（工作表同名）") + 1:]
                   if ln.startswith("    ")][:6]
    assert findings_of == ["D6", "D19", "D26", "D28", "D29", "D30"]  # in cell order
    assert any(ln.lstrip().startswith("第31行") for ln in lines)  # a text export's line
    everything = _check(text, "--min-severity", "info").stdout
    assert " 提示 R001 " in everything and "提示未列出" not in everything
    errors = _check(text, "--min-severity", "error").stdout.splitlines()
    listed = [ln for ln in errors if ln.startswith("    ")]
    assert listed and all(" 错误 " in ln for ln in listed)
    assert errors[-1].endswith("（警告、提示未列出，加 --min-severity info 可列出）")
    as_json = json.loads(_check(text, "--format", "json", "--min-severity", "error").stdout)
    assert as_json and {f["severity"] for f in as_json} == {"error"}
    unchanged = json.loads(_check(text, "--format", "json").stdout)
    assert {f["severity"] for f in unchanged} == {"error", "warning", "info"}


def test_a_copy_that_cannot_be_made_costs_only_the_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from converter import bulk
    from converter.feedback import FeedbackOptions

    def broken(*args: Any) -> list[tuple[str, bytes]]:
        raise ValueError("openpyxl 无法保存")

    monkeypatch.setattr(bulk, "feedback_copies", broken)
    source = ROOT / "examples" / "declarations-2020-01.xlsx"
    outcome = bulk.process_file(str(source), source.name, feedback=FeedbackOptions())
    assert len(outcome.declarations) == 1 and outcome.feedback == []
    assert outcome.feedback_failed == "ValueError: openpyxl 无法保存"
    src = tmp_path / "in"
    src.mkdir()
    shutil.copyfile(source, src / source.name)
    report = run_bulk(src, tmp_path / "out", jobs=1, progress=False, feedback=True)  # forked: patched too
    assert (report.declarations, report.copies, report.copies_failed) == (1, 0, (source.name,))
