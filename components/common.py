"""The uniform knobs every Azure-facing component takes (after Azure Verified Modules' shared types).

One spelling everywhere, so a reader who learned one component knows how to wire the others:

- `tags: dict[str, str]`: tags of the component's taggable resources (the stack's standard tags are
  added on top by components/tagging.py);
- `lock: LockLevel | None`: a management lock on the component's main resource(s);
- `role_assignments: list[RoleAssignmentArgs]`: roles of other principals on the main resource;
- `diagnostics: DiagnosticsArgs | None`: resource logs and metrics to a Log Analytics workspace;
- `location: pulumi.Input[str]`: the Azure region.

The helpers below (`management_lock`, `role_assignments`, `diagnostic_settings`, `resource_tags`) build
them, and the `validate_*` functions hold what Azure itself refuses, so a component calls them up
front and the settings layer can call the same ones.
"""

import copy
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, monitor

from .naming import deterministic_guid


class LockLevel(enum.StrEnum):
    """A management lock's level (Azure docs: "Lock your resources to protect your infrastructure")."""

    CAN_NOT_DELETE = "CanNotDelete"
    """Authorized users can read and modify the resource but not delete it."""
    READ_ONLY = "ReadOnly"
    """Authorized users can read the resource but not modify or delete it."""


class PrincipalType(enum.StrEnum):
    """The kind of principal a role assignment is for (`principalType` of Microsoft.Authorization)."""

    USER = "User"
    SERVICE_PRINCIPAL = "ServicePrincipal"
    """Service principals, managed identities and workload identities."""
    GROUP = "Group"


def validate_principal_type(
    value: "PrincipalType | str", field_name: str = "principal_type"
) -> PrincipalType:
    """The `PrincipalType` of `value`; Azure rejects any other principal type."""
    try:
        return PrincipalType(value)
    except ValueError:
        allowed = ", ".join(p.value for p in PrincipalType)
        raise ValueError(f"{field_name}: {value!r} is not a principal type ({allowed})") from None


def validate_lock_level(value: "LockLevel | str | None", field_name: str = "lock") -> LockLevel | None:
    """The `LockLevel` of `value` (None or empty: no lock); Azure knows only these two levels."""
    if value is None or value == "":
        return None
    try:
        return LockLevel(value)
    except ValueError:
        raise ValueError(f"{field_name}: {value!r} must be CanNotDelete, ReadOnly or None") from None


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ROLE_DEFINITION_ID = re.compile(r"/.*/providers/Microsoft\.Authorization/roleDefinitions/" + _GUID.pattern)


@dataclass(init=False)
class RoleAssignmentArgs:
    """One role for one principal on the component's main resource (the `role_assignments` knob)."""

    principal_id: pulumi.Input[str]
    """Object id of the user, group or service principal."""
    role_definition_id: str
    """Built-in role GUID (see components/azure_ids.py) or a full role definition resource id."""
    principal_type: PrincipalType = PrincipalType.SERVICE_PRINCIPAL
    """Saves Azure a directory lookup and avoids replication races (Azure rejects a wrong one)."""
    description: str = ""
    """Shown next to the assignment in the portal."""

    def __init__(
        self,
        principal_id: pulumi.Input[str],
        role_definition_id: str,
        principal_type: "PrincipalType | str" = PrincipalType.SERVICE_PRINCIPAL,
        description: str = "",
    ) -> None:
        # The plain spelling (`"Group"`) is accepted, and type-checks, for callers written before the
        # enum; the field itself is always a PrincipalType, and anything else is refused here.
        self.principal_id = principal_id
        self.role_definition_id = role_definition_id
        self.principal_type = validate_principal_type(principal_type)
        self.description = description


def validate_role_assignments(
    assignments: Sequence[RoleAssignmentArgs], field_name: str = "role_assignments"
) -> None:
    """Each role is a role definition GUID or full id, for a known principal type, listed once."""
    seen: set[tuple[str, str]] = set()
    for index, assignment in enumerate(assignments):
        where = f"{field_name}[{index}]"
        role = assignment.role_definition_id
        if not (_GUID.fullmatch(role) or _ROLE_DEFINITION_ID.fullmatch(role)):
            raise ValueError(
                f"{where}.role_definition_id: {role!r} is neither a role definition GUID nor "
                "/.../providers/Microsoft.Authorization/roleDefinitions/<guid>"
            )
        validate_principal_type(assignment.principal_type, f"{where}.principal_type")
        if isinstance(assignment.principal_id, str):
            if not _GUID.fullmatch(assignment.principal_id):
                raise ValueError(
                    f"{where}.principal_id: {assignment.principal_id!r} is not an object id (GUID)"
                )
            # Same principal, role and scope twice: Azure answers RoleAssignmentExists.
            key = (assignment.principal_id.lower(), role.rsplit("/", 1)[-1].lower())
            if key in seen:
                raise ValueError(f"{where}: the same principal gets the same role twice")
            seen.add(key)


@dataclass
class DiagnosticsArgs:
    """Where a component's resource logs and metrics go (the `diagnostics` knob)."""

    workspace_id: pulumi.Input[str]
    """Resource id of the Log Analytics workspace (`Observability.log_analytics_workspace_id`)."""
    categories: list[str] = field(default_factory=list)
    """Log categories to send; with `category_groups` also empty, the component's own default list."""
    category_groups: list[str] = field(default_factory=list)
    """Category groups (`allLogs`, `audit`) for services that define them."""
    metrics: bool = True
    """Send `AllMetrics` too."""


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


# Azure docs: "Use tags to organize your Azure resources" (limitations): 50 tags per resource, names
# up to 512 characters, values up to 256, and names without `<>%&\?/`.
MAX_TAGS = 50
MAX_TAG_NAME_LENGTH = 512
MAX_TAG_VALUE_LENGTH = 256
_TAG_NAME_FORBIDDEN = re.compile(r"[<>%&\\?/]")


def validate_tags(tags: Mapping[str, str], field_name: str = "tags") -> None:
    """Tags Azure accepts: at most 50, names of 1-512 characters without `<>%&\\?/`, values up to 256."""
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{field_name}: {len(tags)} tags, Azure allows at most {MAX_TAGS} per resource")
    for name, value in tags.items():
        if not name or len(name) > MAX_TAG_NAME_LENGTH or _TAG_NAME_FORBIDDEN.search(name):
            raise ValueError(
                f"{field_name}: {name!r} is not a tag name (1-{MAX_TAG_NAME_LENGTH} characters, none of <>%&\\?/)"
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_LENGTH:
            raise ValueError(
                f"{field_name}.{name}: a tag value is a string of at most {MAX_TAG_VALUE_LENGTH}"
            )


def validate_uniform_knobs(
    *,
    tags: Mapping[str, str],
    lock: "LockLevel | str | None",
    role_assignments: Sequence[RoleAssignmentArgs],
    diagnostics: DiagnosticsArgs | None,
) -> None:
    """The checks every component runs on its uniform knobs, each naming its field."""
    validate_tags(tags)
    validate_lock_level(lock)
    validate_role_assignments(role_assignments)
    if diagnostics is not None:
        validate_diagnostic_categories(
            diagnostics.categories, diagnostics.category_groups, diagnostics.metrics
        )


def depends_on_of(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The resources `opts.depends_on` names, as a list: a component passes them on to the children that
    must wait for what the component waits for (children do not inherit a parent's `depends_on`)."""
    depends_on = opts.depends_on if opts is not None else None
    if depends_on is None:
        return []
    if isinstance(depends_on, pulumi.Resource):
        return [depends_on]
    if isinstance(depends_on, list | tuple) and all(isinstance(d, pulumi.Resource) for d in depends_on):
        return list(depends_on)
    raise TypeError("opts.depends_on of a component must be resources known at construction")


def without_dependencies(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions | None:
    """`opts` minus `depends_on`, for a component's own registration: a component registered with them
    would hold back all its children (a child registers only once its parent has), so it registers
    without them and hands them to exactly the children that must wait (`depends_on_of`)."""
    if opts is None or opts.depends_on is None:
        return opts
    stripped = copy.copy(opts)
    stripped.depends_on = None
    return stripped


def resource_tags(tags: Mapping[str, str]) -> dict[str, str] | None:
    """The `tags` input of a child resource: the knob's tags, or nothing sent when there are none."""
    return dict(tags) if tags else None


# ---------------------------------------------------------------------------------------------------
# The deploying principal
# ---------------------------------------------------------------------------------------------------


def resolve_deployer_principal_type(configured: str, environ: Mapping[str, str]) -> PrincipalType:
    """The principal type of whoever runs the program, from the configured value and an environment.

    Azure rejects an assignment whose principal type is wrong, and every component must agree, so this
    is the only place that decides: a configured `User`/`ServicePrincipal` wins, then the variable
    `AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE`; otherwise the azure-native provider runs as a service principal
    (or managed identity) exactly when `ARM_CLIENT_ID` is set (CI), and as the Azure CLI's signed-in
    user when it is not. The environment is the caller's to read (program/adapters/deployer.py).
    """
    if configured != "auto":
        return validate_principal_type(configured, "deployer_principal_type")
    explicit = environ.get("AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE", "")
    if explicit:
        return validate_principal_type(explicit, "AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE")
    return PrincipalType.SERVICE_PRINCIPAL if environ.get("ARM_CLIENT_ID") else PrincipalType.USER


# ---------------------------------------------------------------------------------------------------
# Builders of the knobs
# ---------------------------------------------------------------------------------------------------


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
            principal_type=validate_principal_type(assignment.principal_type).value,
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
    """One diagnostic setting: send the named log categories (and metrics) to Log Analytics.

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


def diagnostic_settings(
    name: str,
    *,
    resource_id: pulumi.Input[str],
    diagnostics: DiagnosticsArgs | None,
    default_categories: Sequence[str] = (),
    opts: pulumi.ResourceOptions | None = None,
) -> monitor.DiagnosticSetting | None:
    """The `diagnostics` knob on one resource: its categories, else the component's defaults; or none."""
    if diagnostics is None:
        return None
    explicit = bool(diagnostics.categories or diagnostics.category_groups)
    return diagnostic_setting(
        name,
        resource_id=resource_id,
        workspace_id=diagnostics.workspace_id,
        categories=diagnostics.categories if explicit else default_categories,
        category_groups=diagnostics.category_groups,
        metrics=diagnostics.metrics,
        opts=opts,
    )


def management_lock(
    name: str,
    *,
    scope: pulumi.Input[str],
    level: "LockLevel | str | None",
    opts: pulumi.ResourceOptions | None = None,
) -> authorization.ManagementLockByScope | None:
    """The `lock` knob: `CanNotDelete` or `ReadOnly` on the component's main resource, or none."""
    lock = validate_lock_level(level)
    if lock is None:
        return None
    return authorization.ManagementLockByScope(
        name,
        authorization.ManagementLockByScopeArgs(
            scope=scope,
            level=lock.value,
            lock_name=f"lock-{lock.value.lower()}",
            notes="Managed by aks-grpc (Pulumi). Remove the lock in the stack config before deleting.",
        ),
        opts=opts,
    )
