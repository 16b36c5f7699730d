"""The uniform knobs every Azure-facing component takes (after Azure Verified Modules).

`role_assignments`, `diagnostics` and `lock` are spelled and built the same way everywhere, through
the three helpers below, so a reader who learned one component knows how to wire the others.
"""

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, monitor

from .naming import deterministic_guid


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


def deployer_principal_type(configured: str = "auto", environ: Mapping[str, str] = os.environ) -> str:
    """The principal type of whoever runs the program, for the role assignments it gives itself.

    Azure rejects an assignment whose principal type is wrong, and every component must agree, so this
    is the only place that decides: a configured `User`/`ServicePrincipal` wins, then the environment
    variable `AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE`; otherwise the azure-native provider runs as a service
    principal (or managed identity) exactly when `ARM_CLIENT_ID` is set (CI), and as the Azure CLI's
    signed-in user when it is not.
    """
    if configured != "auto":
        return configured
    explicit = environ.get("AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE", "")
    if explicit:
        return explicit
    return "ServicePrincipal" if environ.get("ARM_CLIENT_ID") else "User"


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
        role_assignment(
            f"{name}-ra-{index}", scope=scope, assignment=a, subscription_id=subscription_id, opts=opts
        )
        for index, a in enumerate(assignments)
    ]


def diagnostic_setting(
    name: str,
    *,
    resource_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    categories: Sequence[str] = (),
    metrics: bool = True,
    category_groups: Sequence[str] = (),
    opts: pulumi.ResourceOptions | None = None,
) -> monitor.DiagnosticSetting:
    """The `diagnostics` knob: send the named log categories (and metrics) to Log Analytics.

    `categories` name log categories (`kube-audit-admin`, `AuditEvent`, `GatewayLogs`);
    `category_groups` name groups (`allLogs`, `audit`) for services that define them. Resource-specific
    tables (`Dedicated`) where the service supports them keep queries cheap; Azure falls back to
    `AzureDiagnostics` for services without them.
    """
    validate_diagnostic_categories(categories, category_groups, metrics)
    logs = [monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in categories] + [
        monitor.DiagnosticsLogSettingsArgs(category_group=g, enabled=True) for g in category_groups
    ]
    return monitor.DiagnosticSetting(
        name,
        monitor.DiagnosticSettingArgs(
            name="diag-log-analytics",
            resource_uri=resource_id,
            workspace_id=workspace_id,
            log_analytics_destination_type="Dedicated",
            logs=logs or None,
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)]
            if metrics
            else None,
        ),
        opts=opts,
    )


def validate_diagnostic_categories(
    categories: Sequence[str], category_groups: Sequence[str], metrics: bool
) -> None:
    """A diagnostic setting must send something, and each category once (Azure rejects duplicates)."""
    if isinstance(categories, str) or isinstance(category_groups, str):
        raise ValueError("diagnostics categories: pass a list of category names, not one string")
    if not categories and not category_groups and not metrics:
        raise ValueError("diagnostics: give at least one log category, category group or metrics=True")
    for field_name, values in (("categories", categories), ("category_groups", category_groups)):
        duplicates = sorted({v for v in values if list(values).count(v) > 1})
        if duplicates:
            raise ValueError(f"diagnostics {field_name}: {', '.join(duplicates)} listed more than once")


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
