"""MicroBatcher: each caller gets its own rows, errors stay with their request, a lone request
runs at once, and concurrent requests share calls."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np

from backend.services.batching import MicroBatcher
from backend.services.inference import _split


class Recorder:
    """A compute function that doubles numbers and records the size of every call."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls: list[int] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def __call__(self, kind: str, texts: list[str]) -> Any:
        with self.lock:
            self.calls.append(len(texts))
        time.sleep(self.delay_s)
        if any(t == "boom" for t in texts):
            raise ValueError("bad input")
        values = np.array([int(t) * 2 for t in texts])
        return values if kind == "predict" else np.column_stack([values, -values])


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_every_caller_gets_exactly_its_own_rows_in_order() -> None:
    compute = Recorder(delay_s=0.01)
    batcher = MicroBatcher(compute, _split, max_size=1000, max_wait_s=0.005)

    async def scenario() -> list[Any]:
        requests = [[str(i * 10 + j) for j in range(i % 4 + 1)] for i in range(60)]
        answers = await asyncio.gather(*(batcher.submit("predict", r) for r in requests))
        return list(zip(requests, answers, strict=True))

    for request, answer in run(scenario()):
        assert answer == [int(t) * 2 for t in request]
    assert len(compute.calls) < 60, "concurrent requests should have shared calls"
    assert sum(compute.calls) == sum(i % 4 + 1 for i in range(60))


def test_scores_and_predictions_in_one_batch_are_kept_apart() -> None:
    batcher = MicroBatcher(Recorder(0.01), _split, max_size=1000, max_wait_s=0.005)

    async def scenario() -> tuple[Any, Any]:
        return await asyncio.gather(
            batcher.submit("predict", ["1", "2"]), batcher.submit("scores", ["3"])
        )

    predicted, scored = run(scenario())
    assert predicted == [2, 4]
    assert scored == [[6, -6]]


def test_a_bad_request_fails_alone() -> None:
    batcher = MicroBatcher(Recorder(0.01), _split, max_size=1000, max_wait_s=0.005)

    async def scenario() -> list[Any]:
        return await asyncio.gather(
            batcher.submit("predict", ["1"]),
            batcher.submit("predict", ["boom"]),
            batcher.submit("predict", ["2", "3"]),
            return_exceptions=True,
        )

    first, bad, third = run(scenario())
    assert first == [2]
    assert isinstance(bad, ValueError)
    assert third == [4, 6]


def test_batches_respect_the_size_limit() -> None:
    compute = Recorder(0.01)
    batcher = MicroBatcher(compute, _split, max_size=5, max_wait_s=0.005)

    async def scenario() -> None:
        await asyncio.gather(*(batcher.submit("predict", [str(i)] * 2) for i in range(20)))

    run(scenario())
    assert max(compute.calls) <= 5


def test_a_lone_request_does_not_wait_for_the_window() -> None:
    compute = Recorder()
    # A window far longer than any call: a lone request must not sit through it.
    batcher = MicroBatcher(compute, _split, max_size=100, max_wait_s=30.0)

    async def scenario() -> tuple[Any, float]:
        started = time.monotonic()
        answer = await batcher.submit("predict", ["21"])
        return answer, time.monotonic() - started

    answer, elapsed = run(scenario())
    assert answer == [42]
    assert elapsed < 10, "a lone request waited for the batching window"


def test_short_calls_run_on_the_event_loop_and_long_ones_in_a_thread() -> None:
    threads: list[tuple[int, int]] = []

    def compute(kind: str, texts: list[str]) -> Any:
        threads.append((len(texts), threading.get_ident()))
        return np.array([len(t) for t in texts])

    async def scenario() -> int:
        batcher = MicroBatcher(
            compute,
            _split,
            max_size=64,
            max_wait_s=0.0,
            runs_inline=lambda _kind, texts: sum(map(len, texts)) <= 10,
        )
        assert await batcher.submit("predict", ["short"]) == [5]
        assert await batcher.submit("predict", ["a much longer text"]) == [18]
        return threading.get_ident()

    loop_thread = run(scenario())
    assert threads[0] == (1, loop_thread)
    assert threads[1][1] != loop_thread
