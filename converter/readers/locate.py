"""Locate declarations in a grid — by our template's defined names, or by the labels forms print — and read them.

One locating logic for every layout and every file format: the labels, column headings and headings of all
profiles are known (``converter.labels``), so a form is found wherever it sits on the sheet, whatever its layout;
several may follow one another. The indicator tables are found by their heading rows (one row, or two with a
merged group heading, as WPS saves them), with or without a level-1 column, and kept apart by period where a form
has long-term and annual tables. Which profile the form follows is decided from what was found (``detect``),
unless the caller forces one. Every non-blank cell either lands in a field or is reported (R002).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Generic, TypeVar

from ..fields import COLUMNS, HEADER, INDICATOR_PREFIX, declaration_from
from ..findings import Finding
from ..htmltext import html_tags, html_to_text
from ..labels import (
    LONG_TERM_TARGET,
    TABLE_GROUP_HEADINGS,
    TITLE_CHARS,
    YEAR_LINE,
    is_title,
    label_key,
    other_form,
    title_profiles,
    unit_line,
    vocabulary,
    year_of_title,
)
from ..model import (
    MAX_CELL_CHARS,
    Indicator,
    Kind,
    Period,
    has_controls,
    indicator_read,
    indicator_row,
    strip_controls,
)
from ..profile import DEFAULT_PROFILE, MoneyUnit, Profile, load_profile, profile_names, strip_unit, unit_of_label
from ..rules import (
    AMOUNT_CONVERTED,
    AMOUNT_UNPARSEABLE,
    CHOICE_TICKED,
    CONTENT_UNPLACED,
    CONTROLS_REMOVED,
    DATE_UNPARSEABLE,
    ERROR_VALUE,
    FLAG_UNPARSEABLE,
    FORMULA_BY_VALUE,
    HTML_CONVERTED,
    INDICATOR_ROW_AMBIGUOUS,
    LEVEL1_INFERRED,
    ROW_REPAIRED,
    UNDECODABLE,
    VALUE_TOO_LONG,
    YEAR_UNPARSEABLE,
)
from ..targets import parse_target
from ..template_layout import CHECK_LABEL, path_of, period_of_table_name
from .grid import CellRange, ErrorValue, Formula, Grid, is_blank
from .text_export import REPLACEMENT
from .values import as_date, as_flag, as_money, as_text, as_year, money_unit_written, ticked

_NOTE = re.compile(r"^[^：:]{1,15}[：:]")
_KINDS = {path: spec.kind for path, spec in HEADER.items()}  # asked of every header field read
_YEAR_PREFIX = re.compile(r"^[(（]?\d{4}[)）]?年度?")
CORE = ("level1", "level2", "name", "target")
_GROUP_KEYS = frozenset(label_key(h) for h in TABLE_GROUP_HEADINGS)



# Where one indicator's cells are: its table row, the table's columns by key and, where the reader placed a value
# elsewhere than its column (a shifted row, an inherited level, the long-term target), those keys' positions.
_RowCells = tuple[int, dict[str, int], dict[str, tuple[int, int]] | None]
_ROW_PATH = re.compile(r"indicators\[(\d+)\]\.(.+)")
_ROW_PREFIX = re.compile(r"indicators\[(\d+)\]\.")


@dataclass
class FormRead:
    """One declaration found in a grid, with the reader's own findings and where each field came from."""

    declaration: Any  # Declaration
    findings: list[Finding]
    header_cells: dict[str, tuple[int, int]]  # header field path (and "indicators": the table) → grid position
    grid: Grid
    anchor: str  # the cell where the form starts, to tell forms apart
    rows: list[_RowCells] = field(default_factory=list)  # each indicator's cells, in the declaration's order

    @property
    def sheet(self) -> str | None:
        return self.grid.sheet

    @property
    def positions(self) -> dict[str, tuple[int, int]]:
        """Field path → grid position for every field placed (``indicators[3].target``…), in reading order.

        Made when asked: a finding asks ``cell`` for its own field only, and a table holds hundreds of cells."""
        out = dict(self.header_cells)
        for index, (r, columns, moved) in enumerate(self.rows):
            for key, c in columns.items():
                out[f"indicators[{index}].{key}"] = (r, c)
            for key, pos in (moved or {}).items():
                out[f"indicators[{index}].{key}"] = pos
        return out

    def position(self, path: str) -> tuple[int, int] | None:
        pos = self.header_cells.get(path)
        if pos is not None or not path.startswith("indicators["):
            return pos
        found = _row_path(path)
        if found is None or found[0] >= len(self.rows):
            return None
        r, columns, moved = self.rows[found[0]]
        pos = moved.get(found[1]) if moved else None
        if pos is None:
            c = columns.get(found[1])
            pos = None if c is None else (r, c)
        return pos

    def cell(self, path: str) -> str | None:
        pos = self.position(path)
        return None if pos is None else self.grid.ref(*pos)

    def first_cell(self, prefix: str) -> str | None:
        """The cell of the first field placed whose path starts with ``prefix`` (``indicators[3].``), in
        ``positions``' order, without making them all."""
        m = _ROW_PREFIX.fullmatch(prefix)
        if m is None:
            return next((self.cell(p) for p in self.positions if p.startswith(prefix)), None)
        index = int(m.group(1))
        if index >= len(self.rows):
            return None
        r, columns, moved = self.rows[index]
        for key, c in columns.items():  # a row's first key: its first column's, wherever its value was placed
            pos = moved.get(key, (r, c)) if moved else (r, c)
            return self.grid.ref(*pos)
        return next((self.grid.ref(*pos) for pos in (moved or {}).values()), None)


@lru_cache(maxsize=16384)
def _row_path(path: str) -> tuple[int, str] | None:
    m = _ROW_PATH.fullmatch(path)
    return (int(m.group(1)), m.group(2)) if m else None


@dataclass
class _Table:
    """One indicator table: where its heading row is, which column holds which key, and its period."""

    header_row: int
    header_rows: int  # 1, or 2 for a merged two-row heading
    columns: dict[str, int]  # Indicator key → grid column
    period: Period | None
    end: int | None = None  # exclusive; None: up to the next table or the block's end


@dataclass(slots=True)
class _RawRow:
    cells: dict[str, tuple[Any, int, int]]  # key → (value, r, c), as the table's columns on row r
    extra: tuple[Any, int, int] | None  # the cell right of the last column, where shifted rows spill
    period: Period | None
    table: int


@dataclass
class _Block:
    grid: Grid
    first: int
    last: int  # exclusive
    findings: list[Finding] = field(default_factory=list)
    cells: dict[str, tuple[int, int]] = field(default_factory=dict)  # header fields' positions
    used: set[tuple[int, int]] = field(default_factory=set)  # header cells placed (table rows lie below them)
    rows: list[_RowCells] = field(default_factory=list)  # each indicator's cells

    def note(self, finding: Finding, r: int, c: int) -> None:
        self.findings.append(self.at(finding, r, c))

    def at(self, finding: Finding, r: int, c: int) -> Finding:
        return finding.located(sheet=self.grid.sheet, cell=self.grid.ref(r, c))


def _text(value: Any) -> str:
    return as_text(value) or ""


def _is_title(value: Any) -> bool:
    return isinstance(value, str) and _title_text(value)


_T = TypeVar("_T")
REMEMBERED_CHARS = 200  # texts as long as labels, headings and common values are remembered; long texts are not


class _TextMemo(Generic[_T]):
    """``fn`` remembered for texts of at most ``REMEMBERED_CHARS`` characters: what a cell's words say is asked
    of every cell of every form, and the same words recur, while a batch of long texts would fill a memory
    that no form asks again. A loop over a sheet's cells calls ``remembered`` itself where a text is short (one
    call into the cache, no wrapper between)."""

    __slots__ = ("fn", "remembered")

    def __init__(self, fn: Callable[[str], _T]) -> None:
        self.fn = fn
        self.remembered = lru_cache(maxsize=16384)(fn)

    def __call__(self, text: str) -> _T:
        return self.remembered(text) if len(text) <= REMEMBERED_CHARS else self.fn(text)


def _short_texts(fn: Callable[[str], _T]) -> _TextMemo[_T]:
    return _TextMemo(fn)


# What an outline number (一、, （二）) or 其中 before a label may take away when a text is normalised
# (``label_key``); every other CJK unified ideograph stays, unchanged and unmerged, through NFKC and the rest.
_DROPPABLE = "一二三四五六七八九十其中"


def _kept_ideographs() -> str:
    """A regex class of the ideographs normalising never takes away (U+4E00–U+9FFF but ``_DROPPABLE``)."""
    parts, start = [], 0x4E00
    for cp in sorted(map(ord, _DROPPABLE)):
        if cp > start:
            parts.append(f"{chr(start)}-{chr(cp - 1)}")
        start = cp + 1
    parts.append(f"{chr(start)}-\u9fff")
    return "".join(parts)


@cache
def _sentence_pattern() -> tuple[int, re.Pattern[str]]:
    """(limit, pattern): a text with more kept ideographs than ``limit`` is longer, normalised, than any word of
    the vocabulary (a label, heading, title or unit line, with a year before it or a unit after it), so none of
    them; the pattern tells it without normalising the text."""
    vocab = vocabulary()
    longest = max(len(k) for keys in (vocab.header, vocab.columns, vocab.sections, vocab.periods, vocab.footer,
                                       vocab.other_columns, _GROUP_KEYS) for k in keys)
    limit = max(TITLE_CHARS, longest) + 4  # a year before it (年度) or a unit after it (（万元）) may go
    kept = _kept_ideographs()
    return limit, re.compile(f"(?:[^{kept}]*[{kept}]){{{limit + 1}}}")


def _sentence(text: str) -> bool:
    """Whether a text is surely no word of the form (a long value, a sentence): asked before normalising a text
    no form prints as a word, which for a long value costs more than all else read from it."""
    limit, pattern = _sentence_pattern()
    return len(text) > limit and pattern.match(text) is not None


@_short_texts
def _title_text(text: str) -> bool:
    """``is_title``, remembered: every cell of every sheet is asked whether it is a form's title."""
    return not _sentence(text) and is_title(text)


@_short_texts
def _column_of(text: str) -> str | None:
    """``vocabulary().column``, remembered: every text cell of a sheet read by labels is asked whether it heads a
    column of the indicator table."""
    return None if _sentence(text) else vocabulary().column(text)


def _heading_word(text: str) -> bool:
    """Whether a text that is no sentence (``_sentence``) heads a column of the indicator table or a group of its
    columns (绩效指标 merged over 一级 / 二级 / 三级). Asked once a text, through ``_cell_words``."""
    return (bool(text.strip()) and vocabulary().column(text) is not None) or label_key(text) in _GROUP_KEYS


# ----------------------------------------------------------------------------------------------------------
# What a cell is
# ----------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=16384)
def _classify(text: str) -> tuple[str, Any]:
    """What a header-region cell is: ("form", year or None) for the title, a year line, a section or table
    heading; ("label", (path, inline value, unit)) for a field label; ("other", None) for anything else."""
    vocab = vocabulary()
    if _sentence(text):  # no title, year line, unit line or heading; a label only before a colon
        split = _split_label(text)
        return ("label", split) if split is not None else ("other", None)
    if is_title(text):
        return "form", year_of_title(text)
    if YEAR_LINE.match(text):
        return "form", year_of_title(text)
    if unit_line(text) is not None:
        return "form", None
    split = _split_label(text)
    if split is not None:
        return "label", split
    year = year_of_title(text) if _YEAR_PREFIX.match(label_key(text)) else None
    key = _YEAR_PREFIX.sub("", label_key(text))
    if vocab.is_section(key) or vocab.is_section(strip_unit(key)) or vocab.period(key) is not None:
        return "form", year
    return "other", None


@lru_cache(maxsize=16384)
def _split_label(text: str) -> tuple[str, str, MoneyUnit | None] | None:
    """(field path, inline value, unit the label states) when the cell is a label, maybe with its value after a
    colon (``申报单位名称：上海市经济信息中心``)."""
    vocab = vocabulary()
    found = None if _sentence(text) else vocab.header_label(text)
    if found is not None:
        return found[0], "", found[1]
    for sep in ("：", ":"):
        if sep in text:
            head, tail = text.split(sep, 1)
            found = vocab.header_label(head)
            if found is not None:
                return found[0], tail.strip(), found[1]
    return None


def _is_label(value: Any) -> bool:
    return isinstance(value, str) and _split_label(value) is not None


def _header_keys(row: list[Any]) -> dict[str, int]:
    """Indicator key → column for the column headings in a row (the first of each)."""
    found: dict[str, int] = {}
    for c, value in enumerate(row):
        if isinstance(value, str) and value.strip():
            key = _column_of(value)
            if key is not None and key not in found:
                found[key] = c
    return found


def _is_table_header(keys: dict[str, int]) -> bool:
    return "name" in keys and ("target" in keys or LONG_TERM_TARGET in keys) and ("level1" in keys or "level2" in keys)


def _spread(grid: Grid, r: int, row: list[Any], width: int) -> list[Any]:
    """A heading row with each merged heading repeated over the columns it spans (指标值 over 年度 | 实施期)."""
    out = [row[c] if c < len(row) else None for c in range(width)]
    for c in range(width):
        if not is_blank(out[c]):
            for cc in range(c + 1, min(width, grid.merge_end_col(r, c) + 1)):
                out[cc] = out[c]
    return out


def _combined(upper: Any, lower: Any) -> Any:
    """One column's heading from a two-row heading: the lower cell, or the upper one merged down, or both together
    where only together they name a column (指标值 over 实施期 → 指标值（实施期）)."""
    if is_blank(lower):
        return upper
    if isinstance(upper, str) and isinstance(lower, str) and _column_of(lower) is None:
        both = f"{upper}（{lower}）"
        if _column_of(both) is not None:
            return both
    return lower


def _other_form_columns(rows: list[list[Any]]) -> str | None:
    """The kind of form a table heading belongs to when it has columns only that form has (实际完成值, 得分…)."""
    marks = vocabulary().other_columns
    return next((marks[label_key(v)] for row in rows for v in row
                 if isinstance(v, str) and label_key(v) in marks), None)


def _header_at(grid: Grid, r: int, last: int) -> tuple[dict[str, int], int] | None:
    """The table heading at row ``r``, a row with a column heading or a group heading in it (``_sheet_words``):
    its columns and whether it spans one row or two (a group heading such as 绩效指标 merged over 一级 / 二级 /
    三级, and 指标值 merged down)."""
    row = grid.rows[r]
    keys = _header_keys(row)
    if r + 1 < last:
        below = grid.rows[r + 1]
        if not _is_table_header(keys) and _is_table_header(_header_keys(below)):
            return None  # the heading is the next row alone
        width = max(len(row), len(below))
        upper = _spread(grid, r, row, width)
        combined = [_combined(upper[c], below[c] if c < len(below) else None) for c in range(width)]
        headed = [combined[c] for c in range(len(below)) if not is_blank(below[c])]
        if headed and all(isinstance(h, str) and _column_of(h) for h in headed):
            both = _header_keys(combined)  # a second heading row: 一级 / 二级 / 三级, or 实施期 | 年度 under 指标值
            if _is_table_header(both):
                return both, 2
    return (keys, 1) if _is_table_header(keys) else None




# ----------------------------------------------------------------------------------------------------------
# Finding forms
# ----------------------------------------------------------------------------------------------------------
def not_a_declaration(grid: Grid) -> str | None:
    """What a sheet is when it is a known form that is not a declaration (绩效自评表, 绩效监控表), else None. A
    declaration's title on the sheet wins: a value that mentions a 自评报告 is still a declaration's value."""
    return None if any(_is_title(v) for row in grid.rows for v in row) else _other_form(grid)


def _other_form(grid: Grid) -> str | None:
    """The kind of non-declaration a sheet without a declaration's title is, by its title or its columns."""
    for r, row in enumerate(grid.rows):
        for value in row:
            kind = other_form(value) if isinstance(value, str) else None
            if kind is not None:
                return kind
        keys = _header_keys(row)
        if "name" in keys or "target" in keys:
            kind = _other_form_columns(grid.rows[r:r + 2])
            if kind is not None:
                return kind
    return None


def locate_forms(grid: Grid, names: dict[str, CellRange] | None = None, profile_name: str | None = None
                 ) -> list[FormRead]:
    """Every declaration in the grid, in reading order.

    ``names`` are our template's defined names for this sheet (0-based sheet cell ranges); with them the fields
    are read where the names point, wherever rows were inserted or blocks moved. Without them, fields are found
    by their labels. ``profile_name`` forces a profile; otherwise each form's is detected.
    """
    if names:  # our template, by its names: a declaration
        form = _read_block(_Block(grid, 0, len(grid.rows)), names, profile_name)
        return [form] if form is not None else []
    titles, heading_rows = _sheet_words(grid)
    if not titles:
        if _other_form(grid) is not None:
            return []  # a 绩效自评表 or 绩效监控表 (``not_a_declaration`` says which)
        titles = [0] if _labelled_values(grid) >= 3 else []
    bounds = [*titles, len(grid.rows)]
    if bounds[0] > 0 and len(bounds) > 1:
        bounds[0] = 0  # what stands above the first title (附件2, 申报单位, 2027年度) is that form's
    forms = []
    for first, last in itertools.pairwise(bounds):
        form = _read_block(_Block(grid, first, last), None, profile_name, heading_rows)
        if form is not None:
            forms.append(form)
    return forms


_TITLE, _HEADING = 1, 2  # what ``_cell_words`` says of a text


@_short_texts
def _cell_words(text: str) -> int:
    """What a text cell of a sheet read by labels may be, in one look: a form's title (``_TITLE``), a word heading
    a column of the indicator table or a group of its columns (``_HEADING``)."""
    if _sentence(text):
        return 0
    return (_TITLE if is_title(text) else 0) | (_HEADING if _heading_word(text) else 0)


def _sheet_words(grid: Grid) -> tuple[list[int], set[int]]:
    """The rows holding a form's title, and the rows holding a table heading word (where a table may start): one
    pass over the sheet, each text looked up once."""
    remembered, fn = _cell_words.remembered, _cell_words.fn
    titles: list[int] = []
    headings: set[int] = set()
    for r, row in enumerate(grid.rows):
        found = 0
        for v in row:
            if isinstance(v, str):
                found |= remembered(v) if len(v) <= REMEMBERED_CHARS else fn(v)
        if found:
            if found & _TITLE:
                titles.append(r)
            if found & _HEADING:
                headings.add(r)
    return titles, headings


def _labelled_values(grid: Grid) -> int:
    """Labels with a value beside them: a form without a title still has several; a table whose heading row
    happens to hold field labels (our own summary workbook) has none."""
    count = 0
    for row in grid.rows:
        for c, value in enumerate(row):
            if _is_label(value):
                split = _split_label(value)
                right = row[c + 1] if c + 1 < len(row) else None
                if (split is not None and split[1]) or (not is_blank(right) and not _is_label(right)):
                    count += 1
    return count


def _grid_pos(grid: Grid, row: int, col: int) -> tuple[int, int]:
    return row - grid.origin[0], col - grid.origin[1]


_table_of_name = lru_cache(maxsize=1024)(period_of_table_name)  # every form of a batch has the same names


def _tables_by_names(block: _Block, names: dict[str, CellRange], profile_name: str | None) -> list[_Table]:
    """Our template's tables, where their names point; columns from the heading row above each."""
    grid = block.grid
    tables = []
    for name, rng in sorted(names.items(), key=lambda item: item[1]):
        is_table, period = _table_of_name(name)
        if not is_table:
            continue
        r1, c1 = _grid_pos(grid, rng[0], rng[1])
        r2, c2 = _grid_pos(grid, rng[2], rng[3])
        header = r1 - 1
        keys = _header_keys(grid.rows[header]) if 0 <= header < len(grid.rows) else {}
        keys = {k: c for k, c in keys.items() if c1 <= c <= c2}
        if not _is_table_header(keys):
            order = [c.key for c in load_profile(profile_name or DEFAULT_PROFILE).form.table.columns]
            keys = {k: c1 + i for i, k in enumerate(order) if c1 + i <= c2}
        tables.append(_Table(header, 1, keys, period, r2 + 1))
    return tables


def _tables_by_headings(block: _Block, heading_rows: set[int]) -> list[_Table]:
    """The indicator tables, by their heading rows; only a row with a heading word in it can start one."""
    grid = block.grid
    tables: list[_Table] = []
    r = block.first
    while r < block.last:
        found = _header_at(grid, r, block.last) if r in heading_rows else None
        if found is not None:
            tables.append(_Table(r, found[1], found[0], None))
            r += found[1]
        else:
            r += 1
    return tables


def _drop_check_column(block: _Block, table: _Table) -> None:
    """Blank our 校验 column: what the add-in's live checks show (or the hint without it) is output, not data.

    It is the column right of the table whose heading reads 校验, through the whole form; re-saved copies carry
    the checks' cached values, which would otherwise be content the reader cannot place."""
    grid = block.grid
    col = max(table.columns.values()) + 1
    value = grid.value(table.header_row, col)
    if not (isinstance(value, str) and value.strip() == CHECK_LABEL):
        return
    for r in range(block.first, block.last):
        row = grid.rows[r]
        if col < len(row):
            row[col] = None


# ----------------------------------------------------------------------------------------------------------
# Reading one form
# ----------------------------------------------------------------------------------------------------------
@dataclass
class _Found:
    """What the header region held: raw values by field path, the units money labels state, titles, year."""

    raw: dict[str, tuple[Any, int, int]] = field(default_factory=dict)
    units: dict[str, MoneyUnit] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)
    year: tuple[Any, int, int] | None = None
    period: Period | None = None  # a table heading (长期绩效指标) just above the first table
    section_unit: MoneyUnit | None = None  # the unit a funds heading states (项目资金（万元）)
    released: set[tuple[int, int]] = field(default_factory=set)  # value cells given up for a later label's
    fresh: list[str] = field(default_factory=list)  # fields found in the row being read

    def put(self, path: str, value: Any, r: int, c: int) -> None:
        self.raw[path] = (value, r, c)
        self.fresh.append(path)


def _scan_header(block: _Block, stop: int) -> _Found:
    grid = block.grid
    found = _Found()
    used = block.used
    for r in range(block.first, stop):
        row = grid.rows[r]
        for c, value in enumerate(row):
            if not isinstance(value, str) or (r, c) in used:
                continue
            text = value.strip()
            if not text:
                continue
            kind, detail = _classify(text)
            if kind == "form":
                used.add((r, c))
                unit, title, period = _form_words(value)
                if unit is not None:
                    found.section_unit = unit  # 项目资金（万元）, 金额单位：元: the unit of the amounts below it
                if title:
                    found.titles.append(value)
                if detail and found.year is None:
                    found.year = (detail, r, c)
                if period is not None:
                    found.period = period
                continue
            if kind != "label":
                continue
            path, inline, unit = detail
            block.used.add((r, c))
            unit = unit or (found.section_unit if _KINDS[path] is Kind.MONEY else None)
            if unit is not None:
                found.units.setdefault(path, unit)
            if path in found.raw and not _annual_part(found, path, row):
                continue  # a label printed twice: the first holds the value; the second's value is reported
            if inline:
                found.put(path, inline, r, c)
                continue
            vc = grid.merge_end_col(r, c) + 1
            neighbour = row[vc] if vc < len(row) else None
            if (isinstance(neighbour, str) and _split_label(neighbour) is not None) or \
                    (is_blank(neighbour) and _row_of_labels(row)):  # the neighbour is a label, or none is there
                below = grid.value(r + 1, c) if r + 1 < stop else None
                if not is_blank(below) and not _is_label(below) and (r + 1, c) not in block.used and \
                        _classify(_text(below).strip())[0] == "other":
                    found.put(path, below, r + 1, c)  # a row of labels over a row of values
                    block.used.add((r + 1, c))
                else:
                    found.put(path, None, r, vc)
            else:
                found.put(path, neighbour, r, vc)
                block.used.add((r, vc))
        for path in found.fresh:  # this row's amounts, in order
            value, vr, vc = found.raw[path]
            if isinstance(value, str) and _KINDS[path] is Kind.MONEY:
                _split_amounts(found, path, value, vr, vc)
        found.fresh.clear()
    block.used -= found.released  # reported as unplaced, never dropped
    return found


_PARTS_OF_BUDGET = ("budget.fiscal_funds", "budget.other_funds")


def _annual_part(found: _Found, path: str, row: list[Any]) -> bool:
    """Whether a second 财政拨款 / 其他资金 is the year's, beside 年度资金总额, where the first was the whole period's
    (88号: 中期资金总额 | 其中：财政拨款 | 其他资金, then the same for the year): the year's replaces it, and the
    first one's value is reported as unplaced instead."""
    if path not in _PARTS_OF_BUDGET or not any(_split_label(v) == ("budget.current_year", "", None)
                                                for v in row if isinstance(v, str)):
        return False
    _, r, c = found.raw.pop(path)
    found.released.add((r, c))
    return True


@lru_cache(maxsize=4096)
def _form_words(text: str) -> tuple[MoneyUnit | None, bool, Period | None]:
    """What a cell of the form's own words (a title, a year line, a heading) states: the unit of the amounts
    below it, whether it is the title, the period of the table it heads. The same words head every form."""
    unit = unit_line(text) or unit_of_label(label_key(text))
    return unit, _is_title(text), vocabulary().period(_YEAR_PREFIX.sub("", label_key(text)))


def _split_amounts(found: _Found, path: str, text: str, r: int, c: int) -> None:
    """Several amounts written in one cell (资金总额：500万元，其中：财政资金450万元，其他资金50万元): each to
    its field, all at that cell."""
    parts = vocabulary().amounts_in(text)
    if not parts:
        return
    found.raw[path] = (parts[0][1], r, c)
    for other, value in parts[1:]:
        if other is not None:
            found.raw.setdefault(other, (value, r, c))


def _row_of_labels(row: list[Any]) -> bool:
    """Whether a row holds labels only (总体目标 | 中长期目标 | 年度目标): their values are in the row below."""
    filled = [v for v in row if not is_blank(v)]
    return len(filled) >= 2 and all(_is_label(v) for v in filled)


def _read_block(block: _Block, names: dict[str, CellRange] | None, profile_name: str | None,
                heading_rows: set[int] | None = None) -> FormRead | None:
    grid = block.grid
    tables = _tables_by_names(block, names, profile_name) if names else \
        _tables_by_headings(block, heading_rows or set())
    for table in tables:
        _drop_check_column(block, table)
    head_end = tables[0].header_row if tables else block.last
    named_cells: dict[str, tuple[int, int]] = {}
    for name, (r1, c1, _, _) in (names or {}).items():
        named = path_of(name)
        if named is not None:
            named_cells[named] = _grid_pos(grid, r1, c1)
            block.used.add(named_cells[named])  # a value cell, never a label, whatever its text
    found = _scan_header(block, head_end)
    for named, (r, c) in named_cells.items():
        found.raw[named] = (grid.value(r, c), r, c)
    if not found.raw and not tables:
        return None

    template = names is not None
    # Our template with its profile known: its tables are read in one pass over each row (``_template_rows``).
    one_pass = template and bool(profile_name)
    mark = len(block.findings)  # where the tables' unplaced cells are reported
    rows = [] if one_pass else _table_rows(block, tables, found.period, template=template)
    profile = load_profile(profile_name) if profile_name else detect(found, tables, rows)
    fields = {path: _convert(block, profile, found, path, value, r, c, html=names is None)
              for path, (value, r, c) in found.raw.items()}
    for path, (_, r, c) in found.raw.items():
        block.cells[path] = (r, c)
    year = fields.pop("year", None)
    if year is None and found.year is not None and "year" not in found.raw:
        try:
            year = as_year(found.year[0])
            block.cells["year"] = (found.year[1], found.year[2])
        except ValueError:
            block.note(YEAR_UNPARSEABLE.finding("year", value=_text(found.year[0])), found.year[1], found.year[2])
    if tables:
        block.cells["indicators"] = (tables[0].header_row, min(tables[0].columns.values()))
    if one_pass:
        indicators = _template_rows(block, tables, found.period, profile, mark)
    else:
        indicators = _read_indicators(block, rows, tables, profile, template=template)

    # Whatever the header walk did not place is reported, never dropped.
    used = block.used
    for r in range(block.first, head_end):
        for c, value in enumerate(grid.rows[r]):
            if value is not None and (r, c) not in used and not is_blank(value):
                block.note(CONTENT_UNPLACED.finding(None, text=_text(value)[:60]), r, c)

    declaration = declaration_from(fields, profile=profile.name, year=year, indicators=indicators)
    return FormRead(declaration, block.findings, block.cells, grid, grid.ref(block.first, 0), block.rows)


# ----------------------------------------------------------------------------------------------------------
# Which profile
# ----------------------------------------------------------------------------------------------------------
def detect(found: _Found, tables: list[_Table], rows: list[_RawRow]) -> Profile:
    """The profile that best explains what was found: title, level names, header fields, columns, periods and the
    money unit the labels state. Every profile file takes part; the default wins when nothing tells."""
    level1: set[str] = set()
    level2: set[str] = set()
    for raw in rows:  # the level cells' texts, blanks left out
        cells = raw.cells
        for key, texts in (("level1", level1), ("level2", level2)):
            cell = cells.get(key)
            value = None if cell is None else cell[0]
            if value.__class__ is str:
                text = value.strip()
                if text:
                    texts.add(text)
            elif value is not None:
                texts.add(_text(value).strip())
    paths = frozenset(found.raw)
    keys = frozenset(k for t in tables for k in t.columns)
    has_periods = any(r.period is not None for r in rows)
    titled = frozenset(name for t in found.titles for name in _title_profiles(t))
    units = frozenset(found.units.values())
    return load_profile(_best_profile(frozenset(level1), frozenset(level2), paths, keys, has_periods, titled, units,
                                      _year_of(found)))


@lru_cache(maxsize=4096)
def _best_profile(level1: frozenset[str], level2: frozenset[str], paths: frozenset[str], keys: frozenset[str],
                  has_periods: bool, titled: frozenset[str], units: frozenset[MoneyUnit], year: int | None) -> str:
    """``detect``'s choice, remembered: forms of one batch tend to say the same (scores are sums of quarters,
    exact in any order, so the same sets always choose the same profile)."""
    best = load_profile(DEFAULT_PROFILE)
    best_score = _score(best, level1, level2, paths, keys, has_periods, titled, units, year)
    for name in profile_names():
        profile = load_profile(name)
        score = _score(profile, level1, level2, paths, keys, has_periods, titled, units, year)
        if score > best_score:
            best, best_score = profile, score
    return best.name


@lru_cache(maxsize=1024)
def _title_profiles(text: str) -> tuple[str, ...]:
    return tuple(title_profiles(text))


def _year_of(found: _Found) -> int | None:
    """The declaration's year as far as the header shows it, for telling a form from its successor."""
    for value in (found.raw.get("year", (None,))[0], found.year[0] if found.year else None):
        try:
            year = as_year(value)
        except ValueError:
            continue
        if year is not None:
            return year
    return None


def _score(profile: Profile, level1: frozenset[str], level2: frozenset[str], paths: frozenset[str],
           keys: frozenset[str], has_periods: bool, titled: frozenset[str], units: frozenset[MoneyUnit],
           year: int | None) -> float:
    score = 3.0 if profile.name in titled else 0.0
    score += {True: 0.5, False: -1.5, None: 0.0}[profile.in_use(year)]
    names1 = set(profile.level1_names())
    for value in level1:
        score += 2.0 if value in names1 else 1.5 if profile.canonical_level1(value) else -1.0
    if not level1:
        for value in level2:
            score += 1.0 if profile.canonical_level2(value) else -0.5
    printed = set(profile.header_paths())
    score += sum(0.5 if p in printed else -0.25 for p in paths)
    columns = {c.key for c in profile.form.table.columns}
    if keys:
        score += 1.5 if keys == columns else 0.0
        score += sum(0.5 if k in columns else -0.5 for k in keys)
    score += 1.0 if has_periods == bool(profile.form.table.periods) else -1.0
    score += sum(1.0 if u == profile.money_unit else -1.0 for u in units)
    return score


# ----------------------------------------------------------------------------------------------------------
# Header values
# ----------------------------------------------------------------------------------------------------------
_CONVERTERS: dict[Kind, tuple[Callable[[Any], Any], Any]] = {
    Kind.DATE: (as_date, DATE_UNPARSEABLE),
    Kind.FLAG: (as_flag, FLAG_UNPARSEABLE),
    Kind.YEAR: (as_year, YEAR_UNPARSEABLE),
}


def _convert(block: _Block, profile: Profile, found: _Found, path: str, value: Any, r: int, c: int, *,
             html: bool) -> Any:
    """A cell as the field's kind; what cannot be read is that cell's finding and the field stays empty."""
    kind = _KINDS[path]
    label = profile.label(path)
    if isinstance(value, ErrorValue):
        block.note(ERROR_VALUE.finding(path, label=label, value=value.code), r, c)
        return None
    if isinstance(value, Formula) and value.text is None:
        block.note(FORMULA_BY_VALUE.finding(path, label=label, value=_text(value.value)), r, c)
    if kind is Kind.MONEY:
        unit = found.units.get(path, profile.money_unit)
        try:
            amount = as_money(value, unit)
        except ValueError:
            block.note(AMOUNT_UNPARSEABLE.finding(path, label=label, value=_text(value)[:60], unit=unit), r, c)
            return None
        written = money_unit_written(value)
        if amount is not None and written is not None and written != unit:
            block.note(AMOUNT_CONVERTED.finding(path, label=label, value=_text(value)[:60], amount=f"{amount:.2f}"),
                       r, c)
        return amount
    typed = _CONVERTERS.get(kind)
    if typed is not None:
        convert, rule_ = typed
        try:
            return convert(value)
        except ValueError:
            block.note(rule_.finding(path, label=label, value=_text(value)[:60]), r, c)
            return None
    text = _cell_text(block, label, path, value, r, c)
    choice = ticked(text) if text is not None and kind is Kind.CHOICE else None
    if choice is not None:
        block.note(CHOICE_TICKED.finding(path, label=label, value=text, choice=choice), r, c)
        return choice
    if text is not None and html and kind is Kind.LONG_TEXT and "<" in text:  # every tag starts so: one search
        tags = html_tags(text)
        if tags:
            block.note(HTML_CONVERTED.finding(path, label=label, tags="、".join(f"<{t}>" for t in tags)), r, c)
            text = html_to_text(text)
    return text


def _cell_text(block: _Block, label: str, path: str, value: Any, r: int, c: int) -> str | None:
    """A cell as text: control characters removed and reported; past what one cell holds, reported and left
    out (the rest of the form is still read)."""
    text = value if value.__class__ is str else as_text(value)
    if text is None:
        return None
    if not text.isprintable() and has_controls(text):
        block.note(CONTROLS_REMOVED.finding(path, label=label), r, c)
        text = strip_controls(text)
    if REPLACEMENT in text:
        block.note(UNDECODABLE.finding(path, label=label), r, c)
    if len(text.strip()) > MAX_CELL_CHARS:
        block.note(VALUE_TOO_LONG.finding(path, label=label, length=len(text), limit=MAX_CELL_CHARS), r, c)
        return None
    return text.strip() or None


# ----------------------------------------------------------------------------------------------------------
# The indicator tables
# ----------------------------------------------------------------------------------------------------------
_TOTAL = frozenset({"合计", "小计", "总计", "权重合计", "分值合计"})
_COLUMN_NUMBER = re.compile(r"^[(（]?\d{1,2}[)）]?$|^[（(]?[一二三四五六七八九十][）)]?$")
_NOTES_START = re.compile(r"^(?:填表说明|填报说明|填写说明|说明|注|备注)\s*[:：]?")
MAX_BLANK_RUN = 200  # blank rows that end a table read by labels (a stray cell far below is not a row of it)


def _table_rows(block: _Block, tables: list[_Table], period: Period | None, *, template: bool
                ) -> list[_RawRow]:
    """The tables' rows as cells by key. Heading rows, repeated headings, period headings, column numbers, totals,
    footers and notes are not indicators; a notes block (填表说明…) or a long run of blank rows ends a table, and
    whatever else lies outside the columns is reported."""
    grid = block.grid
    vocab = vocabulary()
    out: list[_RawRow] = []
    pending = period  # the latest period heading: it names the table that follows it
    for index, table in enumerate(tables):
        header_rows = range(table.header_row, table.header_row + table.header_rows)
        for r in header_rows:
            for c, value in enumerate(grid.rows[r]):
                if not is_blank(value):
                    block.used.add((r, c))
                    pending = (_period(value) if isinstance(value, str) else None) or pending
        table.period = table.period or pending
        stop = table.end if table.end is not None else \
            (tables[index + 1].header_row if index + 1 < len(tables) else block.last)
        cols = table.columns
        last_col = max(cols.values())
        # Shifted rows of the old four-column layout spill one cell right of the table; a column with a heading
        # of its own there is a column, not room for a spill.
        spill = set(cols) <= set(CORE) and not template and \
            all(is_blank(grid.value(r, last_col + 1)) for r in header_rows)
        current = table.period
        blank_run = 0
        ended = False
        in_table = set(cols.values())
        inside = in_table | ({last_col + 1} if spill else set())
        width, outside = -1, []  # the columns of a row of this width outside the table's (and its spill)
        items = list(cols.items())
        table_words, row_start = _table_word.remembered, _row_start.remembered
        # Cells placed here lie below the header region, where ``block.used`` is no longer asked.
        for r in range(table.header_row + table.header_rows, min(stop, len(grid.rows))):
            row = grid.rows[r]
            if row.count(None) == len(row):
                blank_run += 1
                ended = ended or (not template and blank_run > MAX_BLANK_RUN)
                continue  # the template's empty rows: most of the table
            if width != len(row):
                width, outside = len(row), [c for c in range(len(row)) if c not in inside]
            if template:  # our template's named table: every row in it is a row of the table
                others = [c for c in outside if not is_blank(row[c])]
                if others:
                    _unplaced(block, row, r, others)
                out.append(_RawRow({k: (row[c] if c < len(row) else None, r, c) for k, c in cols.items()}, None,
                                   current, index))
                continue
            # One look at each cell: what is filled, its trimmed text, and what a text says besides its value (the
            # period it heads, a footer label), remembered per text.
            filled_cols: list[int] = []
            texts: list[str] = []
            headed: list[int] = []
            footer: list[int] = []
            for c, v in enumerate(row):
                if v is None:
                    continue
                if v.__class__ is str:
                    word = table_words(v) if len(v) <= REMEMBERED_CHARS else _table_word.fn(v)
                    if word[1]:
                        footer.append(c)
                    t = v.strip()
                    if not t:
                        continue
                    if word[0] is not None:
                        headed.append(c)
                else:
                    if isinstance(v, str):  # a str subclass: never blank, as ``is_blank`` says
                        word = _table_word(v)
                        if word[1]:
                            footer.append(c)
                        if word[0] is not None:
                            headed.append(c)
                    t = _text(v).strip()
                filled_cols.append(c)
                texts.append(t)
            if not filled_cols:  # only spaces: a blank row
                blank_run += 1
                ended = ended or blank_run > MAX_BLANK_RUN
                continue
            blank_run = 0
            first = texts[0]
            notes, number, total = row_start(first) if len(first) <= REMEMBERED_CHARS else _row_start.fn(first)
            if not ended and notes and not any(
                    c in in_table and _column_of(texts[i]) for i, c in enumerate(filled_cols)):
                ended = True  # 填表说明: what follows are notes, not indicators
            if ended:
                _unplaced(block, row, r, filled_cols)
                continue
            if (number and all(_COLUMN_NUMBER.match(t) for t in texts[1:])) or total:
                continue  # column numbers (1)(2)…, or a 合计 row
            others = [c for c in filled_cols if c not in inside]
            n = len(row)
            cells = {k: (row[c] if c < n else None, r, c) for k, c in items}
            extra = (row[last_col + 1] if last_col + 1 < n else None, r, last_col + 1) if spill else None
            filled_set = set(filled_cols)
            filled = [k for k, c in items if c in filled_set]
            if extra is not None and last_col + 1 in filled_set:
                filled.append("extra")
            # a period heading: a row of its own, or a cell left of the columns spanning the table's rows
            if headed:
                current = pending = _table_word(row[headed[0]])[0]
                others = [c for c in others if c not in headed]
                filled = [k for k in filled if k == "extra" or cells[k][2] not in headed]
                if not filled and not others:
                    continue
            if len(texts) == 1 and (vocab.is_section(_YEAR_PREFIX.sub("", label_key(texts[0])))
                                    or unit_line(texts[0]) is not None):
                continue  # a section heading or a unit line inside the table region
            if footer:
                _footer_row(block, row, r, footer)
                continue
            if len(filled) == 1 and not others and filled[0] != "extra" and \
                    _NOTE.match(_text(cells[filled[0]][0]).strip()) and filled[0] not in ("name", "target"):
                _unplaced(block, row, r, [cells[filled[0]][2]])
                continue
            if others:
                _unplaced(block, row, r, others)
            if filled:
                out.append(_RawRow(cells, extra, current, index))
    return out


def _unplaced(block: _Block, row: list[Any], r: int, cols: list[int]) -> None:
    for c in cols:
        block.note(CONTENT_UNPLACED.finding(None, text=_text(row[c])[:60]), r, c)
        block.used.add((r, c))


def _footer_head(text: str) -> str:
    """The text before its first colon (full-width or not), or the whole text."""
    return text.split("：", 1)[0].split(":", 1)[0]


@_short_texts
def _row_start(text: str) -> tuple[bool, bool, bool]:
    """What the first text of a table row may say: notes begin (填表说明…), a column number ((1), 一), a total
    (合计). Asked of every row read by labels."""
    return _NOTES_START.match(text) is not None, _COLUMN_NUMBER.match(text) is not None, text in _TOTAL


@_short_texts
def _table_word(text: str) -> tuple[Period | None, bool]:
    """What a text cell in a table's rows says besides its value: the period it heads (长期绩效指标), and whether it
    is a footer label (填报人：…). Asked of every text cell of every row read by labels, and the same words
    recur in every form."""
    vocab = vocabulary()
    head = _footer_head(text)
    footer = not _sentence(head) and vocab.is_footer(head)
    return (None if _sentence(text) else _period(text)), footer


@cache
def _period_marks() -> frozenset[str]:
    """The characters every period heading holds (标), normalised: a text without them heads no table."""
    return frozenset.intersection(*(frozenset(k) for k in vocabulary().periods))


def _period(text: str) -> Period | None:
    """``vocabulary().period``, asked only of a text that holds every character a period heading holds: the
    heading is what remains of the text's ``label_key`` once a year or a note is taken away, so it holds no
    character the key does not."""
    key = label_key(text)
    return vocabulary().period(text) if all(ch in key for ch in _period_marks()) else None


def _footer_row(block: _Block, row: list[Any], r: int, footer: list[int]) -> None:
    """A footer row (填报人：… 填报日期：…): labels and what is filled right beside them are the form's (a name, a
    date), not indicators; anything else is reported."""
    block.used.update((r, c) for c in footer)
    for c, value in enumerate(row):
        if is_blank(value) or c in footer:
            continue
        label = row[c - 1] if c >= 1 else None
        if c - 1 in footer and isinstance(label, str) and label_key(label) == label_key(_footer_head(label)):
            block.used.add((r, c))  # what was written right beside a label with no value of its own
            continue
        _unplaced(block, row, r, [c])


_SPELLINGS: dict[str, tuple[Profile, frozenset[str], frozenset[str]]] = {}


def _level_spellings(profile: Profile) -> tuple[frozenset[str], frozenset[str]]:
    """Every spelling of the profile's level-1 and level-2 names, made once per profile (asked for every row of
    the old four-column layout)."""
    found = _SPELLINGS.get(profile.name)
    if found is None or found[0] is not profile:
        found = _SPELLINGS[profile.name] = (profile, frozenset(profile.all_level1_spellings()),
                                            frozenset(profile.all_level2_spellings()))
    return found[1], found[2]


def _place_row(core: list[str | None], spill: str | None, profile: Profile,
               spellings: tuple[frozenset[str], frozenset[str]]) -> tuple[list[str | None], bool, bool]:
    """(level1, level2, name, target), whether the row was moved, and whether it stayed ambiguous, for a row's
    four cells and what spilled right of them; ``spellings`` are the profile's (``_level_spellings``)."""
    l1s, l2s = spellings
    v0, v1, v2, v3 = core
    if spill is None and (v0 is None or v0 in l1s) and (v1 is None or (v1 not in l1s and v1 in l2s)) and (
            (v0 is not None and v1 is not None) or
            (v2 not in l1s and v2 not in l2s and v3 not in l1s and v3 not in l2s)):
        return core, False, False  # levels at home (or merged from above), then name and target: the usual
    values = [*core, spill]
    kinds = ["-" if v is None else "L1" if v in l1s else "L2" if v in l2s else "T" for v in values]
    if kinds[0] == "L1" and kinds[1] == "L2":  # both levels at home: what follows is name and target, even a
        kinds[2:4] = ["-" if v is None else "T" for v in values[2:4]]  # name that is a vocabulary word (满意度)
    off_home = any((k == "L1" and p != 0) or (k == "L2" and p != 1) for p, k in enumerate(kinds))
    texts_at = [p for p, k in enumerate(kinds) if k == "T"]
    full = values[2] is not None and values[3] is not None
    regular = not off_home and values[4] is None and (all(p >= 2 for p in texts_at) or full)
    if regular:
        return values[:4], False, False

    level1 = next((v for v, k in zip(values, kinds, strict=True) if k == "L1"), None)
    level2 = next((v for v, k in zip(values, kinds, strict=True) if k == "L2"), None)
    texts = [values[p] for p in texts_at]
    if len(texts) > 2:
        return values[:4], False, True
    name: str | None = None
    target: str | None = None
    if len(texts) == 2:
        name, target = texts
    elif len(texts) == 1 and texts[0] is not None:
        if _looks_like_target(texts[0], profile):
            target = texts[0]
        else:
            name = texts[0]
    return [level1, level2, name, target], True, False


def _looks_like_target(text: str, profile: Profile) -> bool:
    return parse_target(text).kind in ("quantitative", "deadline") or text in profile.qualitative_values


def _source_text(value: Any) -> str | None:
    """A cell's text as placed values are compared with it: trimmed, control characters removed."""
    if value is None:
        return None
    if value.__class__ is str and value.isprintable():
        return value.strip() or None  # no control character: the common case, asked of every cell of a moved row
    return strip_controls(_text(value)).strip() or None


def _source_pos(cells: list[tuple[Any, int, int]], value: str | None, default_pos: int, texts: list[str | None]
                ) -> tuple[int, int]:
    """The cell a placed value came from (the first whose text, ``_source_text``, is the value); for an empty
    value, the cell where it belongs."""
    if value is not None and value in texts:
        _, r, c = cells[texts.index(value)]
        return r, c
    return cells[default_pos][1], cells[default_pos][2]


def _merged(grid: Grid, r: int, c: int) -> bool:
    return grid.in_merged(r, c)


def _indicator_cell(block: _Block, profile: Profile, index: int, key: str, value: Any, r: int, c: int
                    ) -> str | None:
    """One table cell as trimmed text, control characters removed and reported."""
    if value is None:
        return None
    if value.__class__ is str and (value.isprintable() or not has_controls(value)) and \
            len(value) <= MAX_CELL_CHARS and REPLACEMENT not in value:
        return value.strip() or None  # the common case, kept cheap: bulk reads millions of these
    label = profile.column_label(key)
    if isinstance(value, ErrorValue) or (isinstance(value, Formula) and value.text is None
                                         and isinstance(value.value, ErrorValue)):
        code = value.code if isinstance(value, ErrorValue) else _text(value.value)
        block.note(ERROR_VALUE.finding(f"indicators[{index}].{key}", label=label, value=code), r, c)
        return None
    if isinstance(value, Formula) and value.text is None:
        block.note(FORMULA_BY_VALUE.finding(f"indicators[{index}].{key}", label=label, value=_text(value.value)),
                   r, c)
    return _cell_text(block, label, f"indicators[{index}].{key}", value, r, c)


def _inherited(profile: Profile, level1: Any, level2: Any, current1: Any, current2: Any, inherit1: bool,
               inherit2: bool) -> tuple[Any, Any, bool]:
    """A row's levels with what it takes from the rows above where its level cells are merged into theirs
    (``inherit1``/``inherit2``): level 1 is the current group's, unless its level 2 belongs to another group (then
    that group's, inferred); level 2 is the current one's unless level 1 changed. Returns the levels and whether
    level 1 was inferred."""
    inferred = False
    if inherit1:
        level1 = current1
        owner = profile.canonical_level2(level2)
        if owner is not None and profile.canonical_level1(current1) not in (None, owner[0]):
            level1, inferred = owner[0], True
    if level1 != current1:
        current2 = None
    if inherit2:
        level2 = current2
    return level1, level2, inferred


def _read_indicators(block: _Block, rows: list[_RawRow], tables: list[_Table], profile: Profile, *,
                     template: bool) -> list[Indicator]:
    """Indicator rows; blank levels inherit from above (merged cells), per table and period.

    In the old four-column layout, shifted rows are set right. In our template the columns are fixed by
    validation, so a cell is read where it is, and a blank level inherits only when the cell is merged. A table
    without a level-1 column takes level 1 from level 2 through the profile's vocabulary (an info finding).

    One pass over each row: every cell is read (and cleaned, and reported) once, and the model is built from
    what was read without validating it again (``model.indicator``)."""
    grid = block.grid
    out: list[Indicator] = []
    placed_at = block.rows
    current1: str | None = None
    current2: str | None = None
    scope_table: int | None = None
    scope_period: Period | None = None
    inferred_tables: set[int] = set()
    spellings = _level_spellings(profile)
    last_table = -1
    table = tables[0] if tables else None
    columns: dict[str, int] = {}
    has_level1 = has_level2 = four = core_only = False
    present: list[tuple[int, str]] = []  # (position, key) of the core keys the table has
    row_at = 0
    for raw in rows:
        index = len(out)
        t = raw.table
        if t != scope_table or raw.period != scope_period:
            scope_table, scope_period, current1, current2 = t, raw.period, None, None
        if t != last_table:  # what a table's every row shares
            last_table, table = t, tables[t]
            columns = table.columns
            has_level1, has_level2 = "level1" in columns, "level2" in columns
            # the old four-column layout (a row's cells are the table's columns)
            four = not template and has_level1 and columns.keys() <= _CORE_KEYS
            core_only = columns.keys() == _CORE_KEYS  # no extras, no long-term target
            present = [(at, key) for at, key in enumerate(CORE) if key in columns]
        assert table is not None
        cells = raw.cells
        values: dict[str, str | None] = {}
        plain = True  # every cell read as its trimmed text (what ``_source_text`` gives too)
        for k, (v, row_at, c) in cells.items():  # every cell of a row is on its row
            if v is not None:
                # _indicator_cell's common case, inline: a table is hundreds of these
                if v.__class__ is str and (v.isprintable() or not has_controls(v)) and \
                        len(v) <= MAX_CELL_CHARS and REPLACEMENT not in v:
                    v = v.strip() or None
                else:
                    v = _indicator_cell(block, profile, index, k, v, row_at, c)
                    plain = False
            values[k] = v
        core = [values.get("level1"), values.get("level2"), values.get("name"), values.get("target")]
        moved = ambiguous = False
        if four:
            extra = raw.extra
            spill = _indicator_cell(block, profile, index, "target", extra[0], extra[1], extra[2]) \
                if extra is not None and extra[0] is not None else None
            placed, moved, ambiguous = _place_row(core, spill, profile, spellings)
        else:
            placed = core
        level1, level2, name, target = placed
        inherit1 = level1 is None and has_level1 and (not template or _merged(grid, *cells["level1"][1:]))
        inherit2 = level2 is None and has_level2 and (not template or _merged(grid, *cells["level2"][1:]))
        inferred = False
        if inherit1 or inherit2:
            level1, level2, inferred = _inherited(profile, level1, level2, current1, current2, inherit1, inherit2)
        current1, current2 = level1, level2
        if not has_level1 and level1 is None:
            owner = profile.canonical_level2(level2)
            if owner is not None:
                level1 = owner[0]
                if t not in inferred_tables:
                    inferred_tables.add(t)
                    hr, hc = table.header_row, min(columns.values())
                    block.note(LEVEL1_INFERRED.finding(f"indicators[{index}].level1",
                                                       level2=profile.column_label("level2"),
                                                       level1=profile.column_label("level1")), hr, hc)

        now = (level1, level2, name, target)
        moved_to: dict[str, tuple[int, int]] | None = None
        if moved or level1 != core[0] or level2 != core[1] or name != core[2] or target != core[3]:
            # a value placed away from its own column: where it came from
            moved_to = {}
            if plain and (not four or raw.extra is None or raw.extra[0] is None):
                # each cell's text is what was read from it (``_source_text``), and no spill: ``_source_pos``
                # with the row's cells made only where a value is found in one of them
                for at, key in present:
                    value = now[at]
                    if moved or value != values[key]:
                        if value is not None and value in core:
                            _, sr, sc = _core_cells(cells)[core.index(value)]
                        else:
                            _, sr, sc = cells[key]
                        moved_to[key] = (sr, sc)
            else:
                core_cells = _core_cells(cells)
                if four:
                    core_cells.append(raw.extra if raw.extra is not None else (None, 0, 0))
                texts = [_source_text(v) for v, _, _ in core_cells]
                for at, key in present:
                    value = now[at]
                    if moved or value != values[key]:
                        moved_to[key] = _source_pos(core_cells, value, at, texts)
        placed_at.append((row_at, columns, moved_to))
        if ambiguous or moved or inferred:
            r0 = cells["name"][1]
            c0 = min(c for _, _, c in cells.values())
            if raw.extra is not None and not is_blank(raw.extra[0]) and ambiguous:
                # the spilled cell found no place: reported, not dropped
                block.note(CONTENT_UNPLACED.finding(None, text=_text(raw.extra[0])[:60]), *raw.extra[1:])
            if ambiguous:
                text = "｜".join(v or "" for v in core)
                block.note(INDICATOR_ROW_AMBIGUOUS.finding(f"indicators[{index}]", text=text), r0, c0)
            if moved or inferred:
                spill_value = _text(raw.extra[0]).strip() if raw.extra is not None and not is_blank(raw.extra[0]) \
                    else None
                before = "｜".join(v or "（空）" for v in core + ([spill_value] if spill_value else []))
                after = "｜".join(v or "（空）" for v in now)
                block.note(ROW_REPAIRED.finding(f"indicators[{index}]", before=before, after=after), r0, c0)
        if core_only:
            out.append(indicator_row(level1, level2, name, target, raw.period))
        else:
            _row_indicators(out, placed_at, now, values, raw.period, columns, row_at)
    return out


def _row_indicators(out: list[Indicator], placed_at: list[_RowCells], placed: tuple[str | None, ...],
                    values: dict[str, str | None], period: Period | None, columns: dict[str, int], r: int) -> None:
    """A table row's indicators from its four core values as placed and its other columns (unit, weight…) read
    into ``values``, its cells recorded (``placed_at``'s last entry): one; or, where the table has a long-term
    target column (88号: 中期指标值 | 年度指标值), the annual one and the one for the whole period, placed at that
    column. Shared by both ways of reading a table (``_read_indicators``, ``_template_rows``)."""
    level1, level2, name, target = placed
    long_term = values.pop(LONG_TERM_TARGET, None)
    extras = {k: v for k, v in values.items() if k not in _CORE_KEYS}
    long_term_col = columns.get(LONG_TERM_TARGET)
    if long_term_col is None:
        out.append(Indicator(level1=level1, level2=level2, name=name, target=target, period=period, **extras))
        return
    both = "target" in columns
    if both:
        out.append(Indicator(level1=level1, level2=level2, name=name, target=target, period="annual", **extras))
    if long_term is not None or not both:
        long_term_at = (r, columns, {"target": (r, long_term_col)})
        if both:
            placed_at.append(long_term_at)
        else:  # the row's one indicator is this one: its cells as they stand, its target that column
            placed_at[-1] = long_term_at
        out.append(Indicator(level1=level1, level2=level2, name=name, target=long_term, period="long_term",
                             **extras))


_CORE_KEYS = frozenset(CORE)


def _template_rows(block: _Block, tables: list[_Table], period: Period | None, profile: Profile, mark: int
                   ) -> list[Indicator]:
    """``_table_rows`` and ``_read_indicators`` for our template read by its names, its profile known: one pass
    over each row, each cell read once, no row object between. In a named table every row is a row of the
    table: nothing is moved, and a blank level inherits only where its cell is merged. What lies outside the
    columns is reported at ``mark``, where ``_table_rows`` would have reported it; what reading the cells says
    comes after the header's findings, as from ``_read_indicators``."""
    grid = block.grid
    rows = grid.rows
    pending = period  # the latest period heading: it names the table that follows it
    for table in tables:
        for r in range(table.header_row, table.header_row + table.header_rows):
            for value in rows[r]:
                if not is_blank(value):
                    pending = (_period(value) if isinstance(value, str) else None) or pending
        table.period = table.period or pending
    out: list[Indicator] = []
    unplaced: list[Finding] = []
    placed_at = block.rows
    for index, table in enumerate(tables):
        cols = table.columns
        items = list(cols.items())
        c1, c2 = cols.get("level1"), cols.get("level2")
        plain = cols.keys() <= _CORE_KEYS  # no columns beyond the four (no extras, no long-term target)
        first_col = min(cols.values())
        stop = table.end if table.end is not None else \
            (tables[index + 1].header_row if index + 1 < len(tables) else block.last)
        current1: str | None = None
        current2: str | None = None
        inferred_table = False
        width, outside = -1, []
        for r in range(table.header_row + table.header_rows, min(stop, len(rows))):
            row = rows[r]
            n = len(row)
            if row.count(None) == n:
                continue  # the template's empty rows: most of the table
            if width != n:
                width, outside = n, [c for c in range(n) if c not in cols.values()]
            for c in outside:
                v = row[c]
                if v is not None and (v.__class__ is not str or v.strip()):  # not ``is_blank``
                    unplaced.append(block.at(CONTENT_UNPLACED.finding(None, text=_text(v)[:60]), r, c))
            i = len(out)
            values: dict[str, str | None] = {}
            clean = True  # every cell printable text, trimmed here (what ``indicator_read`` takes as it is)
            for key, c in items:
                v = row[c] if c < n else None
                # _indicator_cell's common case, inline: a table is hundreds of these
                if v is not None:
                    if v.__class__ is str and v.isprintable() and len(v) <= MAX_CELL_CHARS and REPLACEMENT not in v:
                        v = v.strip() or None
                    else:  # a line break, a number, a formula…: read the general way
                        v = _indicator_cell(block, profile, i, key, v, r, c)
                        clean = False
                values[key] = v
            level1 = read1 = values.get("level1")
            level2 = read2 = values.get("level2")
            inherit1 = level1 is None and c1 is not None and _merged(grid, r, c1)
            inherit2 = level2 is None and c2 is not None and _merged(grid, r, c2)
            inferred = False
            if inherit1 or inherit2:
                level1, level2, inferred = _inherited(profile, level1, level2, current1, current2, inherit1,
                                                      inherit2)
            current1, current2 = level1, level2
            if c1 is None and level1 is None:
                owner = profile.canonical_level2(level2)
                if owner is not None:
                    level1 = owner[0]
                    if not inferred_table:
                        inferred_table = True
                        block.note(LEVEL1_INFERRED.finding(f"indicators[{i}].level1",
                                                           level2=profile.column_label("level2"),
                                                           level1=profile.column_label("level1")),
                                   table.header_row, first_col)
            name, target = values.get("name"), values.get("target")
            moved_to: dict[str, tuple[int, int]] | None = None
            if level1 != read1 or level2 != read2:
                clean = False  # a level taken from above or from the profile, not read from this row
                cells = [(row[c] if c < n else None, r, c) if c is not None else (None, r, -1)
                         for c in map(cols.get, CORE)]
                texts = [_source_text(v) for v, _, _ in cells]
                moved_to = {key: _source_pos(cells, value, at, texts)
                            for at, (key, value) in enumerate((("level1", level1), ("level2", level2)))
                            if key in cols and value != values.get(key)}
            placed_at.append((r, cols, moved_to))
            if inferred:
                core = [values.get(k) for k in CORE]
                before = "｜".join(v or "（空）" for v in core)
                after = "｜".join(v or "（空）" for v in (level1, level2, name, target))
                block.note(ROW_REPAIRED.finding(f"indicators[{i}]", before=before, after=after), r, first_col)
            if plain:
                out.append(indicator_read(level1, level2, name, target, table.period) if clean else
                           indicator_row(level1, level2, name, target, table.period))
            else:
                _row_indicators(out, placed_at, (level1, level2, name, target), values, table.period, cols, r)
    block.findings[mark:mark] = unplaced
    return out


def _core_cells(cells: dict[str, tuple[Any, int, int]]) -> list[tuple[Any, int, int]]:
    """The four core keys' cells of a row; a key the table lacks as an empty cell on the row."""
    r = cells["name"][1]
    return [cells.get(k) or (None, r, -1) for k in CORE]


__all__ = ["COLUMNS", "INDICATOR_PREFIX", "FormRead", "detect", "locate_forms", "not_a_declaration"]
