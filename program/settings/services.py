"""Settings: services."""

import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    model_validator,
)

from components.apim_rules import (
    proto_services,
    validate_grpc_api_path,
)
from components.manifests import (
    GRPC_PORT,
    METRICS_PORT,
    TLS_PORT,
    ServicePortsArgs,
    validate_service_ports,
)

from .apim import ApimGatewaySettings, ApimRateLimitSettings, CpuQuantity, DnsName, MemoryQuantity
from .base import KubernetesName, _Model, _namespace_problems, _raise_problems, nested, service_key

if typing.TYPE_CHECKING:
    from .stack import StackSettings

# ---------------------------------------------------------------------------------------------------
# gRPC services (`aks-grpc:services`) and the cluster-wide platform knobs (`aks-grpc:platform`)
# ---------------------------------------------------------------------------------------------------


class AutoscalingSettings(_Model):
    """How a service scales (`aks-grpc:services.<name>.autoscaling`). The autoscaler owns the replica count:
    the Deployment never sets `spec.replicas`."""

    mode: Literal["cpu", "keda"] = "cpu"
    """`cpu`: HPA on the app container's CPU. `keda`: KEDA on gRPC request rate from managed Prometheus
    (turns on the cluster's KEDA add-on)."""
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    """Fewest pods; 2 or more keeps the service up through a node drain (the PDB allows one pod down)."""
    max_replicas: Annotated[int, Field(ge=1, le=500)] = 10
    """Most pods."""
    target_cpu_utilization: Annotated[int, Field(ge=10, le=95)] = 70
    """Target average CPU of the app container, in % of its CPU request (both modes)."""
    target_requests_per_second: Annotated[int, Field(ge=1, le=100_000)] = 1000
    """`keda` only: gRPC requests per second one pod should serve (one CPython process serves ~5-10k
    trivial unary RPC/s on one core, so 1000 leaves room for real handlers)."""
    scale_down_stabilization_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """How long the autoscaler waits for lower recommendations before removing pods (no flapping)."""

    @model_validator(mode="after")
    def _autoscaling_rules(self) -> "AutoscalingSettings":
        problems: list[tuple[str, str]] = []
        if self.min_replicas > self.max_replicas:
            problems.append(
                ("minReplicas", f"{self.min_replicas} is above maxReplicas ({self.max_replicas})")
            )
        _raise_problems(problems, self)
        return self


class ContainerResourceSettings(_Model):
    """Requests and limits of one container (`aks-grpc:services.<name>.resources` / `.proxyResources`)."""

    cpu_request: CpuQuantity = "250m"
    """CPU the scheduler reserves; the HPA's utilization is measured against it."""
    memory_request: MemoryQuantity = "256Mi"
    """Memory the scheduler reserves."""
    cpu_limit: CpuQuantity = "1"
    """CPU ceiling (throttled above it)."""
    memory_limit: MemoryQuantity = "512Mi"
    """Memory ceiling (OOM-killed above it)."""

    @model_validator(mode="after")
    def _resource_rules(self) -> "ContainerResourceSettings":
        _raise_problems(_request_limit_problems(self), self)
        return self


def _request_limit_problems(
    container: "ContainerResourceSettings | ApimGatewaySettings",
) -> list[tuple[str, str]]:
    """Kubernetes refuses a container whose request is above its limit (keys relative to the container)."""
    problems: list[tuple[str, str]] = []
    if _cpu_millis(container.cpu_limit) < _cpu_millis(container.cpu_request):
        problems.append(("cpuLimit", f"{container.cpu_limit} is below cpuRequest ({container.cpu_request})"))
    if _memory_mebibytes(container.memory_limit) < _memory_mebibytes(container.memory_request):
        problems.append(
            ("memoryLimit", f"{container.memory_limit} is below memoryRequest ({container.memory_request})")
        )
    return problems


class ProxyResourceSettings(ContainerResourceSettings):
    """Requests and limits of the injected istio-proxy sidecar (`aks-grpc:services.<name>.proxyResources`)."""

    cpu_request: CpuQuantity = "100m"
    """CPU the scheduler reserves for Envoy."""
    memory_request: MemoryQuantity = "128Mi"
    """Memory the scheduler reserves for Envoy."""
    cpu_limit: CpuQuantity = "1"
    """Envoy's CPU ceiling."""
    memory_limit: MemoryQuantity = "256Mi"
    """Envoy's memory ceiling."""


def _cpu_millis(quantity: str) -> float:
    return float(quantity[:-1]) if quantity.endswith("m") else float(quantity) * 1000


def _memory_mebibytes(quantity: str) -> int:
    return int(quantity[:-2]) * (1024 if quantity.endswith("Gi") else 1)


class ShutdownSettings(_Model):
    """Graceful shutdown of a pod (`aks-grpc:services.<name>.shutdown`). terminationGracePeriodSeconds, the
    preStop sleep, the service's DRAIN_DELAY_SECONDS/SHUTDOWN_GRACE_SECONDS and the Istio proxy's drain
    duration are all derived from these (components/manifests.py `shutdown_timing`)."""

    pre_stop_seconds: Annotated[int, Field(ge=0, le=120)] = 5
    """preStop sleep before the app sees SIGTERM: time for kube-proxy and Istio to drop the pod from
    their endpoints while it still serves normally."""
    drain_delay_seconds: Annotated[int, Field(ge=0, le=120)] = 5
    """After SIGTERM the app reports NOT_SERVING on `readiness` but keeps serving this long
    (DRAIN_DELAY_SECONDS), for health-checking clients to move away."""
    shutdown_grace_seconds: Annotated[int, Field(ge=1, le=600)] = 20
    """`server.stop(grace)`: how long in-flight RPCs may finish (SHUTDOWN_GRACE_SECONDS)."""
    margin_seconds: Annotated[int, Field(ge=2, le=120)] = 5
    """Slack between the end of the app's shutdown and the kubelet's SIGKILL."""


class TrafficSettings(_Model):
    """Istio traffic policy for the service (`aks-grpc:services.<name>.traffic`)."""

    request_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    """VirtualService timeout of a whole call (streams included)."""
    retry_attempts: Annotated[int, Field(ge=0, le=10)] = 2
    """Retries of a failed call (only for `retryOn` conditions)."""
    per_try_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    """Timeout of each attempt."""
    retry_on: Annotated[str, Field(pattern=r"^[a-z0-9-]+(,[a-z0-9-]+)*$")] = (
        "unavailable,connect-failure,refused-stream"
    )
    """Envoy/gRPC retry conditions: only ones where the server did not process the call."""
    outlier_consecutive_errors: Annotated[int, Field(ge=1, le=100)] = 5
    """Consecutive gateway errors (502/503/504, gRPC UNAVAILABLE) before a pod is ejected."""
    outlier_ejection_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    """Base ejection time of an unhealthy pod."""
    max_ejection_percent: Annotated[int, Field(ge=0, le=100)] = 50
    """Most pods ejected at once (keeps capacity when many fail)."""

    @model_validator(mode="after")
    def _traffic_rules(self) -> "TrafficSettings":
        problems: list[tuple[str, str]] = []
        if self.retry_attempts and self.per_try_timeout_seconds > self.request_timeout_seconds:
            problems.append(
                (
                    "perTryTimeoutSeconds",
                    f"{self.per_try_timeout_seconds}s is above requestTimeoutSeconds ({self.request_timeout_seconds}s)",
                )
            )
        _raise_problems(problems, self)
        return self


class ServicePortsSettings(_Model):
    """Port numbers of one service (`aks-grpc:services.<name>.ports`): the container listens on them
    (GRPC_PORT, GRPC_TLS_PORT, METRICS_PORT) and the Service exposes each on the same number; probes,
    NetworkPolicies, Istio objects, Dapr and the API Management backend URL follow. Port names stay fixed."""

    grpc: int = GRPC_PORT
    """Plaintext gRPC: probes, in-mesh callers and the Istio ingress gateway (the mesh adds mTLS)."""
    tls: int = TLS_PORT
    """gRPC over TLS: the port API Management's self-hosted gateway calls (its backend URL)."""
    metrics: int = METRICS_PORT
    """Prometheus `/metrics` (scraped by managed Prometheus, kept out of the mesh)."""

    @model_validator(mode="after")
    def _ports_rules(self) -> "ServicePortsSettings":
        try:
            validate_service_ports(ServicePortsArgs(grpc=self.grpc, tls=self.tls, metrics=self.metrics))
        except ValueError as error:
            # The rule names the field it refuses (`ports.tls: ...`): report it under that key.
            field_name, _, message = str(error).removeprefix("ports.").partition(": ")
            _raise_problems([(field_name, message)], self)
        return self


class ServiceIngressSettings(_Model):
    """Optional direct ingress for the service through the Istio add-on's gateway (`aks-grpc:services.<name>.ingress`)."""

    host: DnsName | None = None
    """Public (or internal) host name; when set, an Istio Gateway terminates TLS for it on 443."""
    gateway: Literal["external", "internal"] = "external"
    """Which add-on ingress gateway serves the host (the cluster must run it)."""
    certificate_name: Annotated[str, Field(pattern=r"^[0-9a-zA-Z-]{1,127}$")] = "ingress-tls"
    """Key Vault certificate (imported out of band, PEM or PFX) served for `host`."""
    syncer_image: str = "mcr.microsoft.com/oss/kubernetes/pause:3.9"
    """Image of the one-pod Deployment that mounts the CSI volume so the driver syncs the TLS Secret."""


class ServiceDaprSettings(_Model):
    """Optional Dapr sidecar of one service (`aks-grpc:services.<name>.dapr`); the AKS `microsoft.dapr`
    extension is installed once, when any service enables it (`aks-grpc:platform.dapr`)."""

    enabled: bool = False
    """Annotate the pods for a Dapr sidecar; Dapr's own mTLS and tracing stay off (Istio does them)."""


API_PATH_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(/[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$"


class ServiceApimSettings(_Model):
    """How API Management exposes one service (`aks-grpc:services.<name>.apim`): one gRPC API per
    exposed service, imported from its `proto`, on the one self-hosted gateway."""

    exposed: bool = True
    """Publish the service as a gRPC API of API Management (with `apim.enabled`)."""
    path: Annotated[str, Field(pattern=API_PATH_PATTERN, max_length=400)] = ""
    """API path (URL suffix). Stays empty: gRPC clients call `/<package>.<Service>/<Method>` and cannot
    add a prefix, and the gateway tells the APIs apart by their gRPC service names
    (components/apim_rules.py `validate_grpc_api_path`)."""
    product: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,79}$")] = "grpc"
    """API Management product the API belongs to (subscriptions to it grant access)."""
    rate_limit: ApimRateLimitSettings = nested()
    """Per-subscription rate limit of the service's gRPC API."""

    @model_validator(mode="after")
    def _service_apim_rules(self) -> "ServiceApimSettings":
        problems: list[tuple[str, str]] = []
        try:
            validate_grpc_api_path(self.path)
        except ValueError as error:
            problems.append(("path", str(error).removeprefix("path: ")))
        _raise_problems(problems, self)
        return self


class PlatformDaprSettings(_Model):
    """The AKS `microsoft.dapr` extension, installed once when a service enables Dapr (`aks-grpc:platform.dapr`)."""

    release_train: Literal["stable", "dev"] = "stable"
    """Extension release train."""
    high_availability: bool = False
    """Run Dapr's control plane with 3 replicas (`global.ha.enabled`)."""


class PlatformSettings(_Model):
    """Cluster-wide knobs of the service platform, shared by every service (`aks-grpc:platform`)."""

    access_logging: bool = True
    """Mesh-wide Envoy access logs (one `Telemetry` in aks-istio-system)."""
    dapr: PlatformDaprSettings = nested()
    """The Dapr extension (only installed when a service sets `dapr.enabled`)."""


DEFAULT_SERVICE = "greeter"
"""The service a stack runs when it declares none (`aks-grpc:services` absent): the reference greeter."""
DEFAULT_PROTO = "service/protos/helloworld.proto"
DEFAULT_BUILD_CONTEXT = "service"


def default_namespace(service: str) -> str:
    """A service's namespace unless configured: `grpc-<name>` (`greeter` -> `grpc-greeter`)."""
    return f"grpc-{service}"


class GrpcServiceSettings(_Model):
    """One gRPC service on the cluster (`aks-grpc:services.<name>`); its name is the map key."""

    namespace: KubernetesName = ""
    """Kubernetes namespace (meshed with the active Istio revision), owned by this service alone.
    Default: `grpc-<name>`."""
    image: str | None = None
    """Container image: `repo@sha256:<64 hex>` or `repo:<tag other than latest>`, used as is (CI sets
    the digest it pushed). Unset: the program builds `buildContext` and pushes it to the stack's registry
    (components/image.py)."""
    build_context: str = DEFAULT_BUILD_CONTEXT
    """Folder (relative to the repository) the program builds when `image` is unset."""
    proto: Annotated[str, Field(pattern=r"^[^/\s][^\s]*\.proto$")] = DEFAULT_PROTO
    """The service's .proto file, relative to the repository: its `package.Service` names scope the KEDA
    query, and API Management imports it as the service's gRPC API."""
    ports: ServicePortsSettings = nested()
    """Port numbers of plaintext gRPC, TLS gRPC (API Management's backend) and metrics."""
    apim: ServiceApimSettings = nested()
    """API Management exposure (API path, product, rate limit)."""
    autoscaling: AutoscalingSettings = nested()
    """HPA or KEDA."""
    resources: ContainerResourceSettings = nested()
    """Requests and limits of the app container."""
    proxy_resources: ProxyResourceSettings = nested()
    """Requests and limits of the injected istio-proxy sidecar (`sidecar.istio.io/proxy*` annotations)."""
    shutdown: ShutdownSettings = nested()
    """Graceful shutdown timing."""
    max_connection_age_seconds: Annotated[int, Field(ge=10, le=86400)] = 120
    """Server closes client connections after this (MAX_CONNECTION_AGE_SECONDS) so per-connection
    balanced clients (APIM's TLS passthrough) spread over new pods."""
    max_connection_age_grace_seconds: Annotated[int, Field(ge=0, le=3600)] = 30
    """Time in-flight calls get on a connection past its max age (MAX_CONNECTION_AGE_GRACE_SECONDS)."""
    max_connection_idle_seconds: Annotated[int, Field(ge=0, le=86400)] = 120
    """Server closes a connection that has had no call for this long (MAX_CONNECTION_IDLE_SECONDS;
    0 = never): idle clients do not hold ~30 KiB of server memory each forever."""
    keepalive_time_seconds: Annotated[int, Field(ge=10, le=239)] = 60
    """Server keepalive ping interval (KEEPALIVE_TIME_SECONDS): below the Azure load balancer's
    4-minute idle timeout so quiet long-lived connections are not dropped silently."""
    keepalive_timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 20
    """Connection closed when a keepalive ping is not answered within this (KEEPALIVE_TIMEOUT_SECONDS)."""
    keepalive_min_client_interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    """Client pings without data closer together than this count as strikes
    (KEEPALIVE_MIN_CLIENT_INTERVAL_SECONDS); clients must keep their keepalive time above it."""
    keepalive_max_ping_strikes: Annotated[int, Field(ge=0, le=100)] = 2
    """Strikes after which the server closes the connection with GOAWAY `too_many_pings`
    (KEEPALIVE_MAX_PING_STRIKES; 0 = unlimited)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """LOG_LEVEL of the service."""
    max_name_length: Annotated[int, Field(ge=1, le=1_000_000)] = 256
    """MAX_NAME_LENGTH of the service (longest accepted `HelloRequest.name`)."""
    traces_sample_ratio: Annotated[float, Field(ge=0, le=1)] = 0.001
    """Share of root calls the service traces (TRACES_SAMPLE_RATIO); a call that arrives with a W3C
    `traceparent` follows its caller's decision. A root-sampled call costs ~0.7 ms of server CPU
    in all, so 0.01 costs 5-8% of the throughput and 0.001 2-3% (benchmarks/README.md)."""
    secrets: list[Annotated[str, Field(pattern=r"^[0-9a-zA-Z-]{1,127}$")]] = Field(default_factory=list)
    """Extra Key Vault secrets mounted as files under /mnt/secrets (the App Insights connection string
    and the backend TLS PEM are always mounted)."""
    run_as_user: Annotated[int, Field(ge=1000, le=2_147_483_647)] = 10001
    """Non-root UID (and GID) the containers run as."""
    pod_security_enforce: Literal["privileged", "baseline", "restricted"] = "privileged"
    """Pod Security Admission `enforce` level of the namespace (`warn` and `audit` are always
    `restricted`). The injected istio-init container needs NET_ADMIN/NET_RAW, which baseline and
    restricted refuse: keep `privileged` unless the mesh uses the Istio CNI."""
    zone_spread: Literal["ScheduleAnyway", "DoNotSchedule"] = "ScheduleAnyway"
    """Topology spread over zones: soft (`ScheduleAnyway`) or hard."""
    traffic: TrafficSettings = nested()
    """Istio timeouts, retries, outlier detection."""
    ingress: ServiceIngressSettings = nested()
    """Optional direct ingress (off unless `host` is set)."""
    dapr: ServiceDaprSettings = nested()
    """Optional Dapr sidecar."""

    @property
    def image_reference(self) -> str:
        """The tag or digest of `image` (for the `app.kubernetes.io/version` label); empty when unset."""
        if self.image is None:
            return ""
        if "@" in self.image:
            return self.image.split("@", 1)[1]
        return self.image.rpartition(":")[2]

    @model_validator(mode="after")
    def _service_model_rules(self) -> "GrpcServiceSettings":
        problems: list[tuple[str, str]] = []
        if self.image is not None:
            problems.extend(("image", p) for p in image_problems(self.image))
        if self.namespace:
            problems.extend(_namespace_problems("namespace", self.namespace))
        duplicate = sorted({s for s in self.secrets if self.secrets.count(s) > 1})
        if duplicate:
            problems.append(("secrets", f"lists {', '.join(duplicate)} more than once"))
        _raise_problems(problems, self)
        return self


def image_problems(image: str) -> list[str]:
    """Why an image reference is not pinned (empty when it is): a tag other than `latest`, or a digest."""
    if re.search(r"\s", image) or not image:
        return [f"{image!r} is not an image reference"]
    repository, at, digest = image.partition("@")
    if at:
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            return [f"{image} has a malformed digest: expected @sha256:<64 hex digits>"]
        return []
    _, colon, tag = repository.rpartition(":")
    if not colon or "/" in tag:
        return [f"{image} has no tag: pin a version (repo:1.2.3) or a digest (repo@sha256:...)"]
    if tag == "latest":
        return [f"{image} uses `latest`: pin a version (repo:1.2.3) or a digest (repo@sha256:...)"]
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        return [f"{image} has an invalid tag {tag!r}"]
    return []


def _services_with_defaults(value: Any) -> Any:
    """`aks-grpc:services` absent: the greeter alone; each service's namespace defaults to `grpc-<name>`."""
    if value is None:
        value = {DEFAULT_SERVICE: {}}
    if not isinstance(value, Mapping):
        return value
    filled: dict[Any, Any] = {}
    for name, service in value.items():
        if isinstance(service, Mapping) and not service.get("namespace") and isinstance(name, str):
            service = {**service, "namespace": default_namespace(name)}
        elif service is None and isinstance(name, str):
            service = {"namespace": default_namespace(name)}
        filled[name] = service
    return filled


ServiceName = Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
"""A service's name (its map key): an RFC 1035 label, since the Kubernetes Service is named after it."""


PLATFORM_IDENTITY_PURPOSES = ("keda-operator",)
"""Azure identity purposes of the platform itself (components/service_platform.py `KEDA_IDENTITY_PURPOSE`);
a service's identity is named from its own name, so no service may be called like one of these."""


def _service_name_problems(names: list[str]) -> list[tuple[str, str]]:
    """Names derived from two service names must not collide: the program names each service's
    resources `<name>-<part>` (`greeter-service-account`), so `greeter` and `greeter-service` would
    both own a `greeter-service-account`; and the platform's identities take some names."""
    problems: list[tuple[str, str]] = []
    for name in names:
        if name in PLATFORM_IDENTITY_PURPOSES:
            problems.append(
                (service_key(name), f"{name} names the platform's own Azure identity; rename the service")
            )
        clash = next((other for other in names if name.startswith(f"{other}-")), None)
        if clash is not None:
            problems.append(
                (
                    service_key(name),
                    f"{name} starts with {clash}-, the prefix of every resource name of {service_key(clash)}: "
                    "their derived names would collide; rename one of them",
                )
            )
    return problems


REPOSITORY = Path(__file__).resolve().parents[2]
"""The repository root: a service's `proto` (and `buildContext`) are relative to it."""


def _proto_services(proto: str) -> tuple[str, list[str]]:
    """(problem or "", the `package.Service`s) of a service's proto file."""
    path = REPOSITORY / proto
    if not path.is_file():
        return f"{proto} is not a file of the repository", []
    declared = proto_services(path.read_text(encoding="utf-8"))
    if not declared:
        return f"{proto} declares no gRPC service", []
    return "", declared


def _services_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Service rules that need the rest of the stack, and the uniqueness rules across services; keys are
    full paths (`services.orders.namespace`)."""
    problems: list[tuple[str, str]] = []
    namespaces: dict[str, str] = {}
    hosts: dict[str, str] = {}
    grpc_services: dict[str, str] = {}
    for name, service in stack.services.items():
        if stack.is_production and service.autoscaling.min_replicas < 2:
            problems.append(
                (
                    service_key(name, "autoscaling.minReplicas"),
                    "prod needs at least 2 pods to stay up through a node drain",
                )
            )
        ingress = service.ingress
        if ingress.host:
            runs_gateway = (
                stack.cluster.istio.external_ingress_gateway
                if ingress.gateway == "external"
                else stack.cluster.istio.internal_ingress_gateway
            )
            if not runs_gateway:
                problems.append(
                    (
                        service_key(name, "ingress.gateway"),
                        f"{ingress.gateway} needs cluster.istio.{ingress.gateway}IngressGateway: true",
                    )
                )
            host = ingress.host.lower()
            if host in hosts:
                problems.append(
                    (
                        service_key(name, "ingress.host"),
                        f"{ingress.host} is also {service_key(hosts[host], 'ingress.host')}: one host, one service",
                    )
                )
            hosts.setdefault(host, name)
        if service.namespace in namespaces:
            problems.append(
                (
                    service_key(name, "namespace"),
                    f"{service.namespace} is also {service_key(namespaces[service.namespace], 'namespace')}: "
                    "each service owns (creates, labels, deletes) its namespace",
                )
            )
        namespaces.setdefault(service.namespace, name)
        if stack.apim.enabled and service.apim.exposed:
            # Every gRPC API has the empty path (apim_rules.validate_grpc_api_path), so the gateway tells
            # the APIs apart by `/<package>.<Service>/`: a gRPC service may be in one exposed proto only.
            proto_problem, declared = _proto_services(service.proto)
            if proto_problem:
                problems.append((service_key(name, "proto"), proto_problem))
            for grpc_service in declared:
                if grpc_service in grpc_services:
                    problems.append(
                        (
                            service_key(name, "proto"),
                            f"{service.proto} declares {grpc_service}, which {service_key(grpc_services[grpc_service])} "
                            "also exposes: API Management routes a gRPC call by its service name to one API",
                        )
                    )
                grpc_services.setdefault(grpc_service, name)
    problems.extend(_service_name_problems(list(stack.services)))
    return problems
