"""The summary workbook's rows as a worker renders them (converter/sheet_rows.py): links made as XlsxWriter makes
them (without its parser per link), a link Excel cannot hold left out rather than stopping the batch, and what
texts make in a column remembered without changing a byte or growing without bound."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from xlsxwriter.url import Url

from converter import sheet_rows, summary
from converter.bulk import FileOutcome, Writer
from converter.sheet_rows import EXCEL_MAX_CHARS, STYLE, Columns, Rows, link_parts, render, xml_attribute

URLS = ["external:../收到/sub/a b.xlsx", "external:../收到/sub/a b.xlsx#'It''s'!D19", "external:C:/x/y.xlsx#'a'!A1",
        "external://srv/share/a.xlsx", "external:./a.xlsx", "external:a%20b.xlsx#'s'!A1",
        "external:a[1]^`{}<>\".xlsx#'s&<>\"\n/x'!A1", "external:file:///x//a.xlsx#'s'!B2", "external:ab/file:/c",
        "external:ab#c#d", "external:C:", "external:1:/a", "external:é:/a", "external:file:///C:/a.xlsx#x",
        "external:file://srv/a#b", "external:ab#" + "y" * 1040, "external:ab#" + "😀" * 1000]


def _xlsxwriter(url: str) -> tuple[str, str] | None:
    try:
        parsed = Url(url)
    except (ValueError, IndexError):
        return None
    anchor = parsed._anchor
    return xml_attribute(parsed._target()), f' location="{xml_attribute(anchor)}"' if anchor else ""


@pytest.mark.parametrize("url", URLS)
def test_link_parts_are_xlsxwriter_s(url: str) -> None:
    assert _xlsxwriter(url) is not None
    assert link_parts(url) == _xlsxwriter(url)


@pytest.mark.parametrize("url", ["external:" + "x" * 2100, "external:ab#" + "y" * 2100, "external:ab#" + "😀" * 1100,
                                 "external:a"])
def test_a_link_excel_cannot_hold_is_left_out(url: str) -> None:
    """XlsxWriter refuses these (too long; a one-character path it reads two characters of): no link."""
    assert _xlsxwriter(url) is None and link_parts(url) is None
    rows = Rows(Columns(("文件",)))
    rows.add([url[9:]], {0: url})
    ((xml, links),) = rows.done()[0]
    assert links == () and not any(f' s="{STYLE[s]}"' in xml for s in ("link", "link_wrap"))


def test_a_file_deeper_than_a_link_can_reach_is_listed_without_one(tmp_path: Path) -> None:
    """A returned file under folders longer than Excel's 2080-character link: the batch completes."""
    deep = "/".join(["d" * 240] * 9) + "/a.xlsx"
    outcome = FileOutcome(deep, findings=[(deep, "单位", "项目", "表1", "D19", "指标名称", "警告", "I010", "说明",
                                           "indicators[0].name")])
    out = tmp_path / "out"
    out.mkdir()
    writer = Writer(out, link_base="../收到")
    writer.add(outcome)
    writer.close()
    ws = openpyxl.load_workbook(out / summary.SUMMARY_XLSX)[summary.FINDINGS_SHEET]
    assert ws.cell(2, 1).value == deep and ws.cell(2, 1).hyperlink is None and not ws.cell(2, 1).font.u
    assert ws.cell(2, 5).value == "D19" and ws.cell(2, 5).hyperlink is None


def test_remembered_texts_render_as_new_ones_and_cuts_count_each_time() -> None:
    columns = Columns(("文件", "说明", "代码"))
    long = "长" * (EXCEL_MAX_CHARS + 1)
    rows_in = [["a.xlsx", "第一行\n第二行", "I001"], ["a.xlsx", long, "I001"], ["a.xlsx", long, "I002"],
               ["b.xlsx", " 空格 ", "I001"]]
    first = Rows(columns)
    written = [first.add(r) for r in rows_in]
    again = Rows(columns)  # every text remembered now
    assert [again.add(r) for r in rows_in] == written
    assert again.done() == first.done()
    assert first.done()[3] == 2  # the long text cut twice, once a row
    for texts in columns.memo:
        texts.clear()
    fresh = Rows(columns)
    for r in rows_in:
        fresh.add(r)
    assert fresh.done() == first.done()


def test_remembered_texts_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_rows, "_MEMO_TEXTS", 10)
    columns = Columns(("单元格", "说明"))
    rows = Rows(columns)
    for i in range(25):
        rows.add([f"D{i}", "说" * (sheet_rows._MEMO_CHARS + 1)])
    memo = columns.memo
    assert 0 < len(memo[0]) <= 10 and not memo[1]  # a long text is not remembered
    assert [xml for xml, _ in rows.done()[0]] == [xml for xml, _ in _fresh(columns, rows.done()[0])]


def _fresh(columns: Columns, rendered: list[sheet_rows.SheetRow]) -> list[sheet_rows.SheetRow]:
    for texts in columns.memo:
        texts.clear()
    again = Rows(columns)
    for i in range(len(rendered)):
        again.add([f"D{i}", "说" * (sheet_rows._MEMO_CHARS + 1)])
    return again.done()[0]


def test_a_row_renders_the_same_after_any_other() -> None:
    """Rows of one line and of several, with links, amounts and counts, each rendered as ``render`` renders it
    alone, whatever row came before (a row is first written as the one before it was)."""
    columns = summary.SUMMARY_COLUMNS
    money = min(columns.money)
    count = summary.SUMMARY_HEADER.index("错误数")

    def row(name: str, project: str | None) -> list[object]:
        values: list[object] = [None] * len(columns.header)
        values[0], values[summary.S_UNIT], values[money], values[count] = name, project, Decimal("1234.5"), 3
        return values

    rows_in = [row("a.xlsx", "短"), row("sub/" + "长" * 30 + ".xlsx", "项目" * 20), row("b.xlsx", None),
               row("c.xlsx", " 前后空格 "), row("d.xlsx", "a < b & c"), row("e.xlsx", "第一行\n第二行")]
    for order in (rows_in, rows_in[::-1], rows_in[1:] + rows_in[:1]):
        for tall_first in (False, True):
            columns.tall_last[0] = tall_first
            rows = Rows(columns)
            written = [rows.add(r, {0: f"external:../收到/{r[0]}"}) for r in order]
            expected = [render(columns, w, {0: f"external:../收到/{w[0]}"}) for w in written]
            assert rows.done()[0] == expected
    assert {'ht="' in xml for xml, _ in expected} == {True, False}
