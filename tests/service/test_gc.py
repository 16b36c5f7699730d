"""The objects built at startup are frozen out of the garbage collector's full collections.

Under load a full collection walked them all (~40,000 objects, 10-20 ms each time, holding the
GIL), which cost throughput and, before the pool told busy from held, grew the handler pool.
"""

from __future__ import annotations

from service_harness import ServerProcess


def test_startup_objects_are_frozen(server: ServerProcess) -> None:
    (serving,) = [entry for entry in server.logs() if entry["message"] == "serving"]
    assert serving["frozen_objects"] > 10_000
