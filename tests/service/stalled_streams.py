"""Slow clients made of real sockets: HTTP/2 streams that send HEADERS for a gRPC call and no DATA.

Each connection does what a client would (the HTTP/2 preface, SETTINGS, and it acknowledges the
server's SETTINGS and PINGs from a reader thread, so the connection itself stays healthy); each
stream sends the request HEADERS for a unary method and then never sends the request body. That
is what a stuck or hostile client looks like to the server. The frames are built by `h2`.

Also runnable, to measure a server by hand:
    venv/bin/python tests/service/stalled_streams.py 127.0.0.1:50051 --streams 64 --connections 4
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions

SAY_HELLO = "/helloworld.Greeter/SayHello"


@dataclass
class _Connection:
    sock: socket.socket
    h2: h2.connection.H2Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    open_streams: set[int] = field(default_factory=set)


class StalledStreams:
    """``streams`` stalled calls spread round-robin over ``connections`` connections."""

    def __init__(self, host: str, port: int, streams: int, connections: int, path: str = SAY_HELLO) -> None:
        self.host, self.port, self.path = host, port, path
        self.streams, self.connections = streams, connections
        self.refused = 0  # RST_STREAM from the server (e.g. beyond max concurrent streams)
        self.closed_by_server = 0  # EOF
        self.goaways: list[tuple[int, bytes]] = []  # (error code, debug data) of each GOAWAY received
        self._conns: list[_Connection] = []
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def held(self) -> int:
        """Streams the server has neither refused nor closed."""
        return sum(len(c.open_streams) for c in self._conns)

    def open(self) -> StalledStreams:
        for _ in range(self.connections):
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = h2.connection.H2Connection(
                h2.config.H2Configuration(client_side=True, header_encoding=None)
            )
            conn.initiate_connection()  # preface + SETTINGS
            sock.sendall(conn.data_to_send())
            self._conns.append(_Connection(sock, conn))
        for i in range(self.streams):
            self._stall_one(self._conns[i % self.connections])
        self._reader = threading.Thread(target=self._read, name="stalled-streams", daemon=True)
        self._reader.start()
        return self

    def _stall_one(self, conn: _Connection) -> None:
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", self.path),
            (":authority", f"{self.host}:{self.port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
        with conn.lock:
            stream_id = conn.h2.get_next_available_stream_id()
            try:
                conn.h2.send_headers(stream_id, headers, end_stream=False)  # no DATA follows, ever
            except h2.exceptions.TooManyStreamsError:  # the server's SETTINGS limit, already known
                self.refused += 1
                return
            conn.open_streams.add(stream_id)
            conn.sock.sendall(conn.h2.data_to_send())

    def _read(self) -> None:
        selector = selectors.DefaultSelector()
        for conn in self._conns:
            conn.sock.setblocking(False)
            selector.register(conn.sock, selectors.EVENT_READ, conn)
        while not self._stop.is_set() and selector.get_map():
            for key, _ in selector.select(timeout=0.1):
                conn = key.data
                try:
                    data = conn.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                with conn.lock:
                    if not data:
                        self.closed_by_server += 1
                        conn.open_streams.clear()
                        selector.unregister(conn.sock)
                        continue
                    for event in conn.h2.receive_data(data):
                        if isinstance(event, h2.events.StreamReset | h2.events.StreamEnded):
                            if event.stream_id in conn.open_streams:
                                conn.open_streams.discard(event.stream_id)
                                self.refused += 1
                        elif isinstance(event, h2.events.ConnectionTerminated):
                            self.goaways.append((int(event.error_code or 0), event.additional_data or b""))
                            conn.open_streams.clear()
                    outgoing = conn.h2.data_to_send()  # SETTINGS and PING acknowledgements
                    if outgoing:
                        with contextlib.suppress(BlockingIOError):
                            conn.sock.sendall(outgoing)
        selector.close()

    def ping(self, connection: int = 0) -> bool:
        """A PING frame with no data on the connection (what a client's keepalive sends); False
        once the server has closed the connection."""
        conn = self._conns[connection]
        with conn.lock:
            try:
                conn.h2.ping(b"keepaliv")
                conn.sock.sendall(conn.h2.data_to_send())
            except (h2.exceptions.ProtocolError, OSError):
                return False
        return True

    def close(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=5)
        for conn in self._conns:
            conn.sock.close()

    def __enter__(self) -> StalledStreams:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _probe(target: str) -> tuple[str, str]:
    """Health/Check and SayHello from a fresh channel with a 100 ms deadline: elapsed or the error."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from service.generated import helloworld_pb2, helloworld_pb2_grpc

    out = []
    with grpc.insecure_channel(target) as channel:
        for call in (
            lambda: health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=0.1),
            lambda: helloworld_pb2_grpc.GreeterStub(channel).SayHello(
                helloworld_pb2.HelloRequest(), timeout=0.1
            ),
        ):
            t0 = time.perf_counter()
            try:
                call()
                out.append(f"{(time.perf_counter() - t0) * 1000:.1f} ms")
            except grpc.RpcError as error:
                out.append(error.code().name)
    return out[0], out[1]


def main() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    with StalledStreams(host, int(port), args.streams, args.connections) as stalled:
        time.sleep(0.5)
        for _ in range(3):
            health, hello = _probe(args.target)
            print(f"held {stalled.held} refused {stalled.refused}: Health/Check {health}, SayHello {hello}")


if __name__ == "__main__":
    main()
