"""GrpcApiGateway: API Management fronting the gRPC service through a self-hosted gateway in AKS.

Facts this component encodes (MicrosoftDocs/azure-docs, api-management/):
- grpc-api.md: gRPC APIs run on the self-hosted gateway; the backend "must be accessible over HTTPS";
  one .proto file per API. gRPC clients send `:path = /<package>.<Service>/<Method>`, so the API path
  is empty.
- self-hosted-gateway-enable-workload-identity.md (image >= 2.11.0): Entra app + federated credential
  for the gateway's ServiceAccount, ConfigMap `config.service.auth: workloadIdentity`, and the two
  custom roles of includes/api-management-gateway-role-assignments.md.
- api-management-howto-ca-certificates.md: a self-hosted gateway does not use the instance's CA
  store; a custom CA is a `Certificate` linked to the gateway as a Gateway Certificate Authority.
- Deployment time: creating the APIM service takes 30-60 minutes, so nothing outside this component
  may wait on it (tests/program/test_deployment_graph.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azuread as azuread
import pulumi_kubernetes as k8s
from pulumi_azure_native import apimanagement, authorization, keyvault

from . import azure_ids
from .apim_policy import GrpcApiPolicy, JwtValidation, grpc_api_policy_xml
from .backend_tls import certificate_pfx
from .common import RoleAssignmentArgs, diagnostic_setting, management_lock, role_assignment
from .naming import deterministic_guid
from .propagation import ROLE_DEFINITION_PROPAGATION, propagation_wait
from .settings import ApimSettings

# Manage protocols and ciphers in Azure API Management (customProperties, string values). Applies to
# the instance's managed gateway; the self-hosted gateway gets the equivalent container settings.
_SECURITY = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security"
HARDENING_CUSTOM_PROPERTIES: dict[str, str] = {
    f"{_SECURITY}.Protocols.Tls10": "False",
    f"{_SECURITY}.Protocols.Tls11": "False",
    f"{_SECURITY}.Protocols.Ssl30": "False",
    f"{_SECURITY}.Backend.Protocols.Tls10": "False",
    f"{_SECURITY}.Backend.Protocols.Tls11": "False",
    f"{_SECURITY}.Backend.Protocols.Ssl30": "False",
    f"{_SECURITY}.Ciphers.TripleDes168": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_128_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_256_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_128_CBC_SHA256": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_256_CBC_SHA256": "False",
    f"{_SECURITY}.Ciphers.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_128_GCM_SHA256": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Protocols.Server.Http2": "True",
}

# Self-hosted gateway settings reference ("Certificates and ciphers"): forward-secret AEAD suites only.
STRONG_CIPHER_SUITES = ",".join(
    (
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    )
)

GATEWAY_STATUS_PATH = "/status-0123456789abcdef"
"""The self-hosted gateway's health endpoint on the HTTP port (official Helm chart probes)."""
GATEWAY_HTTP_PORT = 8080
GATEWAY_HTTPS_PORT = 8081
GATEWAY_RUN_AS_USER = 10001
"""UID and GID of the gateway container: above 10000, so it can never coincide with a user of the node
(Kubernetes hardening guides; the official chart: 1001 "is a built-in user, but you can use any user")."""
DOTNET_HOME = "/"
"""HOME of the gateway process. A UID absent from the image's /etc/passwd has no home, and .NET keeps its
CurrentUser X509 stores under `$HOME/.dotnet/corefx/cryptography/x509stores`; setting HOME makes that
path the documented `/.dotnet/...` whatever the image declares."""
DOTNET_STORE_PATH = "/.dotnet"
"""Writable (emptyDir) with a read-only root: the gateway installs the trusted backend CA (Gateway
Certificate Authority) into `/.dotnet/corefx/cryptography/x509stores/root` at start
(MicrosoftDocs/azure-docs#116325: "the permissions to directory /.dotnet/corefx/cryptography/x509stores/root
is required"; Azure/api-management-self-hosted-gateway#82: v2 fails to start on a read-only root)."""

API_ID = "greeter-grpc"
BACKEND_ID = "greeter-grpc-backend"
BACKEND_CA_CERTIFICATE_ID = "greeter-backend-ca"
PRODUCT_ID = "grpc"
SUBSCRIPTION_ID = "grpc-default"
SUBSCRIPTION_KEY_SECRET = "apim-grpc-subscription-key"
INGRESS_GATEWAY_SELECTOR = {"istio": "aks-istio-ingressgateway-external"}


@dataclass
class GrpcApiGatewayArgs:
    """Inputs of `GrpcApiGateway`."""

    settings: ApimSettings
    """The `aks-grpc:apim` settings."""
    service_name: str
    """Globally unique APIM service name (`StackNames.api_management`)."""
    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    """Scope of the custom role definitions and of the validator role assignment."""
    location: pulumi.Input[str]
    subscription_id: str
    tenant_id: str
    proto: str
    """Text of the one .proto file the API is imported from (service/protos/helloworld.proto)."""
    backend_host: str
    """In-cluster DNS name of the gRPC service (must be in the backend certificate)."""
    backend_port: int
    """The service's TLS port."""
    backend_ca_certificate_pem: pulumi.Input[str]
    """The private CA that issued the service's certificate (`BackendCertificate.ca_certificate_pem`)."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (federated credential of the gateway's ServiceAccount)."""
    istio_revision: str
    """Istio revision the gateway namespace is labelled with."""
    vault_name: pulumi.Input[str]
    """Key Vault that receives the subscription key."""
    app_insights_id: pulumi.Input[str]
    app_insights_instrumentation_key: pulumi.Input[str]
    """Secret: the App Insights logger credential."""
    kubernetes_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """Resources every Kubernetes object waits for (the deployer's cluster RBAC)."""
    secret_writers_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """Resources a Key Vault secret write waits for (none by default: secrets are written
    through ARM, which the deploy role covers, so no data-plane role is needed)."""
    diagnostics: pulumi.Input[str] | None = None
    """Log Analytics workspace id for the APIM diagnostic setting (GatewayLogs)."""
    lock: str | None = None
    """`CanNotDelete` or `ReadOnly` on the APIM service, or none."""


def validate_grpc_api_gateway_args(args: GrpcApiGatewayArgs) -> None:
    """Reject arguments the gateway cannot work with, naming the field."""
    if "service " not in args.proto or "syntax" not in args.proto:
        raise ValueError("proto must be the text of a .proto file with a service definition")
    if not 0 < args.backend_port < 65536:
        raise ValueError(f"backend_port must be a TCP port (got {args.backend_port})")
    if not args.backend_host or "/" in args.backend_host or ":" in args.backend_host:
        raise ValueError(f"backend_host must be a bare DNS name (got {args.backend_host!r})")
    if not args.istio_revision:
        raise ValueError("istio_revision must name the Istio revision of the cluster")


def backend_url(host: str, port: int) -> str:
    """The gRPC backend: the service's TLS endpoint (gRPC backends must be reachable over HTTPS)."""
    return f"https://{host}:{port}"


def configuration_endpoint(service_name: str) -> str:
    """The instance's configuration endpoint that self-hosted gateways connect to."""
    return f"https://{service_name}.configuration.azure-api.net"


def custom_role_guid(subscription_id: str, service_name: str, purpose: str) -> str:
    """Name of a custom role definition: the same GUID run after run, one per APIM instance and purpose."""
    return deterministic_guid(subscription_id, service_name, "role-definition", purpose)


def gateway_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "aks-grpc"}


class GrpcApiGateway(pulumi.ComponentResource):
    """APIM service, gRPC API, policies, Gateway and the self-hosted gateway running in the cluster."""

    service: apimanagement.ApiManagementService
    gateway_url: pulumi.Output[str]
    """The instance's managed gateway URL."""
    gateway_name: str
    """Name of the APIM `Gateway` resource (= `gateway.name` of the in-cluster gateway)."""
    api_id: pulumi.Output[str]
    """ARM id of the gRPC API."""
    subscription_key_secret_name: str
    """Key Vault secret holding the primary subscription key (never exported)."""
    gateway_service_host: str
    """In-cluster DNS name of the self-hosted gateway Service."""
    gateway_client_id: pulumi.Output[str]
    """Application (client) id of the gateway's Entra app."""

    def __init__(
        self, name: str, args: GrpcApiGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:apim:GrpcApiGateway", name, None, opts)
        validate_grpc_api_gateway_args(args)
        settings = args.settings
        gw = settings.gateway
        child = pulumi.ResourceOptions(parent=self)

        # --- the APIM service (30-60 minutes to create) ----------------------------------------------
        self.service = apimanagement.ApiManagementService(
            f"{name}-service",
            apimanagement.ApiManagementServiceArgs(
                service_name=args.service_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                sku=apimanagement.ApiManagementServiceSkuPropertiesArgs(
                    name=settings.sku, capacity=settings.capacity
                ),
                publisher_name=settings.publisher_name,
                publisher_email=settings.publisher_email,
                identity=apimanagement.ApiManagementServiceIdentityArgs(type="SystemAssigned"),
                custom_properties=HARDENING_CUSTOM_PROPERTIES,
            ),
            opts=child,
        )
        service_name = self.service.name
        rg = args.resource_group_name
        management_lock(f"{name}-lock", scope=self.service.id, level=args.lock, opts=child)
        if args.diagnostics is not None:
            diagnostic_setting(
                f"{name}-diagnostics",
                resource_id=self.service.id,
                workspace_id=args.diagnostics,
                categories=["GatewayLogs"],
                opts=child,
            )

        # --- Application Insights logger + API diagnostics -------------------------------------------
        logger = apimanagement.Logger(
            f"{name}-logger",
            apimanagement.LoggerArgs(
                resource_group_name=rg,
                service_name=service_name,
                logger_id="appinsights",
                logger_type="applicationInsights",
                resource_id=args.app_insights_id,
                # APIM stores the credential as a secret named value itself.
                credentials=pulumi.Output.secret(
                    pulumi.Output.from_input(args.app_insights_instrumentation_key).apply(
                        lambda key: {"instrumentationKey": key}
                    )
                ),
                description="Application Insights of the stack",
            ),
            opts=child,
        )

        # --- backend: the service's TLS port, certificate validated against the private CA ----------
        backend = apimanagement.Backend(
            f"{name}-backend",
            apimanagement.BackendArgs(
                resource_group_name=rg,
                service_name=service_name,
                backend_id=BACKEND_ID,
                url=backend_url(args.backend_host, args.backend_port),
                protocol="http",
                title="greeter gRPC service (TLS)",
                tls=apimanagement.BackendTlsPropertiesArgs(
                    validate_certificate_chain=True, validate_certificate_name=True
                ),
            ),
            opts=child,
        )
        ca_certificate = apimanagement.Certificate(
            f"{name}-backend-ca",
            apimanagement.CertificateArgs(
                resource_group_name=rg,
                service_name=service_name,
                certificate_id=BACKEND_CA_CERTIFICATE_ID,
                data=pulumi.Output.from_input(args.backend_ca_certificate_pem).apply(certificate_pfx),
            ),
            opts=child,
        )

        # --- the gRPC API -----------------------------------------------------------------------------
        api = apimanagement.Api(
            f"{name}-api",
            apimanagement.ApiArgs(
                resource_group_name=rg,
                service_name=service_name,
                api_id=API_ID,
                display_name="greeter (gRPC)",
                description="helloworld.Greeter imported from service/protos/helloworld.proto",
                api_type="grpc",
                format="grpc",
                value=args.proto,
                # gRPC clients call /helloworld.Greeter/SayHello: no path prefix is possible.
                path="",
                protocols=["https"],
                service_url=backend_url(args.backend_host, args.backend_port),
                subscription_required=True,
            ),
            opts=child,
        )
        jwt = settings.jwt
        policy = GrpcApiPolicy(
            calls=settings.rate_limit.calls,
            renewal_period_seconds=settings.rate_limit.renewal_period_seconds,
            gateway_replicas=gw.replicas,
            backend_id=BACKEND_ID,
            jwt=JwtValidation(jwt.openid_config_url, tuple(jwt.audiences), tuple(jwt.issuers))
            if jwt
            else None,
        )
        apimanagement.ApiPolicy(
            f"{name}-api-policy",
            apimanagement.ApiPolicyArgs(
                resource_group_name=rg,
                service_name=service_name,
                api_id=api.name,
                policy_id="policy",
                format="xml",
                value=grpc_api_policy_xml(policy),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[backend]),
        )
        apimanagement.Diagnostic(
            f"{name}-api-diagnostic",
            apimanagement.DiagnosticArgs(
                resource_group_name=rg,
                service_name=service_name,
                diagnostic_id="applicationinsights",
                logger_id=logger.id,
                always_log="allErrors",
                http_correlation_protocol="W3C",
                verbosity="information",
                log_client_ip=False,
                sampling=apimanagement.SamplingSettingsArgs(
                    sampling_type="fixed", percentage=settings.app_insights_sampling_percentage
                ),
            ),
            opts=child,
        )

        # --- product + subscription; the key goes to Key Vault only -----------------------------------
        product = apimanagement.Product(
            f"{name}-product",
            apimanagement.ProductArgs(
                resource_group_name=rg,
                service_name=service_name,
                product_id=PRODUCT_ID,
                display_name="gRPC",
                description="The gRPC APIs of the platform",
                subscription_required=True,
                approval_required=True,
                state=apimanagement.ProductState.PUBLISHED,
            ),
            opts=child,
        )
        apimanagement.ProductApi(
            f"{name}-product-api",
            apimanagement.ProductApiArgs(
                resource_group_name=rg, service_name=service_name, product_id=product.name, api_id=api.name
            ),
            opts=child,
        )
        subscription = apimanagement.Subscription(
            f"{name}-subscription",
            apimanagement.SubscriptionArgs(
                resource_group_name=rg,
                service_name=service_name,
                sid=SUBSCRIPTION_ID,
                display_name="gRPC default subscription",
                scope=product.id,
                state=apimanagement.SubscriptionState.ACTIVE,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["primaryKey", "secondaryKey"]
            ),
        )
        keys = apimanagement.list_subscription_secrets_output(
            resource_group_name=rg, service_name=service_name, sid=subscription.name
        )
        keyvault.Secret(
            f"{name}-subscription-key",
            keyvault.SecretArgs(
                secret_name=SUBSCRIPTION_KEY_SECRET,
                vault_name=args.vault_name,
                resource_group_name=rg,
                properties=keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(keys.primary_key.apply(lambda key: key or "")),
                    content_type="text/plain",
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.secret_writers_ready)),
        )

        # --- the self-hosted Gateway, its API link, hostname configuration and trusted CA -------------
        gateway = apimanagement.Gateway(
            f"{name}-gateway",
            apimanagement.GatewayArgs(
                resource_group_name=rg,
                service_name=service_name,
                gateway_id=gw.name,
                description="Self-hosted gateway in AKS",
                location_data=apimanagement.ResourceLocationDataContractArgs(name="aks"),
            ),
            opts=child,
        )
        apimanagement.GatewayApiEntityTag(
            f"{name}-gateway-api",
            apimanagement.GatewayApiEntityTagArgs(
                resource_group_name=rg, service_name=service_name, gateway_id=gateway.name, api_id=api.name
            ),
            opts=child,
        )
        self.gateway_service_host = f"{gw.name}.{gw.namespace}.svc.cluster.local"
        hostname = settings.api_host or self.gateway_service_host
        apimanagement.GatewayHostnameConfiguration(
            f"{name}-gateway-hostname",
            apimanagement.GatewayHostnameConfigurationArgs(
                resource_group_name=rg,
                service_name=service_name,
                gateway_id=gateway.name,
                hc_id="default",
                hostname=hostname,
                certificate_id=(
                    pulumi.Output.concat(self.service.id, "/certificates/", settings.api_host_certificate_id)
                    if settings.api_host_certificate_id
                    else None
                ),
                http2_enabled=True,
                tls10_enabled=False,
                tls11_enabled=False,
                negotiate_client_certificate=False,
            ),
            opts=child,
        )
        gateway_ca = apimanagement.GatewayCertificateAuthority(
            f"{name}-gateway-ca",
            apimanagement.GatewayCertificateAuthorityArgs(
                resource_group_name=rg,
                service_name=service_name,
                gateway_id=gateway.name,
                certificate_id=ca_certificate.name,
                is_trusted=True,
            ),
            opts=child,
        )

        # --- Entra workload identity of the gateway + the two custom roles ----------------------------
        app = azuread.Application(
            f"{name}-gateway-app",
            azuread.ApplicationArgs(
                display_name=f"{args.service_name}-{gw.name}",
                description="API Management self-hosted gateway (workload identity, no secrets)",
                sign_in_audience="AzureADMyOrg",
            ),
            opts=child,
        )
        principal = azuread.ServicePrincipal(
            f"{name}-gateway-sp", azuread.ServicePrincipalArgs(client_id=app.client_id), opts=child
        )
        federated = azuread.ApplicationFederatedIdentityCredential(
            f"{name}-gateway-federated",
            azuread.ApplicationFederatedIdentityCredentialArgs(
                application_id=app.id,
                display_name=f"aks-{gw.namespace}-{gw.name}",
                description="Kubernetes ServiceAccount of the self-hosted gateway",
                issuer=args.oidc_issuer_url,
                subject=f"system:serviceaccount:{gw.namespace}:{gw.name}",
                audiences=[azure_ids.WORKLOAD_IDENTITY_AUDIENCE],
            ),
            opts=child,
        )
        validator_role_guid = custom_role_guid(
            args.subscription_id, args.service_name, "config-api-access-validator"
        )
        reader_role_guid = custom_role_guid(
            args.subscription_id, args.service_name, "gateway-configuration-reader"
        )
        validator_role = self._role_definition(
            f"{name}-role-validator",
            args,
            guid=validator_role_guid,
            role_name=f"API Management Configuration API Access Validator Service Role ({args.service_name})",
            description="Lets the APIM configuration API read RBAC to authorise self-hosted gateways.",
            permission=authorization.PermissionArgs(actions=[azure_ids.APIM_ACCESS_VALIDATOR_ACTION]),
        )
        reader_role = self._role_definition(
            f"{name}-role-reader",
            args,
            guid=reader_role_guid,
            role_name=f"API Management Gateway Configuration Reader Role ({args.service_name})",
            description="Read self-hosted gateway configuration from the APIM configuration API.",
            permission=authorization.PermissionArgs(
                data_actions=[azure_ids.APIM_GATEWAY_CONFIGURATION_READ_ACTION]
            ),
        )
        # Assignments of a just-created custom role can fail with RoleDefinitionDoesNotExist until ARM
        # has replicated the definitions: wait (beside the APIM creation; components/propagation.py).
        roles_propagated = propagation_wait(
            f"{name}-role-definitions-propagation",
            duration=ROLE_DEFINITION_PROPAGATION,
            after=[validator_role, reader_role],
            triggers={"validatorRole": validator_role.id, "readerRole": reader_role.id},
            parent=self,
        )
        identity_principal = self.service.identity.apply(
            lambda identity: identity.principal_id if identity else ""
        )
        # Narrowest documented scopes: the validator on the instance's resource group, the reader on
        # the instance itself (includes/api-management-gateway-role-assignments.md).
        validator_assignment = role_assignment(
            f"{name}-ra-validator",
            scope=args.resource_group_id,
            assignment=RoleAssignmentArgs(
                principal_id=identity_principal,
                role_definition_id=validator_role_guid,
                description="APIM configuration API checks gateway RBAC",
            ),
            subscription_id=args.subscription_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[roles_propagated]),
        )
        reader_assignment = role_assignment(
            f"{name}-ra-reader",
            scope=self.service.id,
            assignment=RoleAssignmentArgs(
                principal_id=principal.object_id,
                role_definition_id=reader_role_guid,
                description="Self-hosted gateway reads its configuration",
            ),
            subscription_id=args.subscription_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[roles_propagated]),
        )

        # --- in-cluster self-hosted gateway ------------------------------------------------------------
        k8s_opts = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=list(args.kubernetes_ready)
        )
        labels = gateway_labels(gw.name)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=gw.namespace,
                labels={
                    "istio.io/rev": args.istio_revision,
                    # istio-init needs NET_ADMIN: restricted is warned/audited, not enforced.
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                    **labels,
                },
            ),
            opts=k8s_opts,
        )
        in_namespace = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[*args.kubernetes_ready, namespace]
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=gw.name,
                namespace=gw.namespace,
                labels=labels,
                annotations={
                    "azure.workload.identity/client-id": app.client_id,
                    "azure.workload.identity/tenant-id": args.tenant_id,
                },
            ),
            automount_service_account_token=False,
            opts=in_namespace,
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{gw.name}-env", namespace=gw.namespace, labels=labels),
            data={
                "gateway.name": gateway.name,
                "config.service.endpoint": service_name.apply(configuration_endpoint),
                "config.service.auth": "workloadIdentity",
                "telemetry.logs.std": "json",
                "telemetry.logs.std.level": "info",
                "telemetry.metrics.cloud": "true",
                "net.server.tls.ciphers.allowed-suites": STRONG_CIPHER_SUITES,
                "net.client.tls.ciphers.allowed-suites": STRONG_CIPHER_SUITES,
                "runtime.deployment.orchestrator.type": "Kubernetes",
                "runtime.deployment.mechanism": "Pulumi",
            },
            opts=in_namespace,
        )
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=gw.name, namespace=gw.namespace, labels=labels),
            spec=self._deployment_spec(args, labels, config_map_name=f"{gw.name}-env"),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[
                    *args.kubernetes_ready,
                    namespace,
                    service_account,
                    config_map,
                    federated,
                    validator_assignment,
                    reader_assignment,
                    gateway_ca,
                ],
            ),
        )
        k8s.core.v1.Service(
            f"{name}-k8s-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=gw.name, namespace=gw.namespace, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[
                    # 8080 is plain HTTP/1.1: the gateway's clear-text port cannot be relied on for HTTP/2
                    # prior knowledge (h2c; docs/decisions.md), so Istio must not send it h2c. 8081 is the
                    # gateway's own TLS (gRPC over HTTP/2 inside), passed through as opaque TLS.
                    k8s.core.v1.ServicePortArgs(
                        name="http", port=GATEWAY_HTTP_PORT, target_port="http", app_protocol="http"
                    ),
                    k8s.core.v1.ServicePortArgs(
                        name="https", port=GATEWAY_HTTPS_PORT, target_port="https", app_protocol="https"
                    ),
                ],
            ),
            opts=in_namespace,
        )
        # Always a PDB that allows a drain: with one replica (Developer) a node drain takes the gateway
        # down briefly, which is the tier's documented limit; with two or more one pod stays up.
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=gw.name, namespace=gw.namespace, labels=labels),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
            ),
            opts=in_namespace,
        )
        # The namespace is meshed: only mutual TLS between sidecars (the ingress gateway reaches
        # the self-hosted gateway inside the mesh).
        k8s.apiextensions.CustomResource(
            f"{name}-peer-authentication",
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default", namespace=gw.namespace, labels=labels),
            spec={"mtls": {"mode": "STRICT"}},
            opts=in_namespace,
        )
        if settings.api_host:
            self._ingress_route(name, args, in_namespace)

        self.gateway_url = self.service.gateway_url
        self.gateway_name = gw.name
        self.api_id = api.id
        self.subscription_key_secret_name = SUBSCRIPTION_KEY_SECRET
        self.gateway_client_id = app.client_id
        self.deployment = deployment
        self.register_outputs(
            {
                "gatewayUrl": self.gateway_url,
                "gatewayName": self.gateway_name,
                "apiId": self.api_id,
                "gatewayServiceHost": self.gateway_service_host,
                "subscriptionKeySecretName": self.subscription_key_secret_name,
            }
        )

    def _role_definition(
        self,
        resource_name: str,
        args: GrpcApiGatewayArgs,
        *,
        guid: str,
        role_name: str,
        description: str,
        permission: authorization.PermissionArgs,
    ) -> authorization.RoleDefinition:
        """A custom role assignable in the stack's resource group only."""
        return authorization.RoleDefinition(
            resource_name,
            authorization.RoleDefinitionArgs(
                role_definition_id=guid,
                scope=args.resource_group_id,
                role_name=role_name,
                description=description,
                role_type="CustomRole",
                permissions=[permission],
                assignable_scopes=[args.resource_group_id],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _deployment_spec(
        self, args: GrpcApiGatewayArgs, labels: dict[str, str], config_map_name: str
    ) -> k8s.apps.v1.DeploymentSpecArgs:
        gw = args.settings.gateway
        probe = k8s.core.v1.HTTPGetActionArgs(path=GATEWAY_STATUS_PATH, port="http", scheme="HTTP")
        spread = (
            [
                k8s.core.v1.TopologySpreadConstraintArgs(
                    max_skew=1,
                    topology_key=key,
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                )
                for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
            ]
            if gw.replicas >= 2
            else None
        )
        return k8s.apps.v1.DeploymentSpecArgs(
            replicas=gw.replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
            strategy=k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels={**labels, "azure.workload.identity/use": "true"},
                    annotations={
                        # The gateway calls the configuration endpoint at start: wait for the sidecar.
                        "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}',
                    },
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=gw.name,
                    automount_service_account_token=False,
                    termination_grace_period_seconds=60,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=GATEWAY_RUN_AS_USER,
                        run_as_group=GATEWAY_RUN_AS_USER,
                        fs_group=GATEWAY_RUN_AS_USER,
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    topology_spread_constraints=spread,
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="gateway",
                            image=gw.image,
                            image_pull_policy="IfNotPresent",
                            ports=[
                                k8s.core.v1.ContainerPortArgs(name="http", container_port=GATEWAY_HTTP_PORT),
                                k8s.core.v1.ContainerPortArgs(
                                    name="https", container_port=GATEWAY_HTTPS_PORT
                                ),
                            ],
                            env_from=[
                                k8s.core.v1.EnvFromSourceArgs(
                                    config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=config_map_name)
                                )
                            ],
                            env=[k8s.core.v1.EnvVarArgs(name="HOME", value=DOTNET_HOME)],
                            startup_probe=k8s.core.v1.ProbeArgs(
                                http_get=probe, period_seconds=5, failure_threshold=60, timeout_seconds=2
                            ),
                            readiness_probe=k8s.core.v1.ProbeArgs(
                                http_get=probe, period_seconds=5, failure_threshold=3, timeout_seconds=2
                            ),
                            liveness_probe=k8s.core.v1.ProbeArgs(
                                http_get=probe, period_seconds=10, failure_threshold=6, timeout_seconds=2
                            ),
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": gw.cpu_request, "memory": gw.memory_request},
                                limits={"cpu": gw.cpu_limit, "memory": gw.memory_limit},
                            ),
                            security_context=k8s.core.v1.SecurityContextArgs(
                                allow_privilege_escalation=False,
                                read_only_root_filesystem=True,
                                run_as_non_root=True,
                                run_as_user=GATEWAY_RUN_AS_USER,
                                run_as_group=GATEWAY_RUN_AS_USER,
                                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                            ),
                            volume_mounts=[
                                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                                k8s.core.v1.VolumeMountArgs(name="dotnet", mount_path=DOTNET_STORE_PATH),
                            ],
                        )
                    ],
                    volumes=[
                        k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()),
                        # Small: a handful of certificates (the backend CA) and .NET's store metadata.
                        k8s.core.v1.VolumeArgs(
                            name="dotnet", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="16Mi")
                        ),
                    ],
                ),
            ),
        )

    def _ingress_route(self, name: str, args: GrpcApiGatewayArgs, opts: pulumi.ResourceOptions) -> None:
        """TLS for the API host passes through the Istio ingress gateway to the gateway's 8081."""
        gw = args.settings.gateway
        host = args.settings.api_host
        k8s.apiextensions.CustomResource(
            f"{name}-istio-gateway",
            api_version="networking.istio.io/v1",
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=gw.name, namespace=gw.namespace, labels=gateway_labels(gw.name)
            ),
            spec={
                "selector": INGRESS_GATEWAY_SELECTOR,
                "servers": [
                    {
                        "port": {"number": 443, "name": "tls-apim", "protocol": "TLS"},
                        "hosts": [host],
                        "tls": {"mode": "PASSTHROUGH"},
                    }
                ],
            },
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-virtual-service",
            api_version="networking.istio.io/v1",
            kind="VirtualService",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=gw.name, namespace=gw.namespace, labels=gateway_labels(gw.name)
            ),
            spec={
                "hosts": [host],
                "gateways": [f"{gw.namespace}/{gw.name}"],
                "tls": [
                    {
                        "match": [{"port": 443, "sniHosts": [host]}],
                        "route": [
                            {
                                "destination": {
                                    "host": self.gateway_service_host,
                                    "port": {"number": GATEWAY_HTTPS_PORT},
                                }
                            }
                        ],
                    }
                ],
            },
            opts=opts,
        )
