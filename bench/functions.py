"""Per-call time of the live functions, cold and warm, against the goals of issue 13.

    python bench/functions.py [--rounds 9] [--calls 300] [--tables 4]

Excel calls PG_CHECK_INDICATOR once per indicator row and PG_SHEET_SUMMARY over the whole table on every
recalculation. Goals: every live function's *cold* call — cells it has never seen, so no remembered result
for its inputs — under 100 µs, and PG_SHEET_SUMMARY on 60 new rows under 1 ms. *Warm* is the same calls again.

Each round times, for every case in turn (interleaved, since the machine is shared and noisy), a batch of
``--calls`` calls with distinct new inputs (per-call time = batch / calls) and the same batch again warm; the
summary is timed call by call on ``--tables`` fresh 60-row tables. The best round is reported. Inputs are made
before the clock starts. "60 new rows" is a table whose names were never seen (targets are the common ones, as
in real forms); "names and targets new" makes every target new as well, so even the target parser's memory
misses. The baseline is a Python function with the same arguments that returns at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xl_addin import functions

# The sample rows (level 1, level 2, name, target), and for each a way to make the target new: tag n → a target
# of the same kind (a percentage, a qualitative text, a count, a deadline, a score, a vague text) never seen.
ROWS = [
    ("投入与管理", "投入管理", "预算执行率", "≥80%"),
    ("投入与管理", "实施管理", "信息公开实现率", "规范"),
    ("产出目标", "数量", "数据归集数量", "≥100000000条"),
    ("产出目标", "时效", "年度项目评估完成时间", "12月底前"),
    ("效果目标", "满意度", "员工满意度", ">=90"),
    ("效果目标", "经济效益", "促进公共资源交易活跃程度", "进一步提升"),
]
NEW_TARGETS: tuple[Callable[[int], str], ...] = (
    lambda n: f"≥{80 + n % 20}.{n}%",
    lambda n: f"规范{_tag(n)}",
    lambda n: f"≥{100000000 + n}条",
    lambda n: f"{1900 + n % 200}年{n // 200 % 12 + 1}月{n // 2400 % 28 + 1}日前",
    lambda n: f">={90 + n % 10}.{n}",
    lambda n: f"进一步提升{_tag(n)}",
)
END, YEAR = dt.datetime(2020, 12, 4), 2020.0
AMOUNTS = (600000.0, 600000.0, 560000.0, 560000.0)
COLD_GOAL, SUMMARY_GOAL = 100e-6, 1e-3
_COUNTER = itertools.count(1)  # every cold input takes a new number: nothing is seen twice in a run


def _tag(n: int) -> str:
    """n in letters that carry no number or unit for the target parser (甲乙丙…)."""
    return "".join("甲乙丙丁戊己庚辛壬癸"[int(d)] for d in str(n))


def baseline(*args: object) -> str:
    return ""


def _new_row(i: int, new_target: bool) -> tuple[str, str, str, str]:
    n = next(_COUNTER)
    level1, level2, name, target = ROWS[i % len(ROWS)]
    return level1, level2, f"{name}{_tag(n)}", NEW_TARGETS[i % len(ROWS)](n) if new_target else target


def _table(new_target: bool) -> list[list[Any]]:
    return [list(_new_row(i, new_target)) for i in range(60)]


# A case: name, the function, a maker of one call's arguments (i: which call of the batch, new: cold inputs).
Case = tuple[str, Callable[..., Any], Callable[[int, bool], tuple[Any, ...]]]


def _indicator_args(i: int, new: bool) -> tuple[Any, ...]:
    return (*(_new_row(i, True) if new else ROWS[i % len(ROWS)]), END, YEAR)


def _parts_args(i: int, new: bool) -> tuple[Any, ...]:
    return (_new_row(i, True)[3] if new else ROWS[i % len(ROWS)][3],)


def _budget_args(i: int, new: bool) -> tuple[Any, ...]:
    n = next(_COUNTER) if new else i % 3
    return (AMOUNTS[0] + n, AMOUNTS[1] + n, *AMOUNTS[2:])


CASES: list[Case] = [
    ("baseline (returns at once)", baseline, _indicator_args),
    ("PG_CHECK_INDICATOR", functions.PG_CHECK_INDICATOR, _indicator_args),
    ("PG_TARGET_PARTS", functions.PG_TARGET_PARTS, _parts_args),
    ("PG_CHECK_BUDGET", functions.PG_CHECK_BUDGET, _budget_args),
]
SUMMARIES = [("PG_SHEET_SUMMARY, 60 new rows", False), ("PG_SHEET_SUMMARY, names and targets new", True)]


def _batch(fn: Callable[..., Any], args_list: list[tuple[Any, ...]]) -> float:
    start = time.perf_counter()
    for args in args_list:
        fn(*args)
    return (time.perf_counter() - start) / len(args_list)


def _once(fn: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def measure(rounds: int, calls: int, tables: int) -> Iterator[tuple[str, float, float, float | None]]:
    """(case, best cold, best warm, goal) in seconds per call."""
    cold: dict[str, float] = {}
    warm: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn, make in CASES:
            fresh = [make(i, True) for i in range(calls)]
            cold[name] = min(cold.get(name, 1.0), _batch(fn, fresh))
            warm[name] = min(warm.get(name, 1.0), _batch(fn, fresh))
        for name, new_target in SUMMARIES:
            for _ in range(tables):
                args = (_table(new_target), *AMOUNTS[:2], None, None)
                cold[name] = min(cold.get(name, 1.0), _once(functions.PG_SHEET_SUMMARY, *args))
                warm[name] = min(warm.get(name, 1.0), _once(functions.PG_SHEET_SUMMARY, *args))
    for name, _fn, _make in CASES:
        yield name, cold[name], warm[name], None if name.startswith("baseline") else COLD_GOAL
    for name, _new in SUMMARIES:
        yield name, cold[name], warm[name], SUMMARY_GOAL


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=300, help="calls per batch, every one with new inputs")
    parser.add_argument("--tables", type=int, default=4, help="fresh 60-row tables per round and kind")
    options = parser.parse_args()
    print(f"best of {options.rounds} interleaved rounds; µs per call; cold = inputs never seen, warm = the same again")
    print(f"{'function':42}{'cold':>10}{'warm':>10}   goal (cold)")
    missed = []
    best: dict[str, tuple[float, float]] = {}
    for name, cold, warm, goal in measure(options.rounds, options.calls, options.tables):
        verdict = "" if goal is None else f"< {goal * 1e6:,.0f} µs  {'met' if cold < goal else 'NOT met'}"
        if goal is not None and cold >= goal:
            missed.append(name)
        best[name] = cold, warm
        print(f"{name:42}{cold * 1e6:10.1f}{warm * 1e6:10.1f}   {verdict}")
    new, again = best["PG_CHECK_INDICATOR"]
    print(f"a 60-row table's PG_CHECK_INDICATOR cells: every row new {new * 60e3:.2f} ms, recalculated "
          f"{again * 60e3:.2f} ms (60 × the times above)")
    print("goals: all met" if not missed else f"goals NOT met: {', '.join(missed)}")


if __name__ == "__main__":
    main()
