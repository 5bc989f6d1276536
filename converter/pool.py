"""A small process pool with a watchdog: results in input order, a time limit per task, a memory cap per worker.

``concurrent.futures`` cannot stop one runaway task; a file built to exhaust a reader must not hold the batch.
Here each worker runs one task at a time; a worker past its time limit is killed and replaced, a worker that
dies (a reader aborting on a hostile file) is replaced, and both are reported as that task's outcome.

Workers are forked on Linux (they start at once with everything imported; the parent starts no thread
before) and spawned elsewhere, as Python itself does: on Windows, where the add-in's 批量转换 runs, and on
macOS, where forking a process that loaded the system's frameworks can crash. A spawned worker imports the
task function by name.
The memory cap is an address-space limit, which Windows does not have: there it is not applied.
"""

from __future__ import annotations

import faulthandler
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, Literal, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Failure:
    """Why a task gave no result: over time, the worker died, or the task raised."""

    kind: Literal["timeout", "crashed", "error", "memory"]
    detail: str = ""


def _worker_main(conn: Connection, func: Callable[..., Any], memory_limit: int | None, log: str) -> None:
    # What a reader prints as it dies (a native library's panic, its backtrace) goes to this worker's log, not
    # to the user's terminal; the parent quotes its first line in the finding.
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
    if sys.stderr is None:  # pythonw.exe (Excel's Python may be one) starts without standard streams
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    if faulthandler.is_enabled():  # a test runner's handler writes to its own copy of the terminal
        faulthandler.enable(sys.stderr)
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
        sys.stderr.flush()
        log_end = os.lseek(2, 0, os.SEEK_END)  # where the next task's words, if any, will begin
        try:
            conn.send((index, outcome, log_end))
        except MemoryError:
            conn.send((index, ("memory", ""), log_end))


class _Worker:
    """One worker process and the tasks sent to it, oldest first: the head is the one it is running."""

    def __init__(self, ctx: Any, func: Callable[..., Any], memory_limit: int | None) -> None:
        handle, self.log = tempfile.mkstemp(prefix="perfgoal-worker-", suffix=".log")
        os.close(handle)
        self.log_mark = 0  # where the head task's output to the log begins
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, func, memory_limit, self.log), daemon=True)
        try:
            self.proc.start()
        except BaseException:  # e.g. a daemonic process may not start one: leave no log behind
            os.unlink(self.log)
            raise
        finally:
            child.close()
        self.queue: deque[tuple[int, tuple[Any, ...]]] = deque()
        self.started = 0.0  # when the head task began

    def give(self, index: int, args: tuple[Any, ...]) -> None:
        if not self.queue:
            self.started = time.monotonic()
        self.queue.append((index, args))
        self.conn.send((index, args))

    def finished(self, log_end: int) -> None:
        self.queue.popleft()
        self.started = time.monotonic()
        self.log_mark = log_end

    def last_words(self) -> str:
        """The first line the head task wrote to stderr (a dying reader's message), or nothing."""
        try:
            with open(self.log, "rb") as fh:
                fh.seek(self.log_mark)
                text = fh.read(4096).decode("utf-8", "replace")
        except OSError:
            return ""
        return next((line.strip()[:160] for line in text.splitlines() if line.strip()), "")

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
        try:
            os.unlink(self.log)
        except OSError:  # Windows: a killed worker's handle may linger a moment; the temp folder keeps it
            pass


class WatchdogPool(Generic[R]):
    """``map`` keeps ``depth`` tasks queued at each worker, so that no worker waits while the caller is busy
    writing results; a task's time limit runs from when its worker started it."""

    def __init__(self, func: Callable[..., R], jobs: int, timeout: float, memory_limit: int | None = None,
                 depth: int = 4, start_method: str | None = None) -> None:
        self.func, self.jobs, self.timeout, self.memory_limit = func, max(1, jobs), timeout, memory_limit
        self.depth = max(1, depth)
        self.ctx = mp.get_context(start_method or ("fork" if sys.platform.startswith("linux") else "spawn"))

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
                            index, (status, value), log_end = w.conn.recv()
                        except (EOFError, OSError):
                            w.proc.join(timeout=5)
                            words = w.last_words()
                            done[head] = Failure("crashed", f"exit code {w.proc.exitcode}" +
                                                 (f"：{words}" if words else ""))
                            retry.extend(list(w.queue)[1:])
                            workers[i] = self._replace(w, kill=True)
                            continue
                        done[index] = value if status == "ok" else Failure(status, value or "")
                        w.finished(log_end)
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
