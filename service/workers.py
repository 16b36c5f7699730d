"""The server's handler threads: a small fixed pool that grows only when it stops moving.

grpcio's sync server hands each RPC to its executor as soon as the HEADERS arrive, and the thread
then waits for the request body. A plain ThreadPoolExecutor of 8 threads is therefore held by 8
clients that send HEADERS and no body, and every new call, health checks included, queues behind
them (benchmarks/README.md, "Slow clients"). grpc.aio does not have that problem but serves
60-85% of the sync server's throughput here, so the service keeps the sync server and this pool:

- ``core`` threads live for the life of the server: under load they are all the service uses, so
  it keeps the sync server's throughput (more runnable threads only contend for the GIL);
- a watchdog looks every ``stall_seconds``; if work is queued and no thread has taken any for
  ``stall_seconds`` while the process used under ``busy_cpu_fraction`` of a core, the pool is held
  (threads blocked on bodies that do not come), and it starts one thread per queued item, up to
  ``maximum`` in all. A pool that is merely busy also goes ``stall_seconds`` without a take now
  and then (a full garbage collection holds the GIL for 10-20 ms under load), and growing it then
  only adds threads that contend for the GIL: under sustained load they never go idle, so they
  stay (69-160 threads after 3.5 s of benchmark load, 15% of the throughput). So a busy process
  grows only once no take happened for ``held_seconds`` (handlers that compute for longer than
  that still let a health check in);
- a thread beyond ``core`` exits after ``idle_seconds`` without work.

Memory stays bounded: at most ``maximum`` threads (grpc's ``maximum_concurrent_rpcs`` refuses RPCs
beyond its own limit before they get here), and a stalled stream is closed at the latest by
max_connection_age + its grace.
"""

from __future__ import annotations

import queue
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
        held_seconds: float = 0.05,
        busy_cpu_fraction: float = 0.25,
        thread_name_prefix: str = "grpc",
    ) -> None:
        if not 1 <= core <= maximum:
            raise ValueError(f"need 1 <= core ({core}) <= maximum ({maximum})")
        if not 0 < stall_seconds <= held_seconds:
            raise ValueError(f"need 0 < stall_seconds ({stall_seconds}) <= held_seconds ({held_seconds})")
        self.core, self.maximum = core, maximum
        self.stall_seconds, self.idle_seconds = stall_seconds, idle_seconds
        self.held_seconds, self.busy_cpu_fraction = held_seconds, busy_cpu_fraction
        self._prefix = thread_name_prefix
        # SimpleQueue (C) on the hot path: submit and take cost what ThreadPoolExecutor's do.
        self._work: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the thread count
        self._threads = 0
        self._serial = 0
        self._last_take = time.monotonic()  # written by workers without the lock (a float store)
        self._shutdown = False
        self._in_flight = 0  # submitted and not yet finished (queued or running)
        self._count_lock = threading.Lock()
        self._settled = threading.Condition(self._count_lock)
        self.peak_threads = 0  # for tests and the shutdown log
        with self._lock:
            for _ in range(core):
                self._spawn(permanent=True)
        self._watchdog = threading.Thread(target=self._watch, name=f"{self._prefix}-watchdog", daemon=True)
        self._watchdog.start()

    @property
    def threads(self) -> int:
        return self._threads

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: futures.Future[Any] = futures.Future()
        with self._count_lock:
            self._in_flight += 1
        self._work.put((future, fn, args, kwargs))
        return future

    def wait_settled(self, timeout: float) -> bool:
        """Wait until no submitted work is queued or running; False if ``timeout`` passed first."""
        with self._settled:
            return self._settled.wait_for(lambda: self._in_flight == 0, timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            threads = self._threads
        if cancel_futures:
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in range(threads):
            self._work.put(None)  # one stop sentinel per thread
        if wait:
            self._watchdog.join()

    def _spawn(self, permanent: bool) -> None:  # called with the lock held
        self._threads += 1
        self._serial += 1
        self.peak_threads = max(self.peak_threads, self._threads)
        name = f"{self._prefix}-{self._serial}"
        threading.Thread(target=self._run, args=(permanent,), name=name, daemon=True).start()

    def _run(self, permanent: bool) -> None:
        timeout = None if permanent else self.idle_seconds
        while True:
            try:
                item = self._work.get(timeout=timeout)
            except queue.Empty:  # an extra thread, idle for idle_seconds
                with self._lock:
                    if self._threads > self.core:
                        self._threads -= 1
                        return
                continue
            if item is None:
                with self._lock:
                    self._threads -= 1
                return
            self._last_take = time.monotonic()
            future, fn, args, kwargs = item
            del item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as error:  # handed to the future, as ThreadPoolExecutor does
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            with self._count_lock:
                self._in_flight -= 1
                if not self._in_flight:
                    self._settled.notify_all()

    def _watch(self) -> None:
        wall, cpu = time.monotonic(), time.process_time()
        while not self._shutdown:
            time.sleep(self.stall_seconds)
            last_wall, last_cpu = wall, cpu
            wall, cpu = time.monotonic(), time.process_time()
            waiting = self._work.qsize()
            if not waiting:
                continue
            # Work waiting and nobody took any for a whole period: every thread is occupied. (An
            # idle thread wakes as soon as work is queued, so it would have taken it.) Occupied
            # while the process was mostly off the CPU means held; on it, busy (see the docstring).
            since_take = wall - self._last_take
            busy = cpu - last_cpu >= self.busy_cpu_fraction * (wall - last_wall)
            if since_take >= self.held_seconds or (since_take >= self.stall_seconds and not busy):
                with self._lock:
                    if self._shutdown:
                        return
                    for _ in range(min(waiting, self.maximum - self._threads)):
                        self._spawn(permanent=False)
