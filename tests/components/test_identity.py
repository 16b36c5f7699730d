"""WorkloadIdentity under the mock engine: identity, federated credentials and scoped roles."""

from collections.abc import Callable
from typing import Any

import pytest

from components import azure_ids
from components.common import LockLevel, PrincipalType, RoleAssignmentArgs
from components.identity import (
    FederatedServiceAccountArgs,
    IdentityRoleArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    federated_credential_name,
    service_account_subject,
    validate_workload_identity_args,
)
from components.naming import RULES
from tools.mock_engine import SUBSCRIPTION_ID, Plan

ISSUER = "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
VAULT_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-x"


def _args(**overrides: Any) -> WorkloadIdentityArgs:
    values: dict[str, Any] = dict(
        resource_group_name="rg",
        location="westeurope",
        name="id-grpc-dev-weu-greeter",
        oidc_issuer_url=ISSUER,
        namespace="grpc-greeter",
        service_account="greeter",
        subscription_id=SUBSCRIPTION_ID,
        roles=[IdentityRoleArgs(scope=VAULT_ID, role_definition_id=azure_ids.KEY_VAULT_SECRETS_USER)],
    )
    values.update(overrides)
    return WorkloadIdentityArgs(**values)


@pytest.fixture
def plan(run_mocked: Callable[..., Plan]) -> Plan:
    return run_mocked(
        lambda: WorkloadIdentity(
            "wi",
            _args(additional_service_accounts=[FederatedServiceAccountArgs("kube-system", "keda-operator")]),
        )
    )


def test_federated_credential_trusts_exactly_the_service_account_on_the_cluster_issuer(plan: Plan) -> None:
    fic = plan.one("azure-native:managedidentity:FederatedIdentityCredential", "wi-fic").inputs
    assert fic["subject"] == "system:serviceaccount:grpc-greeter:greeter"
    assert fic["issuer"] == ISSUER
    assert fic["audiences"] == ["api://AzureADTokenExchange"]
    assert fic["resourceName"] == "id-grpc-dev-weu-greeter"
    assert fic["federatedIdentityCredentialResourceName"] == "fic-grpc-greeter-greeter"


def test_further_service_accounts_get_their_own_credential_created_after_the_previous(plan: Plan) -> None:
    first = plan.one("azure-native:managedidentity:FederatedIdentityCredential", "wi-fic")
    second = plan.one("azure-native:managedidentity:FederatedIdentityCredential", "wi-fic-1")
    assert second.inputs["subject"] == "system:serviceaccount:kube-system:keda-operator"
    assert first.urn in second.dependencies  # Azure refuses concurrent credential writes on one identity


def test_identity_gets_its_role_on_the_given_scope_only(plan: Plan) -> None:
    (assignment,) = plan.of_type("azure-native:authorization:RoleAssignment")
    identity = plan.one("azure-native:managedidentity:UserAssignedIdentity")
    assert identity.inputs["resourceName"] == "id-grpc-dev-weu-greeter"
    assert assignment.inputs["scope"] == VAULT_ID
    assert assignment.inputs["roleDefinitionId"].endswith(
        f"/roleDefinitions/{azure_ids.KEY_VAULT_SECRETS_USER}"
    )
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert assignment.parent == plan.one("aksgrpc:index:WorkloadIdentity").urn


def test_credential_names_fit_the_azure_rule() -> None:
    assert RULES["federated_credential"].check(federated_credential_name("a" * 63, "b" * 253))
    assert service_account_subject("ns", "sa") == "system:serviceaccount:ns:sa"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "x"}, "name"),
        ({"namespace": "Bad_NS"}, "namespace"),
        ({"service_account": ""}, "service_account"),
        (
            {"additional_service_accounts": [FederatedServiceAccountArgs("grpc-greeter", "greeter")]},
            "additional_service_accounts",
        ),
        ({"lock": "Sometimes"}, "lock"),
    ],
)
def test_invalid_args_are_rejected_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        validate_workload_identity_args(_args(**overrides))


def test_lock_tags_and_role_assignments_land_on_the_identity(run_mocked: Callable[..., Plan]) -> None:
    operator = "22222222-3333-4444-8555-666666666666"
    plan = run_mocked(
        lambda: WorkloadIdentity(
            "wi",
            _args(
                tags={"team": "orders"},
                lock=LockLevel.CAN_NOT_DELETE,
                role_assignments=[
                    RoleAssignmentArgs(
                        principal_id=operator,
                        role_definition_id=MANAGED_IDENTITY_OPERATOR,
                        principal_type=PrincipalType.GROUP,
                    )
                ],
            ),
        )
    )
    identity = plan.one("azure-native:managedidentity:UserAssignedIdentity")
    assert identity.inputs["tags"] == {"team": "orders"}
    lock = plan.one("azure-native:authorization:ManagementLockByScope").inputs
    assert lock["level"] == "CanNotDelete"
    on_identity = [
        r.inputs for r in plan.of_type("azure-native:authorization:RoleAssignment") if r.name == "wi-ra-0"
    ]
    assert [(a["principalId"], a["principalType"]) for a in on_identity] == [(operator, "Group")]
    assert on_identity[0]["roleDefinitionId"].endswith(MANAGED_IDENTITY_OPERATOR)
    assert lock["scope"] == on_identity[0]["scope"] != VAULT_ID
    assert lock["scope"].endswith("/userAssignedIdentities/id-grpc-dev-weu-greeter")


def test_without_knobs_the_identity_has_no_tags_and_no_lock(plan: Plan) -> None:
    assert "tags" not in plan.one("azure-native:managedidentity:UserAssignedIdentity").inputs
    assert plan.of_type("azure-native:authorization:ManagementLockByScope") == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tags": {"x" * 513: "v"}}, r"^tags: "),
        ({"tags": {"k": "v" * 257}}, r"^tags\.k: "),
        (
            {
                "role_assignments": [
                    RoleAssignmentArgs(principal_id="me", role_definition_id=MANAGED_IDENTITY_OPERATOR)
                ]
            },
            r"^role_assignments\[0\]\.principal_id: ",
        ),
    ],
)
def test_bad_knobs_are_refused_naming_them(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_workload_identity_args(_args(**overrides))
