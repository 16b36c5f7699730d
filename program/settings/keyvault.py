"""Settings: keyvault."""

import typing
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from components.keyvault_rules import APP_INSIGHTS_SECRET, SECRET_NAME_PATTERN
from components.naming import backend_tls_secret_name

from .base import IpRule, _Model, _raise_problems, create_only, nested, service_key

if typing.TYPE_CHECKING:
    from .stack import StackSettings

# ---------------------------------------------------------------------------------------------------
# Key Vault (`aks-grpc:keyVault`)
# ---------------------------------------------------------------------------------------------------


SecretName = Annotated[str, Field(pattern=f"^{SECRET_NAME_PATTERN}$")]
"""A Key Vault secret name: 1-127 letters, digits and hyphens (also the file name under /mnt/secrets)."""
ArmId = Annotated[str, Field(pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+$")]

PLATFORM_SECRET_NAMES = (APP_INSIGHTS_SECRET, "apim-grpc-subscription-key")
"""Secrets the stack writes itself whatever its services (SecretStore's App Insights connection string,
GrpcApiGateway's subscription key)."""


def reserved_secret_names(services: Iterable[str]) -> tuple[str, ...]:
    """Secrets the stack writes itself: the platform's and each service's backend TLS PEM
    (`BackendCertificate`); config cannot declare them."""
    return (
        PLATFORM_SECRET_NAMES[0],
        *(backend_tls_secret_name(s) for s in services),
        *PLATFORM_SECRET_NAMES[1:],
    )


RESERVED_SECRET_NAMES = reserved_secret_names(["greeter"])
"""The reserved secrets of a stack that declares no services (the greeter alone). A test compares this
list with the secrets a plan writes (tests/program/test_settings_properties.py)."""


class PrivateEndpointSettings(_Model):
    """An optional private endpoint for the vault with its `privatelink.vaultcore.azure.net` DNS zone."""

    enabled: bool = False
    """Create a private endpoint (and its private DNS zone linked to `virtualNetworkId`)."""
    subnet_id: ArmId | None = None
    """Resource id of the subnet the endpoint's NIC goes into."""
    virtual_network_id: ArmId | None = None
    """Resource id of the virtual network the private DNS zone is linked to."""

    @model_validator(mode="after")
    def _ids_when_enabled(self) -> "PrivateEndpointSettings":
        problems: list[tuple[str, str]] = []
        if self.enabled:
            if not self.subnet_id:
                problems.append(("subnetId", "is required when the private endpoint is enabled"))
            if not self.virtual_network_id:
                problems.append(("virtualNetworkId", "is required when the private endpoint is enabled"))
        _raise_problems(problems, self)
        return self


class KeyVaultSettings(_Model):
    """The stack's Key Vault and the secrets it holds for the workload (`aks-grpc:keyVault`)."""

    ip_rules: list[IpRule] = Field(default_factory=list)
    """Addresses allowed through the vault firewall (default action Deny)."""
    sku: Literal["standard", "premium"] = "standard"
    """Vault SKU (`premium` adds HSM-backed keys)."""
    private_endpoint: PrivateEndpointSettings = nested()
    secrets: list[SecretName] = Field(default_factory=list)
    """Names of further secrets the workload mounts. Only names live here: each value is set encrypted
    with `pulumi config set --secret --path 'aks-grpc:secrets.<name>' <value>`."""
    secret_validity_days: Annotated[int, Field(ge=30, le=3650)] = 365
    """Expiry of the secrets the stack writes, counted from the first day of the deploying month."""
    create_mode: Literal["default", "recover"] = "default"
    """`recover`: bring back the soft-deleted vault of this name (after a `pulumi destroy`, purge protection
    keeps the name taken for 90 days). Set it back to `default` once recovered (docs/operations.md)."""
    name_generation: Annotated[int, Field(ge=0, le=99)] = create_only(0)
    """Folded into the vault name's suffix: raise it to create a vault under a new name while the old one
    sits soft-deleted (0 keeps the original name)."""

    @model_validator(mode="after")
    def _secret_names(self) -> "KeyVaultSettings":
        problems: list[tuple[str, str]] = []
        seen: set[str] = set()
        for index, name in enumerate(self.secrets):
            # Key Vault secret names are case-insensitive.
            if name.lower() in PLATFORM_SECRET_NAMES:
                problems.append(
                    (
                        f"secrets[{index}]",
                        f"{name} is written by the platform itself (reserved: {', '.join(PLATFORM_SECRET_NAMES)})",
                    )
                )
            elif name.lower() in seen:
                problems.append((f"secrets[{index}]", f"{name} is declared twice"))
            seen.add(name.lower())
        _raise_problems(problems, self)
        return self


def _key_vault_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    tls_secrets = {backend_tls_secret_name(name): name for name in stack.services}
    for index, name in enumerate(stack.key_vault.secrets):
        if name.lower() in tls_secrets:
            problems.append(
                (
                    f"keyVault.secrets[{index}]",
                    f"{name} is written by the platform itself (the backend TLS PEM of "
                    f"{service_key(tls_secrets[name.lower()])})",
                )
            )
        for service_name, service in stack.services.items():
            ingress = service.ingress
            # Key Vault keeps a certificate's key and chain in a secret of the certificate's name.
            if ingress.host and name.lower() == ingress.certificate_name.lower():
                problems.append(
                    (
                        f"keyVault.secrets[{index}]",
                        f"{name} is the secret behind the ingress certificate "
                        f"{service_key(service_name, 'ingress.certificateName')}",
                    )
                )
    return problems
