"""aks-grpc: one stack = one environment of the gRPC platform on Azure.

Composition root only: settings -> components -> exports. Everything with logic lives in components/.
"""

import os
from pathlib import Path

import pulumi
from pulumi_azure_native import authorization, resources

from components.aks import AksCluster, ClusterEgress, DaprExtensionArgs
from components.apim import GrpcApiGateway
from components.backend_tls import BackendCertificate, BackendCertificateArgs
from components.common import DiagnosticsArgs
from components.image import ServiceImage, ServiceImageArgs
from components.keyvault import SecretStore
from components.monitoring import ClusterMonitoring, Observability
from components.naming import StackNames
from components.protection import apply_stack_protection
from components.settings import SettingsError, config_from_pulumi, load_settings
from components.tagging import apply_stack_tags
from components.workload import GrpcWorkload, GrpcWorkloadArgs
from program.adapters.apim import ServiceApiExposure, grpc_api_gateway_args
from program.adapters.cluster import cluster_args, egress_args
from program.adapters.deployer import deployer_principal_type
from program.adapters.keyvault import secret_store_args, secret_values_from_config
from program.adapters.monitoring import cluster_monitoring_args, observability_args

GREETER_PROTO = "service/protos/helloworld.proto"

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

# --- backend TLS (components/backend_tls.py: BackendCertificate) ---------------------------------
# The service's TLS port (for API Management) presents this certificate; the APIM gateway trusts its CA.
backend_tls = BackendCertificate(
    "backend-tls",
    BackendCertificateArgs(
        vault_name=secret_store.vault_name,
        resource_group_name=resource_group.name,
        dns_names=[f"{settings.workload.name}.{settings.workload.namespace}.svc.cluster.local"],
    ),
    opts=pulumi.ResourceOptions(depends_on=secret_store.secret_writers_ready),
)

# --- cluster (components/aks.py: AksCluster) ------------------------------------------------------
dapr = settings.workload.dapr
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
        keda_enabled=settings.workload.autoscaling.mode == "keda",
        dapr=DaprExtensionArgs(release_train=dapr.release_train, high_availability=dapr.high_availability)
        if dapr.enabled
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
        workload_namespaces=[settings.workload.namespace],
    ),
    opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=cluster.kubernetes_ready),
)

# --- service image (components/image.py: ServiceImage) -------------------------------------------
# Only when no image is configured (CI configures the digest it pushed): build service/ on this machine
# and push it to the stack's registry; the Deployment runs the pushed digest.
service_image = (
    ServiceImage(
        "service-image",
        ServiceImageArgs(
            # Relative to the project directory Pulumi runs in: the plan is the same on every machine.
            context=os.path.relpath(Path(__file__).parent / "service"),
            registry_id=cluster.registry.id,
            registry_login_server=cluster.registry_login_server,
            subscription_id=client.subscription_id,
            deployer_object_id=client.object_id,
            deployer_principal_type=deployer_principal_type(settings.cluster.deployer_principal_type),
        ),
    )
    if settings.workload.image is None
    else None
)

# --- workload (components/workload.py: GrpcWorkload, components/identity.py: WorkloadIdentity) ---
workload = GrpcWorkload(
    "workload",
    GrpcWorkloadArgs(
        settings=settings.workload,
        provider=cluster.provider,
        resource_group_name=resource_group.name,
        location=settings.location,
        subscription_id=client.subscription_id,
        tenant_id=client.tenant_id,
        oidc_issuer_url=cluster.oidc_issuer_url,
        vault_id=secret_store.vault_id,
        vault_name=secret_store.vault_name,
        istio_revision=cluster.istio_revision,
        identity_name=names.identity(settings.workload.name),
        scaler_identity_name=names.identity(f"{settings.workload.name}-scaler"),
        monitor_workspace_id=observability.monitor_workspace_id,
        prometheus_query_endpoint=observability.prometheus_query_endpoint,
        key_vault_secrets_provider_client_id=cluster.key_vault_secrets_provider_client_id,
        key_vault_secrets_provider_object_id=cluster.key_vault_secrets_provider_object_id,
        app_insights_secret_name=secret_store.secret_names["appinsights-connection-string"],
        tls_secret_name=backend_tls.secret_name,
        apim_gateway_namespace=settings.apim.gateway.namespace,
        apim_gateway_service_account=settings.apim.gateway.name,
        kubernetes_ready=cluster.kubernetes_ready,
        secrets_ready=[secret_store, backend_tls],
        dapr_ready=[cluster],
        image=service_image.ref if service_image else None,
        image_version=service_image.tag if service_image else "",
    ),
)
pulumi.export("workloadNamespace", workload.namespace)
pulumi.export("workloadServiceHost", workload.service_host)
pulumi.export("workloadIdentityClientId", workload.identity.client_id)
pulumi.export("workloadImage", service_image.ref if service_image else settings.workload.image)

# --- API gateway (components/apim.py: GrpcApiGateway, program/adapters/apim.py) -----------------
# Nothing above waits on it: the APIM service takes 30-60 minutes and deploys in parallel. One
# self-hosted gateway serves one gRPC API per exposed service (today: the workload).
if settings.apim.enabled:
    exposed = [
        ServiceApiExposure(
            service_name=settings.workload.name,
            proto=(Path(__file__).parent / GREETER_PROTO).read_text(encoding="utf-8"),
            proto_file=GREETER_PROTO,
            backend_host=workload.service_host,
            backend_tls_port=workload.tls_port,
            backend_ca_certificate_pem=backend_tls.ca_certificate_pem,
            rate_limit_calls=settings.apim.rate_limit.calls,
            rate_limit_renewal_period_seconds=settings.apim.rate_limit.renewal_period_seconds,
        )
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
