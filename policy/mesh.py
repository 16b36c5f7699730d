"""Istio (the AKS service mesh add-on): STRICT mutual TLS and revision-based injection, per namespace.

Every meshed namespace (one per service, or shared) must be covered by its own namespace-wide STRICT
PeerAuthentication unless a mesh-wide one exists in the mesh root namespace.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
)

from .helpers import (
    MANDATORY,
    as_map,
    dig,
    name_of,
    namespace_of,
    objects,
    of_kinds,
    resource_policy,
    stack_policy,
)


def _peer_authentication(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    mode = dig(props, "spec", "mtls", "mode")
    if mode != "STRICT":
        yield f"spec.mtls.mode must be STRICT, got {mode or 'unset'}"
    for port, settings in as_map(dig(props, "spec", "portLevelMtls")).items():
        if dig(settings, "mode") != "STRICT":
            yield f"spec.portLevelMtls[{port}].mode must be STRICT"


istio_peer_authentication_strict = resource_policy(
    "istio-peer-authentication-strict",
    "Istio PeerAuthentications require STRICT mutual TLS (no PERMISSIVE or DISABLE, also per port).",
    MANDATORY,
    of_kinds("PeerAuthentication", group="security.istio.io"),
    _peer_authentication,
    "Set spec.mtls.mode=STRICT and drop permissive portLevelMtls.",
    "Istio security best practices; NIST SP 800-204A (service mesh mTLS)",
)


def _revision_label(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    labels = as_map(dig(props, "metadata", "labels"))
    if "istio-injection" in labels:
        yield (
            "label istio-injection is ignored by the AKS Istio add-on: label the namespace "
            "istio.io/rev=<revision>"
        )


istio_revision_label = resource_policy(
    "istio-revision-label",
    "Meshed namespaces opt in with istio.io/rev=<revision>, never istio-injection (ignored by "
    "the AKS add-on).",
    MANDATORY,
    of_kinds("Namespace", group="core"),
    _revision_label,
    "Replace the istio-injection label with istio.io/rev=<cluster.istio_revision>.",
    "AKS docs: Istio add-on sidecar injection; platform",
)


MESH_ROOT_NAMESPACES = ("aks-istio-system", "istio-system")
"""Where a mesh-wide PeerAuthentication lives: the AKS add-on's root namespace (components/manifests.py
ISTIO_SYSTEM_NAMESPACE, kept in this list by tests/policy/test_pack_constants.py) and upstream Istio's."""


def _is_strict_namespace_wide(obj: Mapping[str, Any]) -> bool:
    return dig(obj, "spec", "mtls", "mode") == "STRICT" and not as_map(dig(obj, "spec", "selector"))


def _check_meshed_namespaces(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    strict = {
        namespace_of(obj)
        for _, obj in objects(resources, "PeerAuthentication")
        if _is_strict_namespace_wide(obj)
    }
    mesh_wide = any(ns in strict for ns in MESH_ROOT_NAMESPACES)
    for resource, obj in objects(resources, "Namespace"):
        labels = as_map(dig(obj, "metadata", "labels"))
        meshed = "istio.io/rev" in labels or labels.get("istio-injection") == "enabled"
        name = name_of(obj, resource)
        if meshed and not mesh_wide and name not in strict:
            yield f"meshed namespace {name} has no namespace-wide STRICT PeerAuthentication", resource.urn


istio_meshed_namespace_strict_mtls = stack_policy(
    "istio-meshed-namespace-strict-mtls",
    "Every meshed namespace is covered by a namespace-wide (or mesh-wide) STRICT PeerAuthentication.",
    MANDATORY,
    _check_meshed_namespaces,
    "Add a PeerAuthentication (security.istio.io/v1) named default in the namespace with mtls.mode STRICT.",
    "Istio security best practices; NIST SP 800-204A",
)
