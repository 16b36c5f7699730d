"""Tags: every taggable Azure resource carries the stack's required tags.

The pack cannot import the provider SDK (own small venv), so `TAGGABLE_TYPES` is a list;
tests/policy/test_policy_pack.py checks it against the SDK for every type in every stack's plan.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from .helpers import (
    MANDATORY,
    as_map,
    azure_type,
    resource_policy,
)

REQUIRED_TAGS = ("environment", "project", "managed-by")
"""The tags the platform sets on every resource (program/settings/ standard_tags); restated, the pack
does not import components. Every stack's plan passing this policy (test_policy_pack.py) keeps them equal."""
TAGGABLE_TYPES = frozenset(
    {
        "resources:ResourceGroup",
        "containerservice:ManagedCluster",
        "containerservice:AgentPool",
        "containerregistry:Registry",
        "keyvault:Vault",
        "keyvault:Secret",
        "keyvault:Key",
        "managedidentity:UserAssignedIdentity",
        "operationalinsights:Workspace",
        "applicationinsights:Component",
        "monitor:AzureMonitorWorkspace",
        "monitor:DataCollectionEndpoint",
        "monitor:DataCollectionRule",
        "monitor:ActionGroup",
        "monitor:MetricAlert",
        "monitor:ScheduledQueryRule",
        "monitor:ActivityLogAlert",
        "alertsmanagement:PrometheusRuleGroup",
        "dashboard:Grafana",
        "apimanagement:ApiManagementService",
        "apimanagement:NamedValue",
        "network:VirtualNetwork",
        "network:NetworkSecurityGroup",
        "network:PublicIPAddress",
        "network:PublicIPPrefix",
        "network:NatGateway",
        "network:PrivateEndpoint",
        "network:RouteTable",
    }
)
"""azure-native types whose inputs take `tags` (checked against the SDK for every type in the plan)."""


def _tags(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    tags = props.get("tags")
    if tags is None and azure_type(resource_type) not in TAGGABLE_TYPES:
        return
    present = as_map(tags)
    missing = [t for t in REQUIRED_TAGS if not present.get(t)]
    if missing:
        yield f"tags lack {', '.join(missing)}"


azure_required_tags = resource_policy(
    "azure-required-tags",
    f"Taggable Azure resources carry the tags {', '.join(REQUIRED_TAGS)}.",
    MANDATORY,
    lambda resource_type: azure_type(resource_type) is not None,
    _tags,
    "Register the stack tagging transformation (components.tagging.apply_stack_tags) before any resource.",
    "AP: Require a tag on resources",
)
