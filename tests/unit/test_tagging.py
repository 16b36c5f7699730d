"""The one tagging mechanism: every taggable azure-native resource gets the stack tags."""

import pulumi
from pulumi_azure_native import authorization, resources

from components.tagging import apply_stack_tags

STACK_TAGS = {"environment": "dev", "project": "aks-grpc", "managed-by": "pulumi"}


def test_stack_tags_reach_taggable_resources_and_win_over_a_resource_own_tags(run_mocked):
    def program() -> None:
        apply_stack_tags(STACK_TAGS)
        resources.ResourceGroup("plain", resource_group_name="rg-a")
        resources.ResourceGroup(
            "own", resource_group_name="rg-b", tags={"owner": "team", "environment": "sandbox"}
        )

    plan = run_mocked(program)
    assert plan.one("azure-native:resources:ResourceGroup", "plain").inputs["tags"] == STACK_TAGS
    assert plan.one("azure-native:resources:ResourceGroup", "own").inputs["tags"] == {
        **STACK_TAGS,
        "owner": "team",
    }


def test_resources_without_tags_are_left_alone(run_mocked):
    def program() -> None:
        apply_stack_tags(STACK_TAGS)
        authorization.ManagementLockByScope("lock", scope="/subscriptions/x", level="CanNotDelete")
        pulumi.ComponentResource("aksgrpc:test:Thing", "thing")

    plan = run_mocked(program)
    assert "tags" not in plan.one("azure-native:authorization:ManagementLockByScope").inputs


def test_a_components_tags_knob_is_kept_beside_the_stack_tags_which_win_on_a_clash(run_mocked):
    from components.identity import WorkloadIdentity, WorkloadIdentityArgs

    def program() -> None:
        apply_stack_tags(STACK_TAGS)
        WorkloadIdentity(
            "wi",
            WorkloadIdentityArgs(
                resource_group_name="rg",
                location="westeurope",
                name="id-orders",
                oidc_issuer_url="https://issuer.example/",
                namespace="orders",
                service_account="orders",
                subscription_id="00000000-0000-0000-0000-000000000000",
                tags={"team": "orders", "environment": "sandbox"},
            ),
        )

    plan = run_mocked(program)
    assert plan.one("azure-native:managedidentity:UserAssignedIdentity").inputs["tags"] == {
        **STACK_TAGS,
        "team": "orders",
    }
