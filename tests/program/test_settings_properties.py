"""Property: every configuration is either refused with every problem at its key, or deployable.

Configurations are generated from the settings models themselves (every field, its type and its
constraints, so a new setting is covered the day it is added): mostly near-default, with some fields
set to valid values, a few to invalid ones, now and then an unknown (snake_case) key or a plain-text
secret. Each one goes through the offline plan as the user runs it (`tools.offline_plan.main`, in
process). Either it exits 2 and every line of its report names a full `aks-grpc:` key (no traceback),
or it plans, and then every Kubernetes object passes strict schema validation (tests/k8s_schemas.py)
with valid names and labels, and no two objects share group/kind/namespace/name.

The default run is small and reproducible (15 examples, derandomized);
`AKS_GRPC_SETTINGS_EXAMPLES=500 bash tools/test.sh tests/program/test_settings_properties.py` explores
with random seeds.
"""

import contextlib
import io
import json
import os
import random
import re
import tempfile
import types
import typing
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from components.naming import DERIVED_NAMES, LABEL_VALUE
from program.settings import (
    NAMESPACE,
    RESERVED_SECRET_NAMES,
    StackSettings,
    config_from_stack_file,
    load_settings,
    reserved_secret_names,
)
from tests.k8s_schemas import problems_of, schema_version
from tools import offline_plan

EXAMPLES = int(os.environ.get("AKS_GRPC_SETTINGS_EXAMPLES", "15"))

# Realistic values for fields whose type alone rarely yields one (a random `1.NN` is no AKS minor).
REALISTIC: dict[str, list[Any]] = {
    "environment": ["dev", "test", "stage2", "prod"],
    "location": ["westeurope", "eastus2", "swedencentral", "brazilsouth"],
    "cluster.kubernetesVersion": ["1.35", "1.36", "1.37"],
    "cluster.istio.revisions": [["asm-1-29"], ["asm-1-30"], ["asm-1-29", "asm-1-30"]],
    "cluster.istio.activeRevision": ["asm-1-29", "asm-1-30"],
    "cluster.systemPool.vmSize": ["Standard_D4ds_v5", "Standard_D8ds_v5", "Standard_D4s_v5"],
    "cluster.userPool.vmSize": ["Standard_D4ds_v5", "Standard_D2ds_v5", "Standard_E4ds_v5"],
    "apim.sku": ["Developer", "Premium", "StandardV2"],
    "apim.gateway.image": [
        "mcr.microsoft.com/azure-api-management/gateway:2.11.0",
        "mcr.microsoft.com/azure-api-management/gateway:2.12.1",
    ],
    "services.<name>.image": ["mcr.microsoft.com/aks-grpc/greeter:0.2.0", "example.azurecr.io/greeter:1.0.0"],
    "services.<name>.ingress.syncerImage": ["mcr.microsoft.com/oss/kubernetes/pause:3.10"],
    "apim.apiHost": ["api.example.com", "grpc.example.com"],
    "services.<name>.ingress.host": ["grpc.example.com", "direct.example.com"],
    "services.<name>.secrets": [["db-password"], []],
    "keyVault.secrets": [["db-password"], ["db-password", "api-key"], ["apim-grpc-subscription-key"]],
    # Values where one setting meets another or a limit: names shared between settings, names the
    # cluster owns, the longest names, requests near their limits.
    "services.<name>": ["greeter", "orders", "greeter-v2", "a" * 45, "b" * 58],
    "services.<name>.namespace": [
        "grpc-greeter",
        "apim-gateway",
        "kube-system",
        "aks-istio-ingress",
        "n" * 63,
    ],
    "apim.gateway.namespace": ["apim-gateway", "grpc-greeter", "aks-istio-system", "g" * 63],
    "apim.gateway.name": ["apim-gateway", "gw" * 31],
    "apim.gateway.cpuRequest": ["500m", "2", "4"],
    "apim.gateway.memoryRequest": ["512Mi", "2Gi", "4Gi"],
    "services.<name>.resources.cpuRequest": ["250m", "1", "2"],
    "cluster.userPool.osDiskSizeGb": [64, 150, 400],
    "cluster.userPool.osDiskType": ["Ephemeral", "auto"],
    "services.<name>.ingress.certificateName": ["ingress-tls", "db-password"],
}
INVALID: list[Any] = [None, -1, "", "not valid", {"unexpected": 1}, ["x"], 10**9, True]


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for attribute in ("ge", "le", "gt", "lt", "min_length", "max_length", "pattern"):
            value = getattr(item, attribute, None)
            if value is not None:
                found[attribute] = value
        if isinstance(item, FieldInfo):
            found.update(_constraints(item.metadata))
    return found


def _valid(annotation: Any, metadata: list[Any], density: float, key: str) -> st.SearchStrategy[Any]:
    """Values the type (and its constraints) accepts; cross-field rules may still refuse them."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _valid(args[0], [*metadata, *args[1:]], density, key)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[_valid(a, metadata, density, key) for a in args if a is not type(None)])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is list:
        limits = _constraints(metadata)
        return st.lists(_valid(args[0], [], density, key), min_size=limits.get("min_length", 0), max_size=3)
    if origin is dict:
        names = _valid(args[0], [], density, key)
        value = args[1]
        if isinstance(value, type) and issubclass(value, BaseModel):
            # A map of settings objects (`services`): realistic names, each entry a generated object
            # whose keys read `services.<name>.image`.
            entry_key = f"{key}.<name>"
            names = (
                st.one_of(st.sampled_from(REALISTIC[entry_key]), names) if entry_key in REALISTIC else names
            )
            return st.dictionaries(
                names, model_config(value, density, f"{entry_key}."), min_size=1, max_size=2
            )
        return st.dictionaries(names, _valid(value, [], density, key), max_size=2)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_config(annotation, density, f"{key}.")
    limits = _constraints(metadata)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        low = limits.get("ge", limits.get("gt", -(2**31)) + 1)
        return st.integers(low, limits.get("le", limits.get("lt", 2**31) - 1))
    if annotation is float:
        return st.floats(
            limits.get("ge", 0.0), limits.get("le", 1e6), allow_nan=False, exclude_min="gt" in limits
        )
    if "pattern" in limits:
        text = st.from_regex(limits["pattern"], fullmatch=True, alphabet=st.characters(codec="ascii"))
        return text.filter(lambda s: limits.get("min_length", 0) <= len(s) <= limits.get("max_length", 10**6))
    return st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=20)


def _field_value(draw: st.DrawFn, rnd: random.Random, field: FieldInfo, density: float, key: str) -> Any:
    """A set field: a realistic value (half the time when the field has some), one its type allows, or
    (one in 25) a value of the wrong type or out of range."""
    roll = rnd.random()
    if roll < 0.04:
        return rnd.choice(INVALID)
    if key in REALISTIC and roll < 0.6:
        return rnd.choice(REALISTIC[key])
    return draw(_valid(field.annotation, list(field.metadata), density, key))


@st.composite
def _model_dict(draw: st.DrawFn, model: type[BaseModel], density: float, prefix: str) -> dict[str, Any]:
    # Which fields are set, and how, is decided by a Random seeded from one drawn integer: hypothesis
    # favours its simplest choices (0, the first element, also through `st.randoms()`), which would make
    # nearly every set field the first invalid value.
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    result: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        key = f"{prefix}{alias}"
        nested = isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        if field.is_required():
            result[alias] = (
                rnd.choice(REALISTIC[key])
                if key in REALISTIC
                else draw(_valid(field.annotation, [], density, key))
            )
        # Nested objects are entered more often than leaves are set: most fields stay at their default.
        elif rnd.random() < (min(3 * density, 0.7) if nested else density):
            if nested:
                result[alias] = draw(model_config(field.annotation, density, f"{key}."))
            else:
                result[alias] = _field_value(draw, rnd, field, density, key)
    if rnd.random() < density / 4:
        name = rnd.choice(sorted(model.model_fields))
        result[name if "_" in name else f"{name}_x"] = True  # a snake_case (unknown) key
    return result


def model_config(
    model: type[BaseModel], density: float, prefix: str = ""
) -> st.SearchStrategy[dict[str, Any]]:
    return _model_dict(model, density, prefix)


def _stack_file_settings(stack: str) -> dict[str, Any]:
    config = yaml.safe_load((offline_plan.STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    prefix = f"{NAMESPACE}:"
    return {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}


BASES = {"defaults": {}, "dev": _stack_file_settings("dev"), "prod": _stack_file_settings("prod")}
"""What generated settings are laid over: the defaults, or a shipped stack (so prod configurations that
meet the production rules are generated too)."""


def _same_typed_fields(
    model: type[BaseModel] = StackSettings, prefix: str = ""
) -> dict[str, list[tuple[str, Any]]]:
    """Leaf string fields grouped by their exact type and constraints: (key, default) per field."""
    groups: dict[str, list[tuple[str, Any]]] = {}
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            for kind, members in _same_typed_fields(field.annotation, f"{key}.").items():
                groups.setdefault(kind, []).extend(members)
        elif field.annotation is str and not field.metadata:
            continue  # free text: nothing meets there
        elif "str" in repr(field.annotation) and "list" not in repr(field.annotation):
            default = None if field.is_required() else field.get_default(call_default_factory=True)
            groups.setdefault(repr((field.annotation, field.metadata)), []).append((key, default))
    return groups


SAME_TYPED = {kind: members for kind, members in _same_typed_fields().items() if len(members) > 1}
"""E.g. the four Kubernetes names (workload and gateway name and namespace), the two host names."""


def _alias(rnd: random.Random, values: dict[str, Any]) -> None:
    """Give one field the value of another field of the same type: two settings that meet."""
    members = SAME_TYPED[rnd.choice(sorted(SAME_TYPED))]
    (source, default), (target, _) = rnd.sample(members, 2)
    node: Any = values
    for part in source.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    value = node if isinstance(node, str) else default
    if value is None:
        return
    *parents, leaf = target.split(".")
    node = values
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = value


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in override.items()}}
    return override


@st.composite
def stack_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A stack file's `config:` block: the generated settings over a base, plus the values of declared
    secrets."""
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    density = rnd.choice([0.04, 0.1, 0.2])
    base = rnd.choice(sorted(BASES))
    values = draw(model_config(StackSettings, density))
    if base != "defaults":
        values = _merge(BASES[base], {k: v for k, v in values.items() if k != "environment"})
    if rnd.random() < 0.3:
        _alias(rnd, values)
    config: dict[str, Any] = {"azure-native:location": "westeurope"}
    config.update({f"{NAMESPACE}:{k}": v for k, v in values.items()})
    key_vault = values.get("keyVault")
    declared = key_vault.get("secrets", []) if isinstance(key_vault, dict) else []
    secrets: dict[str, Any] = {}
    for name in declared if isinstance(declared, list) else []:
        how = rnd.choice(["encrypted"] * 8 + ["plain", "missing"])
        if how != "missing" and isinstance(name, str):
            secrets[name] = {"secure": "v1:Y2lwaGVydGV4dA=="} if how == "encrypted" else "plain-value"
    if secrets:
        config[f"{NAMESPACE}:secrets"] = secrets
    return config


PROBLEM_LINE = re.compile(r"^  - aks-grpc:[A-Za-z][\w-]*(?:\.[\w-]+|\[\d+\]|\[\"[^\"]*\"\])*: \S")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
SHORT_NAME_KINDS = {"Namespace", "Service"}  # RFC 1123/1035 labels (63), not subdomains (253)


def name_and_label_problems(obj: dict[str, Any]) -> list[str]:
    """What the API server's name and label validation would refuse (the schemas do not check them)."""
    metadata = obj.get("metadata") or {}
    kind, name = obj.get("kind", ""), str(metadata.get("name", ""))
    where = f"{kind} {metadata.get('namespace', '')}/{name}"
    problems = []
    if not NAME.fullmatch(name) or len(name) > (63 if kind in SHORT_NAME_KINDS else 253):
        problems.append(f"{where}: invalid name")
    if kind == "Service" and not name[:1].isalpha():
        problems.append(f"{where}: a Service name starts with a letter")
    label_sets = [metadata.get("labels") or {}]
    spec = obj.get("spec") or {}
    if isinstance(spec, dict):
        label_sets.append(((spec.get("selector") or {}).get("matchLabels")) or {})
        label_sets.append(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})
    for labels in label_sets:
        for key, value in labels.items():
            if not LABEL_KEY.fullmatch(key) or not LABEL_VALUE.check(str(value)):
                problems.append(f"{where}: invalid label {key}={value!r}")
    return problems


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]i)?$")
_MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "": 1}


def _quantity(value: Any, cpu: bool) -> float:
    match = (_CPU if cpu else _MEMORY).match(str(value))
    assert match, value
    number, unit = match.groups()
    if cpu:
        return float(number) / (1000 if unit else 1)
    return float(number) * _MEMORY_UNITS[unit or ""]


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") if isinstance(spec, dict) else None
    return [template] if isinstance(template, dict) else []


CLUSTER_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease", "gatekeeper-system"}
"""Namespaces an AKS cluster has before the program runs (plus every `kube-*` and add-on `aks-*` one)."""


def api_server_problems(obj: dict[str, Any]) -> list[str]:
    """What the API server (or the cluster's state) refuses beyond the schemas: requests above limits,
    a Namespace the cluster already has."""
    metadata = obj.get("metadata") or {}
    where = f"{obj.get('kind')} {metadata.get('namespace', '')}/{metadata.get('name', '')}"
    problems = []
    for pod in _pod_specs(obj):
        for container in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]:
            resources = container.get("resources") or {}
            for resource, cpu in (("cpu", True), ("memory", False)):
                request = (resources.get("requests") or {}).get(resource)
                limit = (resources.get("limits") or {}).get(resource)
                if (
                    request is not None
                    and limit is not None
                    and _quantity(request, cpu) > _quantity(limit, cpu)
                ):
                    problems.append(
                        f"{where}: {container.get('name')} {resource} request {request} > limit {limit}"
                    )
    name = str(metadata.get("name", ""))
    if obj.get("kind") == "Namespace" and (name in CLUSTER_NAMESPACES or name.startswith(("kube-", "aks-"))):
        problems.append(f"{where}: the cluster already has this namespace")
    return problems


def gateway_host_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Istio cannot serve one host on one port of an ingress gateway from two Gateways."""
    claims: Counter[tuple[str, str, int]] = Counter()
    for obj in objects:
        if obj.get("kind") != "Gateway" or not obj.get("apiVersion", "").startswith("networking.istio.io/"):
            continue
        selector = json.dumps(obj["spec"].get("selector", {}), sort_keys=True)
        for server in obj["spec"].get("servers", []):
            for host in server.get("hosts", []):
                claims[(selector, host.rpartition("/")[2], server["port"]["number"])] += 1
    return [f"two Gateways claim {host}:{port}" for (_, host, port), count in claims.items() if count > 1]


FEDERATED_CREDENTIAL = (
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
)


def azure_problems(resources: list[dict[str, Any]]) -> list[str]:
    """Azure-side: two resources for one Azure object; certificate and credential name limits."""
    problems = []
    identities: Counter[tuple[str, str]] = Counter()
    for resource in resources:
        inputs = resource.get("inputs") or {}
        if resource["type"].startswith("azure-native:"):
            naming = {
                k: v
                for k, v in inputs.items()
                # APIM children are named by their `*Id` (apiId, backendId, certificateId, ...) in the service.
                if k == "name" or k.endswith(("Name", "Id")) or k in ("scope", "resourceUri")
            }
            identities[(resource["type"], json.dumps(naming, sort_keys=True))] += 1
        subject = inputs.get("subject")
        if isinstance(subject, dict) and len(str(subject.get("commonName", ""))) > 64:
            problems.append(f"{resource['name']}: certificate common name over 64 characters")
        if resource["type"] == FEDERATED_CREDENTIAL and len(str(inputs.get("displayName", ""))) > 120:
            problems.append(f"{resource['name']}: federated credential name over 120 characters")
    problems += [
        f"two resources for one Azure object: {key}" for key, count in identities.items() if count > 1
    ]
    return problems


def plan(config: dict[str, Any]) -> tuple[int, str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the offline plan on a stack file holding `config`: (exit code, stderr, Kubernetes objects)."""
    with tempfile.TemporaryDirectory() as folder:
        stack_file = Path(folder) / "Pulumi.prop.yaml"
        stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = offline_plan.main(
                ["--stack", "prop", "--stack-file", str(stack_file), "--out", f"{folder}/out"]
            )
        out = Path(folder) / "out"
        objects = (
            [o for o in yaml.safe_load_all((out / "manifests.yaml").read_text()) if o] if code == 0 else []
        )
        resources = json.loads((out / "resources.json").read_text()) if code == 0 else []
    return code, err.getvalue(), objects, resources


def assert_refused_or_deployable(config: dict[str, Any]) -> int:
    """Assert the property for one configuration; returns the exit code."""
    code, err, objects, resources = plan(config)
    assert code in (0, 2), err
    if code == 2:
        lines = err.splitlines()
        assert lines and lines[0].startswith("error: ") and lines[0].endswith("invalid stack settings:"), err
        assert "Traceback" not in err
        unkeyed = [line for line in lines[1:] if not PROBLEM_LINE.match(line)]
        assert unkeyed == [], err
        return code
    settings_ = load_settings(config_from_stack_file(config))
    version = schema_version(settings_.cluster.kubernetes_minor)
    problems = [
        p
        for obj in objects
        for p in problems_of(obj, version) + name_and_label_problems(obj) + api_server_problems(obj)
    ]
    problems += gateway_host_problems(objects) + azure_problems(resources)
    assert problems == []
    identities = Counter(
        (
            o["apiVersion"].rpartition("/")[0],
            o["kind"],
            o["metadata"].get("namespace", ""),
            o["metadata"]["name"],
        )
        for o in objects
    )
    assert [identity for identity, count in identities.items() if count > 1] == []
    return code


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="AKS_GRPC_SETTINGS_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(stack_configs())
def test_every_generated_configuration_is_refused_with_its_keys_or_deployable(config: dict[str, Any]) -> None:
    event("refused" if assert_refused_or_deployable(config) == 2 else "planned")


# --- the property's checks can fail ------------------------------------------------------------------


def test_the_property_catches_an_object_kubernetes_would_refuse() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "9greeter", "labels": {"a": "b" * 64}},
    }
    assert len(name_and_label_problems(service)) == 2
    container = {
        "name": "c",
        "resources": {"requests": {"cpu": "4", "memory": "3Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
    }
    pod = {"containers": [container]}
    deployment = {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": pod}}}
    assert len(api_server_problems(deployment)) == 2
    assert api_server_problems({"kind": "Namespace", "metadata": {"name": "aks-istio-ingress"}})
    server = {"hosts": ["a.example.com"], "port": {"number": 443}}
    gateway = {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "spec": {"servers": [server]}}
    assert gateway_host_problems([gateway, gateway])
    secret = {
        "type": "azure-native:keyvault:Secret",
        "name": "s",
        "inputs": {"vaultName": "v", "secretName": "x"},
    }
    assert azure_problems([secret, {**secret, "name": "t"}])


def test_the_property_passes_the_shipped_stacks() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "two-services.yaml"
    for stack_file in (
        offline_plan.STACKS_DIR / "Pulumi.dev.yaml",
        offline_plan.STACKS_DIR / "Pulumi.prod.yaml",
        example,
    ):
        config, _ = offline_plan.read_stack_config(stack_file)
        assert assert_refused_or_deployable(config) != 2, stack_file.name


# --- the central tables match what the program creates -----------------------------------------------

FULL = {
    "azure-native:location": "westeurope",
    "aks-grpc:environment": "dev",
    "aks-grpc:location": "westeurope",
    "aks-grpc:cluster": {"zones": []},
    "aks-grpc:apim": {"apiHost": "api.example.com", "apiHostCertificateId": "api-cert"},
    "aks-grpc:services": {"echo": {"namespace": "grpc-echo", "ingress": {"host": "grpc.example.com"}}},
}


@pytest.fixture(scope="module")
def full_plan() -> Any:
    with tempfile.TemporaryDirectory() as folder:
        stack_file = Path(folder) / "Pulumi.full.yaml"
        stack_file.write_text(yaml.safe_dump({"config": FULL}))
        return offline_plan.plan_stack("full", stack_file)


def test_every_derived_name_in_the_table_is_a_name_the_program_creates(full_plan: Any) -> None:
    settings_ = load_settings(config_from_stack_file(FULL))
    text = offline_plan.resources_json(full_plan)
    from program.settings import _config_value, _derived_instances

    for template in DERIVED_NAMES:
        for derived, _ in _derived_instances(settings_, template):
            name = derived.render({key: str(_config_value(settings_, key)) for key in derived.keys})
            assert f'"{name}"' in text, derived.template


def test_reserved_secret_names_are_the_secrets_the_stack_writes(full_plan: Any) -> None:
    written = {
        r.inputs["secretName"] for r in full_plan.resources if r.type == "azure-native:keyvault:Secret"
    }
    assert written == set(reserved_secret_names(["echo"]))
    assert set(RESERVED_SECRET_NAMES) == set(reserved_secret_names(["greeter"]))
