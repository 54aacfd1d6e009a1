"""Where chunks of replications run: in this process, on local worker processes, or on a
Dask cluster (one started here, or an existing scheduler's).

Each backend is one method, ``map(function, tasks, collect)``: ``collect(function(task))``
for every task, in no particular order. A chunk's numbers depend only on its replications'
global indices (``simulator.streams``), and summaries merge exactly, so every backend
gives the same results bit for bit.

Dask is imported only when asked for. A Dask worker lost mid-run (killed, out of
memory) has its tasks run again elsewhere by the scheduler (up to its
``distributed.scheduler.allowed-failures``, 3 by default); the run does not notice.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

from simulator.workers import run_on_workers

Task = Any
Result = Any


class Backend(Protocol):
    """Runs tasks and hands each result to `collect` as it arrives."""

    parallelism: int

    def map(
        self,
        function: Callable[[Task], Result],
        tasks: Sequence[Task],
        collect: Callable[[Result], None],
    ) -> None: ...


class InProcess:
    """One task after another, here: no setup, and the default."""

    parallelism = 1

    def map(self, function, tasks, collect) -> None:
        for task in tasks:
            collect(function(task))


class LocalProcesses:
    """`workers` processes of this machine (``simulator.workers``): Ctrl-C or a lost
    worker stops them all at once, and no process outlives the run."""

    def __init__(self, workers: int):
        self.parallelism = workers

    def map(self, function, tasks, collect) -> None:
        if self.parallelism > 1 and len(tasks) > 1:
            run_on_workers(function, tasks, self.parallelism, collect)
        else:
            InProcess().map(function, tasks, collect)


class SchedulerError(Exception):
    """A --scheduler address that is malformed or where no Dask scheduler answers."""


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse, in one line and within `timeout` seconds, an address that is not
    `tcp://HOST:PORT` (or tls://) or where nothing accepts a connection."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None:
        raise SchedulerError(
            f"--scheduler: {address!r} is not an address like tcp://HOST:8786 (or 'local')"
        )
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SchedulerError(
            f"--scheduler: no Dask scheduler answers at {address} ({reason}); "
            "is `dask scheduler` running there?"
        ) from None


class DaskBackend(AbstractContextManager):
    """A Dask distributed client: to `address` (``tcp://host:8786``), or to a cluster of
    `workers` local processes (one thread each) started on entering and stopped on exit.

    Workers at an address need this package installed (the same version) to run tasks."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        self.address = address
        self.workers = workers
        self.parallelism = workers or 1
        self._cluster: Any = None
        self._client: Any = None

    def __enter__(self) -> DaskBackend:
        from dask.distributed import Client, LocalCluster

        if self.address is None:
            self._cluster = LocalCluster(
                n_workers=self.workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
        else:
            check_reachable(self.address)
            try:
                self._client = Client(self.address, timeout="10s")
            except (OSError, TimeoutError) as error:
                raise SchedulerError(
                    f"--scheduler: {self.address} answers, but not as a Dask scheduler "
                    f"({type(error).__name__}: {error})"
                ) from None
        self.parallelism = max(
            1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def map(self, function, tasks, collect) -> None:
        from dask.distributed import as_completed

        if self._client is None:
            raise RuntimeError("DaskBackend.map outside its `with` block")
        futures = self._client.map(function, list(tasks), pure=False)
        try:
            for future in as_completed(futures):
                collect(future.result())
                future.release()  # its result is no longer held on a worker
        finally:
            self._client.cancel(futures)


class _Nothing(AbstractContextManager):
    def __init__(self, backend: Backend):
        self.backend = backend

    def __enter__(self) -> Backend:
        return self.backend

    def __exit__(self, *_: object) -> None:
        return None


def open_backend(workers: int = 1, scheduler: str | None = None) -> AbstractContextManager[Backend]:
    """The backend the command line asks for, as a context manager.

    `scheduler`: None (this machine's processes: `workers` of them, in-process for 1),
    ``"local"`` (a local Dask cluster of `workers` processes), or a Dask scheduler's
    address."""
    if scheduler is None:
        return _Nothing(InProcess() if workers <= 1 else LocalProcesses(workers))
    if scheduler == "local":
        return DaskBackend(workers=max(1, workers))
    return DaskBackend(address=scheduler)
