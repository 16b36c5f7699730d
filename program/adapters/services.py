"""Settings -> Args of the service platform and of each gRPC service (`aks-grpc:platform`, `aks-grpc:services`).

Plain functions: `__main__.py` calls them with the validated settings and the outputs of the components
built before; the components never see a settings model.
"""

from dataclasses import dataclass

import pulumi

from components.apim_rules import proto_services
from components.grpc_service import (
    GrpcServiceArgs,
    IngressGatewayKind,
    PodSecurityLevel,
    ServiceIngressArgs,
    ZoneSpread,
)
from components.manifests import (
    AutoscalerKind,
    AutoscalingPolicy,
    ContainerResources,
    ServerTuning,
    ServicePortsArgs,
    ShutdownPolicy,
    TrafficPolicy,
)
from components.naming import StackNames
from components.service_platform import KEDA_IDENTITY_PURPOSE, ServicePlatformArgs
from program.settings import (
    REPOSITORY,
    ContainerResourceSettings,
    GrpcServiceSettings,
    StackSettings,
)


@dataclass(frozen=True)
class ServiceAzureContext:
    """What every service's Args take from the stack's other components."""

    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    istio_revision: str
    app_insights_secret_name: str
    prometheus_query_endpoint: pulumi.Input[str] | None = None
    keda_client_id: pulumi.Input[str] | None = None
    key_vault_secrets_provider_client_id: pulumi.Input[str] | None = None
    key_vault_secrets_provider_object_id: pulumi.Input[str] | None = None


def platform_args(
    settings: StackSettings,
    names: StackNames,
    *,
    resource_group_name: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    oidc_issuer_url: pulumi.Input[str],
    monitor_workspace_id: pulumi.Input[str],
) -> ServicePlatformArgs:
    """The cluster-wide part: mesh access logs, and KEDA's operator identity when any service uses KEDA."""
    return ServicePlatformArgs(
        access_logging=settings.platform.access_logging,
        keda_enabled=settings.keda_enabled,
        keda_identity_name=names.identity(KEDA_IDENTITY_PURPOSE),
        resource_group_name=resource_group_name,
        location=settings.location,
        subscription_id=subscription_id,
        oidc_issuer_url=oidc_issuer_url,
        monitor_workspace_id=monitor_workspace_id,
    )


def proto_text(service: GrpcServiceSettings) -> str:
    """The service's .proto file (API Management imports it; its services scope the KEDA query)."""
    return (REPOSITORY / service.proto).read_text(encoding="utf-8")


def build_context(service: GrpcServiceSettings) -> str | None:
    """The folder to build when no image is configured, relative to the project directory Pulumi runs in
    (the plan is the same on every machine); None when the service runs a configured image."""
    if service.image is not None:
        return None
    import os

    return os.path.relpath(REPOSITORY / service.build_context)


def image_repository(name: str) -> str:
    """Registry repository of a built service image: `grpc-<name>` (`grpc-greeter`)."""
    return f"grpc-{name}"


def _resources(settings: ContainerResourceSettings) -> ContainerResources:
    return ContainerResources(
        cpu_request=settings.cpu_request,
        memory_request=settings.memory_request,
        cpu_limit=settings.cpu_limit,
        memory_limit=settings.memory_limit,
    )


def shutdown_policy(service: GrpcServiceSettings) -> ShutdownPolicy:
    sd = service.shutdown
    return ShutdownPolicy(
        pre_stop_seconds=sd.pre_stop_seconds,
        drain_delay_seconds=sd.drain_delay_seconds,
        shutdown_grace_seconds=sd.shutdown_grace_seconds,
        margin_seconds=sd.margin_seconds,
    )


def server_tuning(service: GrpcServiceSettings) -> ServerTuning:
    return ServerTuning(
        max_connection_age_seconds=service.max_connection_age_seconds,
        max_connection_age_grace_seconds=service.max_connection_age_grace_seconds,
        max_connection_idle_seconds=service.max_connection_idle_seconds,
        keepalive_time_seconds=service.keepalive_time_seconds,
        keepalive_timeout_seconds=service.keepalive_timeout_seconds,
        keepalive_min_client_interval_seconds=service.keepalive_min_client_interval_seconds,
        keepalive_max_ping_strikes=service.keepalive_max_ping_strikes,
        log_level=service.log_level,
        max_name_length=service.max_name_length,
        traces_sample_ratio=service.traces_sample_ratio,
    )


def service_ports(service: GrpcServiceSettings) -> ServicePortsArgs:
    p = service.ports
    return ServicePortsArgs(grpc=p.grpc, tls=p.tls, metrics=p.metrics)


def service_args(
    name: str,
    service: GrpcServiceSettings,
    settings: StackSettings,
    names: StackNames,
    azure: ServiceAzureContext,
    *,
    image: pulumi.Input[str] | None,
    image_version: str,
    tls_secret_name: str,
) -> GrpcServiceArgs:
    """One service's Args from its `aks-grpc:services.<name>` settings."""
    a, t = service.autoscaling, service.traffic
    ingress = service.ingress
    return GrpcServiceArgs(
        service_name=name,
        namespace=service.namespace,
        image=service.image if service.image is not None else image,  # type: ignore[arg-type]
        image_version=service.image_reference or image_version,
        grpc_services=proto_services(proto_text(service)),
        ports=service_ports(service),
        resource_group_name=azure.resource_group_name,
        location=azure.location,
        subscription_id=azure.subscription_id,
        tenant_id=azure.tenant_id,
        oidc_issuer_url=azure.oidc_issuer_url,
        vault_id=azure.vault_id,
        vault_name=azure.vault_name,
        istio_revision=azure.istio_revision,
        identity_name=names.identity(name),
        app_insights_secret_name=azure.app_insights_secret_name,
        tls_secret_name=tls_secret_name,
        autoscaling=AutoscalingPolicy(
            kind=AutoscalerKind(a.mode),
            min_replicas=a.min_replicas,
            max_replicas=a.max_replicas,
            target_cpu_utilization=a.target_cpu_utilization,
            target_requests_per_second=a.target_requests_per_second,
            scale_down_stabilization_seconds=a.scale_down_stabilization_seconds,
        ),
        resources=_resources(service.resources),
        proxy_resources=_resources(service.proxy_resources),
        shutdown=shutdown_policy(service),
        server=server_tuning(service),
        traffic=TrafficPolicy(
            request_timeout_seconds=t.request_timeout_seconds,
            retry_attempts=t.retry_attempts,
            per_try_timeout_seconds=t.per_try_timeout_seconds,
            retry_on=t.retry_on,
            outlier_consecutive_errors=t.outlier_consecutive_errors,
            outlier_ejection_seconds=t.outlier_ejection_seconds,
            max_ejection_percent=t.max_ejection_percent,
        ),
        secrets=list(service.secrets),
        run_as_user=service.run_as_user,
        pod_security_enforce=PodSecurityLevel(service.pod_security_enforce),
        zone_spread=ZoneSpread(service.zone_spread),
        dapr_enabled=service.dapr.enabled,
        ingress=ServiceIngressArgs(
            host=ingress.host,
            gateway=IngressGatewayKind(ingress.gateway),
            certificate_name=ingress.certificate_name,
            syncer_image=ingress.syncer_image,
            key_vault_secrets_provider_client_id=azure.key_vault_secrets_provider_client_id,
            key_vault_secrets_provider_object_id=azure.key_vault_secrets_provider_object_id,
        )
        if ingress.host
        else None,
        keda_client_id=azure.keda_client_id,
        prometheus_query_endpoint=azure.prometheus_query_endpoint,
        apim_gateway_namespace=settings.apim.gateway.namespace,
        apim_gateway_service_account=settings.apim.gateway.name,
    )


def lead_service(settings: StackSettings) -> str:
    """The service the single-service exports (`workloadNamespace`, ...) describe: the first exposed one
    (or the first at all)."""
    exposed = [name for name, s in settings.services.items() if s.apim.exposed]
    return (exposed or list(settings.services))[0]
