"""ServicePlatform: the cluster-wide objects every gRPC service shares, created once per cluster.

Two `GrpcService`s in one stack must not both create the mesh's `Telemetry aks-istio-system/mesh-default`
(the API server refuses the second) nor both annotate `kube-system/keda-operator` (the last writer's
client id wins and the other service's KEDA authentication breaks). Those live here; each service only
references them (`GrpcServiceArgs.keda_client_id`). The Dapr extension itself is an AKS extension and is
created by `AksCluster`.
"""

from dataclasses import dataclass

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta

from . import azure_ids
from . import manifests as m
from .common import depends_on_of
from .identity import IdentityRoleArgs, WorkloadIdentity, WorkloadIdentityArgs

KEDA_IDENTITY_PURPOSE = "keda-operator"
"""What the KEDA operator's Azure identity is named for (`StackNames.identity(purpose)`)."""
ACCESS_LOGGING_TELEMETRY = "mesh-default"
"""Name of the mesh-wide Telemetry in the Istio root namespace (one per mesh)."""


@dataclass
class ServicePlatformArgs:
    """Inputs of `ServicePlatform`."""

    access_logging: bool = True
    """Mesh-wide Envoy access logs: one `Telemetry` in aks-istio-system."""
    keda_enabled: bool = False
    """Give the cluster's KEDA add-on operator an identity that reads managed Prometheus (services that
    scale with KEDA authenticate with it)."""
    keda_identity_name: str = ""
    """Azure name of the KEDA operator's user-assigned identity (with `keda_enabled`)."""
    resource_group_name: pulumi.Input[str] = ""
    """Resource group of the KEDA operator's identity (with `keda_enabled`)."""
    location: pulumi.Input[str] = ""
    """Azure region of that identity (with `keda_enabled`)."""
    subscription_id: pulumi.Input[str] = ""
    """Subscription of the role definitions (with `keda_enabled`)."""
    oidc_issuer_url: pulumi.Input[str] = ""
    """The cluster's OIDC issuer URL: the operator's federated credential (with `keda_enabled`)."""
    monitor_workspace_id: pulumi.Input[str] | None = None
    """Azure Monitor workspace: scope of the operator's "Monitoring Data Reader" (with `keda_enabled`)."""
    labels: dict[str, str] | None = None
    """Labels of the Kubernetes objects (default: `app.kubernetes.io/part-of: aks-grpc`)."""


def validate_service_platform_args(args: ServicePlatformArgs) -> None:
    """Raise ValueError naming the field when the platform cannot be built."""
    if args.keda_enabled:
        for field_name in ("keda_identity_name", "resource_group_name", "location", "subscription_id"):
            if not getattr(args, field_name):
                raise ValueError(f"{field_name}: required when keda_enabled")
        for field_name in ("oidc_issuer_url", "monitor_workspace_id"):
            if not getattr(args, field_name):
                raise ValueError(f"{field_name}: required when keda_enabled")


class ServicePlatform(pulumi.ComponentResource):
    """Mesh-wide access logging and the KEDA operator's identity: once per cluster (see the module
    docstring). Kubernetes objects use the provider in `opts.providers`/`opts.provider`; what they wait
    for goes in `opts.depends_on`."""

    keda_client_id: pulumi.Output[str] | None
    """Client id of the KEDA operator's identity (`keda_enabled`), for the services' TriggerAuthentication."""

    def __init__(
        self, name: str, args: ServicePlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:ServicePlatform", name, None, opts)
        validate_service_platform_args(args)
        labels = dict(args.labels) if args.labels else {"app.kubernetes.io/part-of": "aks-grpc"}
        child = pulumi.ResourceOptions(parent=self)
        kubernetes = pulumi.ResourceOptions(parent=self, depends_on=depends_on_of(opts))
        self.keda_identity: WorkloadIdentity | None = None
        self.keda_operator_patch: core.ServiceAccountPatch | None = None
        self.keda_client_id = None
        self.keda_ready: list[pulumi.Resource] = []
        """What a service's TriggerAuthentication waits for (the operator's identity, roles, annotation)."""
        if args.access_logging:
            self.access_logging = CustomResource(
                f"{name}-access-logging",
                api_version="telemetry.istio.io/v1",
                kind="Telemetry",
                metadata=meta.ObjectMetaArgs(
                    name=ACCESS_LOGGING_TELEMETRY, namespace=m.ISTIO_SYSTEM_NAMESPACE, labels=labels
                ),
                spec=m.access_logging_spec(),
                opts=kubernetes,
            )
        if args.keda_enabled:
            self._keda_operator_identity(name, args, child, kubernetes)
        self.register_outputs({"kedaClientId": self.keda_client_id})

    def _keda_operator_identity(
        self,
        name: str,
        args: ServicePlatformArgs,
        child: pulumi.ResourceOptions,
        kubernetes: pulumi.ResourceOptions,
    ) -> None:
        # KEDA's operator queries Prometheus with its own identity, federated for kube-system/keda-operator.
        # A separate identity keeps that cluster-wide operator away from the vault (and the pods away
        # from the metrics).
        identity = WorkloadIdentity(
            f"{name}-keda-identity",
            WorkloadIdentityArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                name=args.keda_identity_name,
                oidc_issuer_url=args.oidc_issuer_url,
                namespace=m.KEDA_NAMESPACE,
                service_account=m.KEDA_OPERATOR_SERVICE_ACCOUNT,
                subscription_id=args.subscription_id,
                roles=[
                    IdentityRoleArgs(
                        scope=args.monitor_workspace_id,  # type: ignore[arg-type]
                        role_definition_id=azure_ids.MONITORING_DATA_READER,
                        description="KEDA: query the services' request rates",
                    )
                ],
            ),
            opts=child,
        )
        self.keda_operator_patch = core.ServiceAccountPatch(
            f"{name}-keda-operator-identity",
            metadata=meta.ObjectMetaPatchArgs(
                name=m.KEDA_OPERATOR_SERVICE_ACCOUNT,
                namespace=m.KEDA_NAMESPACE,
                # AKS docs ("KEDA add-on and workload identity"): annotate the add-on's operator
                # ServiceAccount with the identity's client id.
                annotations={"azure.workload.identity/client-id": identity.client_id},
            ),
            opts=kubernetes,
        )
        self.keda_identity = identity
        self.keda_client_id = identity.client_id
        self.keda_ready = [
            self.keda_operator_patch,
            *identity.federated_credentials,
            *identity.role_assignments,
        ]
