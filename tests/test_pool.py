"""The watchdog pool with real worker processes: no stall whatever fails where, no worker outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from converter.pool import Failure, WatchdogPool, last_words

ROOT = Path(__file__).resolve().parent.parent


def _task(kind: str, n: int) -> int:
    """A stand-in for a reader: returns at once, hangs past any short limit, or kills its own process."""
    if kind == "hang":
        time.sleep(120)
    if kind == "die":
        os.write(2, b"thread '<unnamed>' (4242) panicked at /home/ci/.cargo/registry/src/calamine/src/xls.rs:12:5:"
                    b"\nattempt to subtract with overflow\nnote: run with `RUST_BACKTRACE=1`\n")
        os._exit(7)
    return n * n


@contextmanager
def wall_clock(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: a stalled scheduler is interrupted (its workers are stopped on the way out)."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no result within {seconds} s: the pool stalled")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def hostile_batch(size: int, where: str) -> list[tuple[str, int]]:
    """``size`` tasks with a run of hanging and dying ones at the front, in the middle or at the end, and one
    more of each scattered, so that failures meet full worker queues and a full result window."""
    kinds = ["ok"] * size
    start = {"front": 0, "middle": size // 2, "end": size - 4}[where]
    kinds[start:start + 4] = ["hang", "die", "die", "hang"]
    kinds[(start + size // 3) % size] = "die"
    return [(k, n) for n, k in enumerate(kinds)]


@pytest.mark.parametrize("jobs", [1, 2, 3])
@pytest.mark.parametrize("where", ["front", "middle", "end"])
def test_no_stall_whatever_fails_where(jobs: int, where: str) -> None:
    tasks = hostile_batch(240, where)
    pool: WatchdogPool[int] = WatchdogPool(_task, jobs, timeout=0.4)
    with wall_clock(40):
        results = list(pool.map(tasks))
    assert len(results) == len(tasks)
    for (kind, n), result in zip(tasks, results, strict=True):
        if kind == "ok":
            assert result == n * n
        elif kind == "hang":
            assert result == Failure("timeout", "0.4 s")
        else:
            assert result == Failure("crashed", "exit code 7：panic: attempt to subtract with overflow")


def test_the_result_window_full_behind_a_hanging_task() -> None:
    """The stall of issue 10: one task hangs while the other worker fills the result window; its queued
    tasks must still run after it is stopped (they used to wait for a window that could not drain)."""
    tasks = [("hang", 0)] + [("ok", n) for n in range(1, 200)]
    pool: WatchdogPool[int] = WatchdogPool(_task, 2, timeout=1.0, depth=4)
    with wall_clock(30):
        results = list(pool.map(tasks))
    assert results[0] == Failure("timeout", "1 s") and results[1:] == [n * n for n in range(1, 200)]


def test_last_words_drop_what_differs_between_runs() -> None:
    new = ("thread '<unnamed>' (12345) panicked at /home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/"
           "calamine-0.26.1/src/xls.rs:1257:33:\nrange end index 70 out of range for slice of length 8\n"
           "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n")
    old = "thread 'main' panicked at 'attempt to add with overflow', src\\cfb.rs:90:17\n"
    assert last_words(new) == "panic: range end index 70 out of range for slice of length 8"
    assert last_words(old) == "panic: attempt to add with overflow"
    assert last_words("\n\nmemory allocation of 549755813888 bytes failed\n") == (
        "memory allocation of 549755813888 bytes failed")
    assert last_words("Fatal Python error: Segmentation fault at 0x7f3a9c0012f0") == (
        "Fatal Python error: Segmentation fault at 0x…")


def _children_alive(tag: str, known: Collection[int] = ()) -> list[int]:
    """Processes whose environment carries ``tag`` (the script's own workers, wherever they were re-parented),
    and those of ``known`` not yet ended.

    ``known`` matters for a process already ending: the kernel drops its memory, and with it the environment
    read here (ESRCH), before it closes its files. For that while — 80 ms for a 3 GB process here, longer on a
    busy machine — the environment alone says it is gone while it still holds, say, the output folder's lock."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue  # gone
        if "zombie" in state:
            continue  # ended: its files are closed
        if int(entry.name) in known:
            alive.append(int(entry.name))
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if tag.encode() in environ:
            alive.append(int(entry.name))
    return alive


def _survivors(tag: str, known: Collection[int], within: float = 10.0) -> list[int]:
    """The processes carrying ``tag``, or among ``known``, still alive once they have had ``within`` seconds
    to end."""
    deadline = time.monotonic() + within
    while (alive := _children_alive(tag, known)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                    reason="counts processes through /proc, which only Linux has; CI runs on Linux")
@pytest.mark.parametrize("start_method", ["fork", "spawn", "forkserver"])
def test_workers_die_with_their_parent(start_method: str, tmp_path: Path) -> None:
    """``kill -9`` of the parent while its workers run a task without end: none of them is left running,
    and no log file is left in the temporary folder."""
    tag = f"PERFGOAL_POOL_TEST_{os.getpid()}_{start_method}"
    script = textwrap.dedent(f"""
        import sys
        from converter.pool import WatchdogPool
        from tests.test_pool import _task
        pool = WatchdogPool(_task, 3, timeout=600, start_method={start_method!r})
        for result in pool.map([("hang", n) for n in range(9)]):
            pass
    """)
    env = {**os.environ, tag: "1", "TMPDIR": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while len(_children_alive(tag)) < 4 and time.monotonic() < deadline:  # the parent and three workers
            time.sleep(0.1)
        assert len(known := _children_alive(tag)) >= 4
        parent.kill()
        parent.wait()
        assert _survivors(tag, known) == []
    finally:
        for pid in _children_alive(tag):
            os.kill(pid, signal.SIGKILL)
    left = [p.name for p in tmp_path.iterdir()]
    if start_method == "fork":
        assert left == []
