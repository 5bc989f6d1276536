"""Bulk conversion side by side with a naive openpyxl loop and the raw python-calamine read, on several kinds of input.

    python bench/bulk.py [--sets template,old,...] [--files 1200] [--jobs 2] [--repeat 5] [--memory-check]
    python bench/bulk.py --quick          # a smoke run on a few files a set (tests/test_bench.py runs it)

Input sets (built once, cached under ``--work``/sets, keyed by a digest of the set's definition and, for sets
written by our writer, of the writer's output; every set varies names and amounts from file to file):
  template  our template, 60 rows: converter.writers.xlsx.write_workbook of the seven sample declarations
  old       the old four-column layout of the user's sample (its text export, one form a file): ~20 rows,
            merged level cells, typed dates and amounts, written with XlsxWriter, not by our writer
  profiles  every other profile: its example declaration in our template, and a form laid out by hand as a
            unit there would (tests/test_layouts.py's forms where it has one, compact ones here otherwise)
  rows600   one declaration of 600 indicator rows a file (our template)
  sheets50  50 form sheets in one workbook (our template)
  distinct  no two files alike: titles, sheet names, blank rows and columns, the order of header fields, label
            spellings, merged or filled levels, names and long texts differ, so no per-layout or per-text cache
            in the reader can flatter the numbers
``--files`` is the size of the light sets (default 1,200); rows600 and sheets50 take a tenth and a twentieth.

For each set, in interleaved rounds (best of ``--repeat``: on a shared machine noise only slows a run down,
and it comes in spells), on the same hard-linked files:
  naive  openpyxl.load_workbook per file, every cell visited, one process (a sample of the set)
  raw    python-calamine: open each workbook and read every sheet to Python values, one process
  bulk   ``perfgoal bulk --jobs N`` end to end: converter.bulk.run_bulk in a fresh interpreter, timed from
         its start to its exit; on rows600 also with --jobs 1, for the scaling goal
Then start-up (fresh processes, best of N), a phase breakdown from one instrumented in-process pass over a
sample of each set (existing functions wrapped by name; a phase whose function is gone prints n/a), and peak
memory.

Peak memory: a process started by fork and exec keeps, as its ``ru_maxrss``, the peak of the process that
forked it (Linux saves the old image's high-water mark across exec), so the earlier benchmark reported its
own 65 MB as the parent's. Here the bulk process reports ``VmHWM`` from /proc (its own image's peak), and it
is started by a small launcher process begun before anything else, so its ``ru_maxrss`` is right as well. A
worker's peak is ``RUSAGE_CHILDREN``'s ``ru_maxrss`` in the bulk process after the run: the largest worker's.

Creating the JSON files is part of the work, so the cost of creating one file on the output disk is printed
(``creation_cost``), and nothing is deleted until all runs are done.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import importlib
import inspect
import json
import multiprocessing as mp
import os
import pickle
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from converter.model import Declaration

Cell = str | int | float | dt.date | None
Rows = list[list[Cell]]
Merge = tuple[int, int, int, int]  # first row, first column, last row, last column (0-based, inclusive)


# ----------------------------------------------------------------------------------------------------------
# A small launcher: bulk runs and start-up timings are started from it, not from this (growing) process
# ----------------------------------------------------------------------------------------------------------
_LAUNCHER = r"""
import json, subprocess, sys, time
for line in sys.stdin:
    ask = json.loads(line)
    start = time.perf_counter()
    done = subprocess.run(ask["cmd"], cwd=ask["cwd"], capture_output=True)
    took = time.perf_counter() - start
    print(json.dumps({"seconds": took, "code": done.returncode,
                      "out": done.stdout.decode("utf-8", "replace"), "err": done.stderr.decode("utf-8", "replace")}),
          flush=True)
"""


@dataclass
class Ran:
    seconds: float
    code: int
    out: str
    err: str


class Launcher:
    """A process begun while this one is small, which starts and times the measured processes.

    Its children inherit its own ``ru_maxrss`` (some 10 MB), not this process's, which grows as it builds
    sets and reads them; and a fork of a small process costs the same every time. They run from compiled
    bytecode, as an installed program does: a checkout run with ``PYTHONDONTWRITEBYTECODE`` (this sandbox sets
    it) would compile every module of the project at every start, some 0.1 s a run; so they keep their bytecode
    in ``pycache`` (``PYTHONPYCACHEPREFIX``), written by the first run, which the best of the rounds leaves out."""

    def __init__(self, pycache: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        self.proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT, env=env)

    def run(self, cmd: Sequence[str]) -> Ran:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": list(cmd), "cwd": str(ROOT)}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the launcher process ended")
        got = json.loads(line)
        return Ran(float(got["seconds"]), int(got["code"]), str(got["out"]), str(got["err"]))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


# ----------------------------------------------------------------------------------------------------------
# Source data
# ----------------------------------------------------------------------------------------------------------
SAMPLES_JSON = ROOT / "tests" / "data" / "declarations-2020.expected.json"
SAMPLE_TEXT = ROOT / "tests" / "data" / "declarations-2020.txt"  # the user's text export, /work/shared/samples
EXAMPLES = ROOT / "examples"
TABLE_HEADS = ("一级目标", "一级指标")


@functools.cache
def samples() -> tuple[Declaration, ...]:
    from converter import canonical

    return tuple(canonical.loads(SAMPLES_JSON.read_bytes()))


@functools.cache
def example(profile: str) -> Declaration:
    from converter import canonical

    return canonical.loads((EXAMPLES / f"{profile}.json").read_bytes())[0]


@functools.cache
def other_profiles() -> tuple[str, ...]:
    """Every profile but the samples', with an example to write (the examples are our writer's, per profile)."""
    from converter.profile import profile_names

    own = {d.profile for d in samples()}
    return tuple(p for p in profile_names() if p not in own and (EXAMPLES / f"{p}.json").exists())


def varied(decl: Declaration, i: int, tag: str = "") -> Declaration:
    """The declaration with the project's name and its amounts changed for file ``i``."""
    out = copy.deepcopy(decl)
    out.project.name = f"{out.project.name or '项目'}（{tag}{i:05d}）"
    budget = out.budget
    for name in ("total", "current_year", "prior_year_budget", "prior_year_executed"):
        value = getattr(budget, name, None)
        if isinstance(value, Decimal):
            setattr(budget, name, value + Decimal(i % 997))
    return out


_DATE = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")
_AMOUNT = re.compile(r"^\d{1,3}(?:,\d{3})*\.\d\d$")


@functools.cache
def export_blocks() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The user's sample as its text export lays it out: one block of rows (cells as typed) per form."""
    lines = [tuple(c.strip() for c in line.split("\t")) for line in SAMPLE_TEXT.read_text("utf-8").splitlines()]
    starts = [i for i, row in enumerate(lines) if row[0].endswith("绩效目标申报表")]
    blocks = []
    for a, b in zip(starts, [*starts[1:], len(lines)], strict=True):
        block = list(lines[a:b])
        while block and not any(block[-1]):
            block.pop()
        blocks.append(tuple(block))
    return tuple(blocks)


def old_rows(i: int) -> Rows:
    """Form ``i % 7`` of the sample as its sheet held it — dates and amounts typed, not text — with its name and
    amounts changed for file ``i``."""
    block = export_blocks()[i % len(export_blocks())]
    rows: Rows = []
    for line in block:
        row: list[Cell] = []
        for c, text in enumerate(line):
            value: Cell = text or None
            if _DATE.match(text):
                y, m, d = map(int, re.split(r"[-/]", text))
                value = dt.date(y, m, d)
            elif _AMOUNT.match(text):
                value = float(text.replace(",", "")) + i % 997
            elif c > 0 and str(line[c - 1]).startswith("项目名称") and text:
                value = f"{text}（{i:05d}）"
            row.append(value)
        while row and row[-1] is None:
            row.pop()
        rows.append(row)
    return rows


def table_rows(decl: Declaration, columns: int = 4) -> Rows:
    """The declaration's indicators as a hand-laid table: level 1 and 2 written once per group (then merged)."""
    out: Rows = []
    last: tuple[str | None, str | None] = (None, None)
    for ind in decl.indicators:
        l1 = ind.level1 if ind.level1 != last[0] else None
        l2 = ind.level2 if (ind.level1, ind.level2) != last else None
        row: list[Cell] = [l1, l2, ind.name, ind.target]
        out.append(row[:columns])
        last = (ind.level1, ind.level2)
    return out


def shanghai_2025_rows(i: int) -> Rows:
    """A Shanghai sheet laid out by hand, the 2025 indicator tree."""
    d = varied(example("shanghai-2025"), i)
    b, p = d.budget, d.project
    return [["财政项目支出绩效目标申报表"], [f"({d.year})年度"], [f"申报单位名称：{d.unit_name}"],
            ["项目名称*：", p.name, "项目类别*：", p.category],
            ["计划开始日期*：", p.start_date, "计划完成日期*：", p.end_date],
            ["是否含有政府购买服务：", "是" if p.includes_government_procurement else "否", "绩效类型：",
             p.performance_type],
            ["项目概况*：", p.overview], ["立项依据*：", p.basis], ["项目设立的必要性*：", p.necessity],
            ["项目总预算（元）：", _float(b.total), "项目当年预算（元）：", _float(b.current_year)],
            ["同名项目上年预算额（元）：", _float(b.prior_year_budget), "同名项目上年预算执行数（元）：",
             _float(b.prior_year_executed)],
            [f"{d.year}年绩效目标"], ["一级指标", "二级指标", "三级指标", "指标值"], *table_rows(d)]


def national_2015_rows(i: int) -> Rows:
    """An 88号 form of its time (2020: the example is dated later) laid out by hand: national header in 万元,
    cost under 产出."""
    d = varied(example("national-2015"), i)
    b, p = d.budget, d.project
    return [["项目支出绩效目标申报表"], ["（2020年度）"], ["项目名称", p.name],
            ["主管部门及代码", d.department, None, "实施单位", d.implementing_unit],
            ["项目属性", p.attribute, None, "项目期", "2020年"], ["项目资金（万元）"],
            ["中期资金总额", _float(b.total, 10_000), None, "年度资金总额", _float(b.current_year, 10_000)],
            ["其中：财政拨款", _float(b.fiscal_funds, 10_000), None, "其他资金", _float(b.other_funds, 10_000)],
            ["总体目标", "中长期目标", None, "年度目标"], [None, p.long_term_goal, None, p.annual_goal],
            ["一级指标", "二级指标", "三级指标", "指标值"], *table_rows(d)]


def _float(value: Decimal | None, unit: int = 1) -> float | None:
    return None if value is None else float(value / unit)


def _test_form(name: str) -> Rows | None:
    """A form of tests/test_layouts.py (one source: the tests' own layouts), or None if it is gone."""
    try:
        module = importlib.import_module("tests.test_layouts")
    except Exception:
        return None
    rows = getattr(module, name, None)
    return [list(r) for r in rows] if isinstance(rows, list) else None


def _from_test(name: str) -> Callable[[int], Rows | None]:
    def rows(i: int) -> Rows | None:
        form = _test_form(name)
        return None if form is None else vary_values(form, i)
    rows.__qualname__ = rows.__name__ = f"test_layouts.{name}"
    return rows


FOREIGN: dict[str, Callable[[int], Rows | None]] = {
    "shanghai-2025": shanghai_2025_rows,
    "national-2015": national_2015_rows,
    "national-2021": _from_test("NATIONAL"),
    "county-2016": _from_test("COUNTY"),
}


def vary_values(rows: Rows, i: int) -> Rows:
    """A hand-laid form with the project's name and the amounts above its table changed for file ``i``."""
    out = [list(r) for r in rows]
    head = table_header(out)
    for r, row in enumerate(out[: head if head is not None else len(out)]):
        for c, value in enumerate(row):
            if isinstance(value, int | float) and not isinstance(value, bool):
                row[c] = value + (i % 97) / 100
            elif c > 0 and isinstance(row[c - 1], str) and str(row[c - 1]).startswith("项目名称") and value:
                row[c] = f"{value}（{i:05d}）"
        out[r] = row
    return out


# ----------------------------------------------------------------------------------------------------------
# Hand-laid sheets
# ----------------------------------------------------------------------------------------------------------
def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _at(row: list[Cell], c: int) -> Cell:
    return row[c] if c < len(row) else None


def table_header(rows: Rows) -> int | None:
    return next((r for r, row in enumerate(rows) if _at(row, 0) in TABLE_HEADS), None)


def table_lines(rows: Rows) -> set[int]:
    """The rows of a form's indicator tables: below a heading row (一级目标 / 一级指标 in column A), each row
    with a name in column C, up to the first row without one or a footer (填报人：… in column A)."""
    lines: set[int] = set()
    in_table = False
    for r, row in enumerate(rows):
        if _at(row, 0) in TABLE_HEADS:
            in_table = True
        elif in_table and not _blank(_at(row, 2)) and "：" not in str(_at(row, 0) or ""):
            lines.add(r)
        else:
            in_table = False
    return lines


def level_runs(rows: Rows) -> list[Merge]:
    """Level 1 and level 2 cells a form merges down over their group: a level written once, the table rows
    below it blank in that column."""
    runs: list[Merge] = []
    open_: dict[int, list[int]] = {}

    def close(*cols: int) -> None:
        for col in cols:
            start, end = open_.pop(col, (0, 0))
            if end > start:
                runs.append((start, col, end, col))

    lines = table_lines(rows)
    for r, row in enumerate(rows):
        if r not in lines:
            close(0, 1)
            continue
        for col in (0, 1):
            if not _blank(_at(row, col)):
                close(col)
                if col == 0:
                    close(1)
                open_[col] = [r, r]
            elif col in open_:
                open_[col][1] = r
    close(0, 1)
    return runs


def header_merges(rows: Rows, width: int) -> list[Merge]:
    """Above the table: a title or section line across the width, a long text across the value columns."""
    out: list[Merge] = []
    head = table_header(rows)
    for r, row in enumerate(rows[: head if head is not None else len(rows)]):
        cells = [c for c, v in enumerate(row) if not _blank(v)]
        if cells == [0] and isinstance(row[0], str):
            out.append((r, 0, r, width - 1))
        elif cells == [0, 1] and isinstance(row[1], str) and width > 2:
            out.append((r, 1, r, width - 1))
    return out


def write_rows(path: Path, rows: Rows, merges: Sequence[Merge], sheet: str = "Sheet1", *,
               date_format: str = "yyyy-mm-dd") -> None:
    """One sheet as a unit types it into Excel: text as text, dates and amounts typed and formatted (amounts
    above the table as ``#,##0.00``), the given ranges merged."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    try:
        ws = book.add_worksheet(sheet)
        dates = book.add_format({"num_format": date_format})
        money = book.add_format({"num_format": "#,##0.00"})
        head = table_header(rows)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if _blank(value):
                    continue
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), dates)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, money if head is None or r < head else None)
                else:
                    ws.write_string(r, c, str(value))
        for r1, c1, r2, c2 in merges:
            value = _at(rows[r1], c1)
            ws.merge_range(r1, c1, r2, c2, value if isinstance(value, str) else "")
        ws.set_column(0, 0, 24)
        ws.set_column(1, 5, 16)
    finally:
        book.close()


def laid_out(path: Path, rows: Rows, sheet: str = "Sheet1") -> None:
    """A hand-laid form with its title, long texts and level cells merged, as the user's sample has them."""
    width = max(4, *(len(r) for r in rows))
    write_rows(path, rows, [*header_merges(rows, width), *level_runs(rows)], sheet)


# ----------------------------------------------------------------------------------------------------------
# The distinct set: every file laid out a little differently
# ----------------------------------------------------------------------------------------------------------
def distinct_rows(i: int) -> tuple[Rows, list[Merge], str, str]:
    """Form ``i`` of the distinct set: rows, merges, sheet name and date format, all drawn from ``i``."""
    rng = random.Random(i)
    bases: list[Callable[[int], Rows | None]] = [old_rows] * len(export_blocks()) + list(FOREIGN.values())
    rows = bases[i % len(bases)](i) or old_rows(i)
    head = table_header(rows)
    head = len(rows) if head is None else head
    lines = table_lines(rows)
    # Every text of this file its own: the title's tail, the long texts, every indicator name.
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if not isinstance(value, str):
                continue
            if r == 0 and c == 0:
                row[c] = value + rng.choice(["", "（样表）", f"（第{i}号）", " ", f"（{i}）"])
            elif r < head and len(value) > 30:
                row[c] = f"{value}（编号 {i}）"
            elif r in lines and c == 2:
                row[c] = f"{i}号{value}"
    # Labels spelt differently: with or without the asterisk, a full-width or ASCII colon.
    for row in rows[:head]:
        for c, value in enumerate(row):
            if isinstance(value, str) and value.endswith("："):
                if rng.random() < 0.3:
                    value = value.replace("*", "")
                if rng.random() < 0.3:
                    value = value[:-1] + ":"
                row[c] = value
    # Header fields in another order: the two pairs of a row swapped, two such rows swapped.
    pair_rows = []
    for r, row in enumerate(rows[:head]):
        labels = [c for c, v in enumerate(row) if isinstance(v, str) and not _blank(v)]
        if len(row) in (4, 5) and labels and labels[0] == 0 and (len(row) - 2) in labels:
            pair_rows.append(r)
            if rng.random() < 0.5:
                half = len(row) - 2
                rows[r] = row[half:] + row[2:half] + row[:2]
    adjacent = [r for r in pair_rows if r + 1 in pair_rows]
    if adjacent and rng.random() < 0.7:
        ra = rng.choice(adjacent)
        rows[ra], rows[ra + 1] = rows[ra + 1], rows[ra]
    # Levels merged, or written on every row.
    runs = level_runs(rows)
    if rng.random() < 0.5:
        for r1, c, r2, _ in runs:
            for r in range(r1 + 1, r2 + 1):
                while len(rows[r]) <= c:
                    rows[r].append(None)
                rows[r][c] = rows[r1][c]
        runs = []
    width = max(4, *(len(r) for r in rows))
    merges = [*header_merges(rows, width), *runs]
    # Blank rows here and there above the table, a blank first column in some files.
    for _ in range(rng.randrange(4)):  # before a labelled row: never between a row of labels and its values
        at = rng.choice([r for r in range(1, min(head + 1, len(rows))) if isinstance(_at(rows[r], 0), str)])
        rows.insert(at, [])
        merges = [(r1 + (r1 >= at), c1, r2 + (r2 >= at), c2) for r1, c1, r2, c2 in merges]
        head += 1
    shift = rng.random() < 0.35
    if shift:
        rows = [[None, *row] for row in rows]
        merges = [(r1, c1 + 1, r2, c2 + 1) for r1, c1, r2, c2 in merges]
    sheet = f"{rng.choice(['Sheet1', '申报表', '绩效目标', '表', '项目'])}{i}"
    return rows, merges, sheet, rng.choice(["yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"'])


# ----------------------------------------------------------------------------------------------------------
# The sets
# ----------------------------------------------------------------------------------------------------------
def make_template(path: Path, i: int) -> None:
    from converter.writers.xlsx import write_workbook

    write_workbook(path, [varied(samples()[i % len(samples())], i)])


def make_old(path: Path, i: int) -> None:
    laid_out(path, old_rows(i))


def profile_kinds() -> list[tuple[str, str]]:
    """(profile, "template" or "by hand") for every other profile; a profile without a hand-laid form here
    has only its template."""
    kinds = []
    for p in other_profiles():
        kinds.append((p, "template"))
        if p in FOREIGN and FOREIGN[p](0) is not None:
            kinds.append((p, "by hand"))
    return kinds


def make_profiles(path: Path, i: int) -> None:
    kinds = profile_kinds()
    profile, kind = kinds[i % len(kinds)]
    if kind == "template":
        from converter.writers.xlsx import write_workbook

        write_workbook(path, [varied(example(profile), i)])
    else:
        laid_out(path, FOREIGN[profile](i) or [])


ROWS600 = 600


def make_rows600(path: Path, i: int) -> None:
    from converter.writers.xlsx import write_workbook

    decl = varied(samples()[i % len(samples())], i)
    pool = [ind for d in samples() for ind in d.indicators]
    indicators = []
    for k in range(ROWS600):
        ind = copy.copy(pool[k % len(pool)])
        if k >= len(pool):  # every row of the file its own
            ind.name = f"{ind.name}（第{k // len(pool) + 1}组）"
        indicators.append(ind)
    decl.indicators = indicators
    write_workbook(path, [decl])


SHEETS50 = 50


def make_sheets50(path: Path, i: int) -> None:
    from converter.writers.xlsx import write_workbook

    write_workbook(path, [varied(samples()[k % len(samples())], i, tag=f"{k:02d}-") for k in range(SHEETS50)])


def make_distinct(path: Path, i: int) -> None:
    rows, merges, sheet, date_format = distinct_rows(i)
    write_rows(path, rows, merges, sheet, date_format=date_format)


@dataclass(frozen=True)
class SetSpec:
    key: str
    title: str
    make: Callable[[Path, int], None]
    parts: tuple[Callable[..., Any], ...]  # whose source defines the set (its digest)
    writer: bool  # written by our writer: the writer's output is part of the digest
    share: int = 1  # files: --files // share; the naive sample: --naive-sample // (share * naive_weight)
    naive_weight: int = 1
    min_files: Callable[[], int] = lambda: 1


_LAYOUT = (table_header, table_lines, level_runs, header_merges, write_rows, laid_out)
SETS = {s.key: s for s in [
    SetSpec("template", "our template, 60 rows (write_workbook, the 7 sample forms)", make_template,
            (make_template, varied), True),
    SetSpec("old", "old four-column layout, ~20 rows, merged levels, typed dates and amounts (XlsxWriter)",
            make_old, (make_old, old_rows, export_blocks, *_LAYOUT), False),
    SetSpec("profiles", "every other profile: its template and a form laid out by hand, mixed", make_profiles,
            (make_profiles, profile_kinds, varied, vary_values, shanghai_2025_rows, national_2015_rows,
             table_rows, _test_form, *_LAYOUT), True, min_files=lambda: len(profile_kinds())),
    SetSpec("rows600", f"one declaration of {ROWS600} indicator rows a file (our template)", make_rows600,
            (make_rows600, varied), True, share=10, naive_weight=2),
    SetSpec("sheets50", f"{SHEETS50} form sheets in one workbook (our template)", make_sheets50,
            (make_sheets50, varied), True, share=20, naive_weight=3),
    SetSpec("distinct", "distinct forms, no two alike (layouts of old and profiles varied per file)",
            make_distinct, (make_distinct, distinct_rows, old_rows, export_blocks, shanghai_2025_rows,
                            national_2015_rows, table_rows, vary_values, _test_form, *_LAYOUT), False),
]}


@functools.cache
def writer_version() -> str:
    """A digest of what the writer makes of the first sample: a cached folder written by an older writer
    would measure yesterday's files."""
    from converter.writers.xlsx import build_workbook, workbook_bytes

    return hashlib.sha256(workbook_bytes(build_workbook(list(samples()[:1])))).hexdigest()[:12]


def set_digest(spec: SetSpec) -> str:
    h = hashlib.sha256()
    for part in spec.parts:
        h.update(inspect.getsource(part).encode())
    for data in (SAMPLES_JSON, SAMPLE_TEXT, *sorted(EXAMPLES.glob("*.json"))):
        h.update(data.read_bytes())
    if spec.key in ("profiles", "distinct"):
        h.update(repr([_test_form(n) for n in ("NATIONAL", "COUNTY")]).encode())
    if spec.writer:
        h.update(writer_version().encode())
    return h.hexdigest()[:12]


def file_name(folder: Path, i: int) -> Path:
    return folder / f"处室{i % 10:02d}" / f"申报表 {i:05d}.xlsx"


def _build_one(key: str, folder: str, i: int) -> None:
    """One file of a set, written under a temporary name and renamed: an interrupted build leaves no half file."""
    final = file_name(Path(folder), i)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = Path(folder) / ".building" / f"{i}-{os.getpid()}.xlsx"
    part.parent.mkdir(exist_ok=True)
    SETS[key].make(part, i)
    os.replace(part, final)


def build(spec: SetSpec, folder: Path, count: int, jobs: int) -> list[Path]:
    """The set's first ``count`` files, built where missing (in ``jobs`` processes)."""
    missing = [i for i in range(count) if not file_name(folder, i).exists()]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        if jobs > 1 and len(missing) > 1 and "fork" in mp.get_all_start_methods():
            samples(), export_blocks()  # loaded once, before the fork
            ctx = mp.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
                list(pool.map(_build_one, [spec.key] * len(missing), [str(folder)] * len(missing), missing,
                              chunksize=8))
        else:
            for i in missing:
                _build_one(spec.key, str(folder), i)
    return [file_name(folder, i) for i in range(count)]


# ----------------------------------------------------------------------------------------------------------
# The measurements
# ----------------------------------------------------------------------------------------------------------
def naive(files: Sequence[Path]) -> float:
    import openpyxl

    start = time.perf_counter()
    for f in files:
        wb = openpyxl.load_workbook(f)
        for ws in wb:
            for _ in ws.iter_rows(values_only=True):
                pass
    return time.perf_counter() - start


def raw(files: Sequence[Path]) -> float:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    for f in files:
        wb = CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
        wb.close()
    return time.perf_counter() - start


_BULK_CHILD = r"""
import json, resource, sys, time
start = time.perf_counter()
from pathlib import Path
from converter import bulk
imported = time.perf_counter()
before = resource.getrusage(resource.RUSAGE_SELF)
# The steady phase, from the first file's result to the last's: the run without the start of its workers and
# without the summary's close, fixed costs that weigh on a set of few large files.
marks = [0.0, 0.0, 0]  # the first result's time, the last's, results
add = bulk.Writer.add
def timed_add(writer, outcome):
    add(writer, outcome)
    now = time.perf_counter()
    marks[:] = [marks[0] or now, now, marks[2] + 1]
bulk.Writer.add = timed_add
report = bulk.run_bulk(Path(sys.argv[1]), Path(sys.argv[2]), jobs=int(sys.argv[3]), progress=False)
ran = time.perf_counter()
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
hwm = None
try:
    with open("/proc/self/status") as fh:
        hwm = next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), None)
except OSError:
    pass
print(json.dumps({
    "import_s": imported - start, "run_s": ran - imported, "steady_s": marks[1] - marks[0],
    "steady_files": max(marks[2] - 1, 0),
    "files": report.files, "declarations": report.declarations,
    "parent_cpu_s": me.ru_utime + me.ru_stime - before.ru_utime - before.ru_stime,
    "workers_cpu_s": kids.ru_utime + kids.ru_stime,
    "parent_hwm_kb": hwm, "parent_maxrss_kb": me.ru_maxrss, "worker_maxrss_kb": kids.ru_maxrss}))
"""


@dataclass
class BulkRun:
    seconds: float  # from the process's start to its exit
    import_s: float
    run_s: float
    steady_s: float  # from the first file's result to the last's
    steady_files: int  # the results after the first
    files: int
    declarations: int
    parent_cpu_s: float
    workers_cpu_s: float
    parent_hwm_kb: int | None
    parent_maxrss_kb: int
    worker_maxrss_kb: int


def bulk(launcher: Launcher, folder: Path, out: Path, jobs: int) -> BulkRun:
    """One ``perfgoal bulk`` run in a fresh process. The output is kept until the whole benchmark is done:
    see ``creation_cost``."""
    ran = launcher.run([sys.executable, "-c", _BULK_CHILD, str(folder), str(out), str(jobs)])
    if ran.code != 0:
        raise RuntimeError(f"bulk run on {folder} failed (exit {ran.code}): {ran.err.strip()[-2000:]}")
    got = json.loads(ran.out.strip().splitlines()[-1])
    return BulkRun(ran.seconds, **got)


_SCRATCH: list[Path] = []  # every folder this run made under --work, removed at its end


def scratch(prefix: str, parent: Path | None = None) -> Path:
    """A new folder under ``parent`` (default: the work folder, ``tempfile.tempdir``), kept until the end of
    the run."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    _SCRATCH.append(folder)
    return folder


def creation_cost(folder: Path, count: int = 300) -> float:
    """Milliseconds to create one small file in a new folder under ``folder`` (left in place; see below).

    Bulk conversion creates one JSON file per declaration, so this cost is part of what is measured. It is
    normally a few hundredths of a millisecond, but on ext4 without a journal (this project's VM) the inode
    allocator skips every inode freed in the last 1-5 minutes, checking each: right after thousands of files
    were deleted nearby, one creation took 0.6-0.8 ms, which alone cut the bulk rate by a third. So nothing
    is deleted until all runs are done, and this probe is printed with the results."""
    probe = scratch("bench-probe-", folder)
    start = time.perf_counter()
    for i in range(count):
        with open(probe / f"{i}.json", "xb") as fh:
            fh.write(b"{}" * 2000)
    return (time.perf_counter() - start) / count * 1000


def linked(files: Sequence[Path], cache: Path, copies: int = 1) -> Path:
    """The files as a folder of hard links (``copies`` times, in subfolders): the exact set, made without
    copying, and removing it later frees no inode (so it does not slow the next run's file creation, see
    ``creation_cost``)."""
    folder = scratch("bench-in-")
    for k in range(copies):
        for f in files:
            target = folder / (f"副本{k:02d}" if copies > 1 else "") / f.relative_to(cache)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(f, target)
            except OSError:  # a file system without hard links
                shutil.copyfile(f, target)
    return folder


# ----------------------------------------------------------------------------------------------------------
# Phases: one instrumented in-process pass
# ----------------------------------------------------------------------------------------------------------
# (phase, functions by module and name). A function may be wrapped under several names (``from x import f``):
# every converter module holding it gets the timed one. Time is exclusive: a phase called inside another
# counts only for itself, so the phases add up to the file's total.
PHASES: list[tuple[str, list[tuple[str, str]]]] = [
    ("file read", [("converter.input_files", "read_limited")]),
    ("zip + names", [("converter.reading", "_sniff"), ("converter.readers.workbook", "template_names"),
                     ("converter.reading", "_ole_encrypted")]),
    ("calamine read", [("converter.readers.workbook", "workbook_grids"), ("converter.readers.workbook", "_open")]),
    ("side channel", [("converter.readers.cell_kinds", "open_kinds"), ("converter.readers.cell_kinds", "apply"),
                      ("converter.readers.workbook", "_kinds"), ("converter.readers.workbook", "_sheet_kinds")]),
    ("locate/read", [("converter.readers.locate", "locate_forms")]),
    ("model", [("converter.fields", "declaration_from"), ("converter.model", "_fast"),
               ("converter.model", "indicator_read"), ("converter.model", "indicator_row")]),
    ("rules", [("converter.rules", "check"), ("converter.reading", "form_findings")]),
    ("JSON text", [("converter.canonical", "dumps_bytes")]),
    ("JSON file", [("converter.atomic", "create_bytes")]),
    ("flat rows", [("converter.flat", "declaration_row"), ("converter.flat", "indicator_rows"),
                   ("converter.crossfile", "cross_key"), ("converter.bulk", "finding_row")]),
    ("output rows", [("converter.fragments", "render_outcome")]),
]
TOTAL, OTHER, PICKLE, UNPICKLE = "total", "other", "pickle", "unpickle"
READ_PHASES = ("file read", "calamine read")  # the floor; everything else is our own work
ROW_GOAL, STARTUP_GOAL = 5e-6, 0.1  # issue 13: our own work per indicator row; start-up of a command


class Clock:
    """Exclusive time per phase, kept on a stack of running timed calls (no context manager: the wrappers
    run once per cell or row, and their own cost should stay near a tenth of a microsecond)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.stack: list[list[float]] = []

    def enter(self) -> tuple[list[float], float]:
        frame = [0.0]
        self.stack.append(frame)
        return frame, time.perf_counter()

    def leave(self, phase: str, frame: list[float], start: float) -> None:
        took = time.perf_counter() - start
        self.stack.pop()
        self.seconds[phase] += took - frame[0]
        if self.stack:
            self.stack[-1][0] += took

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def timed_gen(*args: Any, **kwargs: Any) -> Iterator[Any]:
                gen = fn(*args, **kwargs)
                while True:
                    frame, start = self.enter()
                    try:
                        item = next(gen)
                    except StopIteration:
                        return
                    finally:
                        self.leave(phase, frame, start)
                    yield item
            return timed_gen

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame, start = self.enter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave(phase, frame, start)
        return timed


class Instrumented:
    """Wraps the phase functions for the duration of a ``with``; a function not found leaves its phase n/a."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.undo: list[tuple[Any, str, Any]] = []
        self.found: set[str] = set()

    def __enter__(self) -> Instrumented:
        modules = [m for name, m in list(sys.modules.items())
                   if m is not None and (name == "converter" or name.startswith("converter."))]
        for phase, targets in PHASES:
            for module_name, attr in targets:
                try:
                    module = importlib.import_module(module_name)
                except Exception:
                    continue
                fn = getattr(module, attr, None)
                if not callable(fn):
                    continue
                timed = self.clock.wrap(phase, fn)
                for m in {*modules, module}:
                    for key, value in list(vars(m).items()):
                        if value is fn:
                            self.undo.append((m, key, value))
                            setattr(m, key, timed)
                self.found.add(phase)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, key, value in reversed(self.undo):
            setattr(owner, key, value)


@dataclass
class PhaseResult:
    files: int = 0
    rows: int = 0
    declarations: int = 0
    profiles: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    measured: set[str] = field(default_factory=set)


def phase_pass(files: Sequence[Path], root: Path, out: Path) -> PhaseResult:
    """Each file as a local worker handles it (``process_file`` and its JSON written, as ``WriteJson`` does
    where it exists), then its outcome pickled and unpickled as the pipe does; the first file warms up and is
    not counted. Indicator rows are counted by an untimed ``read_file`` of each file."""
    from converter import bulk as bulk_module
    from converter.reading import read_file

    task: Callable[[str, str], Any] = bulk_module.process_file
    writer = getattr(bulk_module, "WriteJson", None)
    if writer is not None:
        try:
            task = writer(out, bulk_module.process_file)
        except Exception:
            pass
    result = PhaseResult()
    clock = Clock()
    threshold = gc.get_threshold()
    settle = getattr(importlib.import_module("converter.pool"), "settle_collector", None)
    if settle is not None:  # the collector as a worker runs it (this process holds far more objects than one)
        settle()
    with Instrumented(clock) as inst:
        for k, path in enumerate([files[0], *files]):
            rel = path.relative_to(root).as_posix()
            if k == 0:
                task(str(path), f"warm-up/{rel}")
                clock.seconds.clear()
                continue
            frame, start = clock.enter()
            try:
                outcome = task(str(path), rel)
            finally:
                clock.leave(OTHER, frame, start)
            start = time.perf_counter()
            data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
            clock.seconds[PICKLE] += time.perf_counter() - start
            start = time.perf_counter()
            pickle.loads(data)
            clock.seconds[UNPICKLE] += time.perf_counter() - start
        found = set(inst.found)
    gc.unfreeze()
    gc.set_threshold(*threshold)
    for path in files:
        read = read_file(path, run_rules=False)
        result.files += 1
        result.declarations += len(read.declarations)
        result.rows += sum(len(d.declaration.indicators) for d in read.declarations)
        result.profiles.update(d.declaration.profile for d in read.declarations)
    seconds = dict(clock.seconds)
    seconds[TOTAL] = sum(v for k, v in seconds.items() if k not in (PICKLE, UNPICKLE))
    result.seconds, result.measured = seconds, found | {TOTAL, OTHER, PICKLE, UNPICKLE}
    return result


# ----------------------------------------------------------------------------------------------------------
# Start-up
# ----------------------------------------------------------------------------------------------------------
def perfgoal_cmd() -> list[str]:
    script = Path(sys.executable).parent / "perfgoal"
    return [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "xl_addin.cli"]


def startup(launcher: Launcher, small: Path, empty: Path, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` seconds of fresh processes: Python doing nothing, ``perfgoal check`` of one small
    file, ``perfgoal bulk`` of an empty folder (a new output folder each time, kept until the end)."""
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "perfgoal check (1 file)": [*perfgoal_cmd(), "check", str(small)],
        "perfgoal bulk (empty folder)": [*perfgoal_cmd(), "bulk", str(empty), "-o", "{out}"],
    }
    best: dict[str, float] = {}
    for _ in range(max(1, repeat)):
        for name, cmd in cmds.items():
            ran = launcher.run([str(scratch("bench-out-")) if c == "{out}" else c for c in cmd])
            if ran.code not in (0, 1):
                raise RuntimeError(f"{name} failed (exit {ran.code}): {ran.err.strip()[-2000:]}")
            best[name] = min(best.get(name, ran.seconds), ran.seconds)
    return best


def import_offenders(launcher: Launcher, cmd: Sequence[str], top: int = 8) -> tuple[float, list[tuple[str, float]]]:
    """Seconds of imports in all, and the top-level packages that cost most (their modules' own time)."""
    ran = launcher.run([sys.executable, "-X", "importtime", *cmd[1:]])
    per: Counter[str] = Counter()
    for line in ran.err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            per[m.group(2).split(".")[0]] += int(m.group(1))
    return sum(per.values()) / 1e6, [(name, us / 1e6) for name, us in per.most_common(top)]


# ----------------------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------------------
@dataclass
class SetRun:
    spec: SetSpec
    files: list[Path]
    cache: Path
    folder: Path
    naive_sample: list[Path]
    naive_s: list[float] = field(default_factory=list)
    raw_s: list[float] = field(default_factory=list)
    bulk: list[BulkRun] = field(default_factory=list)
    bulk1: list[BulkRun] = field(default_factory=list)  # --jobs 1, for the scaling goal
    phases: PhaseResult | None = None

    def rate(self, which: str) -> float:
        if which == "naive":
            return len(self.naive_sample) / min(self.naive_s)
        if which == "raw":
            return len(self.files) / min(self.raw_s)
        runs = self.bulk if which == "bulk" else self.bulk1
        return len(self.files) / min(r.seconds for r in runs)

    def steady_rate(self, runs: list[BulkRun]) -> float:
        """Files a second in the steady phase (``BulkRun.steady_s``), best of the runs."""
        return max((r.steady_files / r.steady_s for r in runs if r.steady_s > 0), default=float("nan"))

    def best(self, runs: list[BulkRun]) -> BulkRun:
        return min(runs, key=lambda r: r.seconds)


def _mb(kb: int | None) -> str:
    return "n/a" if not kb else f"{kb / 1024:.0f}"


def _goal(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(runs: list[SetRun], jobs: int, repeat: int, extra: dict[str, Any]) -> dict[str, Any]:
    """Print the results; return them as data (``--json-out``)."""
    data: dict[str, Any] = {"jobs": jobs, "repeat": repeat, **extra, "sets": {}}
    print(f"\nfiles/s, best of {repeat} interleaved round(s); bulk = `perfgoal bulk --jobs {jobs}` in a fresh "
          "process, start to exit")
    head = (f"{'set':10}{'files':>6}{'naive':>9}{'raw':>9}{'bulk':>9}{'×naive':>8}{'÷raw':>7}{'decl/f':>8}"
            f"{'parent MB':>10}{'worker MB':>10}{'parent µs/f':>12}{'workers µs/f':>13}")
    print(head)
    for run in runs:
        n, r, b = run.rate("naive"), run.rate("raw"), run.rate("bulk")
        best = run.best(run.bulk)
        hwm = max((x.parent_hwm_kb or 0) for x in run.bulk)
        worker = max(x.worker_maxrss_kb for x in run.bulk)
        files = len(run.files)
        print(f"{run.spec.key:10}{files:6}{n:9.1f}{r:9.1f}{b:9.1f}{b / n:8.1f}{r / b:7.2f}"
              f"{best.declarations / max(1, best.files):8.2f}{_mb(hwm):>10}{_mb(worker):>10}"
              f"{best.parent_cpu_s / files * 1e6:12.0f}{best.workers_cpu_s / files * 1e6:13.0f}")
        data["sets"][run.spec.key] = {
            "title": run.spec.title, "files": files, "naive_sample": len(run.naive_sample),
            "naive_files_s": n, "raw_files_s": r, "bulk_files_s": b, "x_naive": b / n, "div_raw": r / b,
            "bulk_seconds": [x.seconds for x in run.bulk], "bulk_best": dataclasses.asdict(best),
            "parent_hwm_kb": hwm, "worker_maxrss_kb": worker}
        if run.bulk1:
            data["sets"][run.spec.key]["bulk_jobs1_files_s"] = run.rate("bulk1")
    print("naive: openpyxl on a sample of each set (" + ", ".join(f"{x.spec.key} {len(x.naive_sample)}"
                                                                 for x in runs) + " files); raw: calamine, "
          "one core; parent MB: the bulk process's own peak (VmHWM); worker MB: its largest worker's peak; "
          "µs/f: CPU per file in the run (parent: after its imports)")

    print("\ngoals (issue 13, point 2):")
    for run in runs:
        n, r, b = run.rate("naive"), run.rate("raw"), run.rate("bulk")
        line = f"  {run.spec.key:10} within 1.5× of raw: {_goal(r / b <= 1.5)} ({r / b:.2f}×)"
        if n * 10 < r:
            line += f"; ≥10× naive: {_goal(b >= 10 * n)} ({b / n:.1f}×)"
        else:
            line += f"; ≥10× naive: n/a (naive within 10× of raw: {r / n:.1f}×)"
        if run.bulk1:
            scale = b / run.rate("bulk1")
            steady = run.steady_rate(run.bulk) / run.steady_rate(run.bulk1)
            line += (f"; jobs {jobs} ≥ 1.8× jobs 1: {_goal(scale >= 1.8)} ({scale:.2f}×, jobs 1 "
                     f"{run.rate('bulk1'):.1f} files/s; {steady:.2f}× between the first result and the last)")
            data["sets"][run.spec.key].update(scaling=scale, scaling_steady=steady)
        print(line)
    return data


def print_phases(runs: list[SetRun]) -> dict[str, Any]:
    measured = [r for r in runs if r.phases is not None]
    if not measured:
        return {}
    print("\nphases: one instrumented in-process pass (warm: after one file), µs per file / µs per indicator row")
    print(f"{'':14}" + "".join(f"{r.spec.key:>17}" for r in measured))
    print(f"{'files, rows/f':14}" + "".join(
        f"{r.phases.files:>9}{r.phases.rows / max(1, r.phases.files):>8.0f}" for r in measured if r.phases))
    out: dict[str, Any] = {}
    names = [p for p, _ in PHASES] + [OTHER, TOTAL, PICKLE, UNPICKLE]
    for name in names:
        cells = []
        for r in measured:
            ph = r.phases
            assert ph is not None
            if name not in ph.measured:
                cells.append(f"{'n/a':>17}")
                continue
            s = ph.seconds.get(name, 0.0)
            per_file, per_row = s / max(1, ph.files) * 1e6, s / max(1, ph.rows) * 1e6
            cells.append(f"{per_file:>9.0f}{per_row:>8.1f}")
            out.setdefault(r.spec.key, {})[name] = {"us_per_file": per_file, "us_per_row": per_row}
        print(f"{name:14}" + "".join(cells))
        if name == OTHER:
            print("-" * (14 + 17 * len(measured)))
    print("flat rows: the model as row tuples (CSV, findings, cross-file key); output rows: those rendered by the "
          "worker as CSV bytes and summary-sheet XML; other: the rest of process_file and the worker task; total: "
          "the worker task per file; pickle / unpickle: its outcome, as the pipe carries it (not in total)")
    own_goals(measured, out)
    for r in measured:
        assert r.phases is not None
        seen = ", ".join(f"{p} {n}" for p, n in sorted(r.phases.profiles.items()))
        print(f"  {r.spec.key}: {r.phases.declarations / max(1, r.phases.files):.2f} declarations a file ({seen})")
        out.setdefault(r.spec.key, {})["profiles"] = dict(r.phases.profiles)
    return out


def own_goals(measured: list[SetRun], out: dict[str, Any]) -> None:
    """Point 2's goals on our own work (every phase but reading the file and calamine's read): per indicator
    row on the 600-row set (on average, and per extra row against the template set), per sheet on the 50-sheet
    set against calamine's read of a sheet."""
    own_per_file: dict[str, tuple[float, float]] = {}  # set → (own seconds a file, rows a file)
    for r in measured:
        ph = r.phases
        if ph is None or not all(p in ph.measured for p in READ_PHASES):
            continue
        own = ph.seconds[TOTAL] - sum(ph.seconds.get(p, 0.0) for p in READ_PHASES)
        own_per_file[r.spec.key] = (own / max(1, ph.files), ph.rows / max(1, ph.files))
        if r.spec.key == "rows600":
            per_row = own / max(1, ph.rows)
            line = (f"our own work per indicator row ({r.spec.key}, all phases but {' and '.join(READ_PHASES)}): "
                    f"{per_row * 1e6:.1f} µs (goal < {ROW_GOAL * 1e6:.0f} µs): {_goal(per_row < ROW_GOAL)}")
            if "template" in own_per_file:
                (big, big_rows), (small, small_rows) = own_per_file["rows600"], own_per_file["template"]
                extra = (big - small) / max(1.0, big_rows - small_rows)
                line += f"; per extra row over the template set: {extra * 1e6:.1f} µs"
                out.setdefault(r.spec.key, {})["own_us_per_extra_row"] = extra * 1e6
            print(line)
            out.setdefault(r.spec.key, {})["own_us_per_row"] = per_row * 1e6
        if r.spec.key == "sheets50":
            sheets = max(1, ph.declarations)
            mine, read = own / sheets, ph.seconds.get("calamine read", 0.0) / sheets
            print(f"our own work per sheet ({r.spec.key}): {mine * 1e6:.0f} µs against calamine's read of a sheet "
                  f"{read * 1e6:.0f} µs (goal: under it): {_goal(mine < read)}")
            out.setdefault(r.spec.key, {})["own_us_per_sheet"] = mine * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {', '.join(SETS)}")
    parser.add_argument("--files", type=int, default=1200, help="files of a light set (heavy sets take a share)")
    parser.add_argument("--jobs", type=int, default=2, help="perfgoal bulk --jobs (the goals are for 2)")
    parser.add_argument("--naive-sample", type=int, default=200, help="files of a light set timed for naive")
    parser.add_argument("--phase-sample", type=int, default=100, help="files of a light set in the phase pass")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds; the best of each is kept")
    parser.add_argument("--startup-repeat", type=int, default=7, help="runs of each start-up command")
    parser.add_argument("--memory-check", action="store_true",
                        help="also run bulk on ten times the template set (hard links), for flat memory")
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few files a set, one round")
    parser.add_argument("--work", type=Path, default=ROOT / ".bench-work",
                        help="where inputs are cached and outputs written (a real disk: creating the JSON "
                             "files is part of the work)")
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.naive_sample, args.phase_sample = 4, 2, 4
        args.repeat, args.startup_repeat = 1, 1
    keys = [k.strip() for k in args.sets.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SETS]
    if unknown or not keys:
        parser.error(f"unknown set(s): {', '.join(unknown)}; known: {', '.join(SETS)}")

    launcher = Launcher(args.work / "pycache")  # first, while this process is small
    began = time.perf_counter()
    cores = os.cpu_count() or 1
    print(f"perfgoal bulk benchmark: {cores} cores, --jobs {args.jobs}, {args.repeat} round(s)"
          f"{' (quick)' if args.quick else ''}; the machine may be shared: best of each is kept")
    args.work.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(args.work)
    sets_dir = args.work / "sets"
    runs: list[SetRun] = []
    # The earlier benchmark's cache, once no run of it can still be reading it.
    stale = [p for p in args.work.glob("returned*") if p.stat().st_mtime < time.time() - 3600]
    t = time.perf_counter()
    for key in keys:
        spec = SETS[key]
        count = max(1, args.files // spec.share, spec.min_files())
        cache = sets_dir / f"{key}-{set_digest(spec)}"
        stale += [p for p in sets_dir.glob(f"{key}-*") if p != cache]
        t_set = time.perf_counter()
        files = build(spec, cache, count, cores)
        naive_n = max(1, min(count, args.naive_sample // (spec.share * spec.naive_weight)))
        runs.append(SetRun(spec, files, cache, linked(files, cache), files[:naive_n]))
        print(f"  {key:9}{count:6} files  {spec.title}  [{time.perf_counter() - t_set:.1f} s]")
    print(f"sets built or checked in {time.perf_counter() - t:.1f} s, cached under {sets_dir}")

    before = creation_cost(args.work)
    def out_dir() -> Path:
        return scratch("bench-out-")

    # The measured processes' bytecode written before any is measured (``Launcher``): compiling the project
    # raises a process's memory peak, and its forked workers start from that peak.
    launcher.run([*perfgoal_cmd(), "bulk", str(runs[0].folder), "-o", str(out_dir()), "--jobs", "1"])
    failed = 0
    for round_ in range(max(1, args.repeat)):  # interleaved: a slow spell falls on every side alike
        t = time.perf_counter()
        for run in runs:
            run.naive_s.append(naive(run.naive_sample))
            run.raw_s.append(raw(run.files))
            try:
                run.bulk.append(bulk(launcher, run.folder, out_dir(), args.jobs))
                if run.spec.key == "rows600" and args.jobs != 1:
                    run.bulk1.append(bulk(launcher, run.folder, out_dir(), 1))
            except RuntimeError as exc:
                print(f"  {run.spec.key}: {exc}", file=sys.stderr)
                failed += 1
        print(f"round {round_ + 1}: {time.perf_counter() - t:.1f} s", flush=True)
    runs_ok = [r for r in runs if r.bulk]

    data = report(runs_ok, args.jobs, args.repeat, {"cores": cores, "quick": args.quick})

    template = next((r for r in runs_ok if r.spec.key == "template"), None)
    print("\npeak memory of a bulk run (parent: VmHWM of the bulk process; its ru_maxrss, as started by the "
          "small launcher; worker: RUSAGE_CHILDREN maxrss):")
    memory: dict[str, Any] = {}
    sizes: list[tuple[str, list[BulkRun], int]] = [(r.spec.key, r.bulk, len(r.files)) for r in runs_ok]
    if template is not None and args.memory_check:
        big = linked(template.files, template.cache, copies=10)
        try:
            sizes.insert(1, ("template", [bulk(launcher, big, out_dir(), args.jobs)], 10 * len(template.files)))
        except RuntimeError as exc:
            print(f"  memory check: {exc}", file=sys.stderr)
            failed += 1
    for key, bulk_runs, n in sizes:
        hwm = max((x.parent_hwm_kb or 0) for x in bulk_runs)
        rss = max(x.parent_maxrss_kb for x in bulk_runs)
        worker = max(x.worker_maxrss_kb for x in bulk_runs)
        print(f"  {key:10}{n:7} files: parent {_mb(hwm)} MB (ru_maxrss {_mb(rss)} MB), worker {_mb(worker)} MB")
        memory[f"{key}-{n}"] = {"parent_hwm_kb": hwm, "parent_maxrss_kb": rss, "worker_maxrss_kb": worker}
    if template is not None and not args.memory_check:
        print(f"  (--memory-check adds the template set ×10, {10 * len(template.files)} files)")
    data["memory"] = memory

    small = (template or runs_ok[0]).files[0] if runs_ok else None
    if small is not None:
        empty = scratch("bench-empty-")
        best = startup(launcher, small, empty, args.startup_repeat)
        print(f"\nstart-up, fresh processes, best of {max(1, args.startup_repeat)} (goal, point 4: perfgoal "
              f"commands under {STARTUP_GOAL * 1000:.0f} ms):")
        for name, seconds in best.items():
            goal = f"   {_goal(seconds < STARTUP_GOAL)}" if name.startswith("perfgoal") else ""
            print(f"  {name:30}{seconds * 1000:7.0f} ms{goal}")
        imports = {}
        for name, cmd in [("check", [*perfgoal_cmd(), "check", str(small)]),
                          ("bulk", [*perfgoal_cmd(), "bulk", str(empty), "-o", str(out_dir())])]:
            total, top = import_offenders(launcher, cmd)
            imports[name] = {"total_s": total, "top": top}
            print(f"  imports of `perfgoal {name}` (-X importtime, own time): {total * 1000:.0f} ms; "
                  + ", ".join(f"{p} {s * 1000:.0f}" for p, s in top))
        if runs_ok:
            imp = min(x.import_s for r in runs_ok for x in r.bulk)
            print(f"  `from converter.bulk import run_bulk` inside the bulk process: {imp * 1000:.0f} ms")
        data["startup_s"], data["imports"] = best, imports

    for run in runs_ok:
        t = time.perf_counter()
        n = max(1, min(len(run.files), args.phase_sample // run.spec.share))
        run.phases = phase_pass(run.files[:n], run.cache, out_dir())
    data["phases"] = print_phases(runs_ok)

    after = creation_cost(args.work)
    print(f"\ncreating a small file in {args.work}: {before:.3f} ms before the runs, {after:.3f} ms after")
    if before > 0.2:
        print("  slow: files were deleted on this disk in the last minutes (ext4 without a journal skips their "
              "inodes one by one); the bulk rates above pay for it. Run again in five minutes.")
    data["creation_ms"] = {"before": before, "after": after}
    print(f"benchmark took {time.perf_counter() - began:.0f} s; cpu time of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_utime:.1f} s")
    launcher.close()
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), "utf-8")
    for folder in [*_SCRATCH, *stale]:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
