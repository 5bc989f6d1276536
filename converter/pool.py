"""A small process pool with a watchdog: results in input order, a time limit per task, a memory cap per worker.

``concurrent.futures`` cannot stop one runaway task; a file built to exhaust a reader must not hold the batch.
Here each worker runs one task at a time; a worker past its time limit is killed and replaced, a worker that
dies (a reader aborting on a hostile file) is replaced, and both are reported as that task's outcome.

Why it cannot stall (the scheduler in ``WatchdogPool.map``): every task handed out but not yet yielded is in
exactly one place — a worker's queue, the retry heap (queued behind a task that failed its worker), or the
finished results. New tasks are taken only while fewer than ``window`` are outstanding, but retried tasks are
handed out whatever the window: they are older than anything waiting. So when no worker holds a task, the
retry heap is empty and every outstanding task is finished, the oldest among them included: all are yielded,
the window is open again, and the next pass either ends or takes new tasks. While a worker holds a task, its
head finishes, fails, or is killed at its time limit; a worker's failure is the final outcome of the task it
was running (a worker found dead before it began a task retries that task at most twice). Every pass thus
settles a task within ``timeout`` plus one poll; no state waits on itself. The old window rule counted
finished results instead: with the window full of results waiting behind a stopped task, the tasks queued
behind it were never handed out again, and the parent spun for ever (issue 10).

A worker never outlives its parent: on Linux the kernel kills it when the parent dies (``PR_SET_PDEATHSIG``),
and everywhere a thread in the worker watches for the parent to go (``_watch_parent``), so a killed run
leaves no reader running without a time limit. What a worker
prints goes to a log file, read back for a dying reader's last words: forked workers write to a file the
parent unlinked at once (nothing is left on disk even after ``kill -9``); spawned ones to a file in
``log_dir`` (bulk conversion puts it in its staging area, which the next run clears), removed on stop (in the
shared temporary folder, one a killed run left is removed by a later pool after a day).

Workers are forked on Linux (they start at once with everything imported; the parent starts no thread
before) and spawned elsewhere, as Python itself does: on Windows, where the add-in's 批量转换 runs, and on
macOS, where forking a process that loaded the system's frameworks can crash. A spawned worker imports the
task function by name.
The memory cap is an address-space limit, which Windows does not have: there it is not applied.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import heapq
import multiprocessing as mp
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from .options import MAX_JOBS as MAX_JOBS  # defined there, light for the command line; re-exported for callers
from .syserrors import trim_detail

R = TypeVar("R")
Task = tuple[int, tuple[Any, ...]]

_POLL = 0.2  # seconds between looks at the clock while every worker is busy
_STOP_GRACE = 5.0  # seconds a worker gets to finish after being told to stop
_IDLE_DEATHS = 2  # times a task may meet a worker that died before running it; then it is reported
_PR_SET_PDEATHSIG = 1
_GC_FIRST = 10_000  # allocations between the collector's runs over young objects in a worker (Python: 700)


def settle_collector() -> None:
    """The garbage collector as a worker runs it. What the worker inherited (modules, profiles, caches) lives as
    long as it does: frozen, the collector never walks it again. Tasks that build large tables (600 indicator
    rows) otherwise spent ~8 % of their time in full collections over those objects; a larger first generation
    runs them rarely. (The benchmark's phase pass settles its own so, to measure what a worker does.)"""
    gc.freeze()
    gc.set_threshold(_GC_FIRST, *gc.get_threshold()[1:])


@dataclass(frozen=True)
class Failure:
    """Why a task gave no result: over time, the worker died, or the task raised."""

    kind: Literal["timeout", "crashed", "error", "memory"]
    detail: str = ""


# A native reader's panic: "thread '<unnamed>' (1234) panicked at /home/…/src/xls.rs:12:5:" and the message on
# the next line (Rust ≥ 1.73), or "thread 'x' panicked at 'message', src/xls.rs:12:5" (before). The thread
# name and id and the build's source path change from run to run and machine to machine; the message does not.
_PANIC = re.compile(r"^thread '[^']*'(?: \(\d+\))? panicked at (?:'(?P<old>.*)', )?(?P<where>\S*?):?$")


def last_words(text: str) -> str:
    """The first meaningful line a dying reader wrote, free of what differs between runs (thread ids, build
    paths, addresses): findings carry it, and a rerun must give the same bytes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    words = lines[0]
    panic = _PANIC.match(words)
    if panic:
        message = panic.group("old")
        if message is None and len(lines) > 1 and not lines[1].startswith("note:"):
            message = lines[1]
        words = f"panic: {message}" if message else "panic"
    return trim_detail(words, limit=160)


def _watch_parent(forked_by: int | None) -> None:
    """End this worker when the process that asked for it dies, however it dies (``kill -9`` included).

    A forked worker (``forked_by``, its creator's id) watches its parent id, which changes when the parent
    dies; the pipe behind ``multiprocessing``'s parent sentinel is no proof there, as workers forked later
    inherit its other end. A spawned worker, or a fork server's child, watches that sentinel: the process
    that asked for it holds its only other end (a fork server's child would otherwise wait for the fork
    server, which itself waits for its children to let go of it)."""
    if sys.platform.startswith("linux"):
        try:  # the kernel's own watch: works even while a native reader holds the interpreter
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if forked_by is not None and os.getppid() != forked_by:  # the parent died before the watch was set
        os._exit(1)
    sentinel = None if forked_by is not None else getattr(mp.parent_process(), "sentinel", None)

    def watch() -> None:
        if sentinel is not None:
            wait([sentinel])  # ready once the other end is closed: the parent is gone
            os._exit(1)
        while os.getppid() == forked_by:
            time.sleep(0.5)
        os._exit(1)  # re-parented: the parent is gone

    if sentinel is not None or forked_by is not None:
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_HELD = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a worker starts: a forked worker must not take the parent's handler for
    them before it sets its own (it would print a trace, or end as the parent would). The parent gets what
    arrived meanwhile as soon as the worker has started; the worker ignores it (``_worker_main``)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: workers are spawned, with handlers of their own
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _worker_main(conn: Connection, func: Callable[..., Any], memory_limit: int | None, log: int | str,
                 parent: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by a fork
    if hasattr(signal, "pthread_sigmask"):  # held while the parent started us (``_interrupts_held``)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    _watch_parent(parent)
    # What a reader prints (a native library's panic, its backtrace, stray output) goes to this worker's log,
    # not to the user's terminal or to the JSON on standard output; the parent quotes its first line.
    fd = log if isinstance(log, int) else os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    if fd > 2:  # it may itself be 1 or 2, where the parent started without standard streams
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
    settle_collector()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        index, args = message
        try:
            outcome: tuple[str, Any] = ("ok", func(*args))
        except MemoryError:
            outcome = ("memory", "")
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a native reader's panic arrives as a BaseException (pyo3)
            outcome = ("error", last_words(f"{type(exc).__name__}: {exc}")[:300])
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        log_end = os.lseek(2, 0, os.SEEK_END)  # where the next task's words, if any, will begin
        try:
            conn.send((index, outcome, log_end))
        except (BrokenPipeError, ConnectionError):
            return
        except MemoryError:
            conn.send((index, ("memory", ""), log_end))
        except Exception as exc:  # a result that cannot be pickled: that task's error, not the worker's end
            conn.send((index, ("error", f"{type(exc).__name__}: {exc}"[:300]), log_end))


class _Worker:
    """One worker process and the tasks sent to it, oldest first: the head is the one it is running."""

    def __init__(self, ctx: Any, func: Callable[..., Any], memory_limit: int | None, log_dir: Path | None
                 ) -> None:
        forked = ctx.get_start_method() == "fork"
        handle, self.log = tempfile.mkstemp(prefix=_LOG_PREFIX, suffix=".log",
                                            dir=None if log_dir is None else str(log_dir))
        self.log_fd: int | None = None
        if forked:  # the worker inherits the open file; with no name left, nothing outlives the two processes
            self.log_fd = handle
            os.unlink(self.log)
            log: int | str = handle
        else:
            os.close(handle)
            log = self.log
        self.log_mark = 0  # where the head task's output to the log begins
        self.conn, child = ctx.Pipe()
        parent = os.getpid() if forked else None  # see _watch_parent
        self.proc = ctx.Process(target=_worker_main, args=(child, func, memory_limit, log, parent), daemon=True)
        try:
            with _interrupts_held():
                self.proc.start()
        except BaseException:  # e.g. a daemonic process may not start one: leave no log behind
            self._drop_log()
            self.conn.close()
            raise
        finally:
            child.close()
        self.queue: deque[Task] = deque()
        self.started = 0.0  # when the head task began

    def give(self, task: Task) -> bool:
        """Send a task; False when the worker is gone (the task stays queued, to be settled by the caller)."""
        if not self.queue:
            self.started = time.monotonic()
        self.queue.append(task)
        try:
            self.conn.send(task)
        except (OSError, ValueError):  # a broken pipe, or a connection closed under us
            return False
        return True

    def finished(self, log_end: int) -> None:
        self.queue.popleft()
        self.started = time.monotonic()
        self.log_mark = log_end

    def words(self) -> str:
        """The head task's last words in the log (see ``last_words``)."""
        try:
            if self.log_fd is not None:
                data = os.pread(self.log_fd, 4096, self.log_mark)
            else:
                with open(self.log, "rb") as fh:
                    fh.seek(self.log_mark)
                    data = fh.read(4096)
        except OSError:
            return ""
        return last_words(data.decode("utf-8", "replace"))

    def ask_to_stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            self.proc.kill()

    def stop(self, kill: bool = False, deadline: float | None = None) -> None:
        if kill:
            self.proc.kill()
        elif deadline is None:
            self.ask_to_stop()
        self.proc.join(timeout=max(0.0, (deadline or time.monotonic() + _STOP_GRACE) - time.monotonic()))
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()
        self._drop_log()

    def _drop_log(self) -> None:
        if self.log_fd is not None:
            os.close(self.log_fd)
            self.log_fd = None
            return
        try:
            os.unlink(self.log)
        except OSError:  # Windows: a killed worker's handle may linger a moment; its folder is cleared later
            pass


_LOG_PREFIX = "perfgoal-worker-"
_STALE_LOG = 24 * 3600.0  # seconds: a spawned worker's log this old in the shared temporary folder is an orphan


def _sweep_stale_logs(folder: str) -> None:
    """Remove spawned workers' logs that a killed run left in the shared temporary folder (Windows, macOS).

    Only old ones: a running pool's workers write theirs as they go (and Windows refuses to remove a file a
    live worker holds)."""
    now = time.time()
    for path in Path(folder).glob(f"{_LOG_PREFIX}*.log"):
        try:
            if now - path.stat().st_mtime > _STALE_LOG:
                path.unlink()
        except OSError:
            pass


class WatchdogPool(Generic[R]):
    """``map`` keeps ``depth`` tasks queued at each worker, so that no worker waits while the caller is busy
    writing results; a task's time limit runs from when its worker started it. Workers start when there is
    work for them; ``log_dir`` is where spawned workers' logs go (default: the system's temporary folder)."""

    def __init__(self, func: Callable[..., R], jobs: int, timeout: float, memory_limit: int | None = None,
                 depth: int = 4, start_method: str | None = None, log_dir: Path | None = None) -> None:
        self.func, self.jobs, self.timeout, self.memory_limit = func, max(1, jobs), timeout, memory_limit
        self.depth = max(1, depth)
        self.log_dir = log_dir
        self.ctx = mp.get_context(start_method or ("fork" if sys.platform.startswith("linux") else "spawn"))

    def map(self, tasks: Iterable[tuple[Any, ...]]) -> Generator[R | Failure, None, None]:
        """Results in the order of ``tasks``; at most ``jobs × 32`` tasks are out at a time (see the module's
        docstring for why this cannot stall)."""
        if self.log_dir is None and self.ctx.get_start_method() != "fork":
            _sweep_stale_logs(tempfile.gettempdir())
        source = enumerate(tasks)
        workers: list[_Worker | None] = [None] * self.jobs
        retry: list[Task] = []  # a heap: the oldest task first
        idle_deaths: dict[int, int] = {}
        done: dict[int, R | Failure] = {}
        next_out = issued = idle_passes = 0
        exhausted, window = False, self.jobs * 32

        def settle(i: int, failure: Failure | None) -> None:
            """Worker ``i`` is gone: its results already sent are taken, its head gets ``failure`` (or is
            retried when the worker never started it), the rest are retried, and the worker is dropped."""
            w = workers[i]
            assert w is not None
            if failure is None:  # it died: take what it finished before dying
                self._collect(w, done)
            if w.queue:
                index, _ = w.queue.popleft()
                if failure is None:
                    w.proc.join(timeout=_STOP_GRACE)
                    words = w.words()
                    failure = Failure("crashed", f"exit code {w.proc.exitcode}" + (f"：{words}" if words else ""))
                done[index] = failure
                for task in w.queue:
                    heapq.heappush(retry, task)
                w.queue.clear()
            w.stop(kill=True)
            workers[i] = None

        try:
            while True:
                for i in range(self.jobs):
                    while True:
                        w = workers[i]
                        if w is not None and len(w.queue) >= self.depth:
                            break
                        if retry:
                            task = heapq.heappop(retry)
                        elif not exhausted and issued - next_out < window:
                            item = next(source, None)
                            if item is None:
                                exhausted = True
                                break
                            task = (item[0], tuple(item[1]))
                            issued += 1
                        else:
                            break
                        if w is None:
                            w = workers[i] = _Worker(self.ctx, self.func, self.memory_limit, self.log_dir)
                        was_idle = len(w.queue) == 0
                        if not w.give(task):
                            if was_idle:  # it died before this task: the task is not to blame (a few times)
                                w.queue.pop()
                                idle_deaths[task[0]] = idle_deaths.get(task[0], 0) + 1
                                if idle_deaths[task[0]] > _IDLE_DEATHS:
                                    done[task[0]] = Failure("crashed", "进程无法启动")
                                else:
                                    heapq.heappush(retry, task)
                            settle(i, None)
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
                if exhausted and not retry and next_out == issued:
                    return
                busy = [(i, w) for i, w in enumerate(workers) if w is not None and w.queue]
                if not busy:
                    # Every outstanding task finished while the window was full; all were just yielded, so
                    # the next pass takes new tasks. A second such pass in a row would be a spin: a bug.
                    idle_passes += 1
                    if idle_passes > 1:
                        raise RuntimeError("watchdog pool: tasks outstanding with no worker holding one")
                    continue
                idle_passes = 0
                now = time.monotonic()
                first_deadline = min(w.started + self.timeout for _, w in busy)
                ready = wait([w.conn for _, w in busy], timeout=min(_POLL, max(0.01, first_deadline - now)))
                now = time.monotonic()
                for i, w in busy:
                    if w.conn in ready:
                        if not self._collect(w, done):
                            settle(i, None)
                    elif now - w.started > self.timeout:
                        settle(i, Failure("timeout", f"{self.timeout:g} s"))
        finally:
            deadline = time.monotonic() + _STOP_GRACE
            live = [w for w in workers if w is not None]
            for w in live:
                if w.queue:
                    w.proc.kill()
                else:
                    w.ask_to_stop()
            for w in live:
                w.stop(kill=bool(w.queue), deadline=deadline)

    @staticmethod
    def _collect(w: _Worker, done: dict[int, Any]) -> bool:
        """Take every result the worker has sent; False when its connection ended (the worker died)."""
        try:
            while w.queue and w.conn.poll(0):
                index, (status, value), log_end = w.conn.recv()
                if index != w.queue[0][0]:  # cannot happen: a worker answers in order
                    return False
                done[index] = value if status == "ok" else Failure(status, value or "")
                w.finished(log_end)
        except (EOFError, OSError):
            return False
        return True
