"""Azure identity: role assignments and workload identity federated credentials (any number of them:
one per service's identity, the KEDA operator's, the APIM gateway's)."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .helpers import (
    MANDATORY,
    as_list,
    azure_type,
    of_azure,
    resource_policy,
)

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _role_assignment_name(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    name = props.get("roleAssignmentName")
    if name is None or name == "":
        yield (
            "roleAssignmentName is missing: the provider would generate a random GUID "
            "(duplicates on re-create)"
        )
    elif not (isinstance(name, str) and GUID.match(name)):
        yield f"roleAssignmentName {name!r} is not a GUID"


azure_role_assignment_deterministic_name = resource_policy(
    "azure-role-assignment-deterministic-name",
    "Role assignments have an explicit, deterministic GUID name.",
    MANDATORY,
    of_azure("authorization:RoleAssignment"),
    _role_assignment_name,
    "Create role assignments with components.common.role_assignment (uuid5 of scope, principal, role).",
    "platform (DESIGN): deterministic role assignment names",
)


WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
"""Restated from components/azure_ids.py (the pack does not import components; tests/policy/
test_pack_constants.py keeps the two equal)."""
SERVICE_ACCOUNT_SUBJECT = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$"
)


def _federated_credential(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    audiences = [str(a) for a in as_list(props.get("audiences"))]
    if audiences != [WORKLOAD_IDENTITY_AUDIENCE]:
        yield f"audiences must be exactly [{WORKLOAD_IDENTITY_AUDIENCE}], got {audiences}"
    subject = props.get("subject")
    if not (isinstance(subject, str) and SERVICE_ACCOUNT_SUBJECT.match(subject)):
        yield f"subject {subject!r} must be system:serviceaccount:<namespace>:<service account>"
    issuer = props.get("issuer")
    if not (isinstance(issuer, str) and issuer.startswith("https://")):
        yield "issuer must be the cluster's https OIDC issuer URL"


workload_identity_federated_credential = resource_policy(
    "workload-identity-federated-credential",
    "Federated credentials trust one Kubernetes ServiceAccount on an https OIDC issuer, audience "
    "AzureADTokenExchange.",
    MANDATORY,
    lambda t: (
        azure_type(t) == "managedidentity:FederatedIdentityCredential"
        or t.endswith(":ApplicationFederatedIdentityCredential")
    ),
    _federated_credential,
    "Use issuer=cluster.oidc_issuer_url, subject=system:serviceaccount:<ns>:<sa>, "
    "audiences=[api://AzureADTokenExchange].",
    "AKS docs: workload identity; platform (DESIGN)",
)
