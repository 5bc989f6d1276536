"""The summary workbook's rows rendered by the workers (converter/sheet_rows.py) and spliced into XlsxWriter's
frame (converter/summary.py): read back by independent parsers (openpyxl, python-calamine, LibreOffice), with
the awkward text a returned file can carry, Excel's link limit, and the same rows rendered in a worker or in the
parent giving the same workbook."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from converter import bulk, deflate, summary
from converter.bulk import FileOutcome, WriteJson, Writer, process_file
from converter.fragments import render_outcome
from converter.sheet_rows import STYLES, Columns, PackedRows, Rows, all_unlinked

from . import lo

ROOT = Path(__file__).resolve().parent.parent
AWKWARD = ["_x0041_ stays as typed", " leading and trailing spaces ", "a < b & c > d \"quoted\"",
           "第一行\n第二行", "emoji 😀 and 𠀀", "tab\there", "=1+1 not a formula", "@SUM(A1)"]


def _outcome(rel: str, messages: list[str], sheet: str = "表1") -> FileOutcome:
    return FileOutcome(rel, findings=[(rel, "某单位", "某项目", sheet, f"D{19 + i}", "指标名称", "警告", "I010", m,
                                       "indicators[0].name") for i, m in enumerate(messages)])


def _write(folder: Path, outcomes: list[FileOutcome], link_base: str | None = "") -> Path:
    folder.mkdir()
    writer = Writer(folder, link_base=link_base)
    for outcome in outcomes:
        writer.add(outcome)
    writer.close()
    return folder / summary.SUMMARY_XLSX


def test_awkward_text_reads_back_exactly(tmp_path: Path) -> None:
    book = _write(tmp_path / "out", [_outcome("a.xlsx", AWKWARD)])
    ws = openpyxl.load_workbook(book)[summary.FINDINGS_SHEET]
    message = summary.FINDINGS_HEADER.index("说明") + 1
    # openpyxl does not undo the _xHHHH_ escape in inline strings (Excel, calamine and LibreOffice do).
    assert [ws.cell(r, message).value for r in range(3, 2 + len(AWKWARD))] == AWKWARD[1:]
    cal = CalamineWorkbook.from_path(str(book)).get_sheet_by_name(summary.FINDINGS_SHEET).to_python()
    assert [row[message - 1] for row in cal[1:]] == AWKWARD
    tall = ws.row_dimensions[2 + AWKWARD.index("第一行\n第二行")]
    assert tall.height == 30 and ws.cell(tall.index, message).alignment.wrap_text


def test_links_lead_to_the_file_and_cell_and_stop_at_the_limit(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "EXCEL_MAX_LINKS", 5)
    book = _write(tmp_path / "out", [_outcome("sub/a b.xlsx", ["一", "二", "三"], sheet="It's")], "../收到")
    ws = openpyxl.load_workbook(book)[summary.FINDINGS_SHEET]
    file_col, cell_col = (summary.FINDINGS_HEADER.index(h) + 1 for h in ("文件", "单元格"))
    links = [(c.coordinate, c.hyperlink.target, c.hyperlink.location) for row in ws.iter_rows() for c in row
             if c.hyperlink]
    target = r"..\收到\sub\a%20b.xlsx"  # as Excel and XlsxWriter store a relative file link
    assert links == [("A2", target, None), ("E2", target, "'It''s'!D19"), ("A3", target, None),
                     ("E3", target, "'It''s'!D20"), ("A4", target, None)]
    # Past the limit a cell keeps its text, without the link's look.
    assert ws.cell(4, cell_col).value == "D21" and not ws.cell(4, cell_col).font.u
    assert ws.cell(4, file_col).font.u == "single" and ws.cell(3, cell_col).font.u == "single"


def test_rows_written_a_file_at_a_time_and_one_by_one_at_the_limit_number_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file's rows go in one write unless they reach a limit; then one by one. Both number rows and links on."""
    monkeypatch.setattr(summary, "EXCEL_MAX_LINKS", 7)
    outcomes = [_outcome("a.xlsx", ["一", "二"]), _outcome("b.xlsx", ["三", "四"]), _outcome("c.xlsx", ["五"])]
    ws = openpyxl.load_workbook(_write(tmp_path / "out", outcomes))[summary.FINDINGS_SHEET]
    message = summary.FINDINGS_HEADER.index("说明") + 1
    assert [ws.cell(r, message).value for r in range(2, 7)] == ["一", "二", "三", "四", "五"]
    linked = [c.coordinate for row in ws.iter_rows() for c in row if c.hyperlink]
    assert linked == ["A2", "E2", "A3", "E3", "A4", "E4", "A5"]  # a: one write; b: one by one, cut at the 7th
    assert [ws.cell(r, 5).value for r in range(2, 7)] == ["D19", "D20", "D19", "D20", "D19"]
    assert not ws.cell(5, 5).font.u and not ws.cell(6, 1).font.u and ws.cell(5, 1).font.u == "single"


def test_rows_all_past_the_last_link_are_unlinked_at_once_as_row_by_row(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's rows that all come past the sheet's last link lose their links in one pass over the piece
    (``all_unlinked``); the workbook is byte for byte the one made row by row (``unlinked``), tall rows too."""
    outcomes = [_outcome(f"{name}.xlsx", [*AWKWARD, name]) for name in ("a", "b", "c", "d")]
    monkeypatch.setattr(summary, "EXCEL_MAX_LINKS", 2 * len(AWKWARD) + 3)  # b straddles the last link
    made = []

    def counted(*args: object) -> bytes | None:
        made.append(plain := all_unlinked(*args))  # type: ignore[arg-type]
        return plain

    def book(folder: Path) -> Path:
        return _write(folder, [FileOutcome(o.rel, findings=o.findings,
                                           fragments=render_outcome(o, "")) for o in outcomes])

    monkeypatch.setattr(summary, "all_unlinked", counted)
    at_once = book(tmp_path / "at_once")
    assert len(made) == 2 and None not in made  # c and d

    def one_by_one(sheet: summary._Sheet, packed: PackedRows) -> None:
        piece, row_links, *measured = packed
        sheet.merge(*measured)
        sheet.write(zip(summary._rows_of(deflate.inflated(piece)), row_links, strict=True))

    monkeypatch.setattr(summary._Sheet, "take_packed", one_by_one)
    row_by_row = book(tmp_path / "row_by_row")
    with zipfile.ZipFile(at_once) as a, zipfile.ZipFile(row_by_row) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
    ws = openpyxl.load_workbook(at_once)[summary.FINDINGS_SHEET]
    linked = {c.row for row in ws.iter_rows() for c in row if c.hyperlink}
    assert max(linked) == 2 + len(AWKWARD) + 1 and not any(c.font.u for row in ws.iter_rows(min_row=max(linked) + 2)
                                                        for c in row)
    tall = 2 * (len(AWKWARD) + 1) + 2 + AWKWARD.index("第一行\n第二行")  # in c's rows
    file_col, cell_col = (summary.FINDINGS_HEADER.index(h) + 1 for h in ("文件", "单元格"))
    assert ws.row_dimensions[tall].height == 30  # plain, each as its column is: 文件 wraps, 单元格 does not
    assert ws.cell(tall, file_col).alignment.wrap_text and not ws.cell(tall, cell_col).alignment.wrap_text


def test_a_worker_s_rendering_equals_the_parent_s(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    sample = ROOT / "examples" / "declarations-2020-03.xlsx"
    (src / "a.xlsx").write_bytes(sample.read_bytes())
    staged = tmp_path / "staged"
    (staged / "json").mkdir(parents=True)
    rendered = WriteJson(staged, process_file, "")(str(src / "a.xlsx"), "a.xlsx")
    assert rendered.fragments is not None
    plain = process_file(str(src / "a.xlsx"), "a.xlsx")
    first = _write(tmp_path / "worker", [rendered])
    second = _write(tmp_path / "parent", [plain])
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name


def test_styles_are_numbered_as_the_rows_name_them(tmp_path: Path) -> None:
    """A worker names a style by its index; the workbook's styles part holds them in that order."""
    book = _write(tmp_path / "out", [_outcome("a.xlsx", ["一"])])
    wb = openpyxl.load_workbook(book)
    ws = wb[summary.FINDINGS_SHEET]
    assert ws.cell(1, 1).font.b and ws.cell(1, 1).fill.fgColor.rgb.endswith("DDEBF7")  # "heading"
    assert ws.cell(2, 1).font.color.rgb.endswith("0563C1")  # "link"
    assert list(STYLES)[:2] == ["bold", "heading"]


def test_rows_name_no_cell_and_a_blank_keeps_its_column(tmp_path: Path) -> None:
    """A worker does not know where its rows will land: a row names no row or cell (each follows the one before),
    a blank column before a filled one is an empty cell; read back, each value is in its column."""
    rows = Rows(Columns(("文件", "单位", "工作表", "说明")))
    rows.add(["a.xlsx", None, None, "x" * 100])
    rows.add([None, "某单位", None, "短"])
    (xml, links), (second, _) = rows.done()[0]
    assert " r=" not in xml + second and xml.count("<c/>") == 2 and not links and 'ht="30"' in xml
    book = _write(tmp_path / "out", [_outcome("a.xlsx", ["一"]), FileOutcome("b.txt", findings=[
        ("b.txt", None, None, None, None, None, "错误", "F003", "没有申报表", None)])])
    ws = openpyxl.load_workbook(book)[summary.FINDINGS_SHEET]
    last = [c.value for c in ws[ws.max_row]]
    assert last[:7] == ["b.txt", None, None, None, None, None, "错误"] and last[8] == "没有申报表"
    cal = CalamineWorkbook.from_path(str(book)).get_sheet_by_name(summary.FINDINGS_SHEET).to_python()
    assert cal[-1][:7] == ["b.txt", "", "", "", "", "", "错误"] and len(cal) == ws.max_row


def test_libreoffice_opens_the_spliced_workbook(tmp_path: Path) -> None:
    lo.require_libreoffice()
    book = _write(tmp_path / "out", [_outcome("a.xlsx", AWKWARD), _outcome("b.xlsx", ["二"])])
    (resaved,) = lo.convert([book], "xlsx", tmp_path / "lo")
    cal = CalamineWorkbook.from_path(str(resaved)).get_sheet_by_name(summary.FINDINGS_SHEET).to_python()
    message = summary.FINDINGS_HEADER.index("说明")
    assert [row[message] for row in cal[1:]] == [*AWKWARD, "二"]


def test_data_sheets_are_deflated_at_their_level() -> None:
    """The data sheets' parts are compressed at the workers' pieces' level, ``deflate.LEVEL`` (the ZipFile's own
    level does not reach a part opened by its ZipInfo): the same bytes as zlib makes at that level."""
    import io
    import zlib

    text = "".join(f"<row><c><v>{i}</v></c><c t=\"inlineStr\"><is><t>第{i}行 指标目标值</t></is></c></row>"
                   for i in range(5000)).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, z.open(summary._member("xl/worksheets/sheet3.xml", (1980, 1, 1, 0, 0, 0)),
                                                "w") as fh:
        fh.write(text)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        info = z.getinfo("xl/worksheets/sheet3.xml")
        assert z.read(info) == text and info.compress_type == zipfile.ZIP_DEFLATED
    packer = zlib.compressobj(deflate.LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert info.compress_size == len(packer.compress(text) + packer.flush())


@pytest.mark.parametrize("folder", ["in x", "in #x", "in%41x", "in\\x"])
def test_links_lead_to_the_returned_file_whatever_its_folder_is_called(tmp_path: Path, folder: str) -> None:
    """A link holds the input folder's path too: where that path holds what a link cannot carry ("#", "%", a
    backslash in a folder's name), the files are listed without links rather than with dead ones."""
    in_dir = tmp_path / folder
    in_dir.mkdir()
    shutil.copy(ROOT / "examples" / "declarations-2020-01.xlsx", in_dir / "a.xlsx")
    out = tmp_path / "out"
    bulk.run_bulk(in_dir, out, jobs=1, progress=False)
    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    linked = 0
    for ws in (wb["汇总"], wb["问题清单"]):
        for row in ws.iter_rows():
            cell = row[0]  # the file's own column
            if cell.hyperlink is None:
                continue
            target = unquote(cell.hyperlink.target).replace("\\", "/")  # as Excel reads a relationship's URI
            assert (out / target).resolve().is_file(), (ws.title, cell.coordinate, cell.hyperlink.target)
            linked += 1
    if not any(c in folder for c in "#%\\"):  # a plain folder keeps its links (the check above is not idle)
        assert linked > 0
