"""WorkloadIdentity: a user-assigned identity a Kubernetes ServiceAccount signs in as.

User-assigned managed identity + one federated identity credential per ServiceAccount on the
cluster's OIDC issuer (`system:serviceaccount:<ns>:<sa>`, audience `api://AzureADTokenExchange`) +
the Azure roles the identity gets, each on its own (narrow) scope. Reusable by any workload.
"""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import managedidentity

from .azure_ids import WORKLOAD_IDENTITY_AUDIENCE
from .common import (
    LockLevel,
    PrincipalType,
    RoleAssignmentArgs,
    management_lock,
    resource_tags,
    role_assignment,
    role_assignments,
    validate_uniform_knobs,
)
from .naming import RULES

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def service_account_subject(namespace: str, service_account: str) -> str:
    """The `sub` claim of a ServiceAccount token, as the federated credential must spell it."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def federated_credential_name(namespace: str, service_account: str) -> str:
    """`fic-<ns>-<sa>`, fitted to the credential name rule (3-120 chars, letters, digits, - and _)."""
    return f"fic-{namespace}-{service_account}"[: RULES["federated_credential"].max_length].rstrip("-_")


@dataclass
class FederatedServiceAccountArgs:
    """A further ServiceAccount that may sign in as the identity (e.g. an operator acting for it)."""

    namespace: str
    """Its namespace."""
    service_account: str
    """Its name."""


@dataclass
class IdentityRoleArgs:
    """One Azure role the identity receives on one scope."""

    scope: pulumi.Input[str]
    """Resource id the role applies to: keep it the narrowest that works (a vault, a workspace)."""
    role_definition_id: str
    """Built-in role GUID (components/azure_ids.py) or a full role definition id."""
    description: str = ""


@dataclass
class WorkloadIdentityArgs:
    resource_group_name: pulumi.Input[str]
    """Resource group of the identity."""
    location: pulumi.Input[str]
    """Azure region of the identity."""
    name: str
    """Azure name of the identity (StackNames.identity(...))."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    namespace: str
    """Namespace of the ServiceAccount that signs in as this identity."""
    service_account: str
    """Name of that ServiceAccount."""
    subscription_id: pulumi.Input[str]
    """Subscription of the role definitions."""
    roles: list[IdentityRoleArgs] = field(default_factory=list)
    """Roles the identity receives, each on its own scope."""
    additional_service_accounts: list[FederatedServiceAccountArgs] = field(default_factory=list)
    """Further ServiceAccounts federated with the identity."""
    role_assignments: list[RoleAssignmentArgs] = field(default_factory=list)
    """Uniform knob: roles of other principals *on the identity* (e.g. Managed Identity Operator)."""
    lock: LockLevel | None = None
    """Uniform knob: a lock on the identity."""
    tags: dict[str, str] = field(default_factory=dict)
    """Uniform knob: tags of the identity."""


def validate_workload_identity_args(args: WorkloadIdentityArgs) -> None:
    """Raise ValueError naming the field when the args cannot describe a working identity."""
    if not RULES["managed_identity"].check(args.name):
        raise ValueError(
            f"name: {args.name!r} is not a valid managed identity name (3-128 letters, digits, - or _)"
        )
    accounts = [(args.namespace, args.service_account)] + [
        (a.namespace, a.service_account) for a in args.additional_service_accounts
    ]
    for index, (namespace, service_account) in enumerate(accounts):
        where = "" if index == 0 else f"additional_service_accounts[{index - 1}]."
        if not _DNS_LABEL.fullmatch(namespace) or len(namespace) > 63:
            raise ValueError(f"{where}namespace: {namespace!r} is not a Kubernetes namespace name")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", service_account) or len(service_account) > 253:
            raise ValueError(
                f"{where}service_account: {service_account!r} is not a Kubernetes ServiceAccount name"
            )
    if len(set(accounts)) != len(accounts):
        raise ValueError("additional_service_accounts: lists a ServiceAccount twice")
    for index, role in enumerate(args.roles):
        if not role.role_definition_id:
            raise ValueError(f"roles[{index}].role_definition_id: give a role GUID or role definition id")
    # Identities take no diagnostic settings (Azure: no resource logs for Microsoft.ManagedIdentity).
    validate_uniform_knobs(
        tags=args.tags, lock=args.lock, role_assignments=args.role_assignments, diagnostics=None
    )


class WorkloadIdentity(pulumi.ComponentResource):
    """A user-assigned identity with federated credentials for Kubernetes ServiceAccounts and its roles."""

    client_id: pulumi.Output[str]
    """Client id of the identity (the ServiceAccount's `azure.workload.identity/client-id`)."""
    principal_id: pulumi.Output[str]
    """Object id of the identity's service principal."""
    subjects: list[str]
    """The `sub` claims the federated credentials trust."""

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:WorkloadIdentity", name, None, opts)
        validate_workload_identity_args(args)
        child = pulumi.ResourceOptions(parent=self)

        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            # Keyword arguments, not the Args class: its `resource_name` collides with the logical name
            # (the SDK spells the Azure name `resource_name_`).
            resource_name_=args.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=resource_tags(args.tags),
            opts=child,
        )
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id

        accounts = [(args.namespace, args.service_account)] + [
            (a.namespace, a.service_account) for a in args.additional_service_accounts
        ]
        self.subjects = [service_account_subject(ns, sa) for ns, sa in accounts]
        self.federated_credentials: list[managedidentity.FederatedIdentityCredential] = []
        previous: pulumi.Resource | None = None
        for index, (namespace, service_account) in enumerate(accounts):
            credential = managedidentity.FederatedIdentityCredential(
                f"{name}-fic" if index == 0 else f"{name}-fic-{index}",
                resource_name_=self.identity.name,
                resource_group_name=args.resource_group_name,
                federated_identity_credential_resource_name=federated_credential_name(
                    namespace, service_account
                ),
                issuer=args.oidc_issuer_url,
                subject=service_account_subject(namespace, service_account),
                audiences=[WORKLOAD_IDENTITY_AUDIENCE],
                # Azure refuses concurrent credential writes on one identity: create them one by one
                # (Microsoft Entra Workload ID docs, "Limitations").
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else None),
            )
            self.federated_credentials.append(credential)
            previous = credential
        self.federated_credential = self.federated_credentials[0]

        self.role_assignments: list[pulumi.Resource] = [
            role_assignment(
                f"{name}-role-{index}",
                scope=role.scope,
                assignment=RoleAssignmentArgs(
                    principal_id=self.principal_id,
                    role_definition_id=role.role_definition_id,
                    principal_type=PrincipalType.SERVICE_PRINCIPAL,
                    description=role.description,
                ),
                subscription_id=args.subscription_id,
                opts=child,
            )
            for index, role in enumerate(args.roles)
        ]
        self.extra_role_assignments = role_assignments(
            name,
            scope=self.identity.id,
            assignments=args.role_assignments,
            subscription_id=args.subscription_id,
            opts=child,
        )
        self.lock = management_lock(f"{name}-lock", scope=self.identity.id, level=args.lock, opts=child)

        self.register_outputs(
            {"client_id": self.client_id, "principal_id": self.principal_id, "subjects": self.subjects}
        )
