"""The checks a template computes with native spreadsheet formulas, for staff without the add-in (WPS,
LibreOffice, Excel for the web, an Excel where Python may not be installed).

Each check is a rule of the catalogue that formulas can express exactly: a missing level, name or target, a
level 1 outside the profile, a level 2 under another level 1, a rate or satisfaction target that is not a
percentage, a negative amount, this year's budget over the total, spending over the budget. A cell shows the
titles of the rules that fire (the catalogue's own words), ``✓`` when none does, nothing on an empty row. The
formulas use what Excel 2010, WPS and LibreOffice all have: no dynamic arrays, no LAMBDA, no TEXTJOIN.

The template puts them behind the add-in's live function: ``IFERROR(PG_CHECK_INDICATOR(…), <native>)``; where the
add-in runs, the full rule set replaces them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..profile import Profile
from ..rules import CATALOGUE, RATE_EXCLUDED, RATE_WORD, SATISFACTION_WORD
from ..severity import VERDICT_OK as OK
from ..severity import VERDICT_SEPARATOR
from ..targets import DIGITS, PERCENT_UNIT_WORDS, QUALITATIVE_WORDS

# The hidden lists the level checks look up: every spelling of a level 1 with its group's number, every spelling
# of a level 2 with the number of the level 1 it belongs to.
L1_SPELLINGS, L1_OWNER = "pg_l1_spellings", "pg_l1_number"
L2_SPELLINGS, L2_OWNER = "pg_l2_spellings", "pg_l2_owner"
_DIGITS = "{" + ",".join(f'"{d}"' for d in DIGITS) + "}"


def level_tables(profile: Profile) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(spelling, level-1 number) rows for level 1 and for level 2, as the profile's vocabulary resolves them."""
    numbers = {name: i for i, name in enumerate(profile.level1_names(), start=1)}
    level1 = [(s, numbers[profile.canonical_level1(s) or ""]) for s in sorted(profile.all_level1_spellings())]
    level2 = []
    for spelling in sorted(profile.all_level2_spellings()):
        owner = profile.canonical_level2(spelling)
        if owner is not None:
            level2.append((spelling, numbers[owner[0]]))
    return level1, level2


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _verdict(pieces: Sequence[tuple[str, str]], empty: str) -> str:
    """Titles of the checks whose condition holds, joined by ``VERDICT_SEPARATOR`` (titles hold no space, so TRIM
    then SUBSTITUTE joins them), ✓ when none, and nothing when ``empty`` holds."""
    joined = "&".join(f'IF({cond}," "&{_q(CATALOGUE[code].title)},"")' for code, cond in pieces)
    text = f'SUBSTITUTE(TRIM({joined})," ",{_q(VERDICT_SEPARATOR)})'
    return f'IF({empty},"",IF({text}="",{_q(OK)},{text}))'


def _count(cell: str, word: str) -> str:
    """How often a word stands in a cell's text."""
    return f"(LEN({cell})-LEN(SUBSTITUTE({cell},{_q(word)},\"\")))/{len(word)}"


def indicator_check(cells: dict[str, str]) -> str:
    """The native verdict on one indicator row; ``cells`` maps each column the form prints to its cell."""
    l1, l2, name, target = (cells.get(k, '""') for k in ("level1", "level2", "name", "target"))
    comparator, unit = cells.get("comparator"), cells.get("unit")
    row = [cells[k] for k in cells]
    empty = "AND(" + ",".join(f'{c}=""' for c in row) + ")"
    number = f"SUMPRODUCT(--ISNUMBER(FIND({_DIGITS},{target})))>0"
    if unit is not None:
        percent_unit = "OR(" + ",".join(f"{unit}={_q(w)}" for w in PERCENT_UNIT_WORDS) + ")"
        unit_says = f'IF({unit}<>"",{percent_unit},OR(ISNUMBER(FIND("%",{target})),ISNUMBER(FIND("％",{target}))))'
    else:
        unit_says = f'OR(ISNUMBER(FIND("%",{target})),ISNUMBER(FIND("％",{target})))'
    qualitative = ("OR(" + ",".join(f"{comparator}={_q(w)}" for w in QUALITATIVE_WORDS) + ")") \
        if comparator is not None else "FALSE"
    percent = f"AND({number},{unit_says},NOT({qualitative}))"
    excluded = "+".join(_count(name, ch + RATE_WORD) for ch in RATE_EXCLUDED)
    satisfaction = f"ISNUMBER(SEARCH({_q(SATISFACTION_WORD)},{name}))"
    rate = f"AND(NOT({satisfaction}),{_count(name, RATE_WORD)}>{excluded})"
    number1 = f"IFERROR(INDEX({L1_OWNER},MATCH({l1},{L1_SPELLINGS},0)),0)"
    pieces: list[tuple[str, str]] = []
    if "level1" in cells:
        pieces += [("I001", f'{l1}=""'), ("I002", f'AND({l1}<>"",ISNA(MATCH({l1},{L1_SPELLINGS},0)))')]
    if "level2" in cells:
        pieces += [("I003", f'{l2}=""')]
        if "level1" in cells:
            pieces += [("I005", f'AND({l2}<>"",{number1}>0,COUNTIF({L2_SPELLINGS},{l2})>0,'
                                f'COUNTIFS({L2_SPELLINGS},{l2},{L2_OWNER},{number1})=0)')]
    pieces += [("I006", f'{name}=""'), ("I007", f'AND({name}<>"",{target}="")'),
               ("I008", f'AND({target}<>"",{rate},NOT({percent}))'),
               ("I009", f'AND({target}<>"",{satisfaction},NOT({percent}))')]
    return _verdict(pieces, empty)


def budget_check(cells: dict[str, str]) -> str:
    """The native verdict on the amounts a form prints (``cells``: budget field path → cell)."""
    total, current = cells.get("budget.total"), cells.get("budget.current_year")
    prior, executed = cells.get("budget.prior_year_budget"), cells.get("budget.prior_year_executed")
    negative = "OR(" + ",".join(f"AND(ISNUMBER({c}),{c}<0)" for c in cells.values()) + ")"
    pieces = [("B001", negative)]
    if total and current:
        pieces.append(("B002", f"AND(ISNUMBER({current}),ISNUMBER({total}),{current}>{total})"))
    if prior and executed:
        pieces.append(("B003", f"AND(ISNUMBER({executed}),ISNUMBER({prior}),{executed}>{prior})"))
    return _verdict(pieces, "AND(" + ",".join(f'{c}=""' for c in cells.values()) + ")")


def summary_check(column: str, rows: Sequence[tuple[int, int]]) -> str:
    """Without the add-in, the sheet summary counts the rows whose native verdict is not ✓."""
    counts = "+".join(f'(COUNTIF({column}{a}:{column}{b},"?*")-COUNTIF({column}{a}:{column}{b},{_q(OK)}))'
                      for a, b in rows)
    return f'IF({counts}=0,{_q(OK)},"有问题的指标行 "&({counts})&" 行")'
