"""The pack on a stack of several gRPC services (issue 15): every policy holds per service.

A platform stack runs many services on one cluster behind one API Management: per service a namespace,
PeerAuthentication, Deployment, PodDisruptionBudget, autoscaler, Service, SecretProviderClass, federated
credential and gRPC API. The inputs are built by hand from the known-good objects of test_policies.py,
one set per service, and each test breaks one service and checks that exactly that service is flagged.
"""

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from policy_harness import StackResource, resource_args, stack_args, violations
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy
from test_policies import (
    API_TYPE,
    APIM_TYPE,
    CLUSTER_TYPE,
    DEPLOYMENT_TYPE,
    DIAG_TYPE,
    FEDERATED_TYPE,
    GOOD_API,
    GOOD_APIM,
    GOOD_CLUSTER,
    GOOD_DEPLOYMENT,
    GOOD_FEDERATED,
    GOOD_HPA,
    GOOD_NAMESPACE,
    GOOD_PDB,
    GOOD_PEER_AUTH,
    GOOD_PUBLIC_IP,
    GOOD_SCALED_OBJECT,
    GOOD_SERVICE,
    GOOD_SPC,
    GOOD_VAULT,
    HPA_TYPE,
    NAMESPACE_TYPE,
    PDB_TYPE,
    PEER_AUTH_TYPE,
    PUBLIC_IP_TYPE,
    SCALED_OBJECT_TYPE,
    SERVICE_TYPE,
    SPC_TYPE,
    VAULT_TYPE,
    changed,
    diagnostic,
)

from policy.policies import ALL_POLICIES
from policy.stack import keyvault_admits_cluster_egress
from policy.workload import (
    k8s_autoscaler_target_exists,
    k8s_no_replicas_with_autoscaler,
    k8s_workload_has_drainable_pdb,
)

STACK_POLICIES = [p for p in ALL_POLICIES if isinstance(p, StackValidationPolicy)]
RESOURCE_POLICIES = [p for p in ALL_POLICIES if isinstance(p, ResourceValidationPolicy)]


@dataclass
class Service:
    """One gRPC service's names: its objects are named after it, in its own namespace unless shared."""

    name: str
    namespace: str
    keda: bool = False  # autoscaled by a KEDA ScaledObject instead of an HPA

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/part-of": "aks-grpc"}


def _meta(service: Service, name: str | None = None) -> dict[str, Any]:
    return {"name": name or service.name, "namespace": service.namespace}


def deployment(service: Service) -> dict[str, Any]:
    result = copy.deepcopy(GOOD_DEPLOYMENT)
    result["metadata"] = {**_meta(service), "labels": service.labels}
    result["spec"]["selector"] = {"matchLabels": service.labels}
    template = result["spec"]["template"]
    template["metadata"]["labels"] = {**service.labels, "azure.workload.identity/use": "true"}
    template["spec"]["serviceAccountName"] = service.name
    container = template["spec"]["containers"][0]
    container["name"] = service.name
    container["image"] = f"acrgrpcdevweu.azurecr.io/{service.name}:0.1.0"
    template["spec"]["volumes"][0]["csi"]["volumeAttributes"]["secretProviderClass"] = service.name
    return result


def autoscaler(service: Service) -> tuple[str, dict[str, Any]]:
    if service.keda:
        scaled = changed(GOOD_SCALED_OBJECT, spec__scaleTargetRef={"name": service.name})
        scaled["metadata"] = _meta(service)
        return SCALED_OBJECT_TYPE, scaled
    hpa = changed(GOOD_HPA, spec__scaleTargetRef__name=service.name)
    hpa["metadata"] = _meta(service)
    hpa["spec"]["metrics"][0]["containerResource"]["container"] = service.name
    return HPA_TYPE, hpa


def service_resources(service: Service, *, namespace: bool = True) -> list[StackResource]:
    """The Kubernetes objects of one service (`namespace=False` when another service owns the namespace)."""
    s = service.name
    pdb = changed(GOOD_PDB, spec__selector={"matchLabels": {"app.kubernetes.io/name": s}})
    pdb["metadata"] = _meta(service)
    svc = changed(GOOD_SERVICE, spec__selector={"app.kubernetes.io/name": s})
    svc["metadata"] = _meta(service)
    svc["spec"]["ports"][1]["name"] = f"tls-{s}"
    spc = copy.deepcopy(GOOD_SPC)
    spc["metadata"] = _meta(service, f"{s}-secrets")
    scaler_type, scaler = autoscaler(service)
    resources = [
        StackResource(DEPLOYMENT_TYPE, f"{s}-deployment", deployment(service)),
        StackResource(PDB_TYPE, f"{s}-pdb", pdb),
        StackResource(scaler_type, f"{s}-autoscaler", scaler),
        StackResource(SERVICE_TYPE, f"{s}-service", svc),
        StackResource(SPC_TYPE, f"{s}-spc", spc),
    ]
    if namespace:
        ns = changed(GOOD_NAMESPACE, metadata__name=service.namespace)
        mtls = changed(GOOD_PEER_AUTH, metadata__namespace=service.namespace)
        resources += [
            StackResource(NAMESPACE_TYPE, f"{s}-namespace", ns),
            StackResource(PEER_AUTH_TYPE, f"{s}-mtls", mtls),
        ]
    return resources


def platform() -> list[StackResource]:
    """What the services share: one cluster, its egress IP, one vault, one API Management."""
    return [
        StackResource(CLUSTER_TYPE, "cluster", GOOD_CLUSTER, ["egress-ip"]),
        StackResource(DIAG_TYPE, "cluster-diag", diagnostic("kube-audit-admin", "guard"), ["cluster"]),
        StackResource(PUBLIC_IP_TYPE, "egress-ip", GOOD_PUBLIC_IP),
        StackResource(VAULT_TYPE, "vault", GOOD_VAULT, ["egress-ip"]),
        StackResource(DIAG_TYPE, "vault-diag", diagnostic(group="audit"), ["vault"]),
        StackResource(APIM_TYPE, "apim", GOOD_APIM),
        StackResource(DIAG_TYPE, "apim-diag", diagnostic("GatewayLogs"), ["apim"]),
    ]


GREETER = Service("greeter", "grpc-greeter")
ORDERS = Service("orders", "grpc-orders", keda=True)


def two_services() -> list[StackResource]:
    return [*platform(), *service_resources(GREETER), *service_resources(ORDERS)]


def without(stack: list[StackResource], *names: str) -> list[StackResource]:
    assert set(names) <= {r.name for r in stack}, "remove only what is there"
    return [r for r in stack if r.name not in names]


def replaced(stack: list[StackResource], name: str, props: dict[str, Any]) -> list[StackResource]:
    assert name in {r.name for r in stack}
    return [
        StackResource(r.type, r.name, props, r.dependencies, r.property_dependencies) if r.name == name else r
        for r in stack
    ]


def props_of(stack: list[StackResource], name: str) -> dict[str, Any]:
    return copy.deepcopy(dict(next(r.props for r in stack if r.name == name)))


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:test::aks-grpc::{resource_type}::{name}"


# ---------------------------------------------------------------------------------------------------
# Two services pass every policy
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", STACK_POLICIES, ids=[p.name for p in STACK_POLICIES])
def test_two_services_pass_every_stack_policy(policy: StackValidationPolicy) -> None:
    assert violations(policy, stack_args(two_services())) == []


def test_two_services_in_one_namespace_pass_every_stack_policy() -> None:
    shared = "grpc-shared"
    stack = [
        *platform(),
        *service_resources(Service("greeter", shared)),
        *service_resources(Service("orders", shared, keda=True), namespace=False),
    ]
    for policy in STACK_POLICIES:
        assert violations(policy, stack_args(stack)) == [], policy.name


def test_every_object_of_two_services_passes_every_resource_policy() -> None:
    apis = [
        (API_TYPE, {**GOOD_API, "apiId": "greeter"}),
        (API_TYPE, {**GOOD_API, "apiId": "orders"}),
    ]
    credentials = [
        (FEDERATED_TYPE, changed(GOOD_FEDERATED, subject=f"system:serviceaccount:{s.namespace}:{s.name}"))
        for s in (GREETER, ORDERS)
    ]
    resources = [(r.type, dict(r.props)) for r in two_services()] + apis + credentials
    for resource_type, props in resources:
        for policy in RESOURCE_POLICIES:
            assert violations(policy, resource_args(resource_type, props)) == [], (policy.name, props)


# ---------------------------------------------------------------------------------------------------
# One broken service is flagged, the other is not
# ---------------------------------------------------------------------------------------------------


def test_a_service_without_its_pdb_is_flagged_alone() -> None:
    found = violations(k8s_workload_has_drainable_pdb, stack_args(without(two_services(), "orders-pdb")))
    assert found == [
        f"{urn(DEPLOYMENT_TYPE, 'orders-deployment')}: Deployment grpc-orders/orders has no "
        "PodDisruptionBudget selecting its pods"
    ]


def test_another_services_pdb_does_not_cover_a_service() -> None:
    # orders' PDB moved into greeter's namespace: greeter now has two budgets, orders none.
    stack = two_services()
    moved = props_of(stack, "orders-pdb")
    moved["metadata"]["namespace"] = "grpc-greeter"
    moved["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "greeter"}}
    found = violations(k8s_workload_has_drainable_pdb, stack_args(replaced(stack, "orders-pdb", moved)))
    assert len(found) == 2
    assert "Deployment grpc-orders/orders has no PodDisruptionBudget" in found[1]
    assert "Deployment grpc-greeter/greeter: its pods are selected by 2 PodDisruptionBudgets" in found[0]


def test_pods_selected_by_two_services_pdbs_are_flagged_for_both() -> None:
    # Two services in one namespace; orders' PDB selects by the label every service's pods carry.
    shared = "grpc-shared"
    stack = [
        *platform(),
        *service_resources(Service("greeter", shared)),
        *service_resources(Service("orders", shared, keda=True), namespace=False),
    ]
    broad = changed(
        props_of(stack, "orders-pdb"), spec__selector__matchLabels={"app.kubernetes.io/part-of": "aks-grpc"}
    )
    found = violations(k8s_workload_has_drainable_pdb, stack_args(replaced(stack, "orders-pdb", broad)))
    assert found == [
        f"{urn(DEPLOYMENT_TYPE, 'greeter-deployment')}: Deployment grpc-shared/greeter: its pods are "
        "selected by 2 PodDisruptionBudgets (grpc-shared/greeter, grpc-shared/orders); the eviction API "
        "refuses to evict a pod covered by more than one, drains and upgrades stall",
    ]


def test_a_pdb_is_named_by_its_own_resource_when_it_has_no_metadata_name() -> None:
    stack = two_services()
    pdb = changed(props_of(stack, "orders-pdb"), spec__maxUnavailable=None, spec__minAvailable=2.0)
    del pdb["spec"]["maxUnavailable"]
    del pdb["metadata"]["name"]
    found = violations(k8s_workload_has_drainable_pdb, stack_args(replaced(stack, "orders-pdb", pdb)))
    assert len(found) == 1
    assert "PodDisruptionBudget grpc-orders/orders-pdb needs minAvailable 2" in found[0]
    assert found[0].startswith(urn(DEPLOYMENT_TYPE, "orders-deployment"))


def test_a_service_in_an_unmeshed_namespace_is_flagged_alone() -> None:
    found = violations(
        next(p for p in STACK_POLICIES if p.name == "istio-meshed-namespace-strict-mtls"),
        stack_args(without(two_services(), "orders-mtls")),
    )
    assert found == [
        f"{urn(NAMESPACE_TYPE, 'orders-namespace')}: meshed namespace grpc-orders has no namespace-wide "
        "STRICT PeerAuthentication"
    ]


def test_an_autoscaler_copied_from_another_service_is_flagged() -> None:
    # orders' ScaledObject still targets greeter: there is no greeter Deployment in grpc-orders.
    stack = two_services()
    copied = changed(props_of(stack, "orders-autoscaler"), spec__scaleTargetRef__name="greeter")
    found = violations(k8s_autoscaler_target_exists, stack_args(replaced(stack, "orders-autoscaler", copied)))
    assert found == [
        f"{urn(SCALED_OBJECT_TYPE, 'orders-autoscaler')}: orders-autoscaler: scaleTargetRef Deployment "
        "grpc-orders/greeter is not part of the stack"
    ]


def test_every_autoscaler_with_a_missing_target_is_flagged() -> None:
    # Two autoscalers point at one missing workload: neither may hide the other.
    stack = two_services()
    hpa = changed(props_of(stack, "greeter-autoscaler"), spec__scaleTargetRef__name="gone")
    extra = changed(hpa, metadata__name="greeter-extra")
    stack = [*replaced(stack, "greeter-autoscaler", hpa), StackResource(HPA_TYPE, "greeter-extra", extra)]
    found = violations(k8s_autoscaler_target_exists, stack_args(stack))
    assert [f.split(": ")[1] for f in found] == ["greeter-autoscaler", "greeter-extra"]


@pytest.mark.parametrize("low_first", [True, False])
def test_the_lowest_minimum_of_two_autoscalers_decides_the_pdb_check(low_first: bool) -> None:
    # minAvailable 2 is fine at 3 replicas, not at 2: whichever autoscaler is listed last.
    stack = two_services()
    pdb = changed(props_of(stack, "greeter-pdb"), spec__minAvailable=2.0)
    del pdb["spec"]["maxUnavailable"]
    low = changed(props_of(stack, "greeter-autoscaler"), spec__minReplicas=2.0)
    high = changed(low, metadata__name="greeter-high", spec__minReplicas=3.0)
    scalers = [StackResource(HPA_TYPE, "greeter-low", low), StackResource(HPA_TYPE, "greeter-high", high)]
    stack = [
        *replaced(without(stack, "greeter-autoscaler"), "greeter-pdb", pdb),
        *(scalers if low_first else scalers[::-1]),
    ]
    found = violations(k8s_workload_has_drainable_pdb, stack_args(stack))
    assert len(found) == 1
    assert "needs minAvailable 2.0 of 2 replicas of Deployment greeter" in found[0]


def test_replicas_on_one_service_are_flagged_alone_even_with_the_same_name_elsewhere() -> None:
    # Both namespaces run a Deployment called "app"; only grpc-a's is autoscaled.
    a, b = Service("app", "grpc-a"), Service("app", "grpc-b")
    stack = [*platform(), *service_resources(a)]
    stack += [
        StackResource(r.type, f"b-{r.name}", r.props, r.dependencies)
        for r in service_resources(b)
        if r.type != HPA_TYPE
    ]
    unscaled_with_replicas = changed(props_of(stack, "b-app-deployment"), spec__replicas=2.0)
    stack = replaced(stack, "b-app-deployment", unscaled_with_replicas)
    assert violations(k8s_no_replicas_with_autoscaler, stack_args(stack)) == []
    scaled_with_replicas = changed(props_of(stack, "app-deployment"), spec__replicas=2.0)
    found = violations(
        k8s_no_replicas_with_autoscaler, stack_args(replaced(stack, "app-deployment", scaled_with_replicas))
    )
    assert len(found) == 1
    assert found[0].startswith(f"{urn(DEPLOYMENT_TYPE, 'app-deployment')}: Deployment grpc-a/app sets")


def test_the_vault_every_service_reads_is_flagged_once() -> None:
    stack = two_services()
    vault = changed(props_of(stack, "vault"), properties__networkAcls__ipRules=[])
    found = violations(keyvault_admits_cluster_egress, stack_args(replaced(stack, "vault", vault)))
    assert found == [
        f"{urn(VAULT_TYPE, 'vault')}: vault kv-grpc-dev-weu-1a2b is read by a SecretProviderClass but its "
        "firewall does not admit the cluster's egress IP 203.0.113.7 (pip-grpc-dev-weu-aks-egress)"
    ]
