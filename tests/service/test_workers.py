"""The handler pool grows when its threads are held, and not when they are merely busy.

Real threads and real clocks: a held thread waits on an Event (as grpcio's waits for a request
body), a busy one computes (as a pool under load, or a full garbage collection, does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from service.workers import ElasticThreadPool


def _compute(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _started_within(pool: ElasticThreadPool) -> float:
    """Seconds from submitting a trivial call to it starting."""
    submitted = time.perf_counter()
    return pool.submit(time.perf_counter).result(timeout=5) - submitted


def test_held_threads_get_company_within_the_stall_period(release: threading.Event) -> None:
    pool = ElasticThreadPool(2, 16)
    held = [pool.submit(release.wait) for _ in range(2)]
    time.sleep(0.05)
    assert _started_within(pool) < 0.1
    assert pool.peak_threads == 3
    release.set()
    for future in held:
        future.result(timeout=5)
    pool.shutdown()


def test_a_busy_pool_keeps_its_core_threads() -> None:
    # Two threads share the GIL, so two 12 ms computations end together about every 24 ms: no take
    # for longer than stall_seconds, again and again, while work is queued. Growing would only add
    # threads that contend for the same core (benchmarks/README.md).
    pool = ElasticThreadPool(2, 16)
    futures = [pool.submit(_compute, 0.012) for _ in range(40)]
    for future in futures:
        future.result(timeout=30)
    assert pool.peak_threads == 2
    pool.shutdown()


def test_a_pool_busy_for_longer_than_held_seconds_still_lets_a_call_in() -> None:
    pool = ElasticThreadPool(1, 16)
    long = pool.submit(_compute, 0.4)
    time.sleep(0.02)
    assert _started_within(pool) < 0.2  # held_seconds (50 ms) plus a GIL switch, with margin
    assert pool.peak_threads == 2
    long.result(timeout=5)
    pool.shutdown()


def test_stall_must_not_exceed_held() -> None:
    with pytest.raises(ValueError, match="held_seconds"):
        ElasticThreadPool(1, 2, stall_seconds=0.1, held_seconds=0.05)
