"""aks-grpc: one stack = one environment of the gRPC platform on Azure.

Composition root only: settings -> components -> exports. Everything with logic lives in components/.
"""

import os

import pulumi
from pulumi_azure_native import authorization, resources

from components.aks import AksCluster, ClusterEgress, DaprExtensionArgs
from components.apim import GrpcApiGateway
from components.backend_tls import BackendCertificate, BackendCertificateArgs
from components.common import DiagnosticsArgs
from components.grpc_service import GrpcService
from components.image import ServiceImage, ServiceImageArgs
from components.keyvault import SecretStore
from components.keyvault_rules import APP_INSIGHTS_SECRET
from components.monitoring import ClusterMonitoring, Observability
from components.naming import StackNames, backend_tls_secret_name
from components.protection import apply_stack_protection
from components.service_platform import ServicePlatform
from components.tagging import apply_stack_tags
from program.adapters import services as services_adapter
from program.adapters.apim import ServiceApiExposure, grpc_api_gateway_args
from program.adapters.cluster import cluster_args, egress_args
from program.adapters.deployer import deployer_principal_type
from program.adapters.keyvault import secret_store_args, secret_values_from_config
from program.adapters.monitoring import cluster_monitoring_args, observability_args
from program.settings import SettingsError, config_from_pulumi, load_settings

try:
    settings = load_settings(config_from_pulumi())
except SettingsError as error:
    # RunError ends the program with the message alone: every problem listed, no traceback.
    raise pulumi.RunError(str(error)) from None

apply_stack_tags(settings.standard_tags)
apply_stack_protection(settings.protects_stateful_resources)
client = authorization.get_client_config()
names = StackNames(settings.workload_name, settings.environment, settings.location, client.subscription_id)

resource_group = resources.ResourceGroup(
    "resource-group",
    resources.ResourceGroupArgs(resource_group_name=names.resource_group, location=settings.location),
)

# Each block below is one component; the order is the data flow of docs/architecture.md.
# --- observability (components/monitoring.py: Observability) -------------------------------------
observability = Observability(
    "monitoring",
    observability_args(
        settings.monitoring,
        names,
        resource_group_name=resource_group.name,
        location=settings.location,
        subscription_id=client.subscription_id,
    ),
)

# --- cluster egress (components/aks.py: ClusterEgress) --------------------------------------------
# The stack owns the cluster's outbound IP, so the vault firewall below can admit it (the CSI driver reads
# the vault over it) before the cluster exists; only the loadBalancer outbound type takes given IPs.
egress_config = egress_args(
    settings.cluster, names, resource_group_name=resource_group.name, location=settings.location
)
egress = ClusterEgress("egress", egress_config) if egress_config else None

# --- secrets (components/keyvault.py: SecretStore) ------------------------------------------------
secret_store = SecretStore(
    "secrets",
    secret_store_args(
        settings.key_vault,
        names,
        resource_group_name=resource_group.name,
        location=settings.location,
        tenant_id=client.tenant_id,
        subscription_id=client.subscription_id,
        egress_ip_addresses=[egress.ip_address] if egress else [],
        diagnostics=DiagnosticsArgs(workspace_id=observability.log_analytics_workspace_id),
        app_insights_connection_string=observability.app_insights_connection_string,
        secret_values=secret_values_from_config(),
    ),
)

# --- cluster (components/aks.py: AksCluster) ------------------------------------------------------
dapr = settings.platform.dapr
cluster = AksCluster(
    "cluster",
    cluster_args(
        settings.cluster,
        names,
        resource_group_name=resource_group.name,
        location=settings.location,
        subscription_id=client.subscription_id,
        tenant_id=client.tenant_id,
        deployer_object_id=client.object_id,
        deployer_client_id=client.client_id,
        environ=os.environ,
        keda_enabled=settings.keda_enabled,
        # One extension for the cluster, when any service runs a Dapr sidecar (`aks-grpc:platform.dapr`).
        dapr=DaprExtensionArgs(release_train=dapr.release_train, high_availability=dapr.high_availability)
        if settings.dapr_enabled
        else None,
        outbound_public_ip_ids=[egress.public_ip_id] if egress else [],
        log_analytics_workspace_id=observability.log_analytics_workspace_id,
        prometheus_rule_id=observability.prometheus_rule_id,
        container_insights_rule_id=observability.container_insights_rule_id,
        data_collection_endpoint_id=observability.data_collection_endpoint_id,
        diagnostics=observability.log_analytics_workspace_id,
    ),
)

# --- cluster monitoring (components/monitoring.py: ClusterMonitoring) -----------------------------
cluster_monitoring = ClusterMonitoring(
    "cluster-monitoring",
    cluster_monitoring_args(
        settings.monitoring,
        cluster_id=cluster.cluster_id,
        cluster_name=cluster.cluster_name,
        monitor_workspace_id=observability.monitor_workspace_id,
        action_group_id=observability.action_group_id,
        resource_group_name=resource_group.name,
        location=settings.location,
        workload_services={service.namespace: name for name, service in settings.services.items()},
    ),
    opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=cluster.kubernetes_ready),
)

# --- services (components/service_platform.py: ServicePlatform, components/grpc_service.py: GrpcService)
# The cluster-wide part once (mesh access logs, KEDA's operator identity), then one GrpcService per
# `aks-grpc:services` entry with its own backend certificate and, without a configured image, its own build.
platform = ServicePlatform(
    "platform",
    services_adapter.platform_args(
        settings,
        names,
        resource_group_name=resource_group.name,
        subscription_id=client.subscription_id,
        oidc_issuer_url=cluster.oidc_issuer_url,
        monitor_workspace_id=observability.monitor_workspace_id,
    ),
    opts=pulumi.ResourceOptions(providers=[cluster.provider], depends_on=cluster.kubernetes_ready),
)
azure_context = services_adapter.ServiceAzureContext(
    resource_group_name=resource_group.name,
    location=settings.location,
    subscription_id=client.subscription_id,
    tenant_id=client.tenant_id,
    oidc_issuer_url=cluster.oidc_issuer_url,
    vault_id=secret_store.vault_id,
    vault_name=secret_store.vault_name,
    istio_revision=cluster.istio_revision,
    app_insights_secret_name=secret_store.secret_names[APP_INSIGHTS_SECRET],
    prometheus_query_endpoint=observability.prometheus_query_endpoint,
    keda_client_id=platform.keda_client_id,
    key_vault_secrets_provider_client_id=cluster.key_vault_secrets_provider_client_id,
    key_vault_secrets_provider_object_id=cluster.key_vault_secrets_provider_object_id,
)
services: dict[str, GrpcService] = {}
backend_certificates: dict[str, BackendCertificate] = {}
service_images: dict[str, ServiceImage] = {}
for service_name, service_settings in settings.services.items():
    # The service's TLS port (for API Management) presents this certificate; the APIM gateway trusts its CA.
    backend_tls = BackendCertificate(
        f"{service_name}-backend-tls",
        BackendCertificateArgs(
            vault_name=secret_store.vault_name,
            resource_group_name=resource_group.name,
            dns_names=[f"{service_name}.{service_settings.namespace}.svc.cluster.local"],
            secret_name=backend_tls_secret_name(service_name),
        ),
        opts=pulumi.ResourceOptions(depends_on=secret_store.secret_writers_ready),
    )
    context = services_adapter.build_context(service_settings)
    image = (
        ServiceImage(
            f"{service_name}-image",
            ServiceImageArgs(
                context=context,
                registry_id=cluster.registry.id,
                registry_login_server=cluster.registry_login_server,
                subscription_id=client.subscription_id,
                deployer_object_id=client.object_id,
                deployer_principal_type=deployer_principal_type(settings.cluster.deployer_principal_type),
                repository=services_adapter.image_repository(service_name),
            ),
        )
        if context is not None
        else None
    )
    services[service_name] = GrpcService(
        service_name,
        services_adapter.service_args(
            service_name,
            service_settings,
            settings,
            names,
            azure_context,
            image=image.ref if image else None,
            image_version=image.tag if image else "",
            tls_secret_name=backend_tls.secret_name,
        ),
        opts=pulumi.ResourceOptions(
            providers=[cluster.provider],
            depends_on=[
                *cluster.kubernetes_ready,
                secret_store,
                backend_tls,
                *([platform] if service_settings.autoscaling.mode == "keda" else []),
                *([cluster] if service_settings.dapr.enabled else []),  # the Dapr extension's CRDs
            ],
        ),
    )
    backend_certificates[service_name] = backend_tls
    if image is not None:
        service_images[service_name] = image


def _image_of(name: str) -> pulumi.Input[str] | None:
    return service_images[name].ref if name in service_images else settings.services[name].image


pulumi.export(
    "services",
    {
        name: {
            "namespace": service.namespace,
            "host": service.service_host,
            "tlsPort": service.tls_port,
            "identityClientId": service.identity.client_id,
            "image": _image_of(name),
            "backendCaCertificatePem": backend_certificates[name].ca_certificate_pem,
            "proto": settings.services[name].proto,
            "apiPath": settings.services[name].apim.path,
            "apiProduct": settings.services[name].apim.product,
            "apiExposed": settings.services[name].apim.exposed,
        }
        for name, service in services.items()
    },
)
lead = services_adapter.lead_service(settings)
workload = services[lead]
pulumi.export("workloadNamespace", workload.namespace)
pulumi.export("workloadServiceHost", workload.service_host)
pulumi.export("workloadIdentityClientId", workload.identity.client_id)
pulumi.export("workloadImage", _image_of(lead))

# --- API gateway (components/apim.py: GrpcApiGateway, program/adapters/apim.py) -----------------
# Nothing above waits on it: the APIM service takes 30-60 minutes and deploys in parallel. One
# self-hosted gateway serves one gRPC API per exposed service (`services.<name>.apim`).
if settings.apim.enabled:
    exposed = [
        ServiceApiExposure(
            service_name=name,
            proto=services_adapter.proto_text(service_settings),
            proto_file=service_settings.proto,
            backend_host=services[name].service_host,
            backend_tls_port=services[name].tls_port,
            backend_ca_certificate_pem=backend_certificates[name].ca_certificate_pem,
            api_path=service_settings.apim.path,
            product=service_settings.apim.product,
            rate_limit_calls=service_settings.apim.rate_limit.calls,
            rate_limit_renewal_period_seconds=service_settings.apim.rate_limit.renewal_period_seconds,
        )
        for name, service_settings in settings.services.items()
        if service_settings.apim.exposed
    ]
    api_gateway = GrpcApiGateway(
        "api",
        grpc_api_gateway_args(
            settings.apim,
            exposed,
            service_name=names.api_management,
            resource_group_name=resource_group.name,
            resource_group_id=resource_group.id,
            location=settings.location,
            subscription_id=client.subscription_id,
            tenant_id=client.tenant_id,
            oidc_issuer_url=cluster.oidc_issuer_url,
            istio_revision=cluster.istio_revision,
            vault_name=secret_store.vault_name,
            app_insights_id=observability.app_insights_id,
            app_insights_instrumentation_key=observability.app_insights_instrumentation_key,
            diagnostics=observability.log_analytics_workspace_id,
        ),
        # The Kubernetes objects wait for the deployer's cluster RBAC, the key write for the vault.
        pulumi.ResourceOptions(
            provider=cluster.provider,
            depends_on=[*cluster.kubernetes_ready, *secret_store.secret_writers_ready],
        ),
    )
    pulumi.export("apimGatewayUrl", api_gateway.gateway_url)
    pulumi.export("apimSelfHostedGatewayName", api_gateway.gateway_name)
    pulumi.export("apimGatewayServiceHost", api_gateway.gateway_service_host)
    pulumi.export("apimGrpcApiId", api_gateway.api_id)
    pulumi.export("apimGrpcApiIds", api_gateway.api_ids)
    pulumi.export("apimSubscriptionKeySecretName", api_gateway.subscription_key_secret_name)

# --- outputs --------------------------------------------------------------------------------------
pulumi.export("resourceGroupName", resource_group.name)
pulumi.export("logAnalyticsWorkspaceId", observability.log_analytics_workspace_id)
pulumi.export("appInsightsConnectionString", observability.app_insights_connection_string)
pulumi.export("monitorWorkspaceId", observability.monitor_workspace_id)
pulumi.export("prometheusQueryEndpoint", observability.prometheus_query_endpoint)
pulumi.export("dataCollectionEndpointId", observability.data_collection_endpoint_id)
pulumi.export("prometheusDataCollectionRuleId", observability.prometheus_rule_id)
pulumi.export("containerInsightsDataCollectionRuleId", observability.container_insights_rule_id)
pulumi.export("grafanaEndpoint", observability.grafana_endpoint)
pulumi.export("keyVaultName", secret_store.vault_name)
pulumi.export("keyVaultUri", secret_store.vault_uri)
pulumi.export("keyVaultTenantId", secret_store.tenant_id)
pulumi.export("keyVaultSecretNames", secret_store.secret_names)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("clusterId", cluster.cluster_id)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export("kubeletIdentityObjectId", cluster.kubelet_identity_object_id)
pulumi.export("keyVaultSecretsProviderClientId", cluster.key_vault_secrets_provider_client_id)
pulumi.export("nodeResourceGroup", cluster.node_resource_group)
pulumi.export("registryLoginServer", cluster.registry_login_server)
pulumi.export("egressIpAddress", egress.ip_address if egress else None)
