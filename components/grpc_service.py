"""GrpcService: one gRPC service on AKS, meshed, autoscaled, fed secrets from Key Vault, safe to roll.

Everything goes through the cluster's Kubernetes provider (`opts.providers`) as typed objects (custom
resources through `CustomResource`), so the offline plan's manifests are exactly what would be applied.
The manifest fragments come from components/manifests.py (pure, unit-tested); this module assembles
them, one builder per concern: identity, secrets, pod template, autoscaler, network, mesh, ingress.
Cluster-wide objects (mesh Telemetry, the KEDA operator's identity) belong to `ServicePlatform`, so any
number of services can share one cluster.
"""

import enum
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.apps import v1 as apps
from pulumi_kubernetes.autoscaling import v2 as autoscaling
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta
from pulumi_kubernetes.networking import v1 as networking
from pulumi_kubernetes.policy import v1 as policy

from . import azure_ids
from . import manifests as m
from .common import RoleAssignmentArgs, depends_on_of, role_assignment
from .identity import IdentityRoleArgs, WorkloadIdentity, WorkloadIdentityArgs
from .keyvault_rules import APP_INSIGHTS_SECRET
from .manifests import (
    AutoscalerKind,
    AutoscalingPolicy,
    ContainerResources,
    ServerTuning,
    ServicePortsArgs,
    ShutdownPolicy,
    TrafficPolicy,
    validate_service_ports,
)
from .naming import SERVICE_NAME, backend_tls_secret_name


class IngressGatewayKind(enum.Enum):
    """Which AKS Istio add-on ingress gateway serves a service's host."""

    EXTERNAL = "external"
    INTERNAL = "internal"


class PodSecurityLevel(enum.Enum):
    """Pod Security Admission `enforce` level of the service's namespace."""

    PRIVILEGED = "privileged"
    """Needed by the injected istio-init container (NET_ADMIN/NET_RAW) unless the mesh uses Istio CNI."""
    BASELINE = "baseline"
    RESTRICTED = "restricted"


class ZoneSpread(enum.Enum):
    """Topology spread of the pods over zones."""

    SCHEDULE_ANYWAY = "ScheduleAnyway"
    DO_NOT_SCHEDULE = "DoNotSchedule"


@dataclass
class ServiceIngressArgs:
    """Direct ingress through the Istio add-on's gateway: TLS terminated on 443 for `host`."""

    host: str = ""
    """Public (or internal) host name; empty: no ingress."""
    gateway: IngressGatewayKind = IngressGatewayKind.EXTERNAL
    """Which add-on ingress gateway serves the host (the cluster must run it)."""
    certificate_name: str = "ingress-tls"
    """Key Vault certificate served for `host`."""
    syncer_image: str = "mcr.microsoft.com/oss/kubernetes/pause:3.9"
    """Image of the one-pod Deployment that keeps the CSI-synced TLS Secret alive."""
    key_vault_secrets_provider_client_id: pulumi.Input[str] | None = None
    """Client id of the AKS Key Vault add-on identity (`AksCluster.key_vault_secrets_provider_client_id`)."""
    key_vault_secrets_provider_object_id: pulumi.Input[str] | None = None
    """Object id of that identity (its "Key Vault Secrets User" assignment)."""


def _proxy_defaults() -> ContainerResources:
    # Envoy needs less than the app: these are the Istio sidecar's own defaults for a small service.
    return ContainerResources(cpu_request="100m", memory_request="128Mi", cpu_limit="1", memory_limit="256Mi")


@dataclass
class GrpcServiceArgs:
    """Inputs of `GrpcService`. The Kubernetes provider travels in `opts.providers`; what every object
    waits for (the cluster's readiness, the secrets' writers, the Dapr extension) in `opts.depends_on`."""

    service_name: str = "greeter"
    """The service's name: Service, ServiceAccount, Deployment, labels and port names derive from it."""
    namespace: str = ""
    """Kubernetes namespace the service owns (created and labelled here). Default: `grpc-<service_name>`."""
    image: pulumi.Input[str] = ""
    """Container image to run (a pinned tag or digest, or `ServiceImage.ref`). Required."""
    image_version: str = ""
    """The image's tag or digest, for the `app.kubernetes.io/version` label."""
    grpc_services: list[str] = field(default_factory=list)
    """Fully qualified gRPC services the server implements (`package.Service`, see
    `apim_rules.proto_services`): the KEDA request-rate query counts these. Required with KEDA."""
    ports: ServicePortsArgs = field(default_factory=ServicePortsArgs)
    """Container (and Service) port numbers of plaintext gRPC, TLS gRPC and metrics."""
    resource_group_name: pulumi.Input[str] = ""
    """Resource group of the service's Azure identity."""
    location: pulumi.Input[str] = ""
    """Azure region of the identity."""
    subscription_id: pulumi.Input[str] = ""
    """Subscription of the role definitions."""
    tenant_id: pulumi.Input[str] = ""
    """Entra ID tenant of the vault (SecretProviderClass `tenantId`)."""
    oidc_issuer_url: pulumi.Input[str] = ""
    """The cluster's OIDC issuer URL (federated credential)."""
    vault_id: pulumi.Input[str] = ""
    """Key Vault resource id: the only scope of the identity's "Key Vault Secrets User"."""
    vault_name: pulumi.Input[str] = ""
    """Key Vault name (SecretProviderClass `keyvaultName`)."""
    istio_revision: str = ""
    """Istio revision the namespace is labelled with (`AksCluster.istio_revision`, `asm-1-NN`)."""
    identity_name: str = ""
    """Azure name of the service's user-assigned identity."""
    app_insights_secret_name: str = APP_INSIGHTS_SECRET
    """Key Vault secret holding the Application Insights connection string (`SecretStore.secret_names`)."""
    tls_secret_name: str = ""
    """Key Vault secret holding the backend TLS key + chain (`BackendCertificate.secret_name`).
    Default: `<service_name>-tls` (`naming.backend_tls_secret_name`)."""
    autoscaling: AutoscalingPolicy = field(default_factory=AutoscalingPolicy)
    """HPA on CPU, or KEDA on request rate."""
    resources: ContainerResources = field(default_factory=ContainerResources)
    """Requests and limits of the app container."""
    proxy_resources: ContainerResources = field(default_factory=_proxy_defaults)
    """Requests and limits of the injected istio-proxy sidecar."""
    shutdown: ShutdownPolicy = field(default_factory=ShutdownPolicy)
    """Graceful shutdown timing."""
    server: ServerTuning = field(default_factory=ServerTuning)
    """The server's connection, keepalive and logging knobs."""
    traffic: TrafficPolicy = field(default_factory=TrafficPolicy)
    """Istio timeouts, retries, outlier detection."""
    secrets: list[str] = field(default_factory=list)
    """Extra Key Vault secrets mounted as files under /mnt/secrets."""
    run_as_user: int = 10001
    """Non-root UID (and GID) of the containers."""
    pod_security_enforce: PodSecurityLevel = PodSecurityLevel.PRIVILEGED
    """Pod Security Admission `enforce` level of the namespace (`warn`/`audit` are always restricted)."""
    zone_spread: ZoneSpread = ZoneSpread.SCHEDULE_ANYWAY
    """Soft or hard spread over zones."""
    dapr_enabled: bool = False
    """Dapr sidecar (the cluster's Dapr extension must be in `opts.depends_on`)."""
    ingress: ServiceIngressArgs | None = None
    """Direct ingress through the Istio ingress gateway (off when absent or without a host)."""
    keda_client_id: pulumi.Input[str] | None = None
    """Client id of the KEDA operator's identity (`ServicePlatform.keda_client_id`); required with KEDA."""
    prometheus_query_endpoint: pulumi.Input[str] | None = None
    """Managed Prometheus query endpoint (KEDA's `serverAddress`); required with KEDA."""
    apim_gateway_namespace: str = "apim-gateway"
    """Namespace of API Management's self-hosted gateway (the only caller of the TLS port)."""
    apim_gateway_service_account: str = "apim-gateway"
    """ServiceAccount of the self-hosted gateway (its Istio identity)."""


def validate_grpc_service_args(args: GrpcServiceArgs) -> None:
    """Raise ValueError naming the field when the args cannot build a working service."""
    if not SERVICE_NAME.check(args.service_name):
        raise ValueError(f"service_name: {args.service_name!r} is not an RFC 1035 label (a Service name)")
    validate_service_ports(args.ports)
    if not args.istio_revision.startswith("asm-1-"):
        raise ValueError(f"istio_revision: {args.istio_revision!r} is not an AKS Istio revision (asm-1-NN)")
    for field_name in ("identity_name", "image", "app_insights_secret_name"):
        if not getattr(args, field_name):
            raise ValueError(f"{field_name}: required")
    for field_name in ("resource_group_name", "location", "subscription_id", "tenant_id"):
        if not getattr(args, field_name):
            raise ValueError(f"{field_name}: required")
    for field_name in ("oidc_issuer_url", "vault_id", "vault_name"):
        if not getattr(args, field_name):
            raise ValueError(f"{field_name}: required")
    if args.autoscaling.kind is AutoscalerKind.KEDA:
        for field_name in ("keda_client_id", "prometheus_query_endpoint", "grpc_services"):
            if not getattr(args, field_name):
                raise ValueError(f"{field_name}: required when autoscaling.kind is KEDA")
    if args.autoscaling.min_replicas > args.autoscaling.max_replicas:
        raise ValueError("autoscaling.min_replicas: above autoscaling.max_replicas")
    if args.ingress is not None and args.ingress.host:
        for field_name in ("key_vault_secrets_provider_client_id", "key_vault_secrets_provider_object_id"):
            if getattr(args.ingress, field_name) is None:
                raise ValueError(f"ingress.{field_name}: required when ingress.host is set")


@dataclass
class _Scope:
    """What every Kubernetes object of one service shares: parent, readiness, labels, namespace."""

    parent: pulumi.Resource
    ready: list[Any]
    labels: dict[str, str]
    namespace: pulumi.Input[str] = ""

    def opts(self, *depends_on: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self.parent, depends_on=[*self.ready, *[d for d in depends_on if d is not None]]
        )

    def meta(
        self, name: str, namespace: pulumi.Input[str] | None = None, **extra: Any
    ) -> meta.ObjectMetaArgs:
        return meta.ObjectMetaArgs(
            name=name, namespace=namespace or self.namespace, labels=dict(self.labels), **extra
        )


class GrpcService(pulumi.ComponentResource):
    """One gRPC service: namespace, identity, secrets, Deployment, Service, autoscaler, PDB,
    NetworkPolicies, Istio security and traffic objects, scrape config, optional ingress and Dapr."""

    namespace: str
    service_account: str
    service_name: str
    grpc_port: int
    tls_port: int
    metrics_port: int
    service_host: str
    grpc_port_name: str
    tls_port_name: str
    tls_secret_name: str

    def __init__(self, name: str, args: GrpcServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:index:GrpcService", name, None, opts)
        validate_grpc_service_args(args)
        app = args.service_name
        self.namespace = args.namespace or f"grpc-{app}"
        self.service_account = self.service_name = app
        self.grpc_port, self.tls_port, self.metrics_port = args.ports.grpc, args.ports.tls, args.ports.metrics
        self.grpc_port_name, self.tls_port_name = m.grpc_port_name(app), m.tls_port_name(app)
        self.service_host = f"{app}.{self.namespace}.svc.cluster.local"
        self.tls_secret_name = args.tls_secret_name or backend_tls_secret_name(app)
        version = args.image_version
        scope = _Scope(self, depends_on_of(opts), m.common_labels(app, version))
        selector = m.selector_labels(app)

        self.identity = _service_identity(name, args, self)
        ns = core.Namespace(
            f"{name}-namespace",
            metadata=meta.ObjectMetaArgs(
                name=self.namespace,
                labels={
                    **scope.labels,
                    **m.namespace_labels(args.istio_revision, args.pod_security_enforce.value),
                },
            ),
            opts=scope.opts(),
        )
        scope.namespace = ns.metadata.name
        service_account = core.ServiceAccount(
            f"{name}-service-account",
            metadata=scope.meta(
                app, annotations={"azure.workload.identity/client-id": self.identity.client_id}
            ),
            automount_service_account_token=False,
            opts=scope.opts(),
        )
        secret_provider_class = _secret_provider_class(name, args, scope, self.identity, self.tls_secret_name)
        dapr_configuration = None
        if args.dapr_enabled:
            dapr_configuration = CustomResource(
                f"{name}-dapr-configuration",
                api_version="dapr.io/v1alpha1",
                kind="Configuration",
                metadata=scope.meta(f"{app}-dapr"),
                spec=m.dapr_configuration_spec(),
                opts=scope.opts(),
            )
        self.deployment = apps.Deployment(
            f"{name}-deployment",
            metadata=scope.meta(app),
            # No `replicas`: the HPA (or KEDA's HPA) owns the count; setting it would fight the autoscaler.
            spec=apps.DeploymentSpecArgs(
                selector=meta.LabelSelectorArgs(match_labels=selector),
                strategy=apps.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=apps.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge="25%"),
                ),
                min_ready_seconds=5,
                revision_history_limit=5,
                progress_deadline_seconds=600,
                template=pod_template(args, f"{app}-dapr" if args.dapr_enabled else None),
            ),
            opts=scope.opts(
                service_account,
                secret_provider_class,
                dapr_configuration,
                *self.identity.federated_credentials,
                *self.identity.role_assignments,
            ),
        )
        self.service = core.Service(
            f"{name}-service",
            metadata=scope.meta(app),
            spec=service_spec(app, selector, args.ports),
            opts=scope.opts(),
        )
        self.autoscaler = _autoscaler(name, args, scope, self.namespace, self.deployment)
        policy.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=scope.meta(app),
            spec=policy.PodDisruptionBudgetSpecArgs(
                # One pod at a time: drains proceed, capacity never drops by more than one pod;
                # crash-looping pods never block a drain.
                max_unavailable=1,
                selector=meta.LabelSelectorArgs(match_labels=selector),
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=scope.opts(),
        )
        ingress_host = args.ingress.host if args.ingress is not None else ""
        _network_policies(name, args, scope, self.namespace, selector, bool(ingress_host))
        _mesh(name, args, scope, self.namespace, self.service_host, selector)
        CustomResource(
            f"{name}-pod-monitor",
            api_version="azmonitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=scope.meta(app),
            spec=m.pod_monitor_spec(selector),
            opts=scope.opts(),
        )
        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceHost": self.service_host,
                "identityClientId": self.identity.client_id,
            }
        )


# ---------------------------------------------------------------------------------------------------
# Builders, one per concern
# ---------------------------------------------------------------------------------------------------


def _service_identity(name: str, args: GrpcServiceArgs, parent: pulumi.Resource) -> WorkloadIdentity:
    """The pods' Azure identity: reads the vault's secrets, nothing else."""
    return WorkloadIdentity(
        f"{name}-identity",
        WorkloadIdentityArgs(
            resource_group_name=args.resource_group_name,
            location=args.location,
            name=args.identity_name,
            oidc_issuer_url=args.oidc_issuer_url,
            namespace=args.namespace or f"grpc-{args.service_name}",
            service_account=args.service_name,
            subscription_id=args.subscription_id,
            roles=[
                IdentityRoleArgs(
                    scope=args.vault_id,
                    role_definition_id=azure_ids.KEY_VAULT_SECRETS_USER,
                    description=f"{args.service_name}: read its secrets through the CSI driver",
                )
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _secret_provider_class(
    name: str, args: GrpcServiceArgs, scope: _Scope, identity: WorkloadIdentity, tls_secret_name: str
) -> CustomResource:
    """The Key Vault objects the pods mount: App Insights, the backend TLS PEM, the extras."""
    return CustomResource(
        f"{name}-secret-provider-class",
        api_version="secrets-store.csi.x-k8s.io/v1",
        kind="SecretProviderClass",
        metadata=scope.meta(f"{args.service_name}-secrets"),
        spec=m.secret_provider_class_spec(
            client_id=identity.client_id,
            vault_name=args.vault_name,
            tenant_id=args.tenant_id,
            objects=m.service_key_vault_objects(
                args.service_name, args.app_insights_secret_name, tls_secret_name, args.secrets
            ),
        ),
        opts=scope.opts(),
    )


def pod_template(args: GrpcServiceArgs, dapr_config: str | None) -> core.PodTemplateSpecArgs:
    """The service's pod: one app container behind the Istio sidecar, secrets from the CSI volume."""
    app, ports = args.service_name, args.ports
    timing = m.shutdown_timing(args.shutdown)
    container = core.ContainerArgs(
        name=app,
        image=args.image,
        image_pull_policy="IfNotPresent",
        ports=[
            core.ContainerPortArgs(name="grpc", container_port=ports.grpc, protocol="TCP"),
            core.ContainerPortArgs(name="grpc-tls", container_port=ports.tls, protocol="TCP"),
            core.ContainerPortArgs(name="metrics", container_port=ports.metrics, protocol="TCP"),
        ],
        env=[
            core.EnvVarArgs(name=k, value=v)
            for k, v in m.container_env(app, args.server, timing, ports).items()
        ],
        resources=m.container_resources(
            args.resources.cpu_request,
            args.resources.memory_request,
            args.resources.cpu_limit,
            args.resources.memory_limit,
        ),
        startup_probe=m.startup_probe(ports.grpc),
        readiness_probe=m.readiness_probe(ports.grpc),
        liveness_probe=m.liveness_probe(ports.grpc),
        lifecycle=core.LifecycleArgs(
            pre_stop=core.LifecycleHandlerArgs(sleep=core.SleepActionArgs(seconds=timing.pre_stop_seconds))
        )
        if timing.pre_stop_seconds
        else None,
        security_context=m.container_security_context(args.run_as_user),
        volume_mounts=[
            core.VolumeMountArgs(name="secrets", mount_path=m.SECRETS_MOUNT_PATH, read_only=True),
            core.VolumeMountArgs(name="tmp", mount_path=m.TMP_PATH),
        ],
    )
    return core.PodTemplateSpecArgs(
        metadata=meta.ObjectMetaArgs(
            labels=m.pod_labels(app, args.image_version),
            annotations=m.pod_annotations(app, args.proxy_resources, timing, dapr_config, ports),
        ),
        spec=core.PodSpecArgs(
            service_account_name=app,
            automount_service_account_token=False,
            enable_service_links=False,
            termination_grace_period_seconds=timing.termination_grace_period_seconds,
            security_context=m.pod_security_context(args.run_as_user),
            topology_spread_constraints=m.topology_spread(m.selector_labels(app), args.zone_spread.value),
            containers=[container],
            volumes=[
                core.VolumeArgs(
                    name="secrets",
                    csi=core.CSIVolumeSourceArgs(
                        driver=m.CSI_DRIVER,
                        read_only=True,
                        volume_attributes={"secretProviderClass": f"{app}-secrets"},
                    ),
                ),
                core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="128Mi")),
            ],
        ),
    )


def service_spec(
    app: str, selector: dict[str, str], ports: ServicePortsArgs | None = None
) -> core.ServiceSpecArgs:
    """ClusterIP with the gRPC, TLS and metrics ports, each named for Istio's protocol selection."""
    ports = ports or ServicePortsArgs()
    return core.ServiceSpecArgs(
        type="ClusterIP",
        selector=selector,
        ports=[
            # `grpc-*` + appProtocol grpc: Istio balances per request, not per connection.
            core.ServicePortArgs(
                name=m.grpc_port_name(app),
                port=ports.grpc,
                target_port=ports.grpc,
                protocol="TCP",
                app_protocol="grpc",
            ),
            # TLS the mesh does not terminate: Istio passes it through (inside its own mTLS).
            core.ServicePortArgs(
                name=m.tls_port_name(app),
                port=ports.tls,
                target_port=ports.tls,
                protocol="TCP",
                app_protocol="tls",
            ),
            core.ServicePortArgs(
                name="http-metrics",
                port=ports.metrics,
                target_port=ports.metrics,
                protocol="TCP",
                app_protocol="http",
            ),
        ],
    )


def _autoscaler(
    name: str, args: GrpcServiceArgs, scope: _Scope, namespace: str, deployment: apps.Deployment
) -> pulumi.Resource:
    """An HPA on CPU, or KEDA's ScaledObject on the service's own request rate (authenticated as the
    platform's KEDA operator identity)."""
    app = args.service_name
    if args.autoscaling.kind is not AutoscalerKind.KEDA:
        return autoscaling.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=scope.meta(app),
            spec=m.hpa_spec(app, app, args.autoscaling),
            opts=scope.opts(deployment),
        )
    trigger_auth_name = f"{app}-prometheus"
    trigger_authentication = CustomResource(
        f"{name}-trigger-authentication",
        api_version="keda.sh/v1alpha1",
        kind="TriggerAuthentication",
        metadata=scope.meta(trigger_auth_name),
        spec=m.trigger_authentication_spec(args.keda_client_id),
        opts=scope.opts(),
    )
    return CustomResource(
        f"{name}-scaled-object",
        api_version="keda.sh/v1alpha1",
        kind="ScaledObject",
        metadata=scope.meta(app),
        spec=m.scaled_object_spec(
            deployment=app,
            container=app,
            namespace=namespace,
            policy=args.autoscaling,
            prometheus_query_endpoint=args.prometheus_query_endpoint,
            trigger_authentication=trigger_auth_name,
            grpc_services=args.grpc_services,
        ),
        opts=scope.opts(deployment, trigger_authentication),
    )


def _network_policies(
    name: str, args: GrpcServiceArgs, scope: _Scope, namespace: str, selector: dict[str, str], ingress: bool
) -> None:
    """Default deny, then who may connect (and where the pods may go)."""
    app = args.service_name
    networking.NetworkPolicy(
        f"{name}-default-deny",
        metadata=scope.meta("default-deny-all"),
        spec=m.default_deny_spec(),
        opts=scope.opts(),
    )
    networking.NetworkPolicy(
        f"{name}-allow-ingress",
        metadata=scope.meta(f"{app}-allow-ingress"),
        spec=m.ingress_allow_spec(
            labels=selector,
            namespace=namespace,
            ingress_enabled=ingress,
            apim_namespace=args.apim_gateway_namespace,
            ports=args.ports,
        ),
        opts=scope.opts(),
    )
    networking.NetworkPolicy(
        f"{name}-allow-egress",
        metadata=scope.meta(f"{app}-allow-egress"),
        spec=m.egress_allow_spec(namespace=namespace, dapr_enabled=args.dapr_enabled),
        opts=scope.opts(),
    )


def _mesh(
    name: str, args: GrpcServiceArgs, scope: _Scope, namespace: str, host: str, selector: dict[str, str]
) -> None:
    """Istio: STRICT mTLS, per-request balancing and retries, ALLOW-only authorization, optional ingress."""
    app = args.service_name
    CustomResource(
        f"{name}-peer-authentication",
        api_version="security.istio.io/v1",
        kind="PeerAuthentication",
        metadata=scope.meta("default"),
        spec=m.peer_authentication_spec(),
        opts=scope.opts(),
    )
    CustomResource(
        f"{name}-destination-rule",
        api_version="networking.istio.io/v1",
        kind="DestinationRule",
        metadata=scope.meta(app),
        spec=m.destination_rule_spec(host, args.traffic),
        opts=scope.opts(),
    )
    gateway_ref = None
    ingress_principals: list[str] = []
    ingress = args.ingress
    if ingress is not None and ingress.host:
        gateway_name = f"{app}-gateway"
        gateway_ref = f"{m.ISTIO_INGRESS_NAMESPACE}/{gateway_name}"
        ingress_principals = [
            m.principal(m.ISTIO_INGRESS_NAMESPACE, m.ingress_gateway_name(ingress.gateway.value))
        ]
        _ingress(name, args, ingress, scope, gateway_name)
    CustomResource(
        f"{name}-virtual-service",
        api_version="networking.istio.io/v1",
        kind="VirtualService",
        metadata=scope.meta(app),
        spec=m.virtual_service_spec(
            host,
            args.traffic,
            ingress_host=ingress.host if gateway_ref and ingress else None,
            gateway=gateway_ref,
            grpc_port=args.ports.grpc,
        ),
        opts=scope.opts(),
    )
    CustomResource(
        f"{name}-authorization-policy",
        api_version="security.istio.io/v1",
        kind="AuthorizationPolicy",
        metadata=scope.meta(app),
        spec=m.authorization_policy_spec(
            labels=selector,
            namespace=namespace,
            ingress_principals=ingress_principals,
            apim_principal=m.principal(args.apim_gateway_namespace, args.apim_gateway_service_account),
            ports=args.ports,
        ),
        opts=scope.opts(),
    )


def _ingress(
    name: str, args: GrpcServiceArgs, ingress: ServiceIngressArgs, scope: _Scope, gateway_name: str
) -> None:
    """Istio Gateway terminating TLS on 443 with a Key Vault certificate synced to a Secret."""
    app = args.service_name
    credential = f"{app}-ingress-tls"
    # The add-on's identity reads the certificate (AKS docs: "Secure ingress gateway for Istio").
    addon_reader = role_assignment(
        f"{name}-ingress-kv-reader",
        scope=args.vault_id,
        assignment=RoleAssignmentArgs(
            principal_id=ingress.key_vault_secrets_provider_object_id,  # type: ignore[arg-type]
            role_definition_id=azure_ids.KEY_VAULT_SECRETS_USER,
            description="AKS Key Vault add-on: sync the Istio ingress certificate",
        ),
        subscription_id=args.subscription_id,
        opts=pulumi.ResourceOptions(parent=scope.parent),
    )
    spc = CustomResource(
        f"{name}-ingress-secret-provider-class",
        api_version="secrets-store.csi.x-k8s.io/v1",
        kind="SecretProviderClass",
        metadata=scope.meta(credential, m.ISTIO_INGRESS_NAMESPACE),
        spec=m.ingress_tls_secret_provider_class_spec(
            addon_client_id=ingress.key_vault_secrets_provider_client_id,
            vault_name=args.vault_name,
            tenant_id=args.tenant_id,
            certificate_name=ingress.certificate_name,
            secret_name=credential,
        ),
        opts=scope.opts(),
    )
    apps.Deployment(
        f"{name}-ingress-tls-sync",
        metadata=scope.meta(f"{credential}-sync", m.ISTIO_INGRESS_NAMESPACE),
        spec=ingress_syncer_spec(app, credential, ingress.syncer_image),
        opts=scope.opts(spc, addon_reader),
    )
    CustomResource(
        f"{name}-gateway",
        api_version="networking.istio.io/v1",
        kind="Gateway",
        metadata=scope.meta(gateway_name, m.ISTIO_INGRESS_NAMESPACE),
        spec=m.gateway_spec(ingress.gateway.value, ingress.host, credential),
        opts=scope.opts(),
    )


def ingress_syncer_spec(app: str, credential: str, image: str) -> apps.DeploymentSpecArgs:
    """The CSI driver creates (and keeps rotating) the synced Secret only while a pod mounts the
    volume, and deletes it when the last one goes: one tiny pod holds it."""
    syncer_labels = {"app.kubernetes.io/name": f"{app}-ingress-tls-sync", "app.kubernetes.io/instance": app}
    syncer_uid = 65535  # the pause image's own non-root user
    return apps.DeploymentSpecArgs(
        replicas=1,
        selector=meta.LabelSelectorArgs(match_labels=syncer_labels),
        template=core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(
                labels=syncer_labels, annotations={"sidecar.istio.io/inject": "false"}
            ),
            spec=core.PodSpecArgs(
                automount_service_account_token=False,
                enable_service_links=False,
                security_context=m.pod_security_context(syncer_uid),
                containers=[
                    core.ContainerArgs(
                        name="sync",
                        image=image,
                        resources=m.container_resources("5m", "8Mi", "50m", "32Mi"),
                        security_context=m.container_security_context(syncer_uid),
                        volume_mounts=[
                            core.VolumeMountArgs(
                                name="ingress-tls", mount_path=m.SECRETS_MOUNT_PATH, read_only=True
                            )
                        ],
                    )
                ],
                volumes=[
                    core.VolumeArgs(
                        name="ingress-tls",
                        csi=core.CSIVolumeSourceArgs(
                            driver=m.CSI_DRIVER,
                            read_only=True,
                            volume_attributes={"secretProviderClass": credential},
                        ),
                    )
                ],
            ),
        ),
    )
