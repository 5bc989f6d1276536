"""A small process pool with a watchdog: results in input order, a time limit per task, a memory cap per worker.

``concurrent.futures`` cannot stop one runaway task; a file built to exhaust a reader must not hold the batch.
Here each worker runs one task at a time; a worker past its time limit is killed and replaced, a worker that
dies (a reader aborting on a hostile file) is replaced, and both are reported as that task's outcome.

Workers are forked where the system can (Linux, macOS: they start at once with everything imported) and
spawned on Windows, where the add-in's 批量转换 runs; the task function must then be importable by name.
The memory cap is an address-space limit, which Windows does not have: there it is not applied.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import deque
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
        try:
            import resource
        except ImportError:  # Windows: no address-space limit to set
            pass
        else:
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
    """One worker process and the tasks sent to it, oldest first: the head is the one it is running."""

    def __init__(self, ctx: Any, func: Callable[..., Any], memory_limit: int | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, func, memory_limit), daemon=True)
        self.proc.start()
        child.close()
        self.queue: deque[tuple[int, tuple[Any, ...]]] = deque()
        self.started = 0.0  # when the head task began

    def give(self, index: int, args: tuple[Any, ...]) -> None:
        if not self.queue:
            self.started = time.monotonic()
        self.queue.append((index, args))
        self.conn.send((index, args))

    def finished(self) -> None:
        self.queue.popleft()
        self.started = time.monotonic()

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
    """``map`` keeps ``depth`` tasks queued at each worker, so that no worker waits while the caller is busy
    writing results; a task's time limit runs from when its worker started it."""

    def __init__(self, func: Callable[..., R], jobs: int, timeout: float, memory_limit: int | None = None,
                 depth: int = 4, start_method: str | None = None) -> None:
        self.func, self.jobs, self.timeout, self.memory_limit = func, max(1, jobs), timeout, memory_limit
        self.depth = max(1, depth)
        methods = mp.get_all_start_methods()
        self.ctx = mp.get_context(start_method or ("fork" if "fork" in methods else "spawn"))

    def map(self, tasks: Iterable[tuple[Any, ...]]) -> Iterator[R | Failure]:
        """Results in the order of ``tasks``; at most ``jobs × 32`` finished results wait for a slow one."""
        workers = [_Worker(self.ctx, self.func, self.memory_limit) for _ in range(self.jobs)]
        pending = enumerate(tasks)
        retry: deque[tuple[int, tuple[Any, ...]]] = deque()  # queued behind a task that failed its worker
        done: dict[int, R | Failure] = {}
        next_out, exhausted, window = 0, False, self.jobs * 32
        try:
            while True:
                for i, w in enumerate(workers):
                    while len(w.queue) < self.depth and len(done) < window and (retry or not exhausted):
                        item = retry.popleft() if retry else next(pending, None)
                        if item is None:
                            exhausted = True
                            break
                        try:
                            w.give(item[0], item[1])
                        except (BrokenPipeError, OSError):
                            retry.extend(w.queue)
                            workers[i] = w = self._replace(w, kill=True)
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
                busy = [w for w in workers if w.queue]
                if not busy:
                    if exhausted and not retry:
                        return
                    continue
                ready = wait([w.conn for w in busy], timeout=0.2)
                now = time.monotonic()
                for i, w in enumerate(workers):
                    if not w.queue:
                        continue
                    head = w.queue[0][0]
                    if w.conn in ready:
                        try:
                            index, (status, value) = w.conn.recv()
                        except (EOFError, OSError):
                            done[head] = Failure("crashed", f"exit code {w.proc.exitcode}")
                            retry.extend(list(w.queue)[1:])
                            workers[i] = self._replace(w, kill=True)
                            continue
                        done[index] = value if status == "ok" else Failure(status, value or "")
                        w.finished()
                    elif now - w.started > self.timeout:
                        done[head] = Failure("timeout", f"{self.timeout:g} s")
                        retry.extend(list(w.queue)[1:])
                        workers[i] = self._replace(w, kill=True)
        finally:
            for w in workers:
                w.stop(kill=bool(w.queue))

    def _replace(self, worker: _Worker, kill: bool) -> _Worker:
        worker.stop(kill=kill)
        return _Worker(self.ctx, self.func, self.memory_limit)
