"""Strict schema validation of rendered Kubernetes objects, shared by the tests.

Core kinds: `kubernetes_validate` (the official OpenAPI schemas) in strict mode. Custom resources: the
upstream CRD schemas vendored in tests/schemas/crds with unknown fields made errors, as the API server does
under strict field validation.
"""

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate.utils import all_versions

REPO_ROOT = Path(__file__).resolve().parents[1]
CRD_SCHEMAS = REPO_ROOT / "tests" / "schemas" / "crds"
CORE_GROUPS = {"", "apps", "autoscaling", "policy", "networking.k8s.io", "batch", "rbac.authorization.k8s.io"}


def schema_version(minor: str) -> str:
    """The cluster's minor if kubernetes-validate ships it, else the nearest newer one (then older)."""
    available = sorted(
        {".".join(v.split(".")[:2]) for v in all_versions()}, key=lambda v: tuple(map(int, v.split(".")))
    )
    if minor in available:
        return minor
    wanted = tuple(map(int, minor.split(".")))
    newer = [v for v in available if tuple(map(int, v.split("."))) > wanted]
    return newer[0] if newer else available[-1]


def _strict(schema: Any) -> Any:
    """Unknown fields are errors: `additionalProperties: false` where the schema leaves it open."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@cache
def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    group, _, version = api_version.rpartition("/")
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.exists():
        raise AssertionError(
            f"no CRD schema for {api_version} {kind} in {CRD_SCHEMAS} (wrong group/version/kind?)"
        )
    schema = json.loads(path.read_text())
    schema = {k: v for k, v in schema.items() if not k.startswith("x-")}
    # apiVersion/kind/metadata are checked by the caller; the CRD schema covers the rest.
    for key in ("apiVersion", "kind", "metadata"):
        schema.get("properties", {}).pop(key, None)
    return jsonschema.Draft202012Validator(_strict(schema))


METADATA_KEYS = {"name", "namespace", "labels", "annotations"}


def problems_of(obj: dict[str, Any], version: str) -> list[str]:
    """Schema problems of one rendered object (empty when it is valid)."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    group = api_version.rpartition("/")[0]
    where = (
        f"{kind} {obj.get('metadata', {}).get('namespace', '')}/{obj.get('metadata', {}).get('name', '?')}"
    )
    if group in CORE_GROUPS:
        try:
            kubernetes_validate.validate(copy.deepcopy(obj), version, strict=True)
        except kubernetes_validate.ValidationError as error:
            return [f"{where}: {error.message} at {'.'.join(map(str, error.path))}"]
        return []
    problems = []
    metadata = obj.get("metadata") or {}
    if not metadata.get("name"):
        problems.append(f"{where}: metadata.name is missing (no auto-naming)")
    if unknown := set(metadata) - METADATA_KEYS:
        problems.append(f"{where}: unexpected metadata fields {sorted(unknown)}")
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    for error in crd_validator(api_version, kind).iter_errors(body):
        problems.append(f"{where}: {error.message} at {'.'.join(map(str, error.absolute_path))}")
    return problems
