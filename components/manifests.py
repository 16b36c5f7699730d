"""Pure builders of the Kubernetes manifest fragments a gRPC service is made of.

No resources here: every function takes plain values (names, ports, the small policy dataclasses below)
and returns a typed `pulumi_kubernetes` Args object or, for custom resources, the `spec` dict exactly as
the CRD expects it. They are what tests/unit/test_manifests.py proves; components/grpc_service.py only
assembles them. The policy dataclasses double as `GrpcServiceArgs` fields (no settings models here).
Facts used here come from the design brief ("gRPC on Kubernetes", Istio, Key Vault).
"""

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pulumi_kubernetes.autoscaling import v2 as autoscaling
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta
from pulumi_kubernetes.networking import v1 as networking

from .keyvault_rules import APP_INSIGHTS_SECRET
from .naming import backend_tls_secret_name

# --- The service contract (service/config.py, service/health_names.py) --------------------------------
GRPC_PORT = 50051
"""Plaintext gRPC: probes and in-mesh callers (Istio adds mTLS)."""
TLS_PORT = 50443
"""gRPC over TLS for API Management's self-hosted gateway (APIM needs an HTTPS backend)."""
METRICS_PORT = 9464
"""Prometheus `/metrics`."""
UNPRIVILEGED_PORT_MIN = 1024
"""Lowest port a non-root process may bind without NET_BIND_SERVICE (the container drops every
capability, `container_security_context`)."""
ISTIO_RESERVED_PORTS = range(15000, 15091)
"""Ports the Istio sidecar itself listens on in the pod (15000-15090: admin, outbound/inbound capture,
HBONE, merged Prometheus 15020, health 15021, DNS 15053, Envoy stats 15090; Istio docs: "Ports used
by Istio"): an app port there collides with Envoy's."""
HEALTH_LIVENESS = "liveness"
HEALTH_READINESS = "readiness"
SECRETS_MOUNT_PATH = "/mnt/secrets"
APP_INSIGHTS_FILE = APP_INSIGHTS_SECRET
"""File the pod reads the connection string from: the platform secret's own name, whatever
`GrpcServiceArgs.app_insights_secret_name` the vault object has."""
TMP_PATH = "/tmp"

# --- Platform names (AKS add-ons) ---------------------------------------------------------------------
ISTIO_INGRESS_NAMESPACE = "aks-istio-ingress"
ISTIO_SYSTEM_NAMESPACE = "aks-istio-system"
KEDA_NAMESPACE = "kube-system"
KEDA_OPERATOR_SERVICE_ACCOUNT = "keda-operator"
DAPR_NAMESPACE = "dapr-system"
CSI_DRIVER = "secrets-store.csi.k8s.io"
TRUST_DOMAIN = "cluster.local"
CONTAINER_NAME_MAX = 63


@dataclass
class ServicePortsArgs:
    """The container ports of a service (its GRPC_PORT, GRPC_TLS_PORT and METRICS_PORT); the Service
    exposes each on the same number. The port *names* are fixed (`grpc_port_name`, `tls_port_name`)."""

    grpc: int = GRPC_PORT
    """Plaintext gRPC: the probes, in-mesh callers and the ingress gateway (Istio adds mTLS), Dapr's
    app port."""
    tls: int = TLS_PORT
    """gRPC over TLS: the only port API Management's self-hosted gateway calls (its backend URL)."""
    metrics: int = METRICS_PORT
    """Prometheus `/metrics`, scraped by managed Prometheus in plaintext (kept out of the mesh)."""


def validate_service_ports(ports: ServicePortsArgs) -> None:
    """Raise ValueError (`ports.<field>: ...`) unless the three ports are distinct unprivileged ports
    outside the Istio sidecar's own range."""
    seen: dict[int, str] = {}
    for name in ("grpc", "tls", "metrics"):
        port = getattr(ports, name)
        if not UNPRIVILEGED_PORT_MIN <= port <= 65535:
            raise ValueError(
                f"ports.{name}: {port} is not in {UNPRIVILEGED_PORT_MIN}-65535 (the container runs as "
                "non-root without NET_BIND_SERVICE, so it cannot bind a port below 1024)"
            )
        if port in ISTIO_RESERVED_PORTS:
            raise ValueError(
                f"ports.{name}: {port} is in {ISTIO_RESERVED_PORTS.start}-{ISTIO_RESERVED_PORTS.stop - 1}, "
                "the ports the Istio sidecar listens on in the pod"
            )
        if port in seen:
            raise ValueError(
                f"ports.{name}: {port} is also ports.{seen[port]}: each listener needs its own port"
            )
        seen[port] = name


def tls_pem_file(service: str) -> str:
    """File name of a service's backend TLS PEM under /mnt/secrets: its Key Vault secret's name + `.pem`."""
    return f"{backend_tls_secret_name(service)}.pem"


def grpc_port_name(service: str) -> str:
    """Service port of plaintext gRPC: the `grpc-` prefix makes Istio treat it as gRPC (HTTP/2)
    (Istio docs: "Protocol Selection"), the suffix names the service."""
    return f"grpc-{service}"


def tls_port_name(service: str) -> str:
    """Service port of the TLS endpoint: the `tls-` prefix makes Istio pass TLS through unterminated."""
    return f"tls-{service}"


# ---------------------------------------------------------------------------------------------------
# Policies (plain dataclasses: the service's knobs, defaults as program/settings/ sets them)
# ---------------------------------------------------------------------------------------------------


class AutoscalerKind(enum.Enum):
    """What scales a service's Deployment."""

    CPU = "cpu"
    """An HPA on the app container's CPU."""
    KEDA = "keda"
    """KEDA on the gRPC request rate from managed Prometheus (plus CPU)."""


@dataclass
class AutoscalingPolicy:
    """How a service scales; the autoscaler owns the replica count."""

    kind: AutoscalerKind = AutoscalerKind.CPU
    """HPA on CPU, or KEDA on request rate."""
    min_replicas: int = 2
    """Fewest pods (2 keeps the service up through a node drain)."""
    max_replicas: int = 10
    """Most pods."""
    target_cpu_utilization: int = 70
    """Target average CPU of the app container, in % of its request."""
    target_requests_per_second: int = 1000
    """KEDA only: gRPC requests per second one pod should serve."""
    scale_down_stabilization_seconds: int = 300
    """How long lower recommendations must hold before pods are removed."""


@dataclass
class ContainerResources:
    """Requests and limits of one container."""

    cpu_request: str = "250m"
    """CPU the scheduler reserves."""
    memory_request: str = "256Mi"
    """Memory the scheduler reserves."""
    cpu_limit: str = "1"
    """CPU ceiling."""
    memory_limit: str = "512Mi"
    """Memory ceiling."""


@dataclass
class ShutdownPolicy:
    """Graceful shutdown of a pod (see `ShutdownTiming`)."""

    pre_stop_seconds: int = 5
    """preStop sleep before SIGTERM."""
    drain_delay_seconds: int = 5
    """NOT_SERVING on readiness while still serving, after SIGTERM."""
    shutdown_grace_seconds: int = 20
    """How long in-flight RPCs may finish."""
    margin_seconds: int = 5
    """Slack before the kubelet's SIGKILL."""


@dataclass
class TrafficPolicy:
    """Istio timeouts, retries and outlier detection of a service."""

    request_timeout_seconds: int = 30
    """Timeout of a whole call."""
    retry_attempts: int = 2
    """Retries of a failed call (only for `retry_on` conditions)."""
    per_try_timeout_seconds: int = 10
    """Timeout of each attempt."""
    retry_on: str = "unavailable,connect-failure,refused-stream"
    """Envoy/gRPC retry conditions."""
    outlier_consecutive_errors: int = 5
    """Consecutive gateway errors before a pod is ejected."""
    outlier_ejection_seconds: int = 30
    """Base ejection time."""
    max_ejection_percent: int = 50
    """Most pods ejected at once."""


@dataclass
class ServerTuning:
    """The gRPC server's connection, keepalive and logging knobs (service/config.py environment)."""

    max_connection_age_seconds: int = 120
    """MAX_CONNECTION_AGE_SECONDS."""
    max_connection_age_grace_seconds: int = 30
    """MAX_CONNECTION_AGE_GRACE_SECONDS."""
    max_connection_idle_seconds: int = 120
    """MAX_CONNECTION_IDLE_SECONDS (0 = never)."""
    keepalive_time_seconds: int = 60
    """KEEPALIVE_TIME_SECONDS."""
    keepalive_timeout_seconds: int = 20
    """KEEPALIVE_TIMEOUT_SECONDS."""
    keepalive_min_client_interval_seconds: int = 10
    """KEEPALIVE_MIN_CLIENT_INTERVAL_SECONDS."""
    keepalive_max_ping_strikes: int = 2
    """KEEPALIVE_MAX_PING_STRIKES (0 = unlimited)."""
    log_level: str = "INFO"
    """LOG_LEVEL."""
    max_name_length: int = 256
    """MAX_NAME_LENGTH (longest accepted request name)."""
    traces_sample_ratio: float = 0.001
    """TRACES_SAMPLE_RATIO (share of root calls traced; calls with a `traceparent` follow it)."""


# ---------------------------------------------------------------------------------------------------
# Labels and annotations
# ---------------------------------------------------------------------------------------------------


def label_value(text: str) -> str:
    """A Kubernetes label value (<= 63 chars of [A-Za-z0-9_.-], alphanumeric at both ends)."""
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", text)[:63]
    return value.strip("-_.")


def selector_labels(name: str) -> dict[str, str]:
    """The immutable labels a Deployment, Service and PDB select the pods by."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def common_labels(name: str, version: str) -> dict[str, str]:
    """The recommended `app.kubernetes.io/*` labels of every object of the workload."""
    return {
        **selector_labels(name),
        "app.kubernetes.io/version": label_value(version),
        "app.kubernetes.io/component": "grpc-server",
        "app.kubernetes.io/part-of": "aks-grpc",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def pod_labels(name: str, version: str) -> dict[str, str]:
    """Pod template labels: the common ones plus the workload identity opt-in."""
    return {**common_labels(name, version), "azure.workload.identity/use": "true"}


def namespace_labels(istio_revision: str, enforce: str) -> dict[str, str]:
    """Mesh opt-in (`istio.io/rev`; `istio-injection` is ignored by the add-on) and Pod Security levels."""
    return {
        "istio.io/rev": istio_revision,
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    }


def principal(namespace: str, service_account: str) -> str:
    """The Istio (SPIFFE) identity of a ServiceAccount, as AuthorizationPolicy `principals` spell it."""
    return f"{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}"


def ingress_gateway_name(kind: str) -> str:
    """The add-on's gateway Service/ServiceAccount and the value of its `istio` selector label."""
    return f"aks-istio-ingressgateway-{kind}"


# ---------------------------------------------------------------------------------------------------
# Graceful shutdown
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShutdownTiming:
    """Every duration of a pod's shutdown, in seconds, derived in one place.

    Sequence: pod deleted -> preStop sleep (endpoints drop the pod, the app still serves) -> SIGTERM ->
    readiness NOT_SERVING for `drain_delay_seconds` -> `server.stop(shutdown_grace_seconds)` -> exit.
    The Istio proxy drains for `proxy_drain_seconds` (a second past the app) and the kubelet kills
    whatever is left after `termination_grace_period_seconds`.
    """

    pre_stop_seconds: int
    drain_delay_seconds: int
    shutdown_grace_seconds: int
    proxy_drain_seconds: int
    termination_grace_period_seconds: int

    @property
    def app_shutdown_seconds(self) -> int:
        """The longest the app can take from the start of termination to its exit."""
        return self.pre_stop_seconds + self.drain_delay_seconds + self.shutdown_grace_seconds


def shutdown_timing(policy: ShutdownPolicy) -> ShutdownTiming:
    app = policy.pre_stop_seconds + policy.drain_delay_seconds + policy.shutdown_grace_seconds
    return ShutdownTiming(
        pre_stop_seconds=policy.pre_stop_seconds,
        drain_delay_seconds=policy.drain_delay_seconds,
        shutdown_grace_seconds=policy.shutdown_grace_seconds,
        # Classic sidecars get SIGTERM together with the app: the proxy must outlive it.
        proxy_drain_seconds=app + 1,
        termination_grace_period_seconds=app + policy.margin_seconds,
    )


# ---------------------------------------------------------------------------------------------------
# Pod template fragments
# ---------------------------------------------------------------------------------------------------


def container_env(
    name: str, tuning: ServerTuning, timing: ShutdownTiming, ports: ServicePortsArgs | None = None
) -> dict[str, str]:
    """The service's environment (service/config.py); secrets arrive as files, never as values."""
    ports = ports or ServicePortsArgs()
    tls_pem = f"{SECRETS_MOUNT_PATH}/{tls_pem_file(name)}"
    return {
        "GRPC_PORT": str(ports.grpc),
        "GRPC_TLS_PORT": str(ports.tls),
        "METRICS_PORT": str(ports.metrics),
        "TLS_CERT_FILE": tls_pem,
        "TLS_KEY_FILE": tls_pem,
        "SHUTDOWN_GRACE_SECONDS": str(timing.shutdown_grace_seconds),
        "DRAIN_DELAY_SECONDS": str(timing.drain_delay_seconds),
        "MAX_CONNECTION_AGE_SECONDS": str(tuning.max_connection_age_seconds),
        "MAX_CONNECTION_AGE_GRACE_SECONDS": str(tuning.max_connection_age_grace_seconds),
        "MAX_CONNECTION_IDLE_SECONDS": str(tuning.max_connection_idle_seconds),
        "KEEPALIVE_TIME_SECONDS": str(tuning.keepalive_time_seconds),
        "KEEPALIVE_TIMEOUT_SECONDS": str(tuning.keepalive_timeout_seconds),
        "KEEPALIVE_MIN_CLIENT_INTERVAL_SECONDS": str(tuning.keepalive_min_client_interval_seconds),
        "KEEPALIVE_MAX_PING_STRIKES": str(tuning.keepalive_max_ping_strikes),
        "LOG_LEVEL": tuning.log_level,
        "MAX_NAME_LENGTH": str(tuning.max_name_length),
        "TRACES_SAMPLE_RATIO": str(tuning.traces_sample_ratio),
        "APPLICATIONINSIGHTS_CONNECTION_STRING_FILE": f"{SECRETS_MOUNT_PATH}/{APP_INSIGHTS_FILE}",
        # The exporter's offline retry store must be writable: the root filesystem is read-only.
        "APPLICATIONINSIGHTS_STORAGE_DIRECTORY": f"{TMP_PATH}/appinsights",
        "OTEL_SERVICE_NAME": name,
    }


def pod_annotations(
    name: str,
    proxy: ContainerResources,
    timing: ShutdownTiming,
    dapr_config: str | None,
    ports: ServicePortsArgs | None = None,
) -> dict[str, str]:
    """Istio proxy settings (and Dapr's when enabled) of the pod template."""
    ports = ports or ServicePortsArgs()
    annotations = {
        # Hold the app until Envoy is ready (no failed first calls); drain Envoy past the app's exit.
        "proxy.istio.io/config": json.dumps(
            {
                "holdApplicationUntilProxyStarts": True,
                "terminationDrainDuration": f"{timing.proxy_drain_seconds}s",
            },
            sort_keys=True,
        ),
        "sidecar.istio.io/proxyCPU": proxy.cpu_request,
        "sidecar.istio.io/proxyMemory": proxy.memory_request,
        "sidecar.istio.io/proxyCPULimit": proxy.cpu_limit,
        "sidecar.istio.io/proxyMemoryLimit": proxy.memory_limit,
        # Managed Prometheus (not in the mesh) scrapes /metrics in plaintext: keep Envoy's STRICT
        # mTLS off that one port. The NetworkPolicy limits it to kube-system.
        "traffic.sidecar.istio.io/excludeInboundPorts": str(ports.metrics),
        "kubectl.kubernetes.io/default-container": name,
    }
    if dapr_config is not None:
        annotations.update(dapr_annotations(name, dapr_config, ports.grpc))
    return annotations


def dapr_annotations(app_id: str, config_name: str, app_port: int = GRPC_PORT) -> dict[str, str]:
    return {
        "dapr.io/enabled": "true",
        "dapr.io/app-id": app_id,
        "dapr.io/app-port": str(app_port),
        "dapr.io/app-protocol": "grpc",
        "dapr.io/config": config_name,
    }


def grpc_probe(
    service: str, *, period: int, failures: int, timeout: int = 2, port: int = GRPC_PORT
) -> core.ProbeArgs:
    """A native gRPC probe (grpc.health.v1) on the numeric plaintext port (named ports are not allowed)."""
    return core.ProbeArgs(
        grpc=core.GRPCActionArgs(port=port, service=service),
        period_seconds=period,
        failure_threshold=failures,
        timeout_seconds=timeout,
    )


def startup_probe(port: int = GRPC_PORT) -> core.ProbeArgs:
    # Up to 60 s to start before liveness takes over.
    return grpc_probe(HEALTH_READINESS, period=2, failures=30, port=port)


def readiness_probe(port: int = GRPC_PORT) -> core.ProbeArgs:
    return grpc_probe(HEALTH_READINESS, period=5, failures=2, port=port)


def liveness_probe(port: int = GRPC_PORT) -> core.ProbeArgs:
    return grpc_probe(HEALTH_LIVENESS, period=10, failures=3, port=port)


def container_security_context(uid: int) -> core.SecurityContextArgs:
    """Restricted Pod Security profile for a container."""
    return core.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security_context(uid: int) -> core.PodSecurityContextArgs:
    return core.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def topology_spread(
    labels: Mapping[str, str], zone_when_unsatisfiable: str
) -> list[core.TopologySpreadConstraintArgs]:
    """Spread over zones and nodes, computed per ReplicaSet (`pod-template-hash`) so a rollout spreads too."""

    def constraint(key: str, when: str) -> core.TopologySpreadConstraintArgs:
        return core.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable=when,
            label_selector=meta.LabelSelectorArgs(match_labels=dict(labels)),
            match_label_keys=["pod-template-hash"],
            node_taints_policy="Honor",
        )

    return [
        constraint("topology.kubernetes.io/zone", zone_when_unsatisfiable),
        constraint("kubernetes.io/hostname", "ScheduleAnyway"),
    ]


def container_resources(
    cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str
) -> core.ResourceRequirementsArgs:
    return core.ResourceRequirementsArgs(
        requests={"cpu": cpu_request, "memory": memory_request},
        limits={"cpu": cpu_limit, "memory": memory_limit},
    )


# ---------------------------------------------------------------------------------------------------
# Key Vault (Secrets Store CSI driver, Azure provider)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyVaultObject:
    """One Key Vault object the CSI driver mounts; the file name is `alias` (or `name`)."""

    name: str
    object_type: str = "secret"
    alias: str = ""

    @property
    def file_name(self) -> str:
        return self.alias or self.name


def service_key_vault_objects(
    service: str, app_insights_secret_name: str, tls_secret_name: str, extra: Sequence[str] = ()
) -> list[KeyVaultObject]:
    """The App Insights connection string and the service's backend TLS PEM, always, then the extras."""
    objects = [
        KeyVaultObject(app_insights_secret_name, alias=APP_INSIGHTS_FILE),
        KeyVaultObject(tls_secret_name, alias=tls_pem_file(service)),
    ]
    taken = {o.name for o in objects} | {o.file_name for o in objects}
    for name in extra:
        if name not in taken:
            objects.append(KeyVaultObject(name))
            taken.add(name)
    return objects


def key_vault_objects_parameter(objects: Sequence[KeyVaultObject]) -> str:
    """The provider's `objects` parameter: YAML `array:` of YAML strings, one per object."""
    items = []
    for obj in objects:
        entry = {"objectName": obj.name, "objectType": obj.object_type}
        if obj.alias:
            entry["objectAlias"] = obj.alias
        items.append(yaml.safe_dump(entry, sort_keys=False))
    return yaml.safe_dump({"array": items}, sort_keys=False, default_style=None)


def secret_provider_class_spec(
    *, client_id: Any, vault_name: Any, tenant_id: Any, objects: Sequence[KeyVaultObject]
) -> dict[str, Any]:
    """SecretProviderClass for workload identity (`clientID`, no pod identity, no VM identity)."""
    return {
        "provider": "azure",
        "parameters": {
            "usePodIdentity": "false",
            "clientID": client_id,
            "keyvaultName": vault_name,
            "tenantId": tenant_id,
            "objects": key_vault_objects_parameter(objects),
        },
    }


def ingress_tls_secret_provider_class_spec(
    *, addon_client_id: Any, vault_name: Any, tenant_id: Any, certificate_name: str, secret_name: str
) -> dict[str, Any]:
    """Syncs a Key Vault certificate into a `kubernetes.io/tls` Secret for the Istio ingress gateway
    with the Key Vault add-on's identity.

    AKS docs: "Secure ingress gateway for Istio service mesh add-on".
    """
    objects = [
        KeyVaultObject(certificate_name, object_type="secret", alias="tls.key"),
        KeyVaultObject(certificate_name, object_type="cert", alias="tls.crt"),
    ]
    return {
        "provider": "azure",
        "secretObjects": [
            {
                "secretName": secret_name,
                "type": "kubernetes.io/tls",
                "data": [
                    {"objectName": "tls.key", "key": "tls.key"},
                    {"objectName": "tls.crt", "key": "tls.crt"},
                ],
            }
        ],
        "parameters": {
            "usePodIdentity": "false",
            "useVMManagedIdentity": "true",
            "userAssignedIdentityID": addon_client_id,
            "keyvaultName": vault_name,
            "tenantId": tenant_id,
            "objects": key_vault_objects_parameter(objects),
        },
    }


# ---------------------------------------------------------------------------------------------------
# Autoscaling
# ---------------------------------------------------------------------------------------------------


def scaling_behavior(policy: AutoscalingPolicy) -> dict[str, Any]:
    """HPA `behavior` (camelCase, also KEDA's `advanced.horizontalPodAutoscalerConfig.behavior`):
    scale up fast, scale down slowly after a stabilization window."""
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 30},
                {"type": "Pods", "value": 4, "periodSeconds": 30},
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": policy.scale_down_stabilization_seconds,
            "selectPolicy": "Min",
            "policies": [{"type": "Percent", "value": 20, "periodSeconds": 60}],
        },
    }


def _rules(rules: Mapping[str, Any]) -> autoscaling.HPAScalingRulesArgs:
    return autoscaling.HPAScalingRulesArgs(
        stabilization_window_seconds=rules["stabilizationWindowSeconds"],
        select_policy=rules["selectPolicy"],
        policies=[
            autoscaling.HPAScalingPolicyArgs(
                type=p["type"], value=p["value"], period_seconds=p["periodSeconds"]
            )
            for p in rules["policies"]
        ],
    )


def hpa_spec(
    deployment: str, container: str, policy: AutoscalingPolicy
) -> autoscaling.HorizontalPodAutoscalerSpecArgs:
    """HPA on the app container's CPU (`ContainerResource`: pod CPU would include istio-proxy)."""
    behavior = scaling_behavior(policy)
    return autoscaling.HorizontalPodAutoscalerSpecArgs(
        scale_target_ref=autoscaling.CrossVersionObjectReferenceArgs(
            api_version="apps/v1", kind="Deployment", name=deployment
        ),
        min_replicas=policy.min_replicas,
        max_replicas=policy.max_replicas,
        metrics=[
            autoscaling.MetricSpecArgs(
                type="ContainerResource",
                container_resource=autoscaling.ContainerResourceMetricSourceArgs(
                    name="cpu",
                    container=container,
                    target=autoscaling.MetricTargetArgs(
                        type="Utilization", average_utilization=policy.target_cpu_utilization
                    ),
                ),
            )
        ],
        behavior=autoscaling.HorizontalPodAutoscalerBehaviorArgs(
            scale_up=_rules(behavior["scaleUp"]), scale_down=_rules(behavior["scaleDown"])
        ),
    )


def request_rate_query(namespace: str, grpc_services: Sequence[str]) -> str:
    """PromQL: RPCs of the service's own gRPC services (`package.Service`, from its proto) started per
    second across its pods (service/metrics.py counter)."""
    if not grpc_services:
        raise ValueError("grpc_services: name at least one gRPC service (package.Service)")
    names = sorted(set(grpc_services))
    selector = f'grpc_service="{names[0]}"' if len(names) == 1 else f'grpc_service=~"{"|".join(names)}"'
    return f'sum(rate(grpc_server_started_total{{namespace="{namespace}",{selector}}}[2m]))'


def scaled_object_spec(
    *,
    deployment: str,
    container: str,
    namespace: str,
    policy: AutoscalingPolicy,
    prometheus_query_endpoint: Any,
    trigger_authentication: str,
    grpc_services: Sequence[str],
) -> dict[str, Any]:
    """KEDA ScaledObject: gRPC request rate from managed Prometheus, plus the app container's CPU."""
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicaCount": policy.min_replicas,
        "maxReplicaCount": policy.max_replicas,
        "pollingInterval": 15,
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": scaling_behavior(policy)}},
        "triggers": [
            {
                "type": "prometheus",
                "name": "grpc-request-rate",
                "metadata": {
                    "serverAddress": prometheus_query_endpoint,
                    "query": request_rate_query(namespace, grpc_services),
                    "threshold": str(policy.target_requests_per_second),
                },
                "authenticationRef": {"name": trigger_authentication, "kind": "TriggerAuthentication"},
            },
            {
                "type": "cpu",
                "name": "cpu",
                "metricType": "Utilization",
                "metadata": {
                    "value": str(policy.target_cpu_utilization),
                    "containerName": container,
                },
            },
        ],
    }


def trigger_authentication_spec(client_id: Any) -> dict[str, Any]:
    """KEDA authenticates to the Azure Monitor workspace with workload identity (the operator's token,
    exchanged for `identityId`; AKS docs: "KEDA add-on and workload identity")."""
    return {"podIdentity": {"provider": "azure-workload", "identityId": client_id}}


def pod_monitor_spec(labels: Mapping[str, str]) -> dict[str, Any]:
    """Managed Prometheus (`azmonitoring.coreos.com`) scrape of the metrics port."""
    return {
        "selector": {"matchLabels": dict(labels)},
        "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "scheme": "http", "interval": "30s"}],
    }


# ---------------------------------------------------------------------------------------------------
# Istio
# ---------------------------------------------------------------------------------------------------


def peer_authentication_spec() -> dict[str, Any]:
    """Namespace-wide STRICT mTLS (the metrics port is excluded from interception on the pods)."""
    return {"mtls": {"mode": "STRICT"}}


def destination_rule_spec(host: str, traffic: TrafficPolicy) -> dict[str, Any]:
    """Per-request balancing (`LEAST_REQUEST`), HTTP/2 pools with keepalive under Azure LB's 4 minutes,
    outlier detection that ejects pods answering UNAVAILABLE."""
    return {
        "host": host,
        "trafficPolicy": {
            "loadBalancer": {"simple": "LEAST_REQUEST"},
            "connectionPool": {
                "tcp": {
                    "connectTimeout": "5s",
                    "tcpKeepalive": {"time": "60s", "interval": "20s", "probes": 3},
                },
                "http": {"http2MaxRequests": 10000, "maxRequestsPerConnection": 0, "idleTimeout": "180s"},
            },
            "outlierDetection": {
                "consecutiveGatewayErrors": traffic.outlier_consecutive_errors,
                "consecutive5xxErrors": traffic.outlier_consecutive_errors,
                "interval": "10s",
                "baseEjectionTime": f"{traffic.outlier_ejection_seconds}s",
                "maxEjectionPercent": traffic.max_ejection_percent,
            },
        },
    }


def virtual_service_spec(
    host: str,
    traffic: TrafficPolicy,
    *,
    ingress_host: str | None = None,
    gateway: str | None = None,
    grpc_port: int = GRPC_PORT,
) -> dict[str, Any]:
    """Timeout and retries for in-mesh callers (and the ingress gateway when a host is configured)."""
    hosts = [host] + ([ingress_host] if ingress_host else [])
    gateways = ["mesh"] + ([gateway] if gateway else [])
    matches: list[dict[str, Any]] = [{"port": grpc_port, "gateways": ["mesh"]}]
    if gateway:
        matches.append({"gateways": [gateway]})
    route: dict[str, Any] = {
        "name": "grpc",
        "match": matches,
        "route": [{"destination": {"host": host, "port": {"number": grpc_port}}}],
        "timeout": f"{traffic.request_timeout_seconds}s",
    }
    if traffic.retry_attempts:
        route["retries"] = {
            "attempts": traffic.retry_attempts,
            "perTryTimeout": f"{traffic.per_try_timeout_seconds}s",
            "retryOn": traffic.retry_on,
        }
    else:
        route["retries"] = {"attempts": 0}
    return {"hosts": hosts, "gateways": gateways, "http": [route]}


def authorization_policy_spec(
    *,
    labels: Mapping[str, str],
    namespace: str,
    ingress_principals: Sequence[str],
    apim_principal: str,
    ports: ServicePortsArgs | None = None,
) -> dict[str, Any]:
    """ALLOW only: the ingress gateway on the plaintext gRPC port, APIM's gateway on the TLS port
    (mTLS-wrapped by the mesh, TLS passed through to the app), and same-namespace callers on gRPC."""
    ports = ports or ServicePortsArgs()
    rules: list[dict[str, Any]] = []
    if ingress_principals:
        rules.append(
            {
                "from": [{"source": {"principals": list(ingress_principals)}}],
                "to": [{"operation": {"ports": [str(ports.grpc)]}}],
            }
        )
    rules.append(
        {
            "from": [{"source": {"principals": [apim_principal]}}],
            "to": [{"operation": {"ports": [str(ports.tls)]}}],
        }
    )
    rules.append(
        {
            "from": [{"source": {"namespaces": [namespace]}}],
            "to": [{"operation": {"ports": [str(ports.grpc)]}}],
        }
    )
    return {"selector": {"matchLabels": dict(labels)}, "action": "ALLOW", "rules": rules}


def gateway_spec(kind: str, host: str, credential_name: str) -> dict[str, Any]:
    """Istio Gateway on the add-on's ingress gateway: TLS terminated on 443 (HTTP/2 via ALPN for gRPC)."""
    return {
        "selector": {"istio": ingress_gateway_name(kind)},
        "servers": [
            {
                "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                "hosts": [host],
                "tls": {"mode": "SIMPLE", "credentialName": credential_name, "minProtocolVersion": "TLSV1_2"},
            }
        ],
    }


def access_logging_spec() -> dict[str, Any]:
    """Mesh-wide Envoy access logs (Telemetry in the root namespace)."""
    return {"accessLogging": [{"providers": [{"name": "envoy"}]}]}


# ---------------------------------------------------------------------------------------------------
# NetworkPolicy
# ---------------------------------------------------------------------------------------------------


def _namespace_peer(
    namespace: str, pod_labels_: Mapping[str, str] | None = None
) -> networking.NetworkPolicyPeerArgs:
    return networking.NetworkPolicyPeerArgs(
        namespace_selector=meta.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": namespace}),
        pod_selector=meta.LabelSelectorArgs(match_labels=dict(pod_labels_)) if pod_labels_ else None,
    )


def _tcp(*ports: int) -> list[networking.NetworkPolicyPortArgs]:
    return [networking.NetworkPolicyPortArgs(protocol="TCP", port=p) for p in ports]


def default_deny_spec() -> networking.NetworkPolicySpecArgs:
    """Nothing in or out of the namespace unless another policy allows it."""
    return networking.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
    )


def ingress_allow_spec(
    *,
    labels: Mapping[str, str],
    namespace: str,
    ingress_enabled: bool,
    apim_namespace: str,
    ports: ServicePortsArgs | None = None,
) -> networking.NetworkPolicySpecArgs:
    """Who may connect to the pods: same namespace, APIM's gateway (TLS port), the Istio ingress
    gateway (gRPC port, when ingress is on), managed Prometheus in kube-system (metrics and Envoy stats)."""
    ports = ports or ServicePortsArgs()
    rules = [
        networking.NetworkPolicyIngressRuleArgs(
            from_=[networking.NetworkPolicyPeerArgs(pod_selector=meta.LabelSelectorArgs())],
            ports=_tcp(ports.grpc),
        ),
        networking.NetworkPolicyIngressRuleArgs(
            from_=[_namespace_peer(apim_namespace)], ports=_tcp(ports.tls)
        ),
    ]
    if ingress_enabled:
        rules.append(
            networking.NetworkPolicyIngressRuleArgs(
                from_=[_namespace_peer(ISTIO_INGRESS_NAMESPACE)], ports=_tcp(ports.grpc)
            )
        )
    # 15020: Istio's merged Prometheus endpoint; 15090: Envoy stats.
    rules.append(
        networking.NetworkPolicyIngressRuleArgs(
            from_=[_namespace_peer("kube-system")], ports=_tcp(ports.metrics, 15020, 15090)
        )
    )
    return networking.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(match_labels=dict(labels)),
        policy_types=["Ingress"],
        ingress=rules,
    )


def egress_allow_spec(*, namespace: str, dapr_enabled: bool) -> networking.NetworkPolicySpecArgs:
    """What the pods may call: DNS, istiod (xDS and certificates), the namespace itself, and HTTPS to
    Azure (Application Insights ingestion, Entra ID). Plain NetworkPolicy cannot filter by FQDN."""
    rules = [
        networking.NetworkPolicyEgressRuleArgs(
            to=[_namespace_peer("kube-system", {"k8s-app": "kube-dns"})],
            ports=[networking.NetworkPolicyPortArgs(protocol=p, port=53) for p in ("UDP", "TCP")],
        ),
        networking.NetworkPolicyEgressRuleArgs(
            to=[_namespace_peer(ISTIO_SYSTEM_NAMESPACE)], ports=_tcp(15012)
        ),
        networking.NetworkPolicyEgressRuleArgs(
            to=[networking.NetworkPolicyPeerArgs(pod_selector=meta.LabelSelectorArgs())]
        ),
        networking.NetworkPolicyEgressRuleArgs(
            to=[networking.NetworkPolicyPeerArgs(ip_block=networking.IPBlockArgs(cidr="0.0.0.0/0"))],
            ports=_tcp(443),
        ),
    ]
    if dapr_enabled:
        rules.append(networking.NetworkPolicyEgressRuleArgs(to=[_namespace_peer(DAPR_NAMESPACE)]))
    return networking.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(), policy_types=["Egress"], egress=rules
    )


# ---------------------------------------------------------------------------------------------------
# Dapr
# ---------------------------------------------------------------------------------------------------


def dapr_configuration_spec() -> dict[str, Any]:
    """Dapr app configuration (`dapr.io/config`): Istio already traces, so Dapr's sampling is 0.
    Dapr's mTLS is a control-plane switch (`global.mtls.enabled` of the extension), not per app."""
    return {"tracing": {"samplingRate": "0"}}
