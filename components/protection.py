"""`protect` on the resources that hold state, applied once for the whole stack.

A stack transformation sees every resource the program registers, children of components included
(the same mechanism as components/tagging.py), so the list below is the one place that says what is
stateful: a cluster (its workloads, its OIDC issuer that federated credentials trust), a vault (its
name stays taken 90 days after deletion under purge protection), the log and metric workspaces (their
history), API Management (30-60 minutes to create, its gateway keys) and the registry (its images).

With `protect`, a plan that would delete or replace one of them fails before touching Azure, for
example after an edit of a create-only setting (`networkProfile`, a node pool's `vmSize`), which
azure-native performs as a replacement. `aks-grpc:protectStatefulResources: false` turns it off for a
deliberate `pulumi destroy` (docs/operations.md).
"""

import pulumi

STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "azure-native:containerservice:ManagedCluster",
        "azure-native:keyvault:Vault",
        "azure-native:operationalinsights:Workspace",
        "azure-native:monitor:AzureMonitorWorkspace",
        "azure-native:apimanagement:ApiManagementService",
        "azure-native:containerregistry:Registry",
    }
)
"""Type tokens of the resources that get `protect`."""


def protection_transformation() -> pulumi.ResourceTransformation:
    """A transformation that sets `protect` on every resource of `STATEFUL_TYPES`."""

    def protect(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ not in STATEFUL_TYPES:
            return None
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True))
        )

    return protect


def apply_stack_protection(enabled: bool) -> None:
    """Register the protection transformation for the whole stack when `enabled` (call before any resource)."""
    if enabled:
        pulumi.runtime.register_stack_transformation(protection_transformation())
