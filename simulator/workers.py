"""Worker processes that simulate blocks of replications, and stop at once when told.

Each worker takes every `workers`-th block and sends each result back on its own pipe.
On Ctrl-C, an error or a lost worker, the main process kills every worker and reads
nothing more: no queue is drained or joined that a killed worker may have left half
written, which is how a pool's orderly shutdown can hang. On Linux a worker also dies
with the main process (a run killed outright leaves no orphan simulating on).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any

Task = Any
Result = Any


class WorkerError(RuntimeError):
    """A worker process failed (its traceback is the message) or died."""


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT back (where the platform can) and deliver it on leaving."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def die_with(parent: int) -> None:
    """In a helper process: leave Ctrl-C to the parent, and die with it (on Linux), so
    that a parent killed outright leaves no helper running on, nor writing tracebacks
    to a pipe nobody reads."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    if hasattr(signal, "pthread_sigmask"):  # forked with SIGINT held back: let it through
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request took hold
            os._exit(1)


def _work(
    parent: int, send: Connection, function: Callable[[Task], Result], tasks: Sequence[Task]
) -> None:
    die_with(parent)
    try:
        for task in tasks:
            send.send(("ok", function(task)))
    except (BrokenPipeError, ConnectionResetError):  # the parent is gone: nobody to tell
        os._exit(1)
    except BaseException:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            send.send(("error", traceback.format_exc()))
    finally:
        with contextlib.suppress(OSError):
            send.close()


def run_on_workers(
    function: Callable[[Task], Result],
    tasks: Sequence[Task],
    workers: int,
    collect: Callable[[Result], None],
) -> None:
    """`collect(function(task))` for every task, computed on `workers` processes (in no
    particular order); any exception here (Ctrl-C included) kills them all first."""
    context = multiprocessing.get_context()
    pipes: dict[Connection, multiprocessing.process.BaseProcess] = {}
    expected: dict[Connection, int] = {}
    try:
        # Ctrl-C waits until the workers are started: one that lands during a fork is
        # raised in an at-fork hook, where Python ignores it (and the run would go on)
        with _interrupts_held():
            for w in range(min(workers, len(tasks))):
                receive, send = context.Pipe(duplex=False)
                share = list(tasks[w::workers])
                process = context.Process(
                    target=_work, args=(os.getpid(), send, function, share), daemon=True
                )
                process.start()
                send.close()  # the worker holds the only writing end: EOF means it is gone
                pipes[receive] = process
                expected[receive] = len(share)
        while expected:
            for ready in wait(list(expected)):
                try:
                    status, value = ready.recv()
                except EOFError:
                    raise WorkerError(
                        f"a worker process died (exit code {pipes[ready].exitcode})"
                    ) from None
                if status == "error":
                    raise WorkerError(f"a worker process failed:\n{value}")
                collect(value)
                expected[ready] -= 1
                if expected[ready] == 0:
                    del expected[ready]
    finally:
        for receive, process in pipes.items():
            if process.is_alive():
                process.kill()
            process.join()
            receive.close()
