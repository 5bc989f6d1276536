"""Per-call time of the live functions, side by side with a baseline call that does nothing.

    python bench/functions.py [--calls 20000]

Excel calls PG_CHECK_INDICATOR once per indicator row on every recalculation; the goal is under 1 ms of
Python time per call, so that a 60-row table recalculates without lag. The baseline is a Python function with
the same arguments that returns at once: the ratio shows what the rules themselves cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xl_addin import functions

ROWS = [
    ("投入与管理", "投入管理", "预算执行率", "≥80%"),
    ("投入与管理", "实施管理", "信息公开实现率", "规范"),
    ("产出目标", "数量", "数据归集数量", "≥100000000条"),
    ("产出目标", "时效", "年度项目评估完成时间", "12月底前"),
    ("效果目标", "满意度", "员工满意度", ">=90"),
    ("效果目标", "经济效益", "促进公共资源交易活跃程度", "进一步提升"),
]
END, YEAR = dt.datetime(2020, 12, 4), 2020.0


def baseline(*args: object) -> str:
    return ""


def per_call(fn, args_list, calls: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    n = 0
    while n < calls:
        for args in args_list:
            fn(*args)
            n += 1
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    calls = parser.parse_args().calls
    indicator_args = [(*row, END, YEAR) for row in ROWS]
    table = [[*r[:2], f"{r[2]}（{i}）", r[3]] for i in range(10) for r in ROWS]  # 60 distinct rows
    cases = [
        ("PG_CHECK_INDICATOR", functions.PG_CHECK_INDICATOR, indicator_args),
        ("PG_TARGET_PARTS", functions.PG_TARGET_PARTS, [(r[3],) for r in ROWS]),
        ("PG_CHECK_BUDGET", functions.PG_CHECK_BUDGET, [(600000.0, 600000.0, 560000.0, 560000.0)]),
        ("PG_SHEET_SUMMARY (60 rows)", functions.PG_SHEET_SUMMARY, [(table, 600000.0, 600000.0, None, None)]),
    ]
    base = per_call(baseline, indicator_args, calls)
    print(f"{'function':34}{'µs/call':>10}{'× baseline':>12}{'under 1 ms':>12}")
    print(f"{'baseline (returns at once)':34}{base * 1e6:10.2f}{1:12.0f}")
    # Cold: every call sees a row it has not seen (the rows' findings are remembered between calls).
    fresh = [(*row[:2], f"{row[2]}{i}", *row[3:]) for i in range(calls) for row in indicator_args[:1]]
    for name, fn, args in [("PG_CHECK_INDICATOR (new rows)", functions.PG_CHECK_INDICATOR, fresh), *cases]:
        n = calls if "SUMMARY" not in name else max(200, calls // 100)
        t = per_call(fn, args, n)
        print(f"{name:34}{t * 1e6:10.2f}{t / base:12.0f}{'yes' if t < 1e-3 else 'NO':>12}")
    cold = [[*r[:2], f"{r[2]}-{i}", r[3]] for i, r in enumerate(table)]
    t = per_call(functions.PG_SHEET_SUMMARY, [(cold, 600000.0, 600000.0, None, None)], 1)
    print(f"{'PG_SHEET_SUMMARY (60 new rows)':34}{t * 1e6:10.2f}{t / base:12.0f}{'yes' if t < 1e-3 else 'NO':>12}")
    unseen = [(*row[:2], f"{row[2]}#{i}", *row[3:]) for i, row in enumerate(indicator_args * 10)]
    rows60 = per_call(functions.PG_CHECK_INDICATOR, unseen, 60) * 60
    again = per_call(functions.PG_CHECK_INDICATOR, unseen, 60) * 60
    print(f"a 60-row table, every row new: {rows60 * 1e3:.2f} ms of Python time; recalculated: {again * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
