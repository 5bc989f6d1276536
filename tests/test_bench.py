"""The bulk benchmark runs: ``bench/bulk.py --quick`` on a few files of every set, so that it cannot rot while
the converter changes under it (it reaches the converter only through run_bulk, process_file, read_file and the
CLI, and wraps phase functions by name)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "bulk.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_bulk", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_quick_run_measures_every_set(tmp_path: Path) -> None:
    bench = _bench()
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--memory-check", "--work", str(tmp_path / "work"),
                           "--json-out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "goals (issue 13, point 2)" in done.stdout
    # inputs linked and the measured processes' bytecode kept, for the next run; outputs: all removed
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["pycache", "sets"]
    assert any((tmp_path / "work" / "pycache").rglob("bulk*.pyc"))  # the runs were from compiled bytecode
    results: dict[str, Any] = json.loads(out.read_text("utf-8"))

    assert set(results["sets"]) == set(bench.SETS)
    for key, got in results["sets"].items():
        assert got["naive_files_s"] > 0 and got["raw_files_s"] > 0 and got["bulk_files_s"] > 0, key
        best = got["bulk_best"]
        per_file = bench.SHEETS50 if key == "sheets50" else 1
        # Every file was read as the forms it holds: a set the reader could not read would measure nothing.
        assert best["files"] == got["files"] and best["declarations"] == per_file * got["files"], (key, best)
        assert best["parent_hwm_kb"] and best["worker_maxrss_kb"] > 0, key
        # Every result seen, from the first to the last:
        assert best["steady_files"] == got["files"] - 1 and (best["steady_s"] > 0) == (got["files"] > 1), (key, best)
    assert "bulk_jobs1_files_s" in results["sets"]["rows600"] and "scaling_steady" in results["sets"]["rows600"]

    # The parent's peak is its own: started from the small launcher, ru_maxrss agrees with VmHWM, not with
    # the benchmark process's size.
    for key, mem in results["memory"].items():
        assert abs(mem["parent_maxrss_kb"] - mem["parent_hwm_kb"]) < 8 * 1024, (key, mem)
    files = results["sets"]["template"]["files"]
    assert set(results["memory"]) >= {f"template-{files}", f"template-{10 * files}"}

    assert all(seconds > 0 for seconds in results["startup_s"].values()) and len(results["startup_s"]) == 3
    phase_names = {name for name, _ in bench.PHASES}
    for key, phases in results["phases"].items():
        parts = sum(v["us_per_file"] for name, v in phases.items() if name in phase_names | {bench.OTHER})
        total = phases[bench.TOTAL]["us_per_file"]
        assert total > 0 and abs(parts - total) <= 0.01 * total, (key, parts, total)  # exclusive times add up
        assert phase_names & set(phases), key  # the wrapping found the converter's functions


def test_against_compares_two_checkouts_on_a_set(tmp_path: Path) -> None:
    """``bench/against.py`` converts a set with both checkouts (here this one twice) and prints each one's files/s
    and their ratio; nothing of its work is left behind."""
    cache = tmp_path / "sets"
    forms = cache / "tiny-0"
    forms.mkdir(parents=True)
    for i, example in enumerate(sorted((ROOT / "examples").glob("declarations-2020-0*.xlsx"))[:3]):
        shutil.copy(example, forms / f"{i}.xlsx")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "against.py"), str(ROOT), "--sets", "tiny,tiny:1",
                           "--rounds", "1", "--cache", str(cache)], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[2:]}
    assert set(rows) == {"tiny", "tiny:1"}
    for files, other, this, ratio in rows.values():
        assert files == "3" and float(other) > 0 and float(this) > 0 and float(ratio) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sets"]
