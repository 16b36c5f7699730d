"""What Azure Key Vault refuses in SecretStore's arguments, as plain functions (no Pulumi SDK imported).

`SecretStore` calls them first thing (components/keyvault.py); the settings layer can call the same
ones cheaply. Each `validate_*` raises `ValueError` whose message starts with the Args field it is about.
"""

import ipaddress
import re
from collections.abc import Sequence

from .naming import RULES

APP_INSIGHTS_SECRET = "appinsights-connection-string"
"""Key Vault secret (and CSI file) name of the Application Insights connection string."""

SOFT_DELETE_RETENTION_DAYS = (7, 90)
"""Soft-delete retention a vault accepts (Key Vault docs: "Azure Key Vault soft-delete overview")."""

SECRET_NAME_PATTERN = r"[a-zA-Z0-9-]{1,127}"
"""A Key Vault secret name: 1-127 letters, digits and hyphens (Key Vault docs: "About keys, secrets and
certificates", object names)."""


def validate_key_vault_name(name: str) -> None:
    """3-24 letters, digits and single hyphens, starting with a letter, ending with a letter or digit."""
    if not RULES["key_vault"].check(name):
        raise ValueError(
            f"vault_name: {name!r} is not a valid Key Vault name "
            "(3-24 letters, digits and single hyphens, starting with a letter)"
        )


def validate_soft_delete_retention(days: int) -> None:
    """Key Vault keeps deleted vaults 7 to 90 days."""
    low, high = SOFT_DELETE_RETENTION_DAYS
    if not low <= days <= high:
        raise ValueError(f"soft_delete_retention_days: {days} is outside {low}-{high} days")


_SECRET_NAME = re.compile(SECRET_NAME_PATTERN)


def validate_secret_names(names: Sequence[str], reserved: Sequence[str] = (APP_INSIGHTS_SECRET,)) -> None:
    """1-127 letters, digits and hyphens each, listed once (names are case-insensitive), none reserved."""
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not _SECRET_NAME.fullmatch(name):
            raise ValueError(f"secret_names[{index}]: {name!r} is not a Key Vault secret name")
        if name.lower() in {r.lower() for r in reserved}:
            raise ValueError(f"secret_names[{index}]: {name} is written by the component itself")
        if name.lower() in seen:
            raise ValueError(f"secret_names[{index}]: {name} is listed twice")
        seen.add(name.lower())


def validate_ip_rules(rules: Sequence[str]) -> None:
    """Each rule is an IPv4 address or network (Key Vault firewall rules take IPv4 only)."""
    for index, rule in enumerate(rules):
        try:
            network_ = ipaddress.ip_network(rule, strict=False)
        except ValueError:
            raise ValueError(f"ip_rules[{index}]: {rule!r} is not an IP address or CIDR range") from None
        if network_.version != 4:
            raise ValueError(f"ip_rules[{index}]: {rule!r} is IPv6; Key Vault firewall rules are IPv4")
