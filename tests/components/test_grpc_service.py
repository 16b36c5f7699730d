"""GrpcService (with the ServicePlatform it shares) under the mock engine: the exact Kubernetes and Azure
inputs the engine receives. Args come from settings through the program's adapter, as `__main__.py` makes them."""

import dataclasses
import json
from functools import cache
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import azure_ids
from components.grpc_service import GrpcService, GrpcServiceArgs, validate_grpc_service_args
from components.manifests import ServicePortsArgs
from components.naming import StackNames
from components.service_platform import ServicePlatform, validate_service_platform_args
from program.adapters.services import ServiceAzureContext, platform_args, service_args
from program.settings import load_settings
from tools.mock_engine import SUBSCRIPTION_ID, TENANT_ID, Plan, RecordedResource, fake_guid, run_program

VAULT_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-grpc"
AMW_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Monitor/accounts/amw"
QUERY_ENDPOINT = "https://amw.westeurope.prometheus.monitor.azure.com"
ADDON_CLIENT_ID = "00000000-0000-4000-8000-0000000000a1"
ADDON_OBJECT_ID = "00000000-0000-4000-8000-0000000000a2"
ISSUER = "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/"
IDENTITY = "id-grpc-dev-weu-greeter"
SCALER_IDENTITY = "id-grpc-dev-weu-keda-operator"
CONFIGURED_IMAGE = "crgrpcdevweu.azurecr.io/grpc-greeter:0.1.0"  # as CI configures it (a pushed tag)
NAMES = StackNames("grpc", "dev", "westeurope", SUBSCRIPTION_ID)


def _settings(workload: dict[str, Any], name: str = "greeter", platform: dict[str, Any] | None = None) -> Any:
    workload = {"image": CONFIGURED_IMAGE, **workload}
    config: dict[str, Any] = {"environment": "dev", "location": "westeurope", "services": {name: workload}}
    if workload.get("ingress", {}).get("host"):
        config["cluster"] = {"istio": {"externalIngressGateway": True}}
    if platform:
        config["platform"] = platform
    return load_settings(config)


def _args(
    workload: dict[str, Any], name: str = "greeter", keda_client_id: Any = "keda-client-id", **overrides: Any
) -> GrpcServiceArgs:
    settings = _settings(workload, name)
    azure = ServiceAzureContext(
        resource_group_name="rg",
        location="westeurope",
        subscription_id=SUBSCRIPTION_ID,
        tenant_id=TENANT_ID,
        oidc_issuer_url=ISSUER,
        vault_id=VAULT_ID,
        vault_name="kv-grpc",
        istio_revision="asm-1-28",
        app_insights_secret_name="appinsights-connection-string",
        prometheus_query_endpoint=QUERY_ENDPOINT,
        keda_client_id=keda_client_id,
        key_vault_secrets_provider_client_id=ADDON_CLIENT_ID,
        key_vault_secrets_provider_object_id=ADDON_OBJECT_ID,
    )
    args = service_args(
        name,
        settings.services[name],
        settings,
        NAMES,
        azure,
        image=None,
        image_version="",
        tls_secret_name="",
    )
    ingress = {k.removeprefix("ingress."): v for k, v in overrides.items() if k.startswith("ingress.")}
    if ingress and args.ingress is not None:
        args.ingress = dataclasses.replace(args.ingress, **ingress)
    return dataclasses.replace(args, **{k: v for k, v in overrides.items() if not k.startswith("ingress.")})


@cache
def _plan(workload_json: str, name: str, platform_json: str) -> Plan:
    def program() -> None:
        ready = pulumi.CustomResource("test:index:Ready", "cluster-ready")
        provider = k8s.Provider("k8s", kubeconfig="{}")
        workload = json.loads(workload_json)
        settings = _settings(workload, name, json.loads(platform_json))
        platform = ServicePlatform(
            "platform",
            platform_args(
                settings,
                NAMES,
                resource_group_name="rg",
                subscription_id=SUBSCRIPTION_ID,
                oidc_issuer_url=ISSUER,
                monitor_workspace_id=AMW_ID,
            ),
            opts=pulumi.ResourceOptions(providers=[provider], depends_on=[ready]),
        )
        GrpcService(
            name,
            _args(workload, name, keda_client_id=platform.keda_client_id),
            opts=pulumi.ResourceOptions(providers=[provider], depends_on=[ready, platform]),
        )

    return run_program(program, {}, stack="test")


def plan_of(_name: str = "greeter", _platform: dict[str, Any] | None = None, **workload: Any) -> Plan:
    return _plan(json.dumps(workload, sort_keys=True), _name, json.dumps(_platform or {}, sort_keys=True))


def k8s_object(plan: Plan, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        o
        for o in plan.kubernetes_objects()
        if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name}, found {[o['metadata']['name'] for o in found]}"
    return found[0]


def identity_client_id(name: str) -> str:
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg"
    arm_id = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    return fake_guid(arm_id, "client")


def deployment(plan: Plan) -> dict[str, Any]:
    return k8s_object(plan, "Deployment", "greeter")


def app_container(plan: Plan) -> dict[str, Any]:
    (container,) = deployment(plan)["spec"]["template"]["spec"]["containers"]
    return container


# --- 1. namespace and ServiceAccount ----------------------------------------------------------------


def test_namespace_is_meshed_with_the_active_revision_and_warns_and_audits_restricted() -> None:
    labels = k8s_object(plan_of(), "Namespace", "grpc-greeter")["metadata"]["labels"]
    assert labels["istio.io/rev"] == "asm-1-28"
    assert (
        labels["pod-security.kubernetes.io/warn"]
        == labels["pod-security.kubernetes.io/audit"]
        == "restricted"
    )
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def test_service_account_carries_the_workload_identity_client_id_and_no_token() -> None:
    account = k8s_object(plan_of(), "ServiceAccount", "greeter")
    assert account["metadata"]["namespace"] == "grpc-greeter"
    assert account["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": identity_client_id(IDENTITY)
    }
    assert account["automountServiceAccountToken"] is False


# --- 2. secrets from Key Vault ----------------------------------------------------------------------


def test_secret_provider_class_reads_the_vault_with_the_workload_identity() -> None:
    spec = k8s_object(plan_of(secrets=["extra"]), "SecretProviderClass", "greeter-secrets")["spec"]
    params = spec["parameters"]
    assert spec["provider"] == "azure"
    assert (params["clientID"], params["keyvaultName"], params["tenantId"]) == (
        identity_client_id(IDENTITY),
        "kv-grpc",
        TENANT_ID,
    )
    assert "appinsights-connection-string" in params["objects"] and "greeter-tls" in params["objects"]
    assert "objectName: extra" in params["objects"]


def test_secrets_are_mounted_read_only_from_the_csi_driver() -> None:
    pod = deployment(plan_of())["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "secrets")
    assert volume["csi"] == {
        "driver": "secrets-store.csi.k8s.io",
        "readOnly": True,
        "volumeAttributes": {"secretProviderClass": "greeter-secrets"},
    }
    mount = next(m for m in app_container(plan_of())["volumeMounts"] if m["name"] == "secrets")
    assert mount == {"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": True}
    assert not any("valueFrom" in e for e in app_container(plan_of())["env"])


def test_workload_identity_reads_secrets_of_the_vault_only() -> None:
    plan = plan_of()
    (assignment,) = plan.of_type("azure-native:authorization:RoleAssignment")
    assert assignment.inputs["scope"] == VAULT_ID
    assert assignment.inputs["roleDefinitionId"].endswith(azure_ids.KEY_VAULT_SECRETS_USER)
    fic = plan.one("azure-native:managedidentity:FederatedIdentityCredential").inputs
    assert fic["subject"] == "system:serviceaccount:grpc-greeter:greeter"
    assert fic["issuer"] == ISSUER


# --- 3. Deployment ----------------------------------------------------------------------------------


def test_deployment_leaves_the_replica_count_to_the_autoscaler() -> None:
    for mode in ("cpu", "keda"):
        assert "replicas" not in deployment(plan_of(autoscaling={"mode": mode}))["spec"]


def test_deployment_runs_the_pinned_image_with_requests_and_limits() -> None:
    container = app_container(plan_of())
    assert container["image"] == CONFIGURED_IMAGE
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }


def test_probes_are_native_grpc_on_the_numeric_port() -> None:
    container = app_container(plan_of())
    assert container["startupProbe"]["grpc"] == {"port": 50051, "service": "readiness"}
    assert container["readinessProbe"]["grpc"] == {"port": 50051, "service": "readiness"}
    assert container["livenessProbe"]["grpc"] == {"port": 50051, "service": "liveness"}


def test_pod_runs_restricted_with_a_writable_tmp_only() -> None:
    pod = deployment(plan_of())["spec"]["template"]["spec"]
    context = app_container(plan_of())["securityContext"]
    assert (
        context["runAsNonRoot"]
        and context["readOnlyRootFilesystem"]
        and not context["allowPrivilegeEscalation"]
    )
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert next(v for v in pod["volumes"] if v["name"] == "tmp")["emptyDir"] == {"sizeLimit": "128Mi"}


def test_rollout_never_drops_below_the_current_pods_and_spreads_over_zones_and_nodes() -> None:
    spec = deployment(plan_of())["spec"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    keys = [c["topologyKey"] for c in spec["template"]["spec"]["topologySpreadConstraints"]]
    assert keys == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]


def test_prestop_and_grace_period_follow_the_shutdown_settings() -> None:
    plan = plan_of(
        shutdown={"preStopSeconds": 6, "drainDelaySeconds": 4, "shutdownGraceSeconds": 15, "marginSeconds": 5}
    )
    container = app_container(plan)
    env = {e["name"]: e["value"] for e in container["env"]}
    assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": 6}}
    assert (env["DRAIN_DELAY_SECONDS"], env["SHUTDOWN_GRACE_SECONDS"]) == ("4", "15")
    assert deployment(plan)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 6 + 4 + 15 + 5
    proxy = json.loads(
        deployment(plan)["spec"]["template"]["metadata"]["annotations"]["proxy.istio.io/config"]
    )
    assert proxy["holdApplicationUntilProxyStarts"] is True
    assert proxy["terminationDrainDuration"] == "26s"


def test_pods_carry_recommended_labels_and_the_workload_identity_opt_in() -> None:
    labels = deployment(plan_of())["spec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"
    assert labels["app.kubernetes.io/version"] == "0.1.0"
    assert labels["app.kubernetes.io/name"] == "greeter"


def test_metrics_port_is_scraped_by_managed_prometheus() -> None:
    spec = k8s_object(plan_of(), "PodMonitor", "greeter")["spec"]
    assert spec["podMetricsEndpoints"][0]["port"] == "metrics"
    assert {"name": "metrics", "containerPort": 9464, "protocol": "TCP"} in app_container(plan_of())["ports"]


# --- 4. Service -------------------------------------------------------------------------------------


def test_service_names_the_grpc_port_for_istio_and_keeps_metrics_separate() -> None:
    spec = k8s_object(plan_of(), "Service", "greeter")["spec"]
    assert spec["type"] == "ClusterIP"
    ports = {p["name"]: p for p in spec["ports"]}
    assert ports["grpc-greeter"]["appProtocol"] == "grpc" and ports["grpc-greeter"]["port"] == 50051
    assert ports["tls-greeter"]["port"] == 50443
    assert ports["http-metrics"]["port"] == 9464


# --- 5. autoscaling ---------------------------------------------------------------------------------


def test_cpu_mode_scales_with_an_hpa_on_the_app_containers_cpu() -> None:
    plan = plan_of()
    spec = k8s_object(plan, "HorizontalPodAutoscaler", "greeter")["spec"]
    assert spec["metrics"] == [
        {
            "type": "ContainerResource",
            "containerResource": {
                "name": "cpu",
                "container": "greeter",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert not [o for o in plan.kubernetes_objects() if o["kind"] == "ScaledObject"]


def test_keda_mode_scales_on_request_rate_from_managed_prometheus_with_workload_identity() -> None:
    plan = plan_of(autoscaling={"mode": "keda"})
    spec = k8s_object(plan, "ScaledObject", "greeter")["spec"]
    prometheus, cpu = spec["triggers"]
    assert prometheus["metadata"]["serverAddress"] == QUERY_ENDPOINT
    assert "grpc_server_started_total" in prometheus["metadata"]["query"]
    assert prometheus["authenticationRef"]["name"] == "greeter-prometheus"
    assert cpu["metadata"] == {"value": "70", "containerName": "greeter"}
    auth = k8s_object(plan, "TriggerAuthentication", "greeter-prometheus")["spec"]
    assert auth == {
        "podIdentity": {"provider": "azure-workload", "identityId": identity_client_id(SCALER_IDENTITY)}
    }
    assert not [o for o in plan.kubernetes_objects() if o["kind"] == "HorizontalPodAutoscaler"]


def test_keda_identity_reads_the_monitor_workspace_and_trusts_the_keda_operator() -> None:
    plan = plan_of(autoscaling={"mode": "keda"})
    roles = {
        (r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[1])
        for r in plan.of_type("azure-native:authorization:RoleAssignment")
    }
    assert roles == {(VAULT_ID, azure_ids.KEY_VAULT_SECRETS_USER), (AMW_ID, azure_ids.MONITORING_DATA_READER)}
    subjects = {
        r.inputs["subject"] for r in plan.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    }
    assert subjects == {
        "system:serviceaccount:grpc-greeter:greeter",
        "system:serviceaccount:kube-system:keda-operator",
    }
    patch = plan.one("kubernetes:core/v1:ServiceAccountPatch").inputs["metadata"]
    assert (patch["namespace"], patch["name"]) == ("kube-system", "keda-operator")
    assert patch["annotations"] == {"azure.workload.identity/client-id": identity_client_id(SCALER_IDENTITY)}


# --- 6. PDB, 7. NetworkPolicy -----------------------------------------------------------------------


def test_pdb_allows_one_pod_down_so_drains_proceed() -> None:
    spec = k8s_object(plan_of(), "PodDisruptionBudget", "greeter")["spec"]
    assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_namespace_denies_all_traffic_but_what_the_service_needs() -> None:
    plan = plan_of()
    deny = k8s_object(plan, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ingress = k8s_object(plan, "NetworkPolicy", "greeter-allow-ingress")["spec"]["ingress"]
    sources = {
        (
            peer.get("namespaceSelector", {})
            .get("matchLabels", {})
            .get("kubernetes.io/metadata.name", "<same>"),
            port["port"],
        )
        for rule in ingress
        for peer in rule["from"]
        for port in rule["ports"]
    }
    assert sources == {
        ("<same>", 50051),
        ("apim-gateway", 50443),
        ("kube-system", 9464),
        ("kube-system", 15020),
        ("kube-system", 15090),
    }
    egress = k8s_object(plan, "NetworkPolicy", "greeter-allow-egress")["spec"]["egress"]
    assert any(p["port"] == 53 and p["protocol"] == "UDP" for rule in egress for p in rule.get("ports", []))
    assert any(p["port"] == 15012 for rule in egress for p in rule.get("ports", []))


# --- 8. Istio ---------------------------------------------------------------------------------------


def test_mesh_traffic_is_strict_mtls_balanced_per_request_with_timeouts_and_retries() -> None:
    plan = plan_of()
    assert k8s_object(plan, "PeerAuthentication", "default")["spec"] == {"mtls": {"mode": "STRICT"}}
    rule = k8s_object(plan, "DestinationRule", "greeter")["spec"]
    assert rule["host"] == "greeter.grpc-greeter.svc.cluster.local"
    assert rule["trafficPolicy"]["loadBalancer"] == {"simple": "LEAST_REQUEST"}
    route = k8s_object(plan, "VirtualService", "greeter")["spec"]["http"][0]
    assert route["timeout"] == "30s" and "unavailable" in route["retries"]["retryOn"]


def test_authorization_policy_admits_apim_and_the_namespace_but_no_ingress_without_a_host() -> None:
    spec = k8s_object(plan_of(), "AuthorizationPolicy", "greeter")["spec"]
    principals = [p for r in spec["rules"] for s in r["from"] for p in s["source"].get("principals", [])]
    assert principals == ["cluster.local/ns/apim-gateway/sa/apim-gateway"]


def test_ingress_host_adds_a_tls_gateway_with_a_key_vault_certificate() -> None:
    plan = plan_of(ingress={"host": "grpc.example.com"})
    gateway = k8s_object(plan, "Gateway", "greeter-gateway")
    assert gateway["metadata"]["namespace"] == "aks-istio-ingress"
    server = gateway["spec"]["servers"][0]
    assert gateway["spec"]["selector"] == {"istio": "aks-istio-ingressgateway-external"}
    assert server["port"]["number"] == 443 and server["tls"]["mode"] == "SIMPLE"
    spc = k8s_object(plan, "SecretProviderClass", "greeter-ingress-tls")
    assert spc["metadata"]["namespace"] == "aks-istio-ingress"
    assert spc["spec"]["secretObjects"][0]["secretName"] == server["tls"]["credentialName"]
    assert spc["spec"]["parameters"]["userAssignedIdentityID"] == ADDON_CLIENT_ID
    syncer = k8s_object(plan, "Deployment", "greeter-ingress-tls-sync")
    volume = syncer["spec"]["template"]["spec"]["volumes"][0]
    assert volume["csi"]["volumeAttributes"] == {"secretProviderClass": "greeter-ingress-tls"}
    addon_role = [
        r
        for r in plan.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["principalId"] == ADDON_OBJECT_ID
    ]
    assert [r.inputs["scope"] for r in addon_role] == [VAULT_ID]
    service = k8s_object(plan, "VirtualService", "greeter")["spec"]
    assert (
        "aks-istio-ingress/greeter-gateway" in service["gateways"] and "grpc.example.com" in service["hosts"]
    )
    policy = k8s_object(plan, "AuthorizationPolicy", "greeter")["spec"]
    assert "cluster.local/ns/aks-istio-ingress/sa/aks-istio-ingressgateway-external" in json.dumps(policy)


def test_mesh_wide_access_logging_lives_in_the_istio_root_namespace() -> None:
    telemetry = k8s_object(plan_of(), "Telemetry", "mesh-default")
    assert telemetry["metadata"]["namespace"] == "aks-istio-system"
    assert telemetry["spec"] == {"accessLogging": [{"providers": [{"name": "envoy"}]}]}
    assert not [
        o
        for o in plan_of(_platform={"accessLogging": False}).kubernetes_objects()
        if o["kind"] == "Telemetry"
    ]


# --- 9. Dapr ----------------------------------------------------------------------------------------


def test_dapr_is_off_by_default_and_annotates_grpc_pods_when_on() -> None:
    assert not any(
        k.startswith("dapr.io/") for k in deployment(plan_of())["spec"]["template"]["metadata"]["annotations"]
    )
    plan = plan_of(dapr={"enabled": True})
    annotations = deployment(plan)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["dapr.io/app-protocol"] == "grpc"
    assert annotations["dapr.io/app-id"] == "greeter" and annotations["dapr.io/app-port"] == "50051"
    config = k8s_object(plan, "Configuration", annotations["dapr.io/config"])
    assert config["spec"]["tracing"]["samplingRate"] == "0"


# --- cross-object consistency -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["cpu", "keda"])
def test_service_selector_pod_labels_and_pdb_selector_agree(mode: str) -> None:
    plan = plan_of(autoscaling={"mode": mode})
    pod_labels = deployment(plan)["spec"]["template"]["metadata"]["labels"]
    selector = k8s_object(plan, "Service", "greeter")["spec"]["selector"]
    assert selector.items() <= pod_labels.items()
    assert k8s_object(plan, "PodDisruptionBudget", "greeter")["spec"]["selector"]["matchLabels"] == selector
    assert deployment(plan)["spec"]["selector"]["matchLabels"] == selector
    assert k8s_object(plan, "AuthorizationPolicy", "greeter")["spec"]["selector"]["matchLabels"] == selector


def test_autoscaler_targets_the_deployment() -> None:
    assert k8s_object(plan_of(), "HorizontalPodAutoscaler", "greeter")["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment(plan_of())["metadata"]["name"],
    }
    scaled = k8s_object(plan_of(autoscaling={"mode": "keda"}), "ScaledObject", "greeter")["spec"][
        "scaleTargetRef"
    ]
    assert scaled["name"] == deployment(plan_of())["metadata"]["name"] and scaled["kind"] == "Deployment"


def test_probe_port_is_the_container_port_and_the_service_target_port() -> None:
    container = app_container(plan_of())
    grpc_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
    probes = {container[k]["grpc"]["port"] for k in ("startupProbe", "readinessProbe", "livenessProbe")}
    service = k8s_object(plan_of(), "Service", "greeter")["spec"]["ports"]
    target = next(p["targetPort"] for p in service if p["name"].startswith("grpc-"))
    assert probes == {grpc_port} == {target}


def test_federated_subject_names_the_rendered_namespace_and_service_account() -> None:
    plan = plan_of(_name="hello", namespace="grpc-hello")
    account = k8s_object(plan, "ServiceAccount")
    pod = k8s_object(plan, "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    fic = plan.one("azure-native:managedidentity:FederatedIdentityCredential").inputs
    assert (
        fic["subject"]
        == f"system:serviceaccount:{account['metadata']['namespace']}:{account['metadata']['name']}"
    )


def test_secret_provider_class_uses_the_identity_annotated_on_the_service_account() -> None:
    plan = plan_of()
    annotated = k8s_object(plan, "ServiceAccount", "greeter")["metadata"]["annotations"][
        "azure.workload.identity/client-id"
    ]
    assert (
        k8s_object(plan, "SecretProviderClass", "greeter-secrets")["spec"]["parameters"]["clientID"]
        == annotated
    )


# --- wiring -----------------------------------------------------------------------------------------


def _kubernetes_resources(plan: Plan) -> list[RecordedResource]:
    return [
        r
        for r in plan.resources
        if r.type.startswith("kubernetes:") and r.type != "pulumi:providers:kubernetes"
    ]


def test_every_kubernetes_object_uses_the_cluster_provider_and_waits_for_the_cluster() -> None:
    plan = plan_of(autoscaling={"mode": "keda"}, ingress={"host": "grpc.example.com"}, dapr={"enabled": True})
    ready = plan.one("test:index:Ready").urn
    provider = plan.one("pulumi:providers:kubernetes").urn
    for resource in _kubernetes_resources(plan):
        assert resource.provider == provider, resource.name
        assert ready in resource.dependencies, resource.name
        assert resource.inputs["metadata"]["name"], resource.name


def test_deployment_waits_for_its_secrets_identity_and_role() -> None:
    plan = plan_of()
    dependencies = plan.one("kubernetes:apps/v1:Deployment", "greeter-deployment").dependencies
    for name in (
        "greeter-identity-fic",
        "greeter-identity-role-0",
        "greeter-secret-provider-class",
        "greeter-service-account",
    ):
        assert any(d.endswith(f"::{name}") for d in dependencies), name


@pytest.mark.parametrize(
    ("workload", "overrides", "field"),
    [
        ({"autoscaling": {"mode": "keda"}}, {"prometheus_query_endpoint": None}, "prometheus_query_endpoint"),
        ({"autoscaling": {"mode": "keda"}}, {"keda_client_id": None}, "keda_client_id"),
        ({"autoscaling": {"mode": "keda"}}, {"grpc_services": []}, "grpc_services"),
        (
            {"ingress": {"host": "g.example.com"}},
            {"ingress.key_vault_secrets_provider_object_id": None},
            "key_vault_secrets_provider_object_id",
        ),
        ({}, {"istio_revision": "1.28"}, "istio_revision"),
        ({}, {"image": ""}, "image"),
        ({}, {"service_name": "9lives"}, "service_name"),
        ({}, {"vault_id": ""}, "vault_id"),
    ],
)
def test_invalid_args_are_rejected_naming_the_field(
    workload: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        validate_grpc_service_args(_args(workload, **overrides))


def test_args_defaults_name_the_namespace_and_the_tls_secret_after_the_service() -> None:
    args = GrpcServiceArgs(service_name="orders")
    assert (args.namespace, args.tls_secret_name) == ("", "")  # resolved by the component:
    plan = plan_of(_name="orders")
    assert k8s_object(plan, "Namespace", "grpc-orders")
    spc = k8s_object(plan, "SecretProviderClass", "orders-secrets")["spec"]["parameters"]["objects"]
    assert "orders-tls" in spc and "orders-tls.pem" in spc and "greeter" not in spc
    ports = {p["name"] for p in k8s_object(plan, "Service", "orders")["spec"]["ports"]}
    assert ports == {"grpc-orders", "tls-orders", "http-metrics"}


def test_platform_refuses_keda_without_its_identity_name() -> None:
    args = platform_args(
        _settings({"autoscaling": {"mode": "keda"}}),
        NAMES,
        resource_group_name="rg",
        subscription_id=SUBSCRIPTION_ID,
        oidc_issuer_url=ISSUER,
        monitor_workspace_id=AMW_ID,
    )
    validate_service_platform_args(args)
    with pytest.raises(ValueError, match="keda_identity_name"):
        validate_service_platform_args(dataclasses.replace(args, keda_identity_name=""))


# --- ports ----------------------------------------------------------------------------------------

CUSTOM_PORTS = {"grpc": 8080, "tls": 8443, "metrics": 9100}


def _numbers(value: Any) -> set[int]:
    """Every port-like number an object holds, as a number or as a whole (comma-separated) string."""
    if isinstance(value, dict):
        return set().union(*(_numbers(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_numbers(v) for v in value)) if value else set()
    if isinstance(value, bool):
        return set()
    if isinstance(value, int | float):
        return {int(value)}
    if isinstance(value, str):
        return {int(part) for part in value.split(",") if part.strip().isdigit()}
    return set()


def test_configured_ports_are_rendered_by_every_object_and_the_defaults_by_none() -> None:
    plan = plan_of(ports=CUSTOM_PORTS, dapr={"enabled": True}, ingress={"host": "g.example.com"})
    objects = [o for o in plan.kubernetes_objects() if o["metadata"].get("namespace") == "grpc-greeter"]
    assert {"Deployment", "Service", "NetworkPolicy", "VirtualService", "AuthorizationPolicy"} <= {
        o["kind"] for o in objects
    }
    for obj in objects:
        assert not _numbers(obj) & {50051, 50443, 9464}, (obj["kind"], obj["metadata"]["name"])
    container = app_container(plan)
    assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [
        ("grpc", 8080),
        ("grpc-tls", 8443),
        ("metrics", 9100),
    ]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (env["GRPC_PORT"], env["GRPC_TLS_PORT"], env["METRICS_PORT"]) == ("8080", "8443", "9100")
    assert {container[p]["grpc"]["port"] for p in ("startupProbe", "readinessProbe", "livenessProbe")} == {
        8080
    }
    annotations = deployment(plan)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["dapr.io/app-port"] == "8080"
    assert annotations["traffic.sidecar.istio.io/excludeInboundPorts"] == "9100"
    service = {p["name"]: (p["port"], p["targetPort"]) for p in k8s_object(plan, "Service")["spec"]["ports"]}
    assert service == {
        "grpc-greeter": (8080, 8080),
        "tls-greeter": (8443, 8443),
        "http-metrics": (9100, 9100),
    }
    allow = k8s_object(plan, "NetworkPolicy", "greeter-allow-ingress")["spec"]["ingress"]
    assert [[p["port"] for p in rule["ports"]] for rule in allow] == [
        [8080],
        [8443],
        [8080],
        [9100, 15020, 15090],
    ]
    routes = k8s_object(plan, "VirtualService")["spec"]["http"][0]
    assert routes["match"][0]["port"] == 8080 and routes["route"][0]["destination"]["port"]["number"] == 8080
    rules = k8s_object(plan, "AuthorizationPolicy")["spec"]["rules"]
    assert [r["to"][0]["operation"]["ports"] for r in rules] == [["8080"], ["8443"], ["8080"]]


def test_the_port_attributes_are_the_configured_ports() -> None:
    seen: dict[str, GrpcService] = {}

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = dataclasses.replace(_args({}), ports=ServicePortsArgs(**CUSTOM_PORTS))
        seen["service"] = GrpcService("greeter", args, opts=pulumi.ResourceOptions(providers=[provider]))

    run_program(program, {}, stack="test")
    service = seen["service"]
    assert (service.grpc_port, service.tls_port, service.metrics_port) == (8080, 8443, 9100)
    default = GrpcServiceArgs().ports
    assert (default.grpc, default.tls, default.metrics) == (50051, 50443, 9464)


@pytest.mark.parametrize(
    ("ports", "field"),
    [({"grpc": 443}, "ports.grpc"), ({"metrics": 15090}, "ports.metrics"), ({"tls": 9464}, "ports.metrics")],
)
def test_args_with_unusable_ports_are_refused_naming_the_port(ports: dict[str, int], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        validate_grpc_service_args(dataclasses.replace(_args({}), ports=ServicePortsArgs(**ports)))
