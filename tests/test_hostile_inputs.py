"""What a second red team found: outputs that would replace a device or a pipe, inputs that are not files, a text
export with a few bad bytes, cells holding Excel's error values, a fractional year, a timeout too small to read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from converter.reading import read_file

from .conftest import SAMPLE

PERFGOAL = [sys.executable, "-m", "xl_addin.cli"]


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*PERFGOAL, *args], capture_output=True, timeout=120)


def test_an_output_never_replaces_a_pipe_and_writes_through_a_link(tmp_path: Path) -> None:
    fifo = tmp_path / "out.xlsx"
    os.mkfifo(fifo)
    done = run("template", "-o", str(fifo))
    assert done.returncode == 2 and "不是普通文件" in done.stderr.decode("utf-8")
    assert fifo.is_fifo()
    target, link = tmp_path / "target.xlsx", tmp_path / "link.xlsx"
    link.symlink_to(target)
    assert run("template", "-o", str(link)).returncode == 0
    assert link.is_symlink() and target.stat().st_size > 1000


def test_inputs_that_are_not_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    (finding,) = read_file(fifo).findings
    assert finding.code == "F001" and "不是普通文件" in finding.message
    done = run("to-xlsx", "/dev/zero", "-o", str(tmp_path / "z.xlsx"))
    assert done.returncode == 2 and "不是普通文件" in done.stderr.decode("utf-8")


@pytest.mark.parametrize("spoil", ["utf8-bad-bytes", "utf16-no-bom", "utf16-lone-surrogate", "nul"])
def test_a_few_bad_bytes_in_a_text_export_are_findings_at_their_cells(tmp_path: Path, spoil: str) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    name = "办公用房修缮"
    data = {
        "utf8-bad-bytes": text.encode().replace(name.encode(), b"\x80\x81" + name.encode(), 1),
        "utf16-no-bom": text.encode("utf-16-le"),
        "utf16-lone-surrogate": b"\xff\xfe" + text.encode("utf-16-le").replace(
            name.encode("utf-16-le"), b"\x00\xd8" + name.encode("utf-16-le"), 1),
        "nul": text.encode().replace(name.encode(), b"\x00" + name.encode(), 1),
    }[spoil]
    path = tmp_path / "spoilt.txt"
    path.write_bytes(data)
    result = read_file(path)
    assert len(result.declarations) == 7, result.findings
    first = result.declarations[0]
    marks = [(f.code, f.cell) for f in first.findings if f.code in ("R010", "R016")]
    assert marks == ([] if spoil == "utf16-no-bom" else [("R010" if spoil == "nul" else "R016", "B6")])
    assert name in (first.declaration.project.name or "")


def test_a_cell_holding_an_error_value(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r, row in enumerate([["财政项目支出绩效目标申报表"], ["项目名称*：", "错误值"],
                             ["一级目标", "二级目标", "三级目标", "指标目标值"],
                             ["产出目标", "数量", "培训人次", None]], start=1):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
    ws["D4"].value, ws["D4"].data_type = "#N/A", "e"
    path = tmp_path / "e.xlsx"
    wb.save(path)
    (found,) = read_file(path).declarations
    codes = {(f.code, f.cell) for f in found.findings}
    assert ("R017", "D4") in codes and not any(code == "I007" for code, _ in codes)  # one verdict a cell
    done = run("to-json", str(path))
    assert done.returncode == 1 and "R017" in done.stderr.decode("utf-8")


def test_a_fractional_year_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "y.txt"
    path.write_text("财政项目支出绩效目标申报表\n年度：\t2027.5\n项目名称*：\t年度\n", encoding="utf-8")
    (found,) = read_file(path).declarations
    assert found.declaration.year is None and ("R007", "B2") in {(f.code, f.cell) for f in found.findings}


def test_a_timeout_too_small_to_read_anything_is_refused() -> None:
    done = run("check", str(SAMPLE), "--timeout", "1e-300")
    assert done.returncode == 2 and "--timeout" in done.stderr.decode("utf-8")


def test_bulk_where_a_folder_is_named_like_a_files_json_and_old_outputs_lie_in_the_input(tmp_path: Path) -> None:
    from converter.bulk import SKIPPED_OUTPUT, SUMMARY_HEADER, run_bulk

    inputs = tmp_path / "in"
    (inputs / "a.txt.json").mkdir(parents=True)
    (inputs / "a.txt").write_bytes(SAMPLE.read_bytes())
    (inputs / "a.txt.json" / "b.txt").write_bytes(SAMPLE.read_bytes())
    first = run_bulk(inputs, inputs / "out-monday", jobs=1)
    assert first.declarations == 14
    second = run_bulk(inputs, inputs / "out-tuesday", jobs=1)
    assert second.declarations == 14  # the earlier run's outputs are not read as inputs…
    wb = openpyxl.load_workbook(inputs / "out-tuesday" / "汇总.xlsx")
    rows = [[c.value for c in row] for row in wb["汇总"].iter_rows(min_row=2)]
    status = SUMMARY_HEADER.index("状态")
    assert ["out-monday", SKIPPED_OUTPUT] in [[r[0], r[status]] for r in rows]  # …but listed, with the reason
