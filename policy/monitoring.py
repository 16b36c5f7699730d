"""Monitoring: resource logs of the cluster, the vaults and API Management reach Log Analytics (one
diagnostic-settings stack policy per target type; every target of that type is checked on its own)."""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyResource,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .helpers import (
    MANDATORY,
    as_list,
    as_map,
    azure_type,
    stack_policy,
)

DIAGNOSTIC_REQUIREMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # azure type -> (log categories that must be enabled, category groups that cover them)
    "containerservice:ManagedCluster": (("kube-audit-admin", "guard"), ("allLogs", "audit")),
    "keyvault:Vault": (("AuditEvent",), ("allLogs", "audit")),
    "apimanagement:ApiManagementService": (("GatewayLogs",), ("allLogs",)),
}


def _get_known(mapping: Any, key: str, unknown: Any) -> Any:
    """`mapping[key]`, or `unknown` when the value is not known during preview."""
    try:
        return as_map(mapping).get(key)
    except UnknownValueError:
        return unknown


def _diagnostics_target(diagnostic: PolicyResource, target: PolicyResource) -> bool:
    """Whether a DiagnosticSetting is attached to `target`: its resourceUri is the target's id, or (ids
    are unknown before creation) its resourceUri input depends on the target."""
    uri, target_id = _get_known(diagnostic.props, "resourceUri", None), _get_known(target.props, "id", None)
    if isinstance(uri, str) and isinstance(target_id, str) and uri.lower() == target_id.lower():
        return True
    depends = diagnostic.property_dependencies.get("resourceUri") or diagnostic.dependencies
    return any(d.urn == target.urn for d in depends)


def _categories_missing(
    diagnostic: Mapping[str, Any], required: Sequence[str], groups: Sequence[str]
) -> list[str]:
    """The required categories the setting does not send to a Log Analytics workspace."""
    if not _get_known(diagnostic, "workspaceId", "(known after apply)"):
        return list(required)
    logs = _get_known(diagnostic, "logs", [])
    enabled = [as_map(log) for log in as_list(logs) if _get_known(log, "enabled", True) is True]
    group_names = {g.lower() for g in groups}
    if any(str(_get_known(log, "categoryGroup", "") or "").lower() in group_names for log in enabled):
        return []
    categories = {str(_get_known(log, "category", "") or "").lower() for log in enabled}
    return [c for c in required if c.lower() not in categories]


def diagnostics_policy(name: str, azure: str, source: str) -> StackValidationPolicy:
    required, groups = DIAGNOSTIC_REQUIREMENTS[azure]

    def check(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
        settings = [r for r in resources if azure_type(r.resource_type) == "monitor:DiagnosticSetting"]
        for target in resources:
            if azure_type(target.resource_type) != azure:
                continue
            attached = [as_map(s.props) for s in settings if _diagnostics_target(s, target)]
            gaps = [_categories_missing(props, required, groups) for props in attached]
            # Several settings may split the categories between them: missing means sent by none.
            missing = [c for c in required if all(c in gap for gap in gaps)]
            if missing:
                yield (
                    f"{target.name}: no diagnostic setting sends {', '.join(missing)} to Log Analytics",
                    target.urn,
                )

    return stack_policy(
        name,
        f"Every {azure.split(':')[1]} sends {', '.join(required)} to Log Analytics (diagnostic setting).",
        MANDATORY,
        check,
        "Create a monitor.DiagnosticSetting (components.common.diagnostic_setting) with "
        f"{', '.join(required)}.",
        source,
    )


aks_diagnostic_audit_logs = diagnostics_policy(
    "aks-diagnostic-audit-logs",
    "containerservice:ManagedCluster",
    "CIS AKS 2.1.1 Enable audit logs; AP: Resource logs in AKS should be enabled",
)
keyvault_diagnostic_audit_events = diagnostics_policy(
    "keyvault-diagnostic-audit-events",
    "keyvault:Vault",
    "AP: Resource logs in Key Vault should be enabled",
)
apim_diagnostic_gateway_logs = diagnostics_policy(
    "apim-diagnostic-gateway-logs",
    "apimanagement:ApiManagementService",
    "MCSB LT-3 (enable logging for security investigation); platform",
)
