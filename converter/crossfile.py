"""Checks across the files of a batch, which no single form can make: the same project of the same unit
declared in two files (a resubmission), and, where a batch holds two consecutive years, this year's
同名项目上年预算额 against the project total declared the year before, with 上年预算执行数 noted against it.

Bulk conversion feeds every declaration's key to a ``CrossIndex`` as its outcome streams past (a few values
per declaration) and asks for the findings once the batch is read. The index is an SQLite file in the run's
staging area, so the parent's memory does not grow with the folder; only the groups of two or more
declarations are read back. The rules are declared in the catalogue (``rules.py``, codes X…) like every other;
they have no per-declaration check, so they run only here.
"""

from __future__ import annotations

import itertools
import pickle
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from .findings import Finding
from .model import Declaration
from .profile import load_profile, strip_unit
from .rules import PRIOR_BUDGET_DIFFERS, PRIOR_EXECUTION, RESUBMITTED, amount_text

_SPACES = re.compile(r"\s+")


class CrossKey(NamedTuple):
    """What the cross-file checks need of one declaration: who, what, which year, and three amounts (元)."""

    unit: str | None
    project: str | None
    year: int | None
    profile: str
    total: Decimal | None
    prior_budget: Decimal | None
    prior_executed: Decimal | None


def cross_key(decl: Declaration) -> CrossKey:
    b = decl.budget
    return CrossKey(decl.unit_name, decl.project.name, decl.year, decl.profile, b.total, b.prior_year_budget,
                    b.prior_year_executed)


def _same(text: str) -> str:
    """Names compared as people mean them: full-width and half-width alike, spaces ignored."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


@dataclass(frozen=True)
class _Seen:
    index: int  # the declaration's place in the batch
    file: str
    sheet: str | None
    key: CrossKey


class CrossIndex:
    """Declarations by unit and project, as they stream past; ``findings`` once the batch is read.

    Kept in an SQLite file at ``path`` (the caller's staging area, removed with it), or in memory without one."""

    def __init__(self, path: Path | None = None) -> None:
        self._db = sqlite3.connect(":memory:" if path is None else str(path), isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -256", "temp_store = FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE seen (unit_key TEXT, project_key TEXT, idx INTEGER, file TEXT, sheet TEXT, "
                         "unit TEXT, project TEXT, year INTEGER, profile TEXT, total TEXT, prior TEXT, executed TEXT)")
        self._db.execute("BEGIN")

    def add(self, index: int, file: str, sheet: str | None, key: CrossKey) -> None:
        if not key.unit or not key.project:
            return  # nothing to tell two declarations apart by
        self._db.execute("INSERT INTO seen VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            _same(key.unit), _same(key.project), index, file, sheet, key.unit, key.project, key.year, key.profile,
            *(None if v is None else str(v) for v in (key.total, key.prior_budget, key.prior_executed))))

    def findings(self) -> Iterator[tuple[int, CrossKey, Finding]]:
        """(declaration index, its key, finding) in the batch's order. They are put aside in the database and
        read back in order, so that a batch of many resubmissions does not hold its findings in memory."""
        db = self._db
        db.execute("CREATE TABLE found (idx INTEGER, code TEXT, seq INTEGER, hit BLOB)")
        # Indexes, so that SQLite walks the rows in order rather than sorting them in memory.
        db.execute("CREATE INDEX seen_order ON seen (unit_key, project_key, idx)")
        rows = db.execute(
            "SELECT * FROM seen s WHERE EXISTS (SELECT 1 FROM seen t WHERE t.unit_key = s.unit_key AND "
            "t.project_key = s.project_key AND t.idx != s.idx) ORDER BY unit_key, project_key, idx")
        seq = 0
        for _, group in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
            for index, key, finding in _group([_seen(r) for r in group]):
                seq += 1
                db.execute("INSERT INTO found VALUES (?, ?, ?, ?)",
                           (index, finding.code, seq, pickle.dumps((key, finding), pickle.HIGHEST_PROTOCOL)))
        db.execute("CREATE INDEX found_order ON found (idx, code, seq)")
        for index, hit in db.execute("SELECT idx, hit FROM found ORDER BY idx, code, seq"):
            key, finding = pickle.loads(hit)
            yield index, key, finding

    def close(self) -> None:
        self._db.close()


def _seen(row: tuple[Any, ...]) -> _Seen:
    _, _, index, file, sheet, unit, project, year, profile, *amounts = row
    total, prior, executed = (None if v is None else Decimal(v) for v in amounts)
    return _Seen(index, file, sheet, CrossKey(unit, project, year, profile, total, prior, executed))


def _group(group: list[_Seen]) -> Iterator[tuple[int, CrossKey, Finding]]:
    by_year: dict[int | None, list[_Seen]] = {}
    for seen in group:
        by_year.setdefault(seen.key.year, []).append(seen)
    for year, same in by_year.items():
        first = same[0]
        for later in same[1:]:
            if later.file != first.file:
                yield later.index, later.key, _located(RESUBMITTED.finding(
                    "project.name", unit=later.key.unit, project=later.key.project,
                    year=f"{year} 年度" if year is not None else "年度未填", first=first.file, second=later.file),
                    later)
        earlier = by_year.get(year - 1) if year is not None else None
        if earlier:
            for later in same:
                yield from _against(later, earlier[0])


def _against(later: _Seen, earlier: _Seen) -> Iterator[tuple[int, CrossKey, Finding]]:
    """This year's prior-year amounts set against the total declared the year before."""
    total = earlier.key.total
    if total is None:
        return
    profile = load_profile(later.key.profile)
    common = {"file": earlier.file, "year": earlier.key.year, "unit": profile.money_unit,
              "total": amount_text(total, profile), "total_label": strip_unit(profile.label("budget.total"))}
    prior = later.key.prior_budget
    if prior is not None and prior != total:
        yield later.index, later.key, _located(PRIOR_BUDGET_DIFFERS.finding(
            "budget.prior_year_budget", prior=amount_text(prior, profile),
            prior_label=strip_unit(profile.label("budget.prior_year_budget")), **common), later)
    executed = later.key.prior_executed
    if executed is not None and total > 0:
        rate = (executed / total * 100).quantize(Decimal("0.1"))
        yield later.index, later.key, _located(PRIOR_EXECUTION.finding(
            "budget.prior_year_executed", executed=amount_text(executed, profile), rate=rate,
            executed_label=strip_unit(profile.label("budget.prior_year_executed")), **common), later)


def _located(f: Finding, seen: _Seen) -> Finding:
    return f.located(file=seen.file, sheet=seen.sheet, project=seen.key.project)
