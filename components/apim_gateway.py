"""SelfHostedGateway: an API Management `Gateway` and the gateway pods that run it inside AKS.

Facts this component encodes (MicrosoftDocs/azure-docs, api-management/):
- self-hosted-gateway-enable-workload-identity.md (image >= 2.11.0): Entra app + federated credential
  for the gateway's ServiceAccount, ConfigMap `config.service.auth: workloadIdentity`, and the two
  custom roles of includes/api-management-gateway-role-assignments.md.
- api-management-howto-ca-certificates.md: a self-hosted gateway does not use the instance's CA
  store; a custom CA is a `Certificate` linked to the gateway as a Gateway Certificate Authority.
- An API runs on a self-hosted gateway once linked to it (`GatewayApiEntityTag`; azure-native v3 has no
  `GatewayApi`). Both links are children of the gateway in ARM, so the gateway owns them: one gateway
  serves every API in `apis`, and its pods start only after every link and trusted CA exists.

The Kubernetes provider travels in `opts.provider`/`opts.providers`; `opts.depends_on` (the deployer's
cluster RBAC) is what every Kubernetes object waits for.
"""

from dataclasses import dataclass, field

import pulumi
import pulumi_azuread as azuread
import pulumi_kubernetes as k8s
from pulumi_azure_native import apimanagement, authorization

from . import azure_ids
from .apim_gateway_pod import (
    GATEWAY_HTTP_PORT,
    GATEWAY_HTTPS_PORT,
    gateway_config_data,
    gateway_deployment_spec,
    gateway_labels,
)
from .apim_instance import ApimSku
from .apim_rules import (
    GATEWAY_DEFAULT_IMAGE,
    validate_api_host,
    validate_gateway_cpu,
    validate_gateway_image,
    validate_gateway_memory,
    validate_gateway_replicas,
    validate_kubernetes_name,
)
from .common import RoleAssignmentArgs, depends_on_of, role_assignment, without_dependencies
from .naming import deterministic_guid
from .propagation import ROLE_DEFINITION_PROPAGATION, propagation_wait

INGRESS_GATEWAY_SELECTOR = {"istio": "aks-istio-ingressgateway-external"}


@dataclass
class GatewayApiLink:
    """One API the gateway serves (from `GrpcApi`)."""

    key: str
    """Short name of the API (`greeter`): names the link resources."""
    api_name: pulumi.Input[str]
    """APIM id of the API (`GrpcApi.api_name`)."""
    ca_certificate_id: pulumi.Input[str] | None = None
    """APIM certificate of the CA that issued the backend's certificate (`GrpcApi.ca_certificate_id`)."""


@dataclass
class GatewayDefinition:
    """One self-hosted gateway: its names, its pods and the public host of its APIs."""

    name: str = "apim-gateway"
    """Name of the APIM `Gateway` and of the Deployment, Service and ServiceAccount."""
    namespace: str = "apim-gateway"
    """Kubernetes namespace of the gateway (created here, meshed)."""
    replicas: int = 1
    """Gateway pods: Developer allows one node; Premium runs at least two (PDB + zone spread)."""
    image: str = GATEWAY_DEFAULT_IMAGE
    """Gateway image pinned to an exact version >= 2.11.0."""
    cpu_request: str = "500m"
    memory_request: str = "512Mi"
    cpu_limit: str = "2"
    """Microsoft's sample uses 2 cores."""
    memory_limit: str = "2Gi"
    api_host: str | None = None
    """Public host of the APIs: the Istio ingress passes TLS for it through to the gateway."""
    api_host_certificate_id: str | None = None
    """APIM certificate (uploaded out of band) the gateway serves for `api_host`."""


@dataclass
class SelfHostedGatewayArgs:
    """Inputs of `SelfHostedGateway`."""

    service_name: str
    """Name of the API Management instance: names the custom roles and the Entra app before the
    instance exists (deterministic GUIDs, so they deploy beside the 30-60 minute creation)."""
    service_id: pulumi.Input[str]
    """ARM id of the instance (`ApimInstance.service_id`): every APIM entity here waits for it."""
    service_principal_id: pulumi.Input[str]
    """The instance's system identity (`ApimInstance.principal_id`): the configuration API's validator."""
    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    """Scope of the custom role definitions and of the validator role assignment."""
    subscription_id: str
    tenant_id: str
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (federated credential of the gateway's ServiceAccount)."""
    istio_revision: str
    """Istio revision the gateway namespace is labelled with."""
    apis: list[GatewayApiLink] = field(default_factory=list)
    """The APIs this gateway serves."""
    sku: ApimSku = ApimSku.DEVELOPER
    """Tier of the instance (decides how many replicas are allowed)."""
    gateway: GatewayDefinition = field(default_factory=GatewayDefinition)
    """The gateway's name, pods and public host."""


def validate_self_hosted_gateway_args(args: SelfHostedGatewayArgs) -> None:
    """Reject arguments Azure or Kubernetes would refuse, naming the field."""
    gateway = args.gateway
    try:
        validate_kubernetes_name("name", gateway.name)
        validate_kubernetes_name("namespace", gateway.namespace)
        validate_gateway_replicas(args.sku.value, gateway.replicas)
        validate_gateway_image(gateway.image)
        validate_gateway_cpu(gateway.cpu_request, gateway.cpu_limit)
        validate_gateway_memory(gateway.memory_request, gateway.memory_limit)
        validate_api_host(gateway.api_host, gateway.api_host_certificate_id)
    except ValueError as error:
        raise ValueError(f"gateway.{error}") from None
    if not args.istio_revision:
        raise ValueError("istio_revision: must name the Istio revision of the cluster")
    keys = [link.key for link in args.apis]
    if len(set(keys)) != len(keys):
        raise ValueError(f"apis: each API key once (got {', '.join(keys)})")


def custom_role_guid(subscription_id: str, service_name: str, purpose: str) -> str:
    """Name of a custom role definition: the same GUID run after run, one per APIM instance and purpose."""
    return deterministic_guid(subscription_id, service_name, "role-definition", purpose)


def configuration_endpoint(service_name: str) -> str:
    """The instance's configuration endpoint that self-hosted gateways connect to."""
    return f"https://{service_name}.configuration.azure-api.net"


class SelfHostedGateway(pulumi.ComponentResource):
    """APIM `Gateway` (API links, HTTP/2 hostname, trusted CAs), its Entra workload identity and roles,
    and the gateway Deployment, Service, PDB and mesh policy in the cluster."""

    gateway_name: str
    """Name of the APIM `Gateway` resource (= `gateway.name` of the in-cluster gateway)."""
    gateway_service_host: str
    """In-cluster DNS name of the gateway Service."""
    gateway_client_id: pulumi.Output[str]
    """Application (client) id of the gateway's Entra app."""

    def __init__(
        self, name: str, args: SelfHostedGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:SelfHostedGateway", name, None, without_dependencies(opts))
        validate_self_hosted_gateway_args(args)
        self.gateway_name = args.gateway.name
        self.gateway_service_host = f"{args.gateway.name}.{args.gateway.namespace}.svc.cluster.local"
        # Every APIM entity below waits for the instance through its id.
        self._service_name = pulumi.Output.from_input(args.service_id).apply(lambda _: args.service_name)
        gateway_links = self._apim_gateway(name, args)

        app, principal, federated = self._workload_identity(name, args)
        role_assignments = self._configuration_roles(name, args, principal.object_id)

        # --- in the cluster ---------------------------------------------------------------------------
        cluster_ready = depends_on_of(opts)
        labels = gateway_labels(args.gateway.name)
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=args.gateway.name, namespace=args.gateway.namespace, labels=labels
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.gateway.namespace,
                labels={
                    "istio.io/rev": args.istio_revision,
                    # istio-init needs NET_ADMIN: restricted is warned/audited, not enforced.
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                    **labels,
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=cluster_ready),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[*cluster_ready, namespace])
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.gateway.name,
                namespace=args.gateway.namespace,
                labels=labels,
                annotations={
                    "azure.workload.identity/client-id": app.client_id,
                    "azure.workload.identity/tenant-id": args.tenant_id,
                },
            ),
            automount_service_account_token=False,
            opts=in_namespace,
        )
        config_map_name = f"{args.gateway.name}-env"
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=config_map_name, namespace=args.gateway.namespace, labels=labels
            ),
            data=gateway_config_data(
                gateway_name=gateway_links.gateway.name,
                configuration_endpoint=self._service_name.apply(configuration_endpoint),
            ),
            opts=in_namespace,
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=metadata,
            spec=gateway_deployment_spec(
                labels=labels,
                service_account=args.gateway.name,
                config_map_name=config_map_name,
                image=args.gateway.image,
                replicas=args.gateway.replicas,
                requests={"cpu": args.gateway.cpu_request, "memory": args.gateway.memory_request},
                limits={"cpu": args.gateway.cpu_limit, "memory": args.gateway.memory_limit},
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    *cluster_ready,
                    namespace,
                    service_account,
                    config_map,
                    federated,
                    *role_assignments,
                    *gateway_links.trusted_cas,
                    *gateway_links.api_links,
                ],
            ),
        )
        self._gateway_service(name, metadata, labels, in_namespace)
        if args.gateway.api_host:
            self._ingress_route(name, args, in_namespace)

        self.gateway_client_id = app.client_id
        self.register_outputs(
            {
                "gatewayName": self.gateway_name,
                "gatewayServiceHost": self.gateway_service_host,
                "gatewayClientId": self.gateway_client_id,
            }
        )

    def _workload_identity(
        self, name: str, args: SelfHostedGatewayArgs
    ) -> tuple[azuread.Application, azuread.ServicePrincipal, azuread.ApplicationFederatedIdentityCredential]:
        """The gateway's Entra app: no secret, a federated credential for its ServiceAccount instead."""
        app = azuread.Application(
            f"{name}-gateway-app",
            azuread.ApplicationArgs(
                display_name=f"{args.service_name}-{args.gateway.name}",
                description="API Management self-hosted gateway (workload identity, no secrets)",
                sign_in_audience="AzureADMyOrg",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        principal = azuread.ServicePrincipal(
            f"{name}-gateway-sp",
            azuread.ServicePrincipalArgs(client_id=app.client_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        federated = azuread.ApplicationFederatedIdentityCredential(
            f"{name}-gateway-federated",
            azuread.ApplicationFederatedIdentityCredentialArgs(
                application_id=app.id,
                display_name=f"aks-{args.gateway.namespace}-{args.gateway.name}",
                description="Kubernetes ServiceAccount of the self-hosted gateway",
                issuer=args.oidc_issuer_url,
                subject=f"system:serviceaccount:{args.gateway.namespace}:{args.gateway.name}",
                audiences=[azure_ids.WORKLOAD_IDENTITY_AUDIENCE],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return app, principal, federated

    def _apim_gateway(self, name: str, args: SelfHostedGatewayArgs) -> "_GatewayEntities":
        """The `Gateway`, its HTTP/2 hostname configuration, and one API link and trusted CA per API."""
        child = pulumi.ResourceOptions(parent=self)
        rg = args.resource_group_name
        gateway = apimanagement.Gateway(
            f"{name}-gateway",
            apimanagement.GatewayArgs(
                resource_group_name=rg,
                service_name=self._service_name,
                gateway_id=args.gateway.name,
                description="Self-hosted gateway in AKS",
                location_data=apimanagement.ResourceLocationDataContractArgs(name="aks"),
            ),
            opts=child,
        )
        apimanagement.GatewayHostnameConfiguration(
            f"{name}-gateway-hostname",
            apimanagement.GatewayHostnameConfigurationArgs(
                resource_group_name=rg,
                service_name=self._service_name,
                gateway_id=gateway.name,
                hc_id="default",
                hostname=args.gateway.api_host or self.gateway_service_host,
                certificate_id=(
                    pulumi.Output.concat(
                        args.service_id, "/certificates/", args.gateway.api_host_certificate_id
                    )
                    if args.gateway.api_host_certificate_id
                    else None
                ),
                http2_enabled=True,
                tls10_enabled=False,
                tls11_enabled=False,
                negotiate_client_certificate=False,
            ),
            opts=child,
        )
        entities = _GatewayEntities(gateway)
        for link in args.apis:
            entities.api_links.append(
                apimanagement.GatewayApiEntityTag(
                    f"{name}-{link.key}-gateway-api",
                    apimanagement.GatewayApiEntityTagArgs(
                        resource_group_name=rg,
                        service_name=self._service_name,
                        gateway_id=gateway.name,
                        api_id=link.api_name,
                    ),
                    opts=child,
                )
            )
            if link.ca_certificate_id is not None:
                entities.trusted_cas.append(
                    apimanagement.GatewayCertificateAuthority(
                        f"{name}-{link.key}-gateway-ca",
                        apimanagement.GatewayCertificateAuthorityArgs(
                            resource_group_name=rg,
                            service_name=self._service_name,
                            gateway_id=gateway.name,
                            certificate_id=link.ca_certificate_id,
                            is_trusted=True,
                        ),
                        opts=child,
                    )
                )
        return entities

    def _configuration_roles(
        self, name: str, args: SelfHostedGatewayArgs, gateway_principal_id: pulumi.Input[str]
    ) -> list[authorization.RoleAssignment]:
        """The two custom roles of includes/api-management-gateway-role-assignments.md and their
        assignments: the validator to the instance's identity on the resource group, the reader to
        the gateway's app on the instance (the narrowest documented scopes)."""
        validator_guid = custom_role_guid(
            args.subscription_id, args.service_name, "config-api-access-validator"
        )
        reader_guid = custom_role_guid(
            args.subscription_id, args.service_name, "gateway-configuration-reader"
        )
        validator_role = self._role_definition(
            f"{name}-role-validator",
            args,
            guid=validator_guid,
            role_name=f"API Management Configuration API Access Validator Service Role ({args.service_name})",
            description="Lets the APIM configuration API read RBAC to authorise self-hosted gateways.",
            permission=authorization.PermissionArgs(actions=[azure_ids.APIM_ACCESS_VALIDATOR_ACTION]),
        )
        reader_role = self._role_definition(
            f"{name}-role-reader",
            args,
            guid=reader_guid,
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
        after_roles = pulumi.ResourceOptions(parent=self, depends_on=[roles_propagated])
        return [
            role_assignment(
                f"{name}-ra-validator",
                scope=args.resource_group_id,
                assignment=RoleAssignmentArgs(
                    principal_id=args.service_principal_id,
                    role_definition_id=validator_guid,
                    description="APIM configuration API checks gateway RBAC",
                ),
                subscription_id=args.subscription_id,
                opts=after_roles,
            ),
            role_assignment(
                f"{name}-ra-reader",
                scope=args.service_id,
                assignment=RoleAssignmentArgs(
                    principal_id=gateway_principal_id,
                    role_definition_id=reader_guid,
                    description="Self-hosted gateway reads its configuration",
                ),
                subscription_id=args.subscription_id,
                opts=after_roles,
            ),
        ]

    def _role_definition(
        self,
        resource_name: str,
        args: SelfHostedGatewayArgs,
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

    def _gateway_service(
        self,
        name: str,
        metadata: k8s.meta.v1.ObjectMetaArgs,
        labels: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        """The gateway's Service, its PDB, and strict mutual TLS in its (meshed) namespace."""
        k8s.core.v1.Service(
            f"{name}-k8s-service",
            metadata=metadata,
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
            opts=opts,
        )
        # Always a PDB that allows a drain: with one replica (Developer) a node drain takes the gateway
        # down briefly, which is the tier's documented limit; with two or more one pod stays up.
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=metadata,
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels)
            ),
            opts=opts,
        )
        # The namespace is meshed: only mutual TLS between sidecars (the ingress gateway reaches
        # the self-hosted gateway inside the mesh).
        k8s.apiextensions.CustomResource(
            f"{name}-peer-authentication",
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default", namespace=metadata.namespace, labels=labels),
            spec={"mtls": {"mode": "STRICT"}},
            opts=opts,
        )

    def _ingress_route(self, name: str, args: SelfHostedGatewayArgs, opts: pulumi.ResourceOptions) -> None:
        """TLS for the API host passes through the Istio ingress gateway to the gateway's 8081."""
        host = args.gateway.api_host
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=args.gateway.name, namespace=args.gateway.namespace, labels=gateway_labels(args.gateway.name)
        )
        k8s.apiextensions.CustomResource(
            f"{name}-istio-gateway",
            api_version="networking.istio.io/v1",
            kind="Gateway",
            metadata=metadata,
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
            metadata=metadata,
            spec={
                "hosts": [host],
                "gateways": [f"{args.gateway.namespace}/{args.gateway.name}"],
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


class _GatewayEntities:
    """What `_apim_gateway` made: the gateway, and the links the gateway pods wait for."""

    def __init__(self, gateway: apimanagement.Gateway) -> None:
        self.gateway = gateway
        self.api_links: list[apimanagement.GatewayApiEntityTag] = []
        self.trusted_cas: list[apimanagement.GatewayCertificateAuthority] = []
