"""The server's handler threads: a small fixed pool that grows only when it stops moving.

grpcio's sync server hands each RPC to its executor as soon as the HEADERS arrive, and the thread
then waits for the request body. A plain ThreadPoolExecutor of 8 threads is therefore held by 8
clients that send HEADERS and no body, and every new call, health checks included, queues behind
them (benchmarks/README.md, "Slow clients"). grpc.aio does not have that problem but serves
60-85% of the sync server's throughput here, so the service keeps the sync server and this pool:

- ``core`` threads live for the life of the server: under load they are all the service uses, so
  it keeps the sync server's throughput (more runnable threads only contend for the GIL);
- a watchdog looks every ``stall_seconds``; if work is queued, no thread is idle and no thread has
  taken work for ``stall_seconds``, the pool is held (threads blocked on bodies that do not come,
  or on slow handlers), and it starts one thread per queued item, up to ``maximum`` in all;
- a thread beyond ``core`` exits after ``idle_seconds`` without work.

Memory stays bounded: at most ``maximum`` threads (grpc's ``maximum_concurrent_rpcs`` refuses RPCs
beyond its own limit before they get here), and a stalled stream is closed at the latest by
max_connection_age + its grace.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

_WorkItem = tuple[futures.Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ElasticThreadPool(futures.Executor):
    def __init__(
        self,
        core: int,
        maximum: int,
        stall_seconds: float = 0.01,
        idle_seconds: float = 5.0,
        thread_name_prefix: str = "grpc",
    ) -> None:
        if not 1 <= core <= maximum:
            raise ValueError(f"need 1 <= core ({core}) <= maximum ({maximum})")
        self.core, self.maximum = core, maximum
        self.stall_seconds, self.idle_seconds = stall_seconds, idle_seconds
        self._prefix = thread_name_prefix
        self._work: collections.deque[_WorkItem] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._threads = 0
        self._idle = 0
        self._serial = 0
        self._last_take = time.monotonic()
        self._shutdown = False
        self.peak_threads = 0  # for tests and the shutdown log
        with self._cond:
            for _ in range(core):
                self._spawn(permanent=True)
        self._watchdog = threading.Thread(target=self._watch, name=f"{self._prefix}-watchdog", daemon=True)
        self._watchdog.start()

    @property
    def threads(self) -> int:
        return self._threads

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        future: futures.Future[Any] = futures.Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._work.append((future, fn, args, kwargs))
            self._cond.notify()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                while self._work:
                    self._work.popleft()[0].cancel()
            self._cond.notify_all()
        if wait:
            self._watchdog.join()

    def _spawn(self, permanent: bool) -> None:  # called with the lock held
        self._threads += 1
        self._serial += 1
        self.peak_threads = max(self.peak_threads, self._threads)
        name = f"{self._prefix}-{self._serial}"
        threading.Thread(target=self._run, args=(permanent,), name=name, daemon=True).start()

    def _take(self, permanent: bool) -> _WorkItem | None:
        with self._cond:
            self._idle += 1
            try:
                while not self._work:
                    if self._shutdown:
                        break
                    woke = self._cond.wait(None if permanent else self.idle_seconds)
                    if not woke and not self._work and self._threads > self.core:
                        break
                if not self._work:
                    self._threads -= 1
                    return None
                self._last_take = time.monotonic()
                return self._work.popleft()
            finally:
                self._idle -= 1

    def _run(self, permanent: bool) -> None:
        while True:
            item = self._take(permanent)
            if item is None:
                return
            future, fn, args, kwargs = item
            del item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # handed to the future, as ThreadPoolExecutor does
                future.set_exception(error)
            else:
                future.set_result(result)
            del future, fn, args, kwargs

    def _watch(self) -> None:
        while True:
            time.sleep(self.stall_seconds)
            with self._cond:
                if self._shutdown:
                    return
                held = (
                    self._work
                    and self._idle == 0
                    and time.monotonic() - self._last_take >= self.stall_seconds
                )
                if held:
                    for _ in range(min(len(self._work), self.maximum - self._threads)):
                        self._spawn(permanent=False)
