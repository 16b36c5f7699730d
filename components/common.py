"""The uniform knobs every Azure-facing component takes (after Azure Verified Modules).

`role_assignments`, `diagnostics` and `lock` are spelled and built the same way everywhere, through
the three helpers below, so a reader who learned one component knows how to wire the others.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, monitor

from components.naming import deterministic_guid


@dataclass
class RoleAssignmentArgs:
    """One role for one principal on the component's main resource."""

    principal_id: pulumi.Input[str]
    """Object id of the user, group or service principal."""
    role_definition_id: str
    """Built-in role GUID (see components/azure_ids.py) or a full role definition resource id."""
    principal_type: str = "ServicePrincipal"
    """`ServicePrincipal`, `User` or `Group`: saves Azure a directory lookup and avoids replication races."""
    description: str = ""


def role_definition_resource_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    """`/subscriptions/<sub>/providers/Microsoft.Authorization/roleDefinitions/<guid>` for a role GUID."""
    if role.startswith("/"):
        return pulumi.Output.from_input(role)
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role
    )


def role_assignment(
    name: str,
    *,
    scope: pulumi.Input[str],
    assignment: RoleAssignmentArgs,
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions | None = None,
) -> authorization.RoleAssignment:
    """A role assignment whose Azure name is a GUID derived from scope, principal and role.

    The same inputs give the same name on every run, so re-deploying never creates duplicates and a
    change of principal or scope replaces the assignment cleanly (never random GUIDs).
    """
    role_id = role_definition_resource_id(subscription_id, assignment.role_definition_id)
    guid = pulumi.Output.all(scope, assignment.principal_id, role_id).apply(
        lambda parts: deterministic_guid(str(parts[0]), str(parts[1]), str(parts[2]))
    )
    return authorization.RoleAssignment(
        name,
        authorization.RoleAssignmentArgs(
            role_assignment_name=guid,
            scope=scope,
            principal_id=assignment.principal_id,
            principal_type=assignment.principal_type,
            role_definition_id=role_id,
            description=assignment.description or None,
        ),
        opts=opts,
    )


def role_assignments(
    name: str,
    *,
    scope: pulumi.Input[str],
    assignments: Sequence[RoleAssignmentArgs],
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions | None = None,
) -> list[authorization.RoleAssignment]:
    """The `role_assignments` knob: one assignment per entry, named `<name>-ra-<index>`."""
    return [
        role_assignment(f"{name}-ra-{index}", scope=scope, assignment=a, subscription_id=subscription_id, opts=opts)
        for index, a in enumerate(assignments)
    ]


def diagnostic_setting(
    name: str,
    *,
    resource_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    categories: Sequence[str],
    metrics: bool = True,
    opts: pulumi.ResourceOptions | None = None,
) -> monitor.DiagnosticSetting:
    """The `diagnostics` knob: send the named log categories (and metrics) to Log Analytics.

    Resource-specific tables (`Dedicated`) where the service supports them keep queries cheap.
    """
    return monitor.DiagnosticSetting(
        name,
        monitor.DiagnosticSettingArgs(
            name="diag-log-analytics",
            resource_uri=resource_id,
            workspace_id=workspace_id,
            log_analytics_destination_type="Dedicated",
            logs=[monitor.LogSettingsArgs(category=c, enabled=True) for c in categories],
            metrics=[monitor.MetricSettingsArgs(category="AllMetrics", enabled=True)] if metrics else None,
        ),
        opts=opts,
    )


def management_lock(
    name: str,
    *,
    scope: pulumi.Input[str],
    level: str | None,
    opts: pulumi.ResourceOptions | None = None,
) -> authorization.ManagementLockByScope | None:
    """The `lock` knob: `CanNotDelete` or `ReadOnly` on the component's main resource, or none."""
    if not level:
        return None
    return authorization.ManagementLockByScope(
        name,
        authorization.ManagementLockByScopeArgs(
            scope=scope,
            level=level,
            lock_name=f"lock-{level.lower()}",
            notes="Managed by aks-grpc (Pulumi). Remove the lock in the stack config before deleting.",
        ),
        opts=opts,
    )
