"""Worker processes: every result comes back once, and a failure stops them all."""

from __future__ import annotations

import os

import pytest

from simulator.workers import WorkerError, run_on_workers


def square(x: int) -> int:
    return x * x


def fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x


def dies_on_three(x: int) -> int:
    if x == 3:
        os._exit(7)
    return x


def test_every_task_is_done_once_whatever_the_number_of_workers():
    for workers in (2, 3, 8):
        got: list[int] = []
        run_on_workers(square, list(range(10)), workers, got.append)
        assert sorted(got) == [x * x for x in range(10)]


def test_a_failing_task_raises_with_its_traceback():
    with pytest.raises(WorkerError, match="three is not allowed"):
        run_on_workers(fails_on_three, list(range(6)), 2, lambda _: None)


def test_a_worker_that_dies_is_reported_not_waited_for():
    with pytest.raises(WorkerError, match="died"):
        run_on_workers(dies_on_three, list(range(6)), 2, lambda _: None)
