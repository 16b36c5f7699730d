"""Shared by every area module of the pack: reading engine values safely and building policies.

The props a validation receives are the resource inputs as the engine sees them (camelCase, numbers as
floats, nested values wrapped in read-only `Mapping`/`Sequence` proxies that raise `UnknownValueError`
for values unknown during preview), so every helper here works on the `Mapping` and `Sequence` ABCs,
never on `dict`/`list`, and treats a missing or partial value as "not set".

Resource policies let `UnknownValueError` propagate: the analyzer then reports "can't run during preview"
for that one resource and runs the policy again on `pulumi up`. Stack policies skip the one resource whose
value is unknown (see `known` and `read`) instead of giving up on the whole stack.

The pack never imports `components/`: it runs in its own virtualenv (policy/requirements.txt: only
pulumi-policy and pulumi, no provider SDKs, which `components/` needs) and must keep working on a stack
built by any program. Values it shares with the components (tag keys, the mesh root namespace, the
workload identity audience, the system pool taint, the APIM tiers) are therefore restated in the area
modules on purpose; tests/policy/test_pack_constants.py holds each copy to its home in `components/`.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


def dig(value: Any, *path: str | int) -> Any:
    """The value at `path` (keys and list indexes), or None as soon as any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not _is_list(value) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        elif isinstance(value, Mapping):
            value = value.get(step)
        else:
            return None
    return value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    return list(value) if _is_list(value) else []


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def is_true(value: Any) -> bool:
    """True for the boolean `true` and for the string "true" (ARM maps and CRDs use strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def number(value: Any) -> float | None:
    """A number (the engine sends floats), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return float(value)
    return None


def get_ci(mapping: Any, key: str) -> Any:
    """A key looked up case-insensitively (ARM treats add-on and customProperties keys so)."""
    for candidate, value in as_map(mapping).items():
        if isinstance(candidate, str) and candidate.lower() == key.lower():
            return value
    return None


def azure_type(resource_type: str) -> str | None:
    """`azure-native:keyvault/v20230701:Vault` or `azure-native:keyvault:Vault` -> `keyvault:Vault`."""
    if not resource_type.startswith("azure-native:"):
        return None
    _, module, name = [*resource_type.split(":"), "", ""][:3]
    return f"{module.split('/')[0]}:{name}"


def k8s_kind(resource_type: str) -> tuple[str, str] | None:
    """`kubernetes:apps/v1:Deployment` -> ("apps", "Deployment"); core kinds have group "core"."""
    if not resource_type.startswith("kubernetes:") or resource_type.count(":") != 2:
        return None
    _, api_version, kind = resource_type.split(":")
    return api_version.split("/")[0] if "/" in api_version else "core", kind


Check = Callable[[str, Mapping[str, Any]], Iterable[str]]
"""A resource check: (resource type, props) -> violation messages."""


def resource_policy(
    name: str,
    description: str,
    enforcement: EnforcementLevel,
    applies: Callable[[str], bool],
    check: Check,
    remediation: str,
    source: str,
) -> ResourceValidationPolicy:
    """A ResourceValidationPolicy that runs `check` on the resources `applies` selects."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not applies(args.resource_type):
            return
        for message in check(args.resource_type, as_map(args.props)):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        remediation_steps=remediation,
        tags=[source],
    )


def stack_policy(
    name: str,
    description: str,
    enforcement: EnforcementLevel,
    check: Callable[[list[PolicyResource]], Iterable[tuple[str, str | None]]],
    remediation: str,
    source: str,
) -> StackValidationPolicy:
    """A StackValidationPolicy: `check` yields (message, urn of the offending resource)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message, urn in check(list(args.resources)):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        remediation_steps=remediation,
        tags=[source],
    )


def of_azure(*types: str) -> Callable[[str], bool]:
    wanted = set(types)
    return lambda resource_type: azure_type(resource_type) in wanted


def of_kinds(*kinds: str, group: str | None = None) -> Callable[[str], bool]:
    wanted = set(kinds)

    def applies(resource_type: str) -> bool:
        found = k8s_kind(resource_type)
        return found is not None and found[1] in wanted and (group is None or found[0] == group)

    return applies


def known(
    resources: Iterable[PolicyResource], read: Callable[[PolicyResource], Any]
) -> Iterator[tuple[PolicyResource, Any]]:
    """(resource, read(resource)) for every resource whose read needs no value unknown during preview."""
    for resource in resources:
        try:
            yield resource, read(resource)
        except UnknownValueError:
            continue


def manifest(resource: PolicyResource) -> Mapping[str, Any]:
    """A Kubernetes object as declared. Stack policies see outputs, which for pulumi-kubernetes are the live
    object (server defaults such as spec.replicas filled in) plus the declared inputs under `__inputs`."""
    props = as_map(resource.props)
    declared = props.get("__inputs")
    return declared if isinstance(declared, Mapping) else props


def objects(
    resources: Iterable[PolicyResource], *kinds: str
) -> list[tuple[PolicyResource, Mapping[str, Any]]]:
    wanted = set(kinds)
    selected = [r for r in resources if (k8s_kind(r.resource_type) or ("", ""))[1] in wanted]
    return list(known(selected, manifest))


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(dig(obj, "metadata", "namespace") or "default")


def name_of(obj: Mapping[str, Any], resource: PolicyResource) -> str:
    return str(dig(obj, "metadata", "name") or resource.name)


def read(value: Any, *path: str | int) -> Any:
    """`dig`, with a value unknown during preview read as None."""
    try:
        return dig(value, *path)
    except UnknownValueError:
        return None
