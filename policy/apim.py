"""API Management: the service (azure-native:apimanagement:ApiManagementService) and its APIs.

The API policies hold per Api resource, so they hold for any number of services, each with its own gRPC
API behind the one self-hosted gateway.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .helpers import (
    ADVISORY,
    MANDATORY,
    as_list,
    dig,
    get_ci,
    of_azure,
    resource_policy,
)

APIM_SERVICE = of_azure("apimanagement:ApiManagementService")
_SECURITY = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security"
LEGACY_PROTOCOL_PROPERTIES = tuple(
    f"{_SECURITY}.{side}Protocols.{protocol}"
    for side in ("", "Backend.")
    for protocol in ("Tls10", "Tls11", "Ssl30")
)
"""APIM customProperties that must be the string "False" (APIM docs: Manage protocols and ciphers)."""
WEAK_CIPHER_PROPERTIES = (f"{_SECURITY}.Ciphers.TripleDes168",)


def _custom_properties_false(props: Mapping[str, Any], keys: Sequence[str]) -> Iterator[str]:
    custom = props.get("customProperties")
    for key in keys:
        value = get_ci(custom, key)
        if value is False:
            yield f'customProperties["{key}"] must be the string "False" (the map takes strings)'
        elif not (isinstance(value, str) and value.strip().lower() == "false"):
            yield f'customProperties["{key}"] must be "False"'


apim_no_legacy_tls = resource_policy(
    "apim-no-legacy-tls",
    "API Management disables TLS 1.0, TLS 1.1 and SSL 3.0 on the client and backend sides.",
    MANDATORY,
    APIM_SERVICE,
    lambda _, props: _custom_properties_false(props, LEGACY_PROTOCOL_PROPERTIES),
    'Set custom_properties={<each Protocols.Tls10/Tls11/Ssl30 key, frontend and backend>: "False"}.',
    "MCSB DP-3 (encrypt data in transit); APIM docs: Manage protocols and ciphers",
)

apim_no_weak_ciphers = resource_policy(
    "apim-no-weak-ciphers",
    "API Management disables the weak TripleDes168 cipher.",
    ADVISORY,
    APIM_SERVICE,
    lambda _, props: _custom_properties_false(props, WEAK_CIPHER_PROPERTIES),
    f'Set custom_properties["{WEAK_CIPHER_PROPERTIES[0]}"] = "False".',
    "MCSB DP-3; APIM docs: Manage protocols and ciphers",
)


def _system_identity(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if "systemassigned" not in str(dig(props, "identity", "type") or "").lower().replace(" ", ""):
        yield "identity.type must include SystemAssigned"


apim_system_assigned_identity = resource_policy(
    "apim-system-assigned-identity",
    "API Management has a system-assigned managed identity (used by the self-hosted gateway's Entra auth).",
    MANDATORY,
    APIM_SERVICE,
    _system_identity,
    "Set identity=ApiManagementServiceIdentityArgs(type='SystemAssigned').",
    "AP: API Management should use a managed identity; APIM docs: self-hosted gateway workload identity",
)

SELF_HOSTED_GATEWAY_SKUS = ("Developer", "Premium")
"""Classic tiers that support self-hosted gateways (v2 tiers have no gRPC). The settings refuse other tiers
too (program/settings/ APIM_SKUS); restated here because the pack does not import components."""


def _gateway_tier(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    sku = dig(props, "sku", "name")
    if not isinstance(sku, str) or sku.lower() not in {s.lower() for s in SELF_HOSTED_GATEWAY_SKUS}:
        yield (
            f"sku.name is {sku!r}: gRPC APIs need a self-hosted gateway, only "
            f"{' or '.join(SELF_HOSTED_GATEWAY_SKUS)}"
        )


apim_self_hosted_gateway_tier = resource_policy(
    "apim-self-hosted-gateway-tier",
    "API Management uses a tier that supports the self-hosted gateway (Developer or Premium classic).",
    MANDATORY,
    APIM_SERVICE,
    _gateway_tier,
    "Set sku.name to Developer (non-production) or Premium.",
    "APIM docs: gRPC API (self-hosted gateway only); platform",
)

APIM_API = of_azure("apimanagement:Api")


def _api_https_only(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    protocols = [str(p).lower() for p in as_list(props.get("protocols"))]
    if not protocols:
        yield "protocols must be set explicitly to [https]"
    insecure = sorted(set(protocols) - {"https", "wss"})
    if insecure:
        yield f"protocols contains unencrypted {', '.join(insecure)}: use https (wss) only"


apim_api_https_only = resource_policy(
    "apim-api-https-only",
    "API Management APIs accept encrypted protocols only.",
    MANDATORY,
    APIM_API,
    _api_https_only,
    "Set protocols=['https'] on the Api.",
    "AP: API Management APIs should use only encrypted protocols",
)


def _grpc_api_path(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if str(props.get("apiType") or "").lower() != "grpc":
        return
    path = props.get("path")
    if path not in (None, "", "/"):
        yield (
            f"gRPC API path is {path!r}: gRPC clients call /<package>.<Service>/<Method>, the "
            "path must be empty"
        )
    if str(props.get("format") or "").lower() != "grpc":
        yield 'a gRPC API imports its .proto with format "grpc"'


apim_grpc_api_empty_path = resource_policy(
    "apim-grpc-api-empty-path",
    "gRPC APIs have an empty path and import their .proto (format grpc).",
    MANDATORY,
    APIM_API,
    _grpc_api_path,
    "Set path='' and format='grpc' with value=<the .proto text>.",
    "APIM docs: Import a gRPC API; platform",
)
