"""TLS on the second port with a certificate the test generates, and rotation without a restart."""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from service_harness import SERVING, ServerProcess, health_status

from service.generated import helloworld_pb2, helloworld_pb2_grpc


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca_and_leaf(label: str) -> tuple[bytes, bytes, bytes]:
    """(CA certificate PEM, leaf certificate PEM, leaf private key PEM) for localhost/127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"test CA {label}"))
        .issuer_name(_name(f"test CA {label}"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(serialization.Encoding.PEM), leaf.public_bytes(serialization.Encoding.PEM), key_pem


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # atomic, like the CSI driver's symlink swap


def _say_hello(server: ServerProcess, ca_pem: bytes, channels: list[grpc.Channel]) -> str:
    channel = grpc.secure_channel(f"127.0.0.1:{server.tls_port}", grpc.ssl_channel_credentials(ca_pem))
    channels.append(channel)
    stub = helloworld_pb2_grpc.GreeterStub(channel)
    return stub.SayHello(helloworld_pb2.HelloRequest(name="tls"), timeout=10, wait_for_ready=False).message


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "tls.crt", tmp_path / "tls.key"


def test_tls_port_serves_a_client_that_trusts_the_ca_and_rotation_needs_no_restart(
    start_server, tls_files: tuple[Path, Path]
) -> None:
    cert_file, key_file = tls_files
    ca1, leaf1, key1 = make_ca_and_leaf("one")
    cert_file.write_bytes(leaf1)
    key_file.write_bytes(key1)
    server: ServerProcess = start_server(tls=True, TLS_CERT_FILE=str(cert_file), TLS_KEY_FILE=str(key_file))
    channels: list[grpc.Channel] = []
    try:
        assert _say_hello(server, ca1, channels) == "Hello, tls!"
        established = channels[0]
        ca2, leaf2, key2 = make_ca_and_leaf("two")
        with pytest.raises(grpc.RpcError) as raised:  # before rotation, CA two is not trusted
            _say_hello(server, ca2, channels)
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE

        # A half-done rotation (new certificate, old key) is not picked up: CA one still works.
        _replace(cert_file, leaf2)
        assert _say_hello(server, ca1, channels) == "Hello, tls!"
        _replace(key_file, key2)

        assert _say_hello(server, ca2, channels) == "Hello, tls!"
        with pytest.raises(grpc.RpcError) as raised:  # new connections no longer get the old certificate
            _say_hello(server, ca1, channels)
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
        # The connection made before the rotation keeps working, and so does the plaintext port.
        stub = helloworld_pb2_grpc.GreeterStub(established)
        assert stub.SayHello(helloworld_pb2.HelloRequest(name="old"), timeout=10).message == "Hello, old!"
        assert health_status(server.channel()) == SERVING
        assert server.proc.poll() is None
        messages = [e["message"] for e in server.logs()]
        assert "TLS certificate reloaded" in messages
        assert any("keeping the current certificate" in m for m in messages)
    finally:
        for channel in channels:
            channel.close()


def test_without_tls_files_there_is_no_tls_port(start_server) -> None:
    server: ServerProcess = start_server(tls=True)  # a TLS port is assigned but no files are given
    ca, _, _ = make_ca_and_leaf("none")
    with pytest.raises(grpc.RpcError) as raised:
        _say_hello(server, ca, [])
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    serving = [e for e in server.logs() if e["message"] == "serving"]
    assert serving[0]["grpc_tls_port"] is None


def test_one_combined_pem_for_key_and_certificate_works(start_server, tmp_path: Path) -> None:
    # The Key Vault CSI driver delivers a certificate as one PEM (private key first, then the chain);
    # the Deployment points TLS_CERT_FILE and TLS_KEY_FILE at that same file.
    combined = tmp_path / "greeter-tls.pem"
    ca1, leaf1, key1 = make_ca_and_leaf("one")
    combined.write_bytes(key1 + leaf1)
    server: ServerProcess = start_server(tls=True, TLS_CERT_FILE=str(combined), TLS_KEY_FILE=str(combined))
    channels: list[grpc.Channel] = []
    try:
        assert _say_hello(server, ca1, channels) == "Hello, tls!"
        ca2, leaf2, key2 = make_ca_and_leaf("two")
        _replace(combined, key2 + leaf2)
        assert _say_hello(server, ca2, channels) == "Hello, tls!"
    finally:
        for channel in channels:
            channel.close()
