"""examples/two-services.yaml: the dev stack plus `orders`, planned as the README says
(`python -m tools.offline_plan --stack dev --stack-file examples/two-services.yaml`).

Each service gets its own objects, the cluster-wide ones exist once, and no two services share a name
the cluster or Azure would refuse twice. (Strict schema validation of the same plan:
tests/program/test_manifests_schema.py, parametrized over this example.)
"""

import contextlib
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools import offline_plan
from tools.mock_engine import Plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two-services.yaml"
SERVICES = {"greeter": "grpc-greeter", "orders": "grpc-orders"}
ORDERS_PORTS = {"grpc": 8080, "tls": 8443, "metrics": 9100}
"""`services.orders.ports` of the example; the greeter keeps the library's defaults."""
DEFAULT_PORTS = (50051, 50443, 9464)
TLS_PORTS = {"greeter": 50443, "orders": ORDERS_PORTS["tls"]}
PER_SERVICE_KINDS = (
    "Namespace",
    "ServiceAccount",
    "SecretProviderClass",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "DestinationRule",
    "VirtualService",
    "AuthorizationPolicy",
    "PeerAuthentication",
    "PodMonitor",
)


@pytest.fixture(scope="module")
def plan(stack_plan: Callable[[str], Plan]) -> Plan:
    return stack_plan("two-services")


def objects(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [o for o in plan.kubernetes_objects() if o["kind"] == kind]


def test_the_documented_command_plans_the_example() -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = offline_plan.main(
            ["--stack", "dev", "--stack-file", str(EXAMPLE), "--out", "/tmp/two-services-plan"]
        )
    assert code == 0, err.getvalue()


def test_each_service_has_its_own_namespace_and_one_of_each_object(plan: Plan) -> None:
    namespaces = {o["metadata"]["name"] for o in objects(plan, "Namespace")}
    assert set(SERVICES.values()) <= namespaces
    for kind in PER_SERVICE_KINDS:
        per_namespace = Counter(
            o["metadata"]["namespace"] if kind != "Namespace" else o["metadata"]["name"]
            for o in objects(plan, kind)
        )
        for namespace in SERVICES.values():
            assert per_namespace[namespace] == 1, (kind, namespace, per_namespace)
    assert len(objects(plan, "NetworkPolicy")) == 3 * len(SERVICES)
    autoscalers = objects(plan, "HorizontalPodAutoscaler") + objects(plan, "ScaledObject")
    assert sorted(o["metadata"]["namespace"] for o in autoscalers) == sorted(SERVICES.values())


def test_cluster_wide_objects_exist_once(plan: Plan) -> None:
    telemetry = objects(plan, "Telemetry")
    assert [(t["metadata"]["namespace"], t["metadata"]["name"]) for t in telemetry] == [
        ("aks-istio-system", "mesh-default")
    ]
    patches = plan.of_type("kubernetes:core/v1:ServiceAccountPatch")
    assert [(p.inputs["metadata"]["namespace"], p.inputs["metadata"]["name"]) for p in patches] == [
        ("kube-system", "keda-operator")
    ]
    assert len(plan.of_type("aksgrpc:index:ServicePlatform")) == 1
    assert len(plan.of_type("aksgrpc:index:GrpcService")) == len(SERVICES)


def test_orders_scales_with_keda_on_its_own_grpc_service_through_the_platform_identity(plan: Plan) -> None:
    (scaled,) = objects(plan, "ScaledObject")
    assert scaled["metadata"]["namespace"] == "grpc-orders"
    query = scaled["spec"]["triggers"][0]["metadata"]["query"]
    assert 'grpc_service="orders.v1.Orders"' in query and "helloworld" not in query
    (auth,) = objects(plan, "TriggerAuthentication")
    (patch,) = plan.of_type("kubernetes:core/v1:ServiceAccountPatch")
    assert (
        auth["spec"]["podIdentity"]["identityId"]
        == patch.inputs["metadata"]["annotations"]["azure.workload.identity/client-id"]
    )
    (hpa,) = objects(plan, "HorizontalPodAutoscaler")
    assert hpa["metadata"]["namespace"] == "grpc-greeter"


def test_port_names_secret_names_and_identities_differ_per_service(plan: Plan) -> None:
    ports = {
        o["metadata"]["namespace"]: sorted(p["name"] for p in o["spec"]["ports"])
        for o in objects(plan, "Service")
    }
    assert ports["grpc-greeter"] == ["grpc-greeter", "http-metrics", "tls-greeter"]
    assert ports["grpc-orders"] == ["grpc-orders", "http-metrics", "tls-orders"]
    secrets = {r.inputs["secretName"] for r in plan.of_type("azure-native:keyvault:Secret")}
    assert {"greeter-tls", "orders-tls"} <= secrets
    spcs = {
        o["metadata"]["namespace"]: o["spec"]["parameters"]["objects"]
        for o in objects(plan, "SecretProviderClass")
    }
    assert "orders-tls" in spcs["grpc-orders"] and "greeter-tls" not in spcs["grpc-orders"]
    identities = [
        r.inputs["resourceName"] for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
    ]
    assert len(identities) == len(set(identities))
    assert {"id-grpc-dev-weu-greeter", "id-grpc-dev-weu-orders", "id-grpc-dev-weu-keda-operator"} <= set(
        identities
    )
    accounts = {
        o["metadata"]["namespace"]: o["metadata"]["annotations"]["azure.workload.identity/client-id"]
        for o in objects(plan, "ServiceAccount")
    }
    assert accounts["grpc-greeter"] != accounts["grpc-orders"]
    subjects = {
        r.inputs["subject"] for r in plan.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    }
    assert {
        "system:serviceaccount:grpc-greeter:greeter",
        "system:serviceaccount:grpc-orders:orders",
    } <= subjects


def test_each_service_has_its_own_backend_certificate(plan: Plan) -> None:
    certificates = plan.of_type("aksgrpc:index:BackendCertificate")
    assert sorted(c.name for c in certificates) == ["greeter-backend-tls", "orders-backend-tls"]
    common_names = {
        r.inputs["subject"]["commonName"] for r in plan.of_type("tls:index/certRequest:CertRequest")
    }
    assert common_names == {"greeter.grpc-greeter.svc.cluster.local", "orders.grpc-orders.svc.cluster.local"}


def test_alert_rules_are_per_service_and_carry_the_service_label(plan: Plan) -> None:
    (group,) = [
        r
        for r in plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
        if r.inputs["ruleGroupName"].startswith("GrpcAlertRulesRuleGroup")
    ]
    rules = group.inputs["rules"]
    assert all("service" in rule["labels"] for rule in rules)
    # The label is the service's name (`greeter`), not its namespace (`grpc-greeter`).
    by_service = Counter(rule["labels"]["service"] for rule in rules)
    assert by_service == {name: 4 for name in SERVICES}
    for rule in rules:
        # Each rule watches exactly its own service's namespace.
        watched = [ns for ns in SERVICES.values() if f'"{ns}"' in rule["expression"]]
        assert watched == [SERVICES[rule["labels"]["service"]]], rule["expression"]


def test_stack_outputs_describe_every_service(plan: Plan) -> None:
    services = plan.outputs["services"]
    assert sorted(services) == sorted(SERVICES)
    for name, namespace in SERVICES.items():
        entry = services[name]
        assert entry["namespace"] == namespace
        assert entry["host"] == f"{name}.{namespace}.svc.cluster.local"
        assert entry["tlsPort"] == TLS_PORTS[name]
        assert entry["identityClientId"] and entry["image"] and entry["backendCaCertificatePem"]
    assert services["orders"]["apiPath"] == services["greeter"]["apiPath"] == ""
    assert services["orders"]["proto"] == "examples/protos/orders.proto"
    assert services["orders"]["image"] == "crgrpcdevweu.azurecr.io/orders:1.0.0"


def test_the_policy_pack_finds_no_mandatory_violation(plan: Plan) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))
    from policy_harness import evaluate_plan
    from pulumi_policy import EnforcementLevel

    from policy.policies import ALL_POLICIES

    mandatory = [f for f in evaluate_plan(plan, ALL_POLICIES) if f.level == EnforcementLevel.MANDATORY]
    assert not mandatory, "\n".join(str(f) for f in mandatory)


def test_each_service_is_its_own_grpc_api_behind_the_one_gateway(plan: Plan) -> None:
    apis = {r.inputs["apiId"]: r.inputs for r in plan.of_type("azure-native:apimanagement:Api")}
    assert sorted(apis) == ["greeter-grpc", "orders-grpc"]
    assert apis["orders-grpc"]["value"] == (EXAMPLE.parent / "protos" / "orders.proto").read_text()
    assert apis["orders-grpc"]["serviceUrl"] == "https://orders.grpc-orders.svc.cluster.local:8443"
    assert apis["greeter-grpc"]["serviceUrl"] == "https://greeter.grpc-greeter.svc.cluster.local:50443"
    assert len(plan.of_type("azure-native:apimanagement:Gateway")) == 1


def _mentions(value: Any, number: int) -> bool:
    """Whether a rendered object holds `number` anywhere, as a number or as a whole string."""
    if isinstance(value, dict):
        return any(_mentions(v, number) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, number) for v in value)
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == number
    return isinstance(value, str) and str(number) in value.replace(",", " ").split()


def _of_orders(plan: Plan) -> list[dict[str, Any]]:
    return [
        o
        for o in plan.kubernetes_objects()
        if o["metadata"].get("namespace") == "grpc-orders" or o["metadata"].get("name") == "grpc-orders"
    ]


def test_the_orders_objects_use_its_own_ports_and_never_the_defaults(plan: Plan) -> None:
    orders = _of_orders(plan)
    assert {o["kind"] for o in orders} >= {"Deployment", "Service", "NetworkPolicy", "PodMonitor"}
    for obj in orders:
        for number in DEFAULT_PORTS:
            assert not _mentions(obj, number), (obj["kind"], obj["metadata"]["name"], number)


def test_the_orders_ports_are_rendered_everywhere_they_are_used(plan: Plan) -> None:
    grpc, tls, metrics = ORDERS_PORTS["grpc"], ORDERS_PORTS["tls"], ORDERS_PORTS["metrics"]
    by_kind = {o["kind"]: o for o in _of_orders(plan) if o["kind"] != "NetworkPolicy"}
    pod = by_kind["Deployment"]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "grpc": grpc,
        "grpc-tls": tls,
        "metrics": metrics,
    }
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (env["GRPC_PORT"], env["GRPC_TLS_PORT"], env["METRICS_PORT"]) == (
        str(grpc),
        str(tls),
        str(metrics),
    )
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == grpc
    assert pod["metadata"]["annotations"]["traffic.sidecar.istio.io/excludeInboundPorts"] == str(metrics)
    service_ports = {p["name"]: (p["port"], p["targetPort"]) for p in by_kind["Service"]["spec"]["ports"]}
    assert service_ports == {
        "grpc-orders": (grpc, grpc),
        "tls-orders": (tls, tls),
        "http-metrics": (metrics, metrics),
    }
    (allow,) = [o for o in _of_orders(plan) if o["metadata"]["name"] == "orders-allow-ingress"]
    allowed = sorted(p["port"] for rule in allow["spec"]["ingress"] for p in rule["ports"])
    assert allowed == sorted([grpc, tls, metrics, 15020, 15090])
    assert by_kind["PodMonitor"]["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"  # by name
    virtual_service = by_kind["VirtualService"]["spec"]["http"][0]
    assert virtual_service["match"][0]["port"] == grpc
    assert virtual_service["route"][0]["destination"]["port"]["number"] == grpc
    rules = by_kind["AuthorizationPolicy"]["spec"]["rules"]
    assert sorted(r["to"][0]["operation"]["ports"][0] for r in rules) == sorted([str(grpc), str(tls)])


def test_the_apim_backend_of_orders_is_its_tls_port(plan: Plan) -> None:
    urls = {r.inputs["url"] for r in plan.of_type("azure-native:apimanagement:Backend")}
    assert "https://orders.grpc-orders.svc.cluster.local:8443" in urls
    assert "https://greeter.grpc-greeter.svc.cluster.local:50443" in urls
