"""What Azure API Management and its self-hosted gateway refuse, as plain functions (no SDK imports).

Every `validate_*` takes plain values and raises `ValueError` whose message starts with the Args field
it is about (`sku: ...`). The APIM components call them first thing; the settings layer
(program/settings/) calls the same functions and reports the message under its config key.
This module imports no Pulumi SDK, so the settings and the policy pack can use it cheaply.

Sources (MicrosoftDocs/azure-docs, articles/api-management/):
- self-hosted-gateway-overview.md: self-hosted gateways need the Developer or Premium (classic) tier;
  Developer runs a gateway on a single node.
- grpc-api.md: gRPC APIs run on the self-hosted gateway; one .proto file per API.
- self-hosted-gateway-enable-workload-identity.md: Entra workload identity needs gateway image 2.11.0+.
"""

import re
from collections.abc import Iterable

# Tiers that cannot run a gRPC API on a self-hosted gateway, with the reason.
APIM_REJECTED_SKUS: dict[str, str] = {
    "Consumption": "has no self-hosted gateway and no gRPC APIs",
    "Basic": "has no self-hosted gateway (gRPC APIs here run on the self-hosted gateway in AKS)",
    "Standard": "has no self-hosted gateway (gRPC APIs here run on the self-hosted gateway in AKS)",
    "BasicV2": "v2 tiers have no self-hosted gateway and no gRPC APIs",
    "StandardV2": "v2 tiers have no self-hosted gateway and no gRPC APIs",
    "PremiumV2": "v2 tiers have no self-hosted gateway and no gRPC APIs",
    "Isolated": "is not supported by this platform (retired tier)",
}
APIM_SKUS = ("Developer", "Premium")
"""The tiers with a self-hosted gateway."""
PREMIUM_MIN_GATEWAY_REPLICAS = 2
"""Premium gateways run at least two pods: the PDB keeps one up through a drain, the spread puts
them in two zones (a platform choice; Developer allows exactly one gateway node)."""

GATEWAY_IMAGE_REPOSITORY = "mcr.microsoft.com/azure-api-management/gateway"
GATEWAY_MIN_VERSION = (2, 11, 0)
"""Entra workload identity authentication needs self-hosted gateway image 2.11.0 or later
(API Management docs: "Use Microsoft Entra workload identity authentication for the self-hosted gateway")."""
GATEWAY_DEFAULT_VERSION = "2.12.1"
"""The newest self-hosted gateway release found (Container-v2.12.1, 2026-09-11, which fixed the high CVEs
of 2.12.0: Azure/api-management-self-hosted-gateway#411). Azure/api-management-self-hosted-gateway#367
(backend TLS "remote certificate was rejected by the provided RemoteCertificateValidationCallback" on
2.10 and later) is still open in the record checked on 2026-12-02 and no release says it is fixed; the
versions it spares (<= 2.9) lack workload identity, so the newest release is the pin
(docs/api-gateway.md, "Known issue")."""
GATEWAY_DEFAULT_IMAGE = f"{GATEWAY_IMAGE_REPOSITORY}:{GATEWAY_DEFAULT_VERSION}"

RATE_LIMIT_MAX_RENEWAL_SECONDS = 300
"""`rate-limit-by-key` accepts a renewal period of 1-300 seconds (policy reference)."""


def validate_apim_sku(sku: str) -> None:
    """Only Developer and Premium have a self-hosted gateway (and so gRPC APIs)."""
    if sku in APIM_REJECTED_SKUS:
        raise ValueError(f"sku: {sku} {APIM_REJECTED_SKUS[sku]}; use Developer or Premium")
    if sku not in APIM_SKUS:
        raise ValueError(f"sku: {sku!r} is not an API Management tier; use Developer or Premium")


def validate_apim_capacity(sku: str, capacity: int) -> None:
    """Developer has exactly one scale unit; Premium 1-12 here."""
    if sku == "Developer" and capacity != 1:
        raise ValueError(f"capacity: Developer has exactly 1 unit (got {capacity})")
    if not 1 <= capacity <= 12:
        raise ValueError(f"capacity: must be 1-12 units (got {capacity})")


def validate_gateway_replicas(sku: str, replicas: int) -> None:
    """Developer allows one self-hosted gateway node; Premium runs at least two (PDB + zone spread)."""
    if replicas < 1:
        raise ValueError(f"replicas: a gateway needs at least one pod (got {replicas})")
    if sku == "Developer" and replicas != 1:
        raise ValueError("replicas: Developer allows a single self-hosted gateway node; use 1")
    if sku == "Premium" and replicas < PREMIUM_MIN_GATEWAY_REPLICAS:
        raise ValueError("replicas: Premium gateways run >= 2 replicas (PDB + zone spread)")


def validate_gateway_image(image: str) -> None:
    """The gateway image is Microsoft's, pinned to an exact version >= 2.11.0 (never `v2`/`latest`)."""
    repository, _, tag = image.rpartition(":")
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", tag)
    if repository != GATEWAY_IMAGE_REPOSITORY:
        raise ValueError(f"image: {image} must be {GATEWAY_IMAGE_REPOSITORY}:<exact version>")
    if match is None:
        raise ValueError(f"image: tag {tag!r} must be an exact version (2.11.0), never v2/latest")
    if tuple(int(g) for g in match.groups()) < GATEWAY_MIN_VERSION:
        raise ValueError(f"image: {tag} is older than 2.11.0, the first with workload identity auth")


def cpu_millicores(quantity: str) -> float:
    """A Kubernetes CPU quantity (`500m`, `2`, `0.5`) in millicores."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m?)", quantity)
    if match is None:
        raise ValueError(f"{quantity!r} is not a CPU quantity (500m, 2, 0.5)")
    value = float(match.group(1))
    return value if match.group(2) else value * 1000


_MEMORY_UNITS = {"Ki": 1 / 1024, "Mi": 1.0, "Gi": 1024.0, "Ti": 1024.0**2}


def memory_mebibytes(quantity: str) -> float:
    """A Kubernetes memory quantity (`512Mi`, `2Gi`) in MiB."""
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti)", quantity)
    if match is None:
        raise ValueError(f"{quantity!r} is not a memory quantity (512Mi, 2Gi)")
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def validate_gateway_cpu(request: str, limit: str) -> None:
    """Kubernetes refuses a container whose CPU request is above its limit."""
    for name, quantity in (("cpu_request", request), ("cpu_limit", limit)):
        try:
            cpu_millicores(quantity)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    if cpu_millicores(limit) < cpu_millicores(request):
        raise ValueError(f"cpu_limit: {limit} is below the CPU request ({request})")


def validate_gateway_memory(request: str, limit: str) -> None:
    """Kubernetes refuses a container whose memory request is above its limit."""
    for name, quantity in (("memory_request", request), ("memory_limit", limit)):
        try:
            memory_mebibytes(quantity)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    if memory_mebibytes(limit) < memory_mebibytes(request):
        raise ValueError(f"memory_limit: {limit} is below the memory request ({request})")


def validate_grpc_api_path(path: str) -> None:
    """gRPC clients always send `:path = /<package>.<Service>/<Method>` and cannot add a prefix, so a
    gRPC API's path must be empty or no stock client can reach it (DESIGN.md, docs/api-gateway.md)."""
    if path != "":
        raise ValueError(
            f"path: {path!r} would make the gRPC API unreachable: gRPC clients call "
            "/<package>.<Service>/<Method>, so the path must be empty"
        )


_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)\s*;", re.MULTILINE)
_SERVICE = re.compile(r"^\s*service\s+([A-Za-z_]\w*)\s*\{", re.MULTILINE)


def proto_services(proto: str) -> list[str]:
    """The fully qualified gRPC services (`helloworld.Greeter`) a .proto file defines."""
    package = _PACKAGE.search(proto)
    prefix = f"{package.group(1)}." if package else ""
    return [f"{prefix}{name}" for name in _SERVICE.findall(proto)]


def validate_grpc_api_proto(proto: str) -> None:
    """APIM imports a gRPC API from the text of one .proto file with at least one service."""
    if "syntax" not in proto or not proto_services(proto):
        raise ValueError("proto: must be the text of a .proto file with a service definition")


def validate_grpc_api_name(name: str) -> None:
    """The short name becomes APIM ids (`<name>-grpc`, `<name>-grpc-backend`, `<name>-backend-ca`):
    letters, digits and hyphens, starting with a letter (APIM ids allow more; these stay portable)."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", name) or name.endswith("-"):
        raise ValueError(
            f"name: {name!r} must be 1-63 lowercase letters, digits and hyphens, starting with a letter"
        )


def validate_rate_limit(calls: int, renewal_period_seconds: int) -> None:
    """`rate-limit-by-key`: at least one call per window of 1-300 seconds."""
    if calls < 1:
        raise ValueError(f"rate_limit.calls: must be >= 1 (got {calls})")
    if not 1 <= renewal_period_seconds <= RATE_LIMIT_MAX_RENEWAL_SECONDS:
        raise ValueError(f"rate_limit.renewal_period_seconds: must be 1-300 (got {renewal_period_seconds})")


def validate_backend(host: str, port: int) -> None:
    """The backend is a bare DNS name and a TCP port (the URL is built as https://<host>:<port>)."""
    if not 0 < port < 65536:
        raise ValueError(f"backend_port: must be a TCP port (got {port})")
    if not host or "/" in host or ":" in host:
        raise ValueError(f"backend_host: must be a bare DNS name (got {host!r})")


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def validate_grpc_api_list(
    names: list[str], paths: list[str], protos: list[str], products: list[str], known_products: list[str]
) -> None:
    """The APIs one instance serves: each name once (it makes the APIM ids), each non-empty path once
    (APIM: a path identifies one API in the instance), each gRPC service in one API only (with empty
    paths the gateway tells APIs apart by `/<package>.<Service>/`), each product declared."""
    if not names:
        raise ValueError("apis: give at least one gRPC API")
    repeated = _duplicates(names)
    if repeated:
        raise ValueError(f"apis: API name {', '.join(repeated)} is used more than once")
    repeated = _duplicates(p for p in paths if p)
    if repeated:
        raise ValueError(f"apis: API path {', '.join(repeated)} is used more than once")
    repeated = _duplicates(service for proto in protos for service in set(proto_services(proto)))
    if repeated:
        raise ValueError(f"apis: gRPC service {', '.join(repeated)} is defined by more than one API")
    unknown = [p for p in products if p not in known_products]
    if unknown:
        raise ValueError(
            f"apis: product {', '.join(sorted(set(unknown)))} is not one of the products "
            f"({', '.join(known_products)})"
        )
    repeated = _duplicates(known_products)
    if repeated:
        raise ValueError(f"products: product id {', '.join(repeated)} is declared more than once")


def validate_api_host(api_host: str | None, certificate_id: str | None) -> None:
    """The Istio ingress passes TLS for `api_host` through, so only the gateway can present a
    certificate for it: the host needs the id of an APIM certificate, and the certificate needs the host."""
    if certificate_id and not api_host:
        raise ValueError("api_host_certificate_id: is only used with apiHost")
    if api_host and not certificate_id:
        raise ValueError(
            f"api_host_certificate_id: is required with apiHost ({api_host}): the self-hosted gateway "
            "terminates TLS for it and needs the id of an APIM certificate for that host"
        )


def validate_kubernetes_name(field_name: str, name: str) -> None:
    """A Kubernetes object or namespace name: an RFC 1123 label (lowercase, digits, '-', <= 63)."""
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name):
        raise ValueError(f"{field_name}: {name!r} is not a Kubernetes name (RFC 1123 label, <= 63 chars)")
