"""Deployment time: the APIM service takes 30-60 minutes to create, so nothing but API Management's own
children and the in-cluster gateway may wait on it. Walks the whole dev and prod plans' `dependencies`
and `parent` edges transitively."""

import pytest

from tests.conftest import STACKS
from tools.mock_engine import Plan, RecordedResource

APIM_SERVICE = "azure-native:apimanagement:ApiManagementService"
API_GATEWAY_COMPONENT = "aksgrpc:index:GrpcApiGateway"


def waits_on(plan: Plan, resource: RecordedResource) -> set[str]:
    """Every URN `resource` waits for, directly or transitively (dependencies and parents)."""
    by_urn = {r.urn: r for r in plan.resources}
    seen: set[str] = set()
    stack = [resource]
    while stack:
        current = stack.pop()
        edges = [*current.dependencies, *([current.parent] if current.parent else [])]
        for urn in edges:
            if urn not in seen:
                seen.add(urn)
                if urn in by_urn:
                    stack.append(by_urn[urn])
    return seen


def ancestors(plan: Plan, resource: RecordedResource) -> set[str]:
    by_urn = {r.urn: r for r in plan.resources}
    result: set[str] = set()
    parent = resource.parent
    while parent:
        result.add(parent)
        parent = by_urn[parent].parent if parent in by_urn else None
    return result


def apim_service(plan: Plan) -> RecordedResource:
    return plan.one(APIM_SERVICE)


def waiting_on_apim(plan: Plan) -> list[RecordedResource]:
    service = apim_service(plan)
    return [r for r in plan.resources if service.urn in waits_on(plan, r)]


@pytest.fixture(params=[*[s for s in STACKS if s in ("dev", "prod")], "two-services"])
def plan(request, stack_plan) -> Plan:
    return stack_plan(request.param)


def test_the_plan_contains_the_apim_service_and_the_in_cluster_gateway(plan):
    assert apim_service(plan)
    assert [
        r for r in plan.resources if r.type == "kubernetes:apps/v1:Deployment" and r.name == "api-deployment"
    ]


def test_only_api_gateway_children_wait_on_the_apim_service(plan):
    component = plan.one(API_GATEWAY_COMPONENT)
    outside = [
        f"{r.type} {r.name}"
        for r in waiting_on_apim(plan)
        if component.urn not in ancestors(plan, r) and r.type != "pulumi:pulumi:Stack"
    ]
    assert outside == []


@pytest.mark.parametrize(
    "resource_type",
    [
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:keyvault:Vault",
        "pulumi:providers:kubernetes",
        "tls:index/locallySignedCert:LocallySignedCert",
    ],
)
def test_cluster_identities_vault_and_backend_certificate_do_not_wait_on_apim(plan, resource_type):
    service = apim_service(plan)
    resources = plan.of_type(resource_type)
    assert resources, f"the plan has no {resource_type}"
    for resource in resources:
        assert service.urn not in waits_on(plan, resource), f"{resource_type} {resource.name} waits on APIM"


def test_no_service_object_waits_on_apim(plan):
    service = apim_service(plan)
    for component_type in ("aksgrpc:index:GrpcService", "aksgrpc:index:ServicePlatform"):
        for component in plan.of_type(component_type):
            children = [r for r in plan.resources if component.urn in ancestors(plan, r)]
            assert children, component.name
            assert [r.name for r in children if service.urn in waits_on(plan, r)] == []


def test_backend_tls_secret_does_not_wait_on_apim(plan):
    secret = plan.one("azure-native:keyvault:Secret", "greeter-backend-tls-secret")
    assert apim_service(plan).urn not in waits_on(plan, secret)


def test_within_the_api_gateway_only_apim_children_and_in_cluster_gateway_objects_wait(plan):
    """The gateway's Entra app, its federated credential, role definitions, namespace and ServiceAccount
    can be created while APIM is still provisioning."""
    service = apim_service(plan)
    independent = [
        ("azuread:index/application:Application", "api-gateway-app"),
        ("azuread:index/servicePrincipal:ServicePrincipal", "api-gateway-sp"),
        (
            "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
            "api-gateway-federated",
        ),
        ("azure-native:authorization:RoleDefinition", "api-role-validator"),
        ("azure-native:authorization:RoleDefinition", "api-role-reader"),
        ("kubernetes:core/v1:Namespace", "api-namespace"),
        ("kubernetes:core/v1:ServiceAccount", "api-service-account"),
    ]
    for resource_type, name in independent:
        assert service.urn not in waits_on(plan, plan.one(resource_type, name)), name


def test_the_walk_does_see_the_in_cluster_gateway_waiting_on_apim(plan):
    """Guards the walk itself: the gateway Deployment needs the APIM gateway, so it must be found."""
    names = {r.name for r in waiting_on_apim(plan)}
    assert {"api-deployment", "api-config", "api-greeter-api", "api-gateway"} <= names
