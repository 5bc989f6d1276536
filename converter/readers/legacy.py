"""Locate declarations in a grid by the paper form's labels, and set shifted indicator rows right.

This is the one locating logic for the old layout, whatever file the grid came from: the text export,
or old four-column sheets in xlsx/xls/ods. Labels are recognised however they were retyped (with or
without ``*``, ASCII or full-width colons), the form may sit anywhere on the sheet, and several forms
may follow one another. Every non-blank cell either lands in a field or is reported (R002).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..findings import Finding
from ..htmltext import html_tags, html_to_text
from ..layout import (
    BUDGET_SECTION,
    DATE_FIELDS,
    FLAG_FIELDS,
    FOOTER_LABELS,
    FORM_TITLE,
    INDICATOR_COLUMN_SPELLINGS,
    INDICATOR_COLUMNS,
    LONG_TEXT_FIELDS,
    MONEY_FIELDS,
    is_indicator_section,
    label_index,
    label_key,
    year_of_line,
)
from ..model import Declaration, Indicator, field_labels, has_controls, strip_controls
from ..profile import DEFAULT_PROFILE, Profile, load_profile, profile_names
from ..rules import (
    AMOUNT_UNPARSEABLE,
    CONTENT_UNPLACED,
    CONTROLS_REMOVED,
    DATE_UNPARSEABLE,
    FLAG_UNPARSEABLE,
    HTML_CONVERTED,
    INDICATOR_ROW_AMBIGUOUS,
    ROW_REPAIRED,
    YEAR_UNPARSEABLE,
)
from ..sheet_layout import CHECK_LABEL, INDICATORS_NAME, path_of
from ..targets import parse_target
from .grid import Grid, is_blank
from .values import as_date, as_flag, as_money, as_text, as_year

LABELS = field_labels()
_LABEL_INDEX = label_index()
_TITLE_KEY = label_key(FORM_TITLE)
_SECTION_KEYS = {label_key(BUDGET_SECTION)}
_FOOTER_KEYS = {label_key(s) for s in FOOTER_LABELS}
_HEADER_KEYS = [{label_key(s) for s in spellings} for spellings in INDICATOR_COLUMN_SPELLINGS]
_NOTE = re.compile(r"^[^：:]{1,15}[：:]")


@dataclass
class FormRead:
    """One declaration found in a grid, with the reader's own findings and where each field came from."""

    declaration: Declaration
    findings: list[Finding]
    positions: dict[str, tuple[int, int]]  # field path → grid position; references are made when needed
    grid: Grid
    anchor: str  # the cell where the form starts, to tell forms apart

    @property
    def sheet(self) -> str | None:
        return self.grid.sheet

    def cell(self, path: str) -> str | None:
        pos = self.positions.get(path)
        return None if pos is None else self.grid.ref(*pos)


@dataclass
class _Block:
    grid: Grid
    first: int
    last: int  # exclusive
    findings: list[Finding] = field(default_factory=list)
    cells: dict[str, tuple[int, int]] = field(default_factory=dict)
    used: set[tuple[int, int]] = field(default_factory=set)

    def note(self, finding: Finding, r: int, c: int) -> None:
        self.findings.append(finding.located(sheet=self.grid.sheet, cell=self.grid.ref(r, c)))


def _text(value: Any) -> str:
    return as_text(value) or ""


def _is_title(value: Any) -> bool:
    return isinstance(value, str) and _TITLE_KEY in label_key(value)


@lru_cache(maxsize=8192)
def _classify(text: str, is_str: bool) -> tuple[str, Any]:
    """What a header-region cell is: ("form", year or None) for the title, section headings and the year
    line; ("label", (path, inline value)) for a field label; ("other", None) for anything else."""
    if (is_str and _is_title(text)) or label_key(text) in _SECTION_KEYS:
        return "form", None
    year = year_of_line(text)
    if year or is_indicator_section(text):
        return "form", year or (text[:4] if text[:4].isdigit() else None)
    split = _split_label(text) if is_str else None
    return ("label", split) if split is not None else ("other", None)


def _is_table_header(row: list[Any]) -> dict[int, int] | None:
    """Column index for each of the four table columns, when the row is the indicator table's header."""
    found: dict[int, int] = {}
    for c, value in enumerate(row):
        if isinstance(value, str):
            key = label_key(value)
            for i, keys in enumerate(_HEADER_KEYS):
                if key in keys and i not in found:
                    found[i] = c
    return found if len(found) == 4 else None


@lru_cache(maxsize=8192)
def _split_label(text: str) -> tuple[str, str] | None:
    """(field path, inline value) when the cell is a label, possibly with its value after a colon."""
    key = label_key(text)
    if key in _LABEL_INDEX:
        return _LABEL_INDEX[key], ""
    for sep in ("：", ":"):
        if sep in text:
            head, tail = text.split(sep, 1)
            if label_key(head) in _LABEL_INDEX:
                return _LABEL_INDEX[label_key(head)], tail.strip()
    return None


def locate_forms(grid: Grid, names: dict[str, tuple[int, int, int, int]] | None = None,
                 profile_name: str | None = None) -> list[FormRead]:
    """Every declaration in the grid, in reading order.

    ``names`` are our template's defined names for this sheet (0-based sheet cell ranges); with them the
    fields are read where the names point, wherever rows were inserted or blocks moved. Without them,
    fields are found by their labels.
    """
    if names:
        form = _read_block(_Block(grid, 0, len(grid.rows)), names, profile_name)
        return [form] if form is not None else []
    titles = [r for r, row in enumerate(grid.rows) if any(_is_title(v) for v in row)]
    if not titles:
        labelled = sum(1 for row in grid.rows for v in row if isinstance(v, str) and _split_label(v))
        titles = [0] if labelled >= 3 else []
    bounds = [*titles, len(grid.rows)]
    forms = []
    for first, last in itertools.pairwise(bounds):
        form = _read_block(_Block(grid, first, last), None, profile_name)
        if form is not None:
            forms.append(form)
    return forms


def _drop_check_column(block: _Block, header_row: int, col: int) -> None:
    """Blank our 校验 column: what the add-in's live checks show (or the hint without it) is output, not data.

    It is the column right of 指标目标值 whose header reads 校验, through the whole form; re-saved copies carry
    the checks' cached values, which would otherwise be content the reader cannot place."""
    value = block.grid.value(header_row, col)
    if not (isinstance(value, str) and value.strip() == CHECK_LABEL):
        return
    for r in range(block.first, block.last):
        row = block.grid.rows[r]
        if col < len(row):
            row[col] = None


def _grid_pos(grid: Grid, row: int, col: int) -> tuple[int, int]:
    return row - grid.origin[0], col - grid.origin[1]


def _read_block(block: _Block, names: dict[str, tuple[int, int, int, int]] | None,
                profile_name: str | None) -> FormRead | None:
    grid = block.grid
    header_row: int | None = None
    columns: dict[int, int] | None = None
    table_end = block.last
    table = (names or {}).get(INDICATORS_NAME)
    if table is not None:
        r1, c1 = _grid_pos(grid, table[0], table[1])
        header_row, columns = r1 - 1, {i: c1 + i for i in range(4)}
        table_end = _grid_pos(grid, table[2], table[3])[0] + 1
    else:
        for r in range(block.first, block.last):
            columns = _is_table_header(grid.rows[r])
            if columns:
                header_row = r
                break
    head_end = header_row if header_row is not None else block.last
    if header_row is not None and columns is not None:
        _drop_check_column(block, header_row, columns[3] + 1)

    raw: dict[str, tuple[Any, int, int]] = {}
    year_raw: tuple[Any, int, int] | None = None
    for r in range(block.first, head_end):
        row = grid.rows[r]
        for c, value in enumerate(row):
            if is_blank(value) or (r, c) in block.used:
                continue
            kind, detail = _classify(_text(value).strip(), isinstance(value, str))
            if kind == "form":
                block.used.add((r, c))
                if detail and year_raw is None:
                    year_raw = (detail, r, c)
                continue
            if kind != "label":
                continue
            path, inline = detail
            block.used.add((r, c))
            if path in raw:
                continue  # a label printed twice: the first one holds the value; the second is reported
            if inline:
                raw[path] = (inline, r, c)
                continue
            vc = grid.merge_end_col(r, c) + 1
            neighbour = grid.value(r, vc)
            if isinstance(neighbour, str) and _split_label(neighbour) is not None:
                raw[path] = (None, r, vc)
            else:
                raw[path] = (neighbour, r, vc)
                block.used.add((r, vc))

    for name, (r1, c1, _, _) in (names or {}).items():
        named = path_of(name)
        if named is not None:
            r, c = _grid_pos(grid, r1, c1)
            raw[named] = (grid.value(r, c), r, c)
            block.used.add((r, c))

    if not raw and header_row is None:
        return None

    decl_fields: dict[str, Any] = {}
    for path, (value, r, c) in raw.items():
        block.cells[path] = (r, c)
        decl_fields[path] = _convert(block, path, value, r, c, html=names is None)

    year = decl_fields.pop("year", None)
    if year is None and year_raw is not None:
        try:
            year = as_year(year_raw[0])
            block.cells["year"] = (year_raw[1], year_raw[2])
        except ValueError:
            block.note(YEAR_UNPARSEABLE.finding("year", value=_text(year_raw[0])), year_raw[1], year_raw[2])

    indicators_raw: list[list[tuple[Any, int, int]]] = []
    if header_row is not None and columns is not None:
        block.used.update((header_row, c) for c in columns.values())
        block.cells["indicators"] = (header_row, columns[0])
        indicators_raw = _table_rows(block, header_row + 1, table_end, columns, extra=table is None)
        _table_rows(block, table_end, block.last, columns, extra=False, footer_only=True)
    level1_column = [_text(cells[0][0]).strip() for cells in indicators_raw if not is_blank(cells[0][0])]
    profile = load_profile(profile_name) if profile_name else detect_profile(level1_column)
    indicators = _read_indicators(block, indicators_raw, profile, template=names is not None)

    # Whatever the header walk did not place is reported, never dropped.
    for r in range(block.first, head_end):
        for c, value in enumerate(grid.rows[r]):
            if not is_blank(value) and (r, c) not in block.used:
                block.note(CONTENT_UNPLACED.finding(None, text=_text(value)[:60]), r, c)

    project = {p.split(".", 1)[1]: v for p, v in decl_fields.items() if p.startswith("project.")}
    budget = {p.split(".", 1)[1]: v for p, v in decl_fields.items() if p.startswith("budget.")}
    declaration = Declaration(
        profile=profile.name, year=year, unit_name=decl_fields.get("unit_name"), project=project,
        budget=budget, indicators=indicators,
    )
    return FormRead(declaration, block.findings, block.cells, grid, grid.ref(block.first, 0))


_CONVERTERS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    **dict.fromkeys(DATE_FIELDS, (as_date, DATE_UNPARSEABLE)),
    **dict.fromkeys(MONEY_FIELDS, (as_money, AMOUNT_UNPARSEABLE)),
    **dict.fromkeys(FLAG_FIELDS, (as_flag, FLAG_UNPARSEABLE)),
    "year": (as_year, YEAR_UNPARSEABLE),
}


def _convert(block: _Block, path: str, value: Any, r: int, c: int, *, html: bool) -> Any:
    """A cell as the field's type. HTML is a leak of old web exports; in our template a cell is kept as is."""
    label = LABELS[path]
    typed = _CONVERTERS.get(path)
    if typed is not None:
        convert, rule_ = typed
        try:
            return convert(value)
        except ValueError:
            block.note(rule_.finding(path, label=label, value=_text(value)), r, c)
            return None
    text = _sanitised(block, label, path, as_text(value), r, c)
    if text is not None and html and path in LONG_TEXT_FIELDS:
        tags = html_tags(text)
        if tags:
            block.note(HTML_CONVERTED.finding(path, label=label, tags="、".join(f"<{t}>" for t in tags)), r, c)
            text = html_to_text(text)
    return text


def _sanitised(block: _Block, label: str, path: str, text: str | None, r: int, c: int) -> str | None:
    if text is not None and has_controls(text):
        block.note(CONTROLS_REMOVED.finding(path, label=label), r, c)
        return strip_controls(text)
    return text


def _table_rows(block: _Block, start: int, stop: int, columns: dict[int, int], *, extra: bool,
                footer_only: bool = False) -> list[list[tuple[Any, int, int]]]:
    """The table's rows as five positions (the four columns and, for the old layout, one to their right).

    Footer labels and note rows are not indicators; whatever else lies outside the positions is reported.
    With ``footer_only`` every row is such a row (below our template's named table).
    """
    grid = block.grid
    cols = [columns[0], columns[1], columns[2], columns[3], columns[3] + 1]
    cols_here = set() if footer_only else set(cols if extra else cols[:4])
    rows = []
    for r in range(start, min(stop, len(grid.rows))):
        row = grid.rows[r]
        if row.count(None) == len(row):
            continue  # the template's empty rows: most of the table
        width = len(row)
        cells = [] if footer_only else [(row[c] if c < width and (extra or i < 4) else None, r, c)
                                        for i, c in enumerate(cols)]
        others = [c for c, v in enumerate(row) if c not in cols_here and not is_blank(v)]
        filled = [v for v, _, _ in cells if not is_blank(v)]
        if not filled and not others:
            continue
        footer = [c for c, v in enumerate(row) if isinstance(v, str) and label_key(v) in _FOOTER_KEYS] \
            if extra or footer_only else []
        if footer:
            block.used.update((r, c) for c in footer)
            others = [c for c, v in enumerate(row) if not is_blank(v) and c not in footer]
            cells = []
        elif (extra or footer_only) and len(filled) == 1 and _NOTE.match(_text(filled[0]).strip()):
            others += [c for v, _, c in cells if not is_blank(v)]
            cells = []
        for c in others:
            block.note(CONTENT_UNPLACED.finding(None, text=_text(row[c])[:60]), r, c)
            block.used.add((r, c))
        if cells:
            rows.append(cells)
    return rows


def detect_profile(level1_values: list[str]) -> Profile:
    """The profile whose level-1 names the table uses most; the default when nothing tells."""
    best, best_score = load_profile(DEFAULT_PROFILE), 0.0
    for name in profile_names():
        profile = load_profile(name)
        names = set(profile.level1_names())
        score = sum(1.0 if v in names else 0.5 if profile.canonical_level1(v) else 0.0 for v in level1_values)
        if score > best_score:
            best, best_score = profile, score
    return best


def _looks_like_target(text: str, profile: Profile) -> bool:
    return parse_target(text).kind in ("quantitative", "deadline") or text in profile.qualitative_values


def _place_row(values: list[str | None], profile: Profile) -> tuple[list[str | None], bool, bool]:
    """(level1, level2, name, target), whether the row was moved, and whether it stayed ambiguous."""
    l1s, l2s = profile.all_level1_spellings(), profile.all_level2_spellings()
    kinds = ["-" if v is None else "L1" if v in l1s else "L2" if v in l2s else "T" for v in values]
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


def _source_pos(cells: list[tuple[Any, int, int]], value: str | None, default_pos: int) -> tuple[int, int]:
    """The cell a placed value came from; for an empty value, the cell where it belongs."""
    for v, r, c in cells:
        if value is not None and (strip_controls(_text(v)).strip() or None) == value:
            return r, c
    return cells[default_pos][1], cells[default_pos][2]


def _merged(grid: Grid, r: int, c: int) -> bool:
    sr, sc = r + grid.origin[0], c + grid.origin[1]
    return any(r1 <= sr <= r2 and c1 <= sc <= c2 for r1, c1, r2, c2 in grid.merged)


def _indicator_cell(block: _Block, index: int, pos: int, value: Any, r: int, c: int) -> str | None:
    """One table cell as trimmed text, control characters removed and reported."""
    if value is None:
        return None
    text = value if value.__class__ is str else _text(value)
    if has_controls(text):
        text = _sanitised(block, INDICATOR_COLUMNS[min(pos, 3)], f"indicators[{index}]", text, r, c) or ""
    return text.strip() or None


def _read_indicators(block: _Block, rows: list[list[tuple[Any, int, int]]], profile: Profile, *,
                     template: bool = False) -> list[Indicator]:
    """Indicator rows; blank levels inherit from above (merged cells).

    In the old layout, shifted rows are set right. In our template the columns are fixed by validation, so a
    cell is read where it is, and a blank level inherits only when the cell is part of a merged range.
    """
    grid = block.grid
    out: list[Indicator] = []
    current1: str | None = None
    current2: str | None = None
    for cells in rows:
        values = [_indicator_cell(block, len(out), p, v, r, c) for p, (v, r, c) in enumerate(cells)]
        if template:
            placed, moved, ambiguous = values[:4], False, False
        else:
            placed, moved, ambiguous = _place_row(values, profile)
        level1, level2, name, target = placed
        index = len(out)
        r0, c0 = cells[0][1], cells[0][2]
        inferred = False
        if level1 is None and (not template or _merged(grid, cells[0][1], cells[0][2])):
            level1 = current1
            owner = profile.canonical_level2(level2)
            if owner is not None and profile.canonical_level1(current1) not in (None, owner[0]):
                level1, inferred = owner[0], True
        if level1 != current1:
            current2 = None
        if level2 is None and (not template or _merged(grid, cells[1][1], cells[1][2])):
            level2 = current2
        current1, current2 = level1, level2

        for pos, (key, value) in enumerate((("level1", level1), ("level2", level2), ("name", name),
                                            ("target", target))):
            # In our template a value sits in its own column; in the old layout it may have moved.
            where = (cells[pos][1], cells[pos][2]) if template and value == values[pos] else \
                _source_pos(cells, value, pos)
            block.cells[f"indicators[{index}].{key}"] = where
        block.used.update((r, c) for v, r, c in cells if not is_blank(v))
        if ambiguous:
            text = "｜".join(v or "" for v in values)
            block.note(INDICATOR_ROW_AMBIGUOUS.finding(f"indicators[{index}]", text=text), r0, c0)
        if moved or inferred:
            before = "｜".join(v or "（空）" for v in values[:4] + ([values[4]] if values[4] else []))
            after = "｜".join(v or "（空）" for v in (level1, level2, name, target))
            block.note(ROW_REPAIRED.finding(f"indicators[{index}]", before=before, after=after), r0, c0)
        out.append(Indicator(level1=level1, level2=level2, name=name, target=target))
    return out
