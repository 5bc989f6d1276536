"""`perfgoal bulk` from this checkout and from another, side by side: the before/after of a change on the same
machine at the same time.

The development VM's speed drifts by ±20 % from hour to hour, so two runs of ``bench/bulk.py`` made an hour apart
cannot tell a 10 % change. Here each set is converted by both checkouts in every round, in alternating order, and
the best wall time of each is kept. The sets are ``bench/bulk.py``'s own cache (run it once first); both checkouts
run with this interpreter, from compiled bytecode (a private ``PYTHONPYCACHEPREFIX``, warmed by a first round
that is not counted), each importing its own code (``PYTHONPATH``). Outputs are kept until the end: deleting
thousands of files on this VM slows the next ones created nearby (``bench/bulk.py``).

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/against.py /tmp/before [--sets template,old,rows600:1] [--rounds 3]

A set named ``rows600:1`` runs with ``--jobs 1`` (default 2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / ".bench-work" / "sets"


def convert(tree: Path, src: Path, out: Path, jobs: int, pycache: Path) -> float:
    """Wall seconds of one ``perfgoal bulk`` run of ``tree``'s code."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=str(pycache))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "xl_addin.cli", "bulk", str(src), "-o", str(out), "--jobs",
                           str(jobs)], cwd=tree, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: findings of error level, as a batch of returned forms has
        raise RuntimeError(f"{tree}: bulk {src.name} exited {done.returncode}: {done.stderr[-500:]}")
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("against", type=Path, help="the other checkout (git worktree add DIR <commit>)")
    parser.add_argument("--sets", default="template,old,profiles,rows600,rows600:1,sheets50,distinct")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=SETS, help="where the sets are (NAME-*/ folders)")
    args = parser.parse_args(argv)
    trees = {"other": args.against.resolve(), "this": ROOT}
    runs = []
    for spec in (s.strip() for s in args.sets.split(",") if s.strip()):
        name, _, jobs = spec.partition(":")
        found = sorted(args.cache.glob(f"{name}-*"))
        if not found:
            parser.error(f"no cached set {name!r} under {args.cache}: run bench/bulk.py first")
        files = sum(1 for p in found[0].rglob("*") if p.is_file())
        runs.append((spec, found[0], int(jobs or 2), files))
    work = Path(tempfile.mkdtemp(prefix="bench-against-", dir=args.cache.parent))
    best: dict[tuple[str, str], float] = {}
    try:
        for round_ in range(args.rounds + 1):  # round 0 writes the bytecode and is not counted
            for spec, src, jobs, _ in runs:
                order = list(trees.items()) if round_ % 2 else list(reversed(trees.items()))
                for label, tree in order:
                    out = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=work))
                    took = convert(tree, src, out / "out", jobs, work / f"pycache-{label}")
                    if round_:
                        best[(spec, label)] = min(best.get((spec, label), took), took)
        print(f"perfgoal bulk, best of {args.rounds} interleaved rounds (files/s); other = {trees['other']}")
        print(f"{'set':12} {'files':>6} {'other':>10} {'this':>10} {'this/other':>11}")
        for spec, _, _, files in runs:
            other, this = best[(spec, "other")], best[(spec, "this")]
            print(f"{spec:12} {files:6} {files / other:10.1f} {files / this:10.1f} {other / this:11.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
