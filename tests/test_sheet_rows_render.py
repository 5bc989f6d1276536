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
from converter.fragments import finding_sheet_rows
from converter.sheet_rows import (
    EXCEL_MAX_CHARS,
    STYLE,
    Columns,
    FileLinks,
    Rows,
    cell_url,
    file_url,
    link_parts,
    render,
    xml_attribute,
)

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


# Texts a finding's cells carry, the awkward ones included: several lines, spaces at an end, XML's characters, the
# ``_xHHHH_`` escape, runs of astral characters (wider than two units a character: measured otherwise), a text
# past Excel's cell limit, the empty text, nothing.
_TEXTS = ["a.xlsx", "sub/" + "长" * 30 + ".xlsx", "第一行\n第二行\n第三行", " 前后空格 ", "a < b & c \"q\"", "_x0041_",
          "😀" * 9, "😀" * 40, "说明" * 40, "D19", "", None, "长" * (EXCEL_MAX_CHARS + 5)]
_WEIGHTS = [1 if "😀" not in (t or "") else .1 for t in _TEXTS]


@pytest.mark.parametrize("seed", range(6))
def test_rows_added_at_once_render_as_each_added_alone(seed: int) -> None:
    """``Rows.add_texts`` (a file's findings a column at a time) gives what ``Rows.add`` gives row by row: the
    same XML, links, widths, filled columns and cut cells, with texts remembered or not, links on some rows."""
    import random

    draw = random.Random(seed)
    columns = Columns(summary.FINDINGS_HEADER)
    width = len(columns.header)
    checked = 0
    for length in (1, 7, 12, 60):
        rows = [tuple(draw.choices(_TEXTS, _WEIGHTS)[0] for _ in range(width)) for _ in range(length)]
        if seed % 2:  # runs of one file and sheet, as a file's findings come
            rows = [(rows[0][0], rows[0][1], *r[2:]) for r in rows]
        urls = [{c: f"external:../收到/{r[c]}#'s'!A{i}" for c in (0, 4) if r[c] is not None and draw.random() < .8}
                for i, r in enumerate(rows)]
        parts = {c: [link_parts(u[c]) if c in u else None for u in urls] for c in (0, 4)}
        for warm in (False, True):
            if not warm:
                for texts in columns.memo:
                    texts.clear()
            one = Rows(columns)
            for row, links in zip(rows, urls, strict=True):
                one.add(row, links)
            at_once = Rows(columns)
            at_once.add_texts(rows, parts)
            assert at_once.done() == one.done()
            # ``render``, the plain way, agrees on every row, runs of astral characters (2.5 units each) included.
            assert [xml for xml, _ in one.done()[0]] == [render(columns, _written(r), u)[0]
                                                        for r, u in zip(rows, urls, strict=True)]
            checked += len(rows)
    assert checked


def _written(row: tuple[str | None, ...]) -> list[str | None]:
    return [v if v is None or len(v) <= EXCEL_MAX_CHARS else sheet_rows._sheet_text(v)[0] for v in row]


def test_rows_added_at_once_may_hold_any_value() -> None:
    """Rows with numbers, or of other lengths, go one by one as ``add`` takes them."""
    columns = summary.SUMMARY_COLUMNS
    money = min(columns.money)
    rows = [tuple(Decimal(i) if c == money else f"x{i}" for c in range(len(columns.header))) for i in range(12)]
    for table in (rows, [*rows, rows[0][:3]]):
        one = Rows(columns)
        for row in table:
            one.add(row)
        at_once = Rows(columns)
        at_once.add_texts(table)  # type: ignore[arg-type]
        assert at_once.done() == one.done()


_SHEETS = ["表1", "It's", "a&b<c>\"d\"", "x/y", "file:x", "长" * 1100, "#"]
_CELLS = ["D19", "第9行", "A1&", "a/b", "", None, "x" * 1100]


@pytest.mark.parametrize("link_base", ["../收到", "", "file:///C:/收到", "C:/a#b", "x", None])
@pytest.mark.parametrize("shown", ["sub/a b.xlsx", "a", "a.xlsx", "b%20.xlsx", "d" * 2100])
def test_a_file_s_links_are_link_parts_of_its_urls(link_base: str | None, shown: str) -> None:
    links = FileLinks(link_base, shown)
    url = file_url(link_base, shown)
    assert links.file == (link_parts(url) if url else None)
    for sheet in [*_SHEETS, None, ""]:
        expected = [link_parts(u) if (u := cell_url(link_base, shown, sheet, c)) else None for c in _CELLS]
        assert [links.cell(sheet, c) for c in _CELLS] == expected
        assert links.cells(sheet, _CELLS) == expected
        assert links.cells(sheet, _CELLS[:1]) == expected[:1]  # a run that takes the joined path


def test_a_file_s_findings_render_as_each_added_with_its_links() -> None:
    """``finding_sheet_rows`` (links made a file and a sheet at a time) against ``Rows.add`` with ``finding_links``,
    over files and sheets of every kind, rows without a file or cell among them."""
    findings = [(f, "单位", "项目", s, c, "字段", "警告", "I010", "说明", "indicators[0].name")
                for f in ("a.xlsx", "", None, "sub/b#.xlsx", "c.xlsx") for s in ("表1", None, "x/y", "It's")
                for c in ("D19", None, "第9行", "")]
    for link_base in ("../收到", None, ""):
        for rows in (findings, findings[:16], [r for r in findings if r[3] == "表1" and r[4]]):  # all; one file's
            one = Rows(summary.FINDINGS_COLUMNS)
            for row in rows:
                one.add(row, summary.finding_links(link_base, row))
            assert finding_sheet_rows(rows, link_base) == one.done()
    assert finding_sheet_rows([], "") == Rows(summary.FINDINGS_COLUMNS).done()


def test_rows_measure_astral_runs_as_render_does() -> None:
    """A run of astral characters is wider than two units a character (2.5 each): a row holding one is as tall as
    ``render`` makes it wherever the column's width stands, one by one or at once."""
    columns = Columns(summary.FINDINGS_HEADER)
    path = summary.FINDINGS_HEADER.index("字段路径")  # wraps at 22
    runs = ["😀" * 9, "x" * 19, "😀" * 9, "x" * 30, "😀" * 9]
    rows = [tuple(run if c == path else "a" for c in range(len(columns.header))) for run in runs]
    one = Rows(columns)
    for row in rows:
        one.add(row)
    at_once = Rows(columns)
    at_once.add_texts(rows)
    assert at_once.done() == one.done()
    assert [xml for xml, _ in one.done()[0]] == [render(columns, r, None)[0] for r in rows]
    assert ['ht="' in xml for xml, _ in one.done()[0]] == [True, False, True, True, True]
