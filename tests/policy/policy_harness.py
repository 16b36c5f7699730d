"""Run CrossGuard policies the way the analyzer does, without the Pulumi CLI or a policy server.

The analyzer (pulumi_policy.policy._PolicyAnalyzerServicer) wraps each resource's props in
`unknown_checking_proxy` (read-only Mapping/Sequence proxies, not dicts), builds `ResourceValidationArgs`
/ `StackValidationArgs` and calls `policy.validate(args, report_violation)`. These helpers do exactly that,
so a policy that only works on plain dicts fails here too. `PolicyPack` is never constructed: it starts a
gRPC server and blocks forever.
"""

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from tools.mock_engine import Plan

Policy = ResourceValidationPolicy | StackValidationPolicy


def _options(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def urn_of(resource_type: str, name: str) -> str:
    return f"urn:pulumi:test::aks-grpc::{resource_type}::{name}"


def resource_args(
    resource_type: str, props: Mapping[str, Any], name: str = "subject"
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(copy.deepcopy(dict(props))),
        urn_of(resource_type, name),
        name,
        _options(),
        None,
    )


@dataclass
class StackResource:
    """One resource of a hand-made stack: dependencies are names of other resources in the same list."""

    type: str
    name: str
    props: Mapping[str, Any]
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


def stack_args(resources: Iterable[StackResource]) -> StackValidationArgs:
    items = list(resources)
    built = {
        r.name: PolicyResource(
            r.type,
            unknown_checking_proxy(copy.deepcopy(dict(r.props))),
            urn_of(r.type, r.name),
            r.name,
            _options(),
            None,
            None,
            [],
            {},
        )
        for r in items
    }
    for r in items:
        built[r.name].dependencies = [built[d] for d in r.dependencies]
        built[r.name].property_dependencies = {
            key: [built[d] for d in names] for key, names in r.property_dependencies.items()
        }
    return StackValidationArgs(list(built.values()))


def plan_stack_args(plan: Plan) -> StackValidationArgs:
    """The offline plan as the analyzer's stack view: inputs as props, parents and dependencies linked."""
    resources = {
        r.urn: PolicyResource(
            r.type,
            unknown_checking_proxy(copy.deepcopy(r.inputs)),
            r.urn,
            r.name,
            _options(r.parent),
            None,
            None,
            [],
            {},
        )
        for r in plan.resources
    }
    for r in plan.resources:
        resources[r.urn].parent = resources.get(r.parent) if r.parent else None
        resources[r.urn].dependencies = [resources[d] for d in r.dependencies if d in resources]
    return StackValidationArgs(list(resources.values()))


def violations(policy: Policy, args: ResourceValidationArgs | StackValidationArgs) -> list[str]:
    """The messages `policy` reports for `args` (stack violations prefixed with the resource urn)."""
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(f"{urn}: {message}" if urn else message)

    result = policy.validate(args, report)  # type: ignore[arg-type]
    assert result is None, "policies here are synchronous"
    return found


@dataclass
class Finding:
    policy: str
    level: EnforcementLevel
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level.value}] {self.policy}: {self.where}: {self.message}"


def evaluate_plan(plan: Plan, policies: Iterable[Policy]) -> list[Finding]:
    """Every policy over one stack's offline plan: resource policies per resource, stack policies once."""
    findings: list[Finding] = []
    policies = list(policies)
    for policy in policies:
        level = policy.enforcement_level or EnforcementLevel.ADVISORY
        if isinstance(policy, StackValidationPolicy):
            for message in violations(policy, plan_stack_args(plan)):
                findings.append(Finding(policy.name, level, "stack", message))
            continue
        for resource in plan.resources:
            args = ResourceValidationArgs(
                resource.type,
                unknown_checking_proxy(copy.deepcopy(resource.inputs)),
                resource.urn,
                resource.name,
                _options(resource.parent),
                None,
            )
            for message in violations(policy, args):
                findings.append(Finding(policy.name, level, f"{resource.type} {resource.name}", message))
    return findings
