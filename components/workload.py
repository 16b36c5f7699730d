"""GrpcWorkload: the gRPC service on AKS, meshed, autoscaled, fed secrets from Key Vault, safe to roll.

Everything goes through the cluster's Kubernetes provider as typed objects (custom resources through
`CustomResource`), so the offline plan's manifests are exactly what would be applied. The manifest
fragments come from components/manifests.py (pure, unit-tested); this module only assembles them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.apps import v1 as apps
from pulumi_kubernetes.autoscaling import v2 as autoscaling
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta
from pulumi_kubernetes.networking import v1 as networking
from pulumi_kubernetes.policy import v1 as policy

from . import azure_ids
from . import manifests as m
from .common import RoleAssignmentArgs, role_assignment
from .identity import IdentityRoleArgs, WorkloadIdentity, WorkloadIdentityArgs
from .settings import WorkloadSettings

DEFAULT_APP_INSIGHTS_SECRET = "appinsights-connection-string"
DEFAULT_TLS_SECRET = "greeter-tls"


@dataclass
class GrpcWorkloadArgs:
    """Inputs of `GrpcWorkload`."""

    settings: WorkloadSettings
    """The validated `aks-grpc:workload` settings."""
    provider: pulumi.ProviderResource
    """The cluster's Kubernetes provider (`AksCluster.provider`)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the workload's Azure identities."""
    location: pulumi.Input[str]
    """Azure region of the identities."""
    subscription_id: pulumi.Input[str]
    """Subscription of the role definitions."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the vault (SecretProviderClass `tenantId`)."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL (federated credentials)."""
    vault_id: pulumi.Input[str]
    """Key Vault resource id: the only scope of the identity's "Key Vault Secrets User"."""
    vault_name: pulumi.Input[str]
    """Key Vault name (SecretProviderClass `keyvaultName`)."""
    istio_revision: str
    """Istio revision the namespace is labelled with (`AksCluster.istio_revision`)."""
    identity_name: str
    """Azure name of the workload's user-assigned identity."""
    scaler_identity_name: str = ""
    """Azure name of the KEDA scaler's identity (`keda` mode only)."""
    monitor_workspace_id: pulumi.Input[str] | None = None
    """Azure Monitor workspace id (`keda` mode: "Monitoring Data Reader" scope)."""
    prometheus_query_endpoint: pulumi.Input[str] | None = None
    """Managed Prometheus query endpoint (`keda` mode: the scaler's `serverAddress`)."""
    key_vault_secrets_provider_client_id: pulumi.Input[str] | None = None
    """Client id of the AKS Key Vault add-on identity (ingress certificate sync; with `ingress.host`)."""
    key_vault_secrets_provider_object_id: pulumi.Input[str] | None = None
    """Object id of that identity (its "Key Vault Secrets User" assignment; with `ingress.host`)."""
    app_insights_secret_name: str = DEFAULT_APP_INSIGHTS_SECRET
    """Key Vault secret holding the Application Insights connection string (`SecretStore.secret_names`)."""
    tls_secret_name: str = DEFAULT_TLS_SECRET
    """Key Vault secret holding the TLS key + chain PEM (`BackendCertificate.secret_name`)."""
    apim_gateway_namespace: str = "apim-gateway"
    """Namespace of API Management's self-hosted gateway (the only caller of the TLS port)."""
    apim_gateway_service_account: str = "apim-gateway"
    """ServiceAccount of the self-hosted gateway (its Istio identity)."""
    kubernetes_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """What Kubernetes objects wait for (`AksCluster.kubernetes_ready`)."""
    secrets_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """What must exist before pods can mount secrets (the Key Vault secrets' writers)."""
    dapr_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """The Dapr extension (its CRDs) when `dapr.enabled`."""
    image: pulumi.Input[str] | None = None
    """The image the program built (`ServiceImage.ref`); required exactly when `settings.image` is unset."""
    image_version: str = ""
    """The built image's tag (`ServiceImage.tag`), for the `app.kubernetes.io/version` label."""


def validate_grpc_workload_args(args: GrpcWorkloadArgs) -> None:
    """Raise ValueError naming the field when the args cannot build a working workload."""
    settings = args.settings
    if not args.istio_revision.startswith("asm-1-"):
        raise ValueError(f"istio_revision: {args.istio_revision!r} is not an AKS Istio revision (asm-1-NN)")
    if not args.identity_name:
        raise ValueError("identity_name: required")
    if (settings.image is None) == (args.image is None):
        raise ValueError("image: give exactly one of settings.image (configured) and image (built)")
    if settings.autoscaling.mode == "keda":
        for field_name in ("monitor_workspace_id", "prometheus_query_endpoint", "scaler_identity_name"):
            if not getattr(args, field_name):
                raise ValueError(f"{field_name}: required when workload.autoscaling.mode is keda")
    if settings.ingress.host:
        for field_name in ("key_vault_secrets_provider_client_id", "key_vault_secrets_provider_object_id"):
            if getattr(args, field_name) is None:
                raise ValueError(f"{field_name}: required when workload.ingress.host is set")
    for field_name in ("app_insights_secret_name", "tls_secret_name"):
        if not getattr(args, field_name):
            raise ValueError(f"{field_name}: required")


class GrpcWorkload(pulumi.ComponentResource):
    """The gRPC service: namespace, identity, secrets, Deployment, Service, autoscaler, PDB,
    NetworkPolicies, Istio security and traffic objects, scrape config, optional ingress and Dapr."""

    namespace: str
    service_account: str
    service_name: str
    grpc_port: int
    tls_port: int
    metrics_port: int
    service_host: str
    identity: WorkloadIdentity
    scaler_identity: WorkloadIdentity | None
    deployment: apps.Deployment

    def __init__(self, name: str, args: GrpcWorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:workload:GrpcWorkload", name, None, opts)
        validate_grpc_workload_args(args)
        s = args.settings
        app = s.name
        self.namespace = s.namespace
        self.service_account = app
        self.service_name = app
        self.grpc_port, self.tls_port, self.metrics_port = m.GRPC_PORT, m.TLS_PORT, m.METRICS_PORT
        self.service_host = f"{app}.{s.namespace}.svc.cluster.local"
        keda = s.autoscaling.mode == "keda"
        image = s.image if s.image is not None else args.image
        version = s.image_reference or args.image_version
        labels = m.common_labels(app, version)
        selector = m.selector_labels(app)
        timing = m.shutdown_timing(s.shutdown)
        ready = list(args.kubernetes_ready)

        def k8s_opts(*depends_on: Any) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                provider=args.provider,
                parent=self,
                depends_on=[*ready, *[d for d in depends_on if d is not None]],
            )

        def object_meta(
            object_name: str, namespace: pulumi.Input[str] | None, **extra: Any
        ) -> meta.ObjectMetaArgs:
            return meta.ObjectMetaArgs(name=object_name, namespace=namespace, labels=dict(labels), **extra)

        # --- Azure identities --------------------------------------------------------------------
        self.identity = WorkloadIdentity(
            f"{name}-identity",
            WorkloadIdentityArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                name=args.identity_name,
                oidc_issuer_url=args.oidc_issuer_url,
                namespace=s.namespace,
                service_account=self.service_account,
                subscription_id=args.subscription_id,
                roles=[
                    IdentityRoleArgs(
                        scope=args.vault_id,
                        role_definition_id=azure_ids.KEY_VAULT_SECRETS_USER,
                        description=f"{app}: read its secrets through the CSI driver",
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # KEDA's operator queries Prometheus with its own identity, federated for kube-system/keda-operator.
        # A separate identity keeps that cluster-wide operator away from the vault (and the pods away
        # from the metrics).
        self.scaler_identity = None
        if keda:
            self.scaler_identity = WorkloadIdentity(
                f"{name}-scaler-identity",
                WorkloadIdentityArgs(
                    resource_group_name=args.resource_group_name,
                    location=args.location,
                    name=args.scaler_identity_name,
                    oidc_issuer_url=args.oidc_issuer_url,
                    namespace=m.KEDA_NAMESPACE,
                    service_account=m.KEDA_OPERATOR_SERVICE_ACCOUNT,
                    subscription_id=args.subscription_id,
                    roles=[
                        IdentityRoleArgs(
                            scope=args.monitor_workspace_id,  # type: ignore[arg-type]
                            role_definition_id=azure_ids.MONITORING_DATA_READER,
                            description=f"KEDA: query {app}'s request rate",
                        )
                    ],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        # --- Namespace and ServiceAccount ------------------------------------------------------------
        ns = core.Namespace(
            f"{name}-namespace",
            metadata=meta.ObjectMetaArgs(
                name=s.namespace,
                labels={**labels, **m.namespace_labels(args.istio_revision, s.pod_security_enforce)},
            ),
            opts=k8s_opts(),
        )
        namespace = ns.metadata.name
        service_account = core.ServiceAccount(
            f"{name}-service-account",
            metadata=object_meta(
                self.service_account,
                namespace,
                annotations={"azure.workload.identity/client-id": self.identity.client_id},
            ),
            automount_service_account_token=False,
            opts=k8s_opts(),
        )

        # --- Secrets from Key Vault ------------------------------------------------------------------
        spc_name = f"{app}-secrets"
        secret_provider_class = CustomResource(
            f"{name}-secret-provider-class",
            api_version="secrets-store.csi.x-k8s.io/v1",
            kind="SecretProviderClass",
            metadata=object_meta(spc_name, namespace),
            spec=m.secret_provider_class_spec(
                client_id=self.identity.client_id,
                vault_name=args.vault_name,
                tenant_id=args.tenant_id,
                objects=m.workload_key_vault_objects(
                    args.app_insights_secret_name, args.tls_secret_name, s.secrets
                ),
            ),
            opts=k8s_opts(),
        )

        # --- Dapr configuration (optional) -----------------------------------------------------------
        dapr_config = None
        dapr_configuration = None
        if s.dapr.enabled:
            dapr_config = f"{app}-dapr"
            dapr_configuration = CustomResource(
                f"{name}-dapr-configuration",
                api_version="dapr.io/v1alpha1",
                kind="Configuration",
                metadata=object_meta(dapr_config, namespace),
                spec=m.dapr_configuration_spec(),
                opts=k8s_opts(*args.dapr_ready),
            )

        # --- Deployment ------------------------------------------------------------------------------
        container = core.ContainerArgs(
            name=app,
            image=image,
            image_pull_policy="IfNotPresent",
            ports=[
                core.ContainerPortArgs(name="grpc", container_port=m.GRPC_PORT, protocol="TCP"),
                core.ContainerPortArgs(name="grpc-tls", container_port=m.TLS_PORT, protocol="TCP"),
                core.ContainerPortArgs(name="metrics", container_port=m.METRICS_PORT, protocol="TCP"),
            ],
            env=[core.EnvVarArgs(name=k, value=v) for k, v in m.container_env(s, timing).items()],
            resources=m.container_resources(
                s.resources.cpu_request,
                s.resources.memory_request,
                s.resources.cpu_limit,
                s.resources.memory_limit,
            ),
            startup_probe=m.startup_probe(),
            readiness_probe=m.readiness_probe(),
            liveness_probe=m.liveness_probe(),
            lifecycle=core.LifecycleArgs(
                pre_stop=core.LifecycleHandlerArgs(
                    sleep=core.SleepActionArgs(seconds=timing.pre_stop_seconds)
                )
            )
            if timing.pre_stop_seconds
            else None,
            security_context=m.container_security_context(s.run_as_user),
            volume_mounts=[
                core.VolumeMountArgs(name="secrets", mount_path=m.SECRETS_MOUNT_PATH, read_only=True),
                core.VolumeMountArgs(name="tmp", mount_path=m.TMP_PATH),
            ],
        )
        pod_template = core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(
                labels=m.pod_labels(app, version),
                annotations=m.pod_annotations(s, timing, dapr_config),
            ),
            spec=core.PodSpecArgs(
                service_account_name=self.service_account,
                automount_service_account_token=False,
                enable_service_links=False,
                termination_grace_period_seconds=timing.termination_grace_period_seconds,
                security_context=m.pod_security_context(s.run_as_user),
                topology_spread_constraints=m.topology_spread(selector, s.zone_spread),
                containers=[container],
                volumes=[
                    core.VolumeArgs(
                        name="secrets",
                        csi=core.CSIVolumeSourceArgs(
                            driver=m.CSI_DRIVER,
                            read_only=True,
                            volume_attributes={"secretProviderClass": spc_name},
                        ),
                    ),
                    core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="128Mi")),
                ],
            ),
        )
        self.deployment = apps.Deployment(
            f"{name}-deployment",
            metadata=object_meta(app, namespace),
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
                template=pod_template,
            ),
            opts=k8s_opts(
                service_account,
                secret_provider_class,
                dapr_configuration,
                *self.identity.federated_credentials,
                *self.identity.role_assignments,
                *args.secrets_ready,
            ),
        )

        # --- Service ---------------------------------------------------------------------------------
        self.service = core.Service(
            f"{name}-service",
            metadata=object_meta(app, namespace),
            spec=core.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[
                    # `grpc-*` + appProtocol grpc: Istio balances per request, not per connection.
                    core.ServicePortArgs(
                        name="grpc-greeter",
                        port=m.GRPC_PORT,
                        target_port=m.GRPC_PORT,
                        protocol="TCP",
                        app_protocol="grpc",
                    ),
                    # TLS the mesh does not terminate: Istio passes it through (inside its own mTLS).
                    core.ServicePortArgs(
                        name="tls-greeter",
                        port=m.TLS_PORT,
                        target_port=m.TLS_PORT,
                        protocol="TCP",
                        app_protocol="tls",
                    ),
                    core.ServicePortArgs(
                        name="http-metrics",
                        port=m.METRICS_PORT,
                        target_port=m.METRICS_PORT,
                        protocol="TCP",
                        app_protocol="http",
                    ),
                ],
            ),
            opts=k8s_opts(),
        )

        # --- Autoscaling -----------------------------------------------------------------------------
        if keda:
            assert self.scaler_identity is not None
            trigger_auth_name = f"{app}-prometheus"
            keda_operator_account = core.ServiceAccountPatch(
                f"{name}-keda-operator-identity",
                metadata=meta.ObjectMetaPatchArgs(
                    name=m.KEDA_OPERATOR_SERVICE_ACCOUNT,
                    namespace=m.KEDA_NAMESPACE,
                    # AKS docs ("KEDA add-on and workload identity"): annotate the add-on's operator
                    # ServiceAccount with the identity's client id.
                    annotations={"azure.workload.identity/client-id": self.scaler_identity.client_id},
                ),
                opts=k8s_opts(),
            )
            trigger_authentication = CustomResource(
                f"{name}-trigger-authentication",
                api_version="keda.sh/v1alpha1",
                kind="TriggerAuthentication",
                metadata=object_meta(trigger_auth_name, namespace),
                spec=m.trigger_authentication_spec(self.scaler_identity.client_id),
                opts=k8s_opts(
                    keda_operator_account,
                    *self.scaler_identity.federated_credentials,
                    *self.scaler_identity.role_assignments,
                ),
            )
            self.autoscaler: pulumi.Resource = CustomResource(
                f"{name}-scaled-object",
                api_version="keda.sh/v1alpha1",
                kind="ScaledObject",
                metadata=object_meta(app, namespace),
                spec=m.scaled_object_spec(
                    deployment=app,
                    container=app,
                    namespace=s.namespace,
                    autoscaling_settings=s.autoscaling,
                    prometheus_query_endpoint=args.prometheus_query_endpoint,
                    trigger_authentication=trigger_auth_name,
                ),
                opts=k8s_opts(self.deployment, trigger_authentication),
            )
        else:
            self.autoscaler = autoscaling.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=object_meta(app, namespace),
                spec=m.hpa_spec(app, app, s.autoscaling),
                opts=k8s_opts(self.deployment),
            )

        # --- Availability ----------------------------------------------------------------------------
        policy.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=object_meta(app, namespace),
            spec=policy.PodDisruptionBudgetSpecArgs(
                # One pod at a time: drains proceed, capacity never drops by more than one pod;
                # crash-looping pods never block a drain.
                max_unavailable=1,
                selector=meta.LabelSelectorArgs(match_labels=selector),
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=k8s_opts(),
        )

        # --- NetworkPolicy ---------------------------------------------------------------------------
        ingress_host = s.ingress.host
        networking.NetworkPolicy(
            f"{name}-default-deny",
            metadata=object_meta("default-deny-all", namespace),
            spec=m.default_deny_spec(),
            opts=k8s_opts(),
        )
        networking.NetworkPolicy(
            f"{name}-allow-ingress",
            metadata=object_meta(f"{app}-allow-ingress", namespace),
            spec=m.ingress_allow_spec(
                labels=selector,
                namespace=s.namespace,
                ingress_enabled=bool(ingress_host),
                apim_namespace=args.apim_gateway_namespace,
            ),
            opts=k8s_opts(),
        )
        networking.NetworkPolicy(
            f"{name}-allow-egress",
            metadata=object_meta(f"{app}-allow-egress", namespace),
            spec=m.egress_allow_spec(namespace=s.namespace, dapr_enabled=s.dapr.enabled),
            opts=k8s_opts(),
        )

        # --- Istio -----------------------------------------------------------------------------------
        CustomResource(
            f"{name}-peer-authentication",
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata=object_meta("default", namespace),
            spec=m.peer_authentication_spec(),
            opts=k8s_opts(),
        )
        CustomResource(
            f"{name}-destination-rule",
            api_version="networking.istio.io/v1",
            kind="DestinationRule",
            metadata=object_meta(app, namespace),
            spec=m.destination_rule_spec(self.service_host, s.traffic),
            opts=k8s_opts(),
        )
        gateway_ref = None
        ingress_principals: list[str] = []
        if ingress_host:
            gateway_name = f"{app}-gateway"
            gateway_ref = f"{m.ISTIO_INGRESS_NAMESPACE}/{gateway_name}"
            ingress_principals = [
                m.principal(m.ISTIO_INGRESS_NAMESPACE, m.ingress_gateway_name(s.ingress.gateway))
            ]
            self._ingress(name, args, gateway_name, ingress_host, object_meta, k8s_opts)
        CustomResource(
            f"{name}-virtual-service",
            api_version="networking.istio.io/v1",
            kind="VirtualService",
            metadata=object_meta(app, namespace),
            spec=m.virtual_service_spec(
                self.service_host, s.traffic, ingress_host=ingress_host, gateway=gateway_ref
            ),
            opts=k8s_opts(),
        )
        CustomResource(
            f"{name}-authorization-policy",
            api_version="security.istio.io/v1",
            kind="AuthorizationPolicy",
            metadata=object_meta(app, namespace),
            spec=m.authorization_policy_spec(
                labels=selector,
                namespace=s.namespace,
                ingress_principals=ingress_principals,
                apim_principal=m.principal(args.apim_gateway_namespace, args.apim_gateway_service_account),
            ),
            opts=k8s_opts(),
        )
        if s.traffic.access_logging:
            CustomResource(
                f"{name}-access-logging",
                api_version="telemetry.istio.io/v1",
                kind="Telemetry",
                metadata=meta.ObjectMetaArgs(
                    name="mesh-default", namespace=m.ISTIO_SYSTEM_NAMESPACE, labels=dict(labels)
                ),
                spec=m.access_logging_spec(),
                opts=k8s_opts(),
            )

        # --- Managed Prometheus scrape ---------------------------------------------------------------
        CustomResource(
            f"{name}-pod-monitor",
            api_version="azmonitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=object_meta(app, namespace),
            spec=m.pod_monitor_spec(selector),
            opts=k8s_opts(),
        )

        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceHost": self.service_host,
                "identityClientId": self.identity.client_id,
            }
        )

    def _ingress(
        self,
        name: str,
        args: GrpcWorkloadArgs,
        gateway_name: str,
        host: str,
        object_meta: Any,
        k8s_opts: Any,
    ) -> None:
        """Istio Gateway terminating TLS on 443 with a Key Vault certificate synced to a Secret."""
        s = args.settings
        app = s.name
        credential = f"{app}-ingress-tls"
        # The add-on's identity reads the certificate (AKS docs: "Secure ingress gateway for Istio").
        addon_reader = role_assignment(
            f"{name}-ingress-kv-reader",
            scope=args.vault_id,
            assignment=RoleAssignmentArgs(
                principal_id=args.key_vault_secrets_provider_object_id,  # type: ignore[arg-type]
                role_definition_id=azure_ids.KEY_VAULT_SECRETS_USER,
                description="AKS Key Vault add-on: sync the Istio ingress certificate",
            ),
            subscription_id=args.subscription_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        spc = CustomResource(
            f"{name}-ingress-secret-provider-class",
            api_version="secrets-store.csi.x-k8s.io/v1",
            kind="SecretProviderClass",
            metadata=object_meta(credential, m.ISTIO_INGRESS_NAMESPACE),
            spec=m.ingress_tls_secret_provider_class_spec(
                addon_client_id=args.key_vault_secrets_provider_client_id,
                vault_name=args.vault_name,
                tenant_id=args.tenant_id,
                certificate_name=s.ingress.certificate_name,
                secret_name=credential,
            ),
            opts=k8s_opts(),
        )
        # The CSI driver creates (and keeps rotating) the synced Secret only while a pod mounts the
        # volume, and deletes it when the last one goes: one tiny pod holds it.
        syncer_labels = {
            "app.kubernetes.io/name": f"{app}-ingress-tls-sync",
            "app.kubernetes.io/instance": app,
        }
        syncer_uid = 65535  # the pause image's own non-root user
        k8s.apps.v1.Deployment(
            f"{name}-ingress-tls-sync",
            metadata=object_meta(f"{credential}-sync", m.ISTIO_INGRESS_NAMESPACE),
            spec=apps.DeploymentSpecArgs(
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
                                image=s.ingress.syncer_image,
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
            ),
            opts=k8s_opts(spc, addon_reader),
        )
        CustomResource(
            f"{name}-gateway",
            api_version="networking.istio.io/v1",
            kind="Gateway",
            metadata=object_meta(gateway_name, m.ISTIO_INGRESS_NAMESPACE),
            spec=m.gateway_spec(s.ingress.gateway, host, credential),
            opts=k8s_opts(),
        )
