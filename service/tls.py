"""Server TLS credentials that pick up a rotated certificate without a restart.

The Key Vault CSI driver rewrites the mounted files when the certificate rotates (an atomic symlink
swap). grpcio calls the fetcher below before each new TLS handshake; it re-reads the files only when
their stat changes and returns a new configuration only for a pair that loads and matches, so a
half-written rotation never replaces a working certificate. Established connections keep the
certificate they handshook with; max_connection_age moves every client to the new one in time.
"""

from __future__ import annotations

import logging
import os
import threading

import grpc

from service.config import check_key_pair

log = logging.getLogger(__name__)


def _stat_key(path: str) -> tuple[int, int, int]:
    st = os.stat(path)  # follows symlinks: the CSI driver swaps a ..data symlink
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class RotatingCertificate:
    def __init__(self, cert_file: str, key_file: str) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self._lock = threading.Lock()
        self._seen = self._stat()
        self.initial = self._load()
        self.rotations = 0

    def _stat(self) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
        try:
            return (_stat_key(self.cert_file), _stat_key(self.key_file))
        except OSError:
            return None

    def _load(self) -> grpc.ServerCertificateConfiguration:
        with open(self.cert_file, "rb") as cert, open(self.key_file, "rb") as key:
            return grpc.ssl_server_certificate_configuration([(key.read(), cert.read())])

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """grpcio's fetcher: a new configuration if the files changed, else None (keep the current)."""
        with self._lock:
            seen = self._stat()
            if seen is None or seen == self._seen:
                return None
            problem = check_key_pair(self.cert_file, self.key_file)
            if problem:
                # Mid-rotation (cert written, key not yet) or a bad file: keep serving the old pair
                # and look again on the next handshake.
                log.warning("rotated TLS files not usable yet, keeping the current certificate: %s", problem)
                return None
            try:
                config = self._load()
            except OSError as error:
                log.warning("could not read rotated TLS files, keeping the current certificate: %s", error)
                return None
            self._seen = seen
            self.rotations += 1
            log.info(
                "TLS certificate reloaded", extra={"cert_file": self.cert_file, "rotations": self.rotations}
            )
            return config

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            self.initial, self.fetch, require_client_authentication=False
        )
