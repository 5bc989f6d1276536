"""The template's checks in native formulas, recalculated by a real LibreOffice, agree with `perfgoal check` on
every rule they cover — on the examples of every profile and on a form built to break each of them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from converter.model import Declaration, Indicator
from converter.profile import load_profile
from converter.reading import DeclarationResult, read_file
from converter.rules import CATALOGUE, check
from converter.template_layout import SheetLayout, sheet_layout
from converter.writers import native_checks
from converter.writers.xlsx import write_workbook

from . import lo

ROOT = Path(__file__).parent.parent
# The rules the native column covers, as its generator declares them.
INDICATOR_CODES = set(re.findall(r'\("(I\d{3})", ', Path(native_checks.__file__).read_text(encoding="utf-8")))
BUDGET_CODES = {"B001", "B002", "B003"}


def _bad_form() -> Declaration:
    rows = [
        Indicator(level1="乱填", level2="投入管理", name="预算编制合理性", target="合理"),  # I002
        Indicator(level1="投入与管理", level2=None, name="财务制度", target="健全"),  # I003
        Indicator(level1="产出目标", level2="满意度", name="数据检查次数", target="≥200次"),  # I005
        Indicator(level1="产出目标", level2="数量", name=None, target="≥1个"),  # I006
        Indicator(level1="产出目标", level2="质量", name="数据准确率", target=None),  # I007
        Indicator(level1="产出目标", level2="质量", name="数据准确率（二）", target="较高"),  # I008
        Indicator(level1="效果目标", level2="满意度", name="服务对象满意度", target=">=90"),  # I009
        Indicator(level1="效果目标", level2="满意度", name="员工满意度", target="≥９５％"),  # full width: fine
        Indicator(level1="产出目标", level2="时效", name="运行效率", target="高效"),  # 效率 is no rate
        Indicator(level1="产出目标", level2="成本", name="单位成本", target="≤450元"),  # clean
        Indicator(level1=None, level2="数量", name="培训人次", target="≥500人次"),  # I001
    ]
    return Declaration(profile="shanghai-2020", year=2027, project={"name": "故意出错"},
                       budget={"total": "100.00", "current_year": "200.00", "prior_year_budget": "-5.00",
                               "prior_year_executed": "50.00"}, indicators=rows)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("native")
    bad = folder / "bad.xlsx"
    write_workbook(bad, [_bad_form()])
    sources = [*sorted((ROOT / "examples").glob("*.xlsx")), bad]
    return list(zip(sources, lo.convert(sources, "xlsx", folder / "lo"), strict=True))


def _grid(path: Path, sheet: str) -> list[list[Any]]:
    wb = CalamineWorkbook.from_path(str(path))
    try:
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    finally:
        wb.close()


def _rows(d: DeclarationResult, layout: SheetLayout) -> list[int]:
    """The sheet row (0-based) of each indicator, as our writer lays a declaration out, table by table."""
    out = {}
    for table in layout.tables:
        mine = [i for i, ind in enumerate(d.declaration.indicators)
                if ind.period == table.period or len(layout.tables) == 1]
        out.update({i: table.first_row - 1 + k for k, i in enumerate(mine)})
    return [out[i] for i in range(len(d.declaration.indicators))]


def _shown(grid: list[list[Any]], row: int, col: int) -> set[str]:
    text = str(grid[row][col] if col < len(grid[row]) else "")
    return set() if text in (native_checks.OK, "") else set(text.split("；"))


def test_native_column_agrees_with_check(recalculated: list[tuple[Path, Path]]) -> None:
    for source, computed in recalculated:
        (d,) = read_file(source).declarations
        layout = sheet_layout(load_profile(d.declaration.profile))
        grid = _grid(computed, d.sheet or "")
        col = len(layout.letters)  # the 校验 column, right of the form
        for i, row in enumerate(_rows(d, layout)):
            fired = {CATALOGUE[f.code].title for f in d.findings if f.code in INDICATOR_CODES
                     and (f.field or "").startswith(f"indicators[{i}].")}
            assert _shown(grid, row, col) == fired, (source.name, i, d.declaration.indicators[i])
        if "@budget" in layout.sections:
            fired = {CATALOGUE[f.code].title for f in d.findings if f.code in BUDGET_CODES}
            assert _shown(grid, layout.sections["@budget"], col) == fired, source.name


def test_the_bad_form_breaks_every_covered_rule() -> None:
    """So the agreement above is tested on each rule the native column covers, not only on clean rows."""
    fired = {f.code for f in check(_bad_form())}
    assert INDICATOR_CODES == {"I001", "I002", "I003", "I005", "I006", "I007", "I008", "I009"}
    assert INDICATOR_CODES | BUDGET_CODES <= fired
