"""Start-up of the command line, side by side with the interpreter's own floors (issue 13, point 4).

Each command runs as a user starts it — a fresh process of the ``perfgoal`` console script — in interleaved rounds
(every command once per round), and the table shows the best and the median wall time of each: the machine is
shared, so the best of several rounds is the command's cost and the median says how noisy the run was. The
floors are what no change to this project can go below: the interpreter itself and importing the model (plain
Python); importing pydantic and building one pydantic model are shown beside them, as what ``schema`` and JSON
input add (reading and checking a form import no pydantic).

A real install runs from compiled bytecode; a checkout run with ``PYTHONDONTWRITEBYTECODE`` compiles every module
of this project from source at every start (about 50 ms more here). So the runs use a private bytecode folder
(``PYTHONPYCACHEPREFIX``), warmed by a first round that is not counted.

``--against DIR`` times the same commands on another checkout (``git worktree add DIR <commit>``) in the same
rounds, each command here and there one after the other: a before/after on the same machine at the same time.

    .venv/bin/python bench/startup.py [--rounds N] [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_FORM = ROOT / "examples" / "declarations-2020-01.xlsx"  # a filled shanghai-2020 form
PLUGINS_OFF = "PYDANTIC_DISABLE_PLUGINS"  # what the command line sets for itself (converter/cli.py)
ONE_MODEL = "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int"


def perfgoal() -> list[str]:
    """The console script beside this interpreter, as a user runs it; the module when it is not installed."""
    script = shutil.which("perfgoal", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "xl_addin.cli"]


Command = tuple[list[str], dict[str, str]]  # argv, extra environment


def floors() -> dict[str, Command]:
    py, off = sys.executable, {PLUGINS_OFF: "__all__"}
    return {
        "python -c pass": ([py, "-c", "pass"], {}),
        "python -c 'import pydantic'": ([py, "-c", "import pydantic"], off),
        "python: one pydantic model": ([py, "-c", ONE_MODEL], off),
        "python -c 'import converter.model'": ([py, "-c", "import converter.model"], off),
    }


def commands(work: Path) -> dict[str, Command]:
    """Label → command. ``{out}`` in an argv is a fresh, not yet existing folder per run."""
    cli = perfgoal()
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    return {
        "perfgoal --help": ([*cli, "--help"], {}),
        "perfgoal rules": ([*cli, "rules"], {}),
        "perfgoal schema": ([*cli, "schema"], {}),
        "perfgoal check ONE_FORM": ([*cli, "check", str(ONE_FORM)], {}),
        "perfgoal bulk EMPTY -o OUT": ([*cli, "bulk", str(empty), "-o", "{out}"], {}),
    }


def run_once(argv: list[str], env: dict[str, str], work: Path, n: int) -> tuple[float, int]:
    out = work / f"out-{n}"
    argv = [str(out) if a == "{out}" else a for a in argv]
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - start
    shutil.rmtree(out, ignore_errors=True)
    return took, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    parser.add_argument("--against", type=Path, metavar="DIR", help="another checkout to time side by side")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", PLUGINS_OFF, "PYTHONPATH")}
    with tempfile.TemporaryDirectory(prefix="perfgoal-startup-") as tmp:
        work = Path(tmp)
        here = {**base, "PYTHONPYCACHEPREFIX": str(work / "pycache-here")}
        runs: dict[tuple[str, str], tuple[list[str], dict[str, str]]] = {}
        for label, (argv, extra) in floors().items():
            runs[label, "here"] = argv, {**here, **extra}
        for label, (argv, extra) in commands(work).items():
            runs[label, "here"] = argv, {**here, **extra}
            if args.against:  # the other checkout's packages come first on the path
                there = {**base, "PYTHONPYCACHEPREFIX": str(work / "pycache-there"),
                         "PYTHONPATH": str(args.against.resolve())}
                runs[label, "there"] = argv, {**there, **extra}
        times: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
        n = 0
        for key, (argv, env) in runs.items():  # warm the bytecode folders; check every command answers
            n += 1
            _, code = run_once(argv, env, work, n)
            if code not in (0, 1):  # check exits 1: the sample form has errors
                print(f"{key}: exit code {code}", file=sys.stderr)
                return 2
        for _ in range(args.rounds):
            for key, (argv, env) in runs.items():
                n += 1
                times[key].append(run_once(argv, env, work, n)[0])
    floor = min(times["python -c pass", "here"])
    print(f"start-up, fresh process, {args.rounds} interleaved rounds on {os.cpu_count()} cores (wall ms)")
    head = f"{'':36} {'best':>7} {'median':>7} {'best - python':>14}"
    print(head + (f" {'best there':>11} {'median there':>13}" if args.against else ""))
    for label in dict.fromkeys(label for label, _ in runs):
        ts = times[label, "here"]
        line = f"{label:36} {min(ts) * 1e3:7.1f} {statistics.median(ts) * 1e3:7.1f} {(min(ts) - floor) * 1e3:14.1f}"
        if (label, "there") in times:
            other = times[label, "there"]
            line += f" {min(other) * 1e3:11.1f} {statistics.median(other) * 1e3:13.1f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
