"""A small process pool with a watchdog: results in input order, a time limit per task, a memory cap per worker.

``concurrent.futures`` cannot stop one runaway task; a file built to exhaust a reader must not hold the batch.
Here each worker runs one task at a time; a worker past its time limit is killed and replaced, a worker that
dies (a reader aborting on a hostile file) is replaced, and both are reported as that task's outcome.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Failure:
    """Why a task gave no result: over time, the worker died, or the task raised."""

    kind: Literal["timeout", "crashed", "error", "memory"]
    detail: str = ""


def _worker_main(conn: Connection, func: Callable[..., Any], memory_limit: int | None) -> None:
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        index, args = message
        try:
            outcome: tuple[str, Any] = ("ok", func(*args))
        except MemoryError:
            outcome = ("memory", "")
        except Exception as exc:
            outcome = ("error", f"{type(exc).__name__}: {exc}"[:300])
        try:
            conn.send((index, outcome))
        except MemoryError:
            conn.send((index, ("memory", "")))


class _Worker:
    def __init__(self, ctx: Any, func: Callable[..., Any], memory_limit: int | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, func, memory_limit), daemon=True)
        self.proc.start()
        child.close()
        self.index: int | None = None
        self.started = 0.0

    def give(self, index: int, args: tuple[Any, ...]) -> None:
        self.index, self.started = index, time.monotonic()
        self.conn.send((index, args))

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                self.proc.kill()
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class WatchdogPool(Generic[R]):
    def __init__(self, func: Callable[..., R], jobs: int, timeout: float, memory_limit: int | None = None) -> None:
        self.func, self.jobs, self.timeout, self.memory_limit = func, max(1, jobs), timeout, memory_limit
        self.ctx = mp.get_context("fork")

    def map(self, tasks: Iterable[tuple[Any, ...]]) -> Iterator[R | Failure]:
        """Results in the order of ``tasks``; at most ``jobs × 32`` finished results wait for a slow one."""
        workers = [_Worker(self.ctx, self.func, self.memory_limit) for _ in range(self.jobs)]
        pending = enumerate(tasks)
        done: dict[int, R | Failure] = {}
        next_out, exhausted, window = 0, False, self.jobs * 32
        try:
            while True:
                for i, w in enumerate(workers):
                    if w.index is None and not exhausted and len(done) < window:
                        item = next(pending, None)
                        if item is None:
                            exhausted = True
                        else:
                            try:
                                w.give(item[0], item[1])
                            except (BrokenPipeError, OSError):
                                done[item[0]] = Failure("crashed", "worker unavailable")
                                workers[i] = self._replace(w, kill=True)
                busy = [w for w in workers if w.index is not None]
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
                if not busy:
                    if exhausted:
                        return
                    continue
                ready = wait([w.conn for w in busy], timeout=0.2)
                now = time.monotonic()
                for i, w in enumerate(workers):
                    if w.index is None:
                        continue
                    if w.conn in ready:
                        try:
                            index, (status, value) = w.conn.recv()
                        except (EOFError, OSError):
                            done[w.index] = Failure("crashed", f"exit code {w.proc.exitcode}")
                            workers[i] = self._replace(w, kill=True)
                            continue
                        done[index] = value if status == "ok" else Failure(status, value or "")
                        w.index = None
                    elif now - w.started > self.timeout:
                        done[w.index] = Failure("timeout", f"{self.timeout:g} s")
                        workers[i] = self._replace(w, kill=True)
        finally:
            for w in workers:
                w.stop(kill=w.index is not None)

    def _replace(self, worker: _Worker, kill: bool) -> _Worker:
        worker.stop(kill=kill)
        return _Worker(self.ctx, self.func, self.memory_limit)
