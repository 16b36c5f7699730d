"""Azure RBAC propagation is a real resource in the graph: Kubernetes objects wait for the deployer's
cluster-admin assignment to propagate, custom-role assignments wait for the definitions to replicate,
and the APIM service waits on neither. Walks the dev and prod plans' dependency, parent and provider
edges transitively."""

import pytest

from components.propagation import AKS_RBAC_PROPAGATION, ROLE_DEFINITION_PROPAGATION
from tests.conftest import PLANNED_STACKS
from tools.mock_engine import Plan, RecordedResource

SLEEP = "time:index/sleep:Sleep"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
APIM_SERVICE = "azure-native:apimanagement:ApiManagementService"


def waits_on(plan: Plan, resource: RecordedResource) -> set[str]:
    """Every URN `resource` waits for, directly or transitively: dependencies, parents and the explicit
    provider (the engine creates a provider before any resource that uses it)."""
    by_urn = {r.urn: r for r in plan.resources}
    seen: set[str] = set()
    stack = [resource]
    while stack:
        current = stack.pop()
        edges = [*current.dependencies, *(u for u in (current.parent, current.provider) if u)]
        for urn in edges:
            if urn not in seen:
                seen.add(urn)
                if urn in by_urn:
                    stack.append(by_urn[urn])
    return seen


@pytest.fixture(params=[s for s in PLANNED_STACKS if s in ("dev", "prod", "two-services")])
def plan(request, stack_plan) -> Plan:
    return stack_plan(request.param)


def _rbac_sleep(plan: Plan) -> RecordedResource:
    return plan.one(SLEEP, "cluster-rbac-propagation")


def _roles_sleep(plan: Plan) -> RecordedResource:
    return plan.one(SLEEP, "api-role-definitions-propagation")


def test_rbac_sleep_waits_after_the_deployer_cluster_admin_assignment(plan):
    sleep = _rbac_sleep(plan)
    assignment = plan.one(ROLE_ASSIGNMENT, "cluster-deployer-admin")
    assert assignment.urn in sleep.dependencies
    assert sleep.inputs["createDuration"] == AKS_RBAC_PROPAGATION == "5m"
    # Only creation waits: no destroy delay; re-created only when the assignment itself is new.
    assert set(sleep.inputs) == {"createDuration", "triggers"}
    (trigger,) = sleep.inputs["triggers"].values()
    assert trigger.endswith(f"/roleAssignments/{assignment.inputs['roleAssignmentName']}")
    assert assignment.inputs["roleDefinitionId"].endswith("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")


def test_every_kubernetes_object_waits_on_the_rbac_sleep(plan):
    sleep = _rbac_sleep(plan)
    objects = [r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert len(objects) > 20
    assert [f"{r.type} {r.name}" for r in objects if sleep.urn not in waits_on(plan, r)] == []
    provider = plan.one("pulumi:providers:kubernetes")
    assert sleep.urn in provider.dependencies


def test_custom_role_assignments_wait_on_a_sleep_after_both_definitions(plan):
    sleep = _roles_sleep(plan)
    definitions = plan.of_type(ROLE_DEFINITION)
    assert len(definitions) == 2
    assert {d.urn for d in definitions} <= set(sleep.dependencies)
    assert sleep.inputs["createDuration"] == ROLE_DEFINITION_PROPAGATION
    assert set(sleep.inputs) == {"createDuration", "triggers"}
    assert sorted(sleep.inputs["triggers"].values()) == sorted(
        f"{d.inputs['scope']}/providers/Microsoft.Authorization/roleDefinitions/{d.inputs['roleDefinitionId']}"
        for d in definitions
    )
    custom = {d.inputs["roleDefinitionId"] for d in definitions}
    users = [
        a for a in plan.of_type(ROLE_ASSIGNMENT) if a.inputs["roleDefinitionId"].rsplit("/", 1)[-1] in custom
    ]
    assert {a.name for a in users} == {"api-ra-validator", "api-ra-reader"}
    for assignment in users:
        assert sleep.urn in assignment.dependencies, assignment.name


def test_the_apim_service_waits_on_no_sleep(plan):
    service = plan.one(APIM_SERVICE)
    sleeps = {s.urn for s in plan.of_type(SLEEP)}
    assert len(sleeps) == 3  # cluster admin, custom roles, AcrPush (the built image)
    assert sleeps & waits_on(plan, service) == set()


def test_the_role_definition_sleep_does_not_wait_on_apim(plan):
    """It runs beside the 30-60 minute APIM creation, so its wait is free on the first deploy."""
    assert plan.one(APIM_SERVICE).urn not in waits_on(plan, _roles_sleep(plan))
