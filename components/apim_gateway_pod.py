"""The self-hosted gateway's pods: ConfigMap data and Deployment spec as pure functions (no resources).

Sources: the self-hosted gateway settings reference and the official Helm chart
(Azure/api-management-self-hosted-gateway), MicrosoftDocs/azure-docs#116325.
"""

import pulumi
import pulumi_kubernetes as k8s

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


def gateway_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "aks-grpc"}


def gateway_config_data(
    *, gateway_name: pulumi.Input[str], configuration_endpoint: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """The gateway's environment: which APIM gateway it is, where its configuration comes from
    (workload identity, no token), JSON logs, and strong ciphers on both sides."""
    return {
        "gateway.name": gateway_name,
        "config.service.endpoint": configuration_endpoint,
        "config.service.auth": "workloadIdentity",
        "telemetry.logs.std": "json",
        "telemetry.logs.std.level": "info",
        "telemetry.metrics.cloud": "true",
        "net.server.tls.ciphers.allowed-suites": STRONG_CIPHER_SUITES,
        "net.client.tls.ciphers.allowed-suites": STRONG_CIPHER_SUITES,
        "runtime.deployment.orchestrator.type": "Kubernetes",
        "runtime.deployment.mechanism": "Pulumi",
    }


def _spread(labels: dict[str, str], replicas: int) -> list[k8s.core.v1.TopologySpreadConstraintArgs] | None:
    """Two or more gateways spread over zones and nodes; one has nothing to spread."""
    if replicas < 2:
        return None
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def _gateway_container(
    image: str, config_map_name: str, requests: dict[str, str], limits: dict[str, str]
) -> k8s.core.v1.ContainerArgs:
    """The gateway container: restricted security context, status-endpoint probes, writable .NET store."""
    probe = k8s.core.v1.HTTPGetActionArgs(path=GATEWAY_STATUS_PATH, port="http", scheme="HTTP")
    return k8s.core.v1.ContainerArgs(
        name="gateway",
        image=image,
        image_pull_policy="IfNotPresent",
        ports=[
            k8s.core.v1.ContainerPortArgs(name="http", container_port=GATEWAY_HTTP_PORT),
            k8s.core.v1.ContainerPortArgs(name="https", container_port=GATEWAY_HTTPS_PORT),
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
        resources=k8s.core.v1.ResourceRequirementsArgs(requests=requests, limits=limits),
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


def gateway_deployment_spec(
    *,
    labels: dict[str, str],
    service_account: str,
    config_map_name: str,
    image: str,
    replicas: int,
    requests: dict[str, str],
    limits: dict[str, str],
) -> k8s.apps.v1.DeploymentSpecArgs:
    """Rolling updates that never drop below `replicas`, pods that wait for their sidecar."""
    return k8s.apps.v1.DeploymentSpecArgs(
        replicas=replicas,
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
                service_account_name=service_account,
                automount_service_account_token=False,
                termination_grace_period_seconds=60,
                security_context=k8s.core.v1.PodSecurityContextArgs(
                    run_as_non_root=True,
                    run_as_user=GATEWAY_RUN_AS_USER,
                    run_as_group=GATEWAY_RUN_AS_USER,
                    fs_group=GATEWAY_RUN_AS_USER,
                    seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                ),
                topology_spread_constraints=_spread(labels, replicas),
                containers=[_gateway_container(image, config_map_name, requests, limits)],
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
