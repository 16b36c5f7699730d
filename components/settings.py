"""Typed, validated settings for one stack, read from the namespaced `aks-grpc:*` config objects.

Every area of the stack has one model (`ClusterSettings`, `MonitoringSettings`, ...); defaults live
here and nowhere else. Unknown keys are rejected so a typo never falls back to a default, and every
problem is reported at once, each naming its full config key, the bad value and what is allowed.

Cross-field rules are written as `@rule` problems: a validator collects `Problem`s relative to its
model and raises them together; `load_settings` turns them into full config keys.
"""

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "aks-grpc"

# ---------------------------------------------------------------------------------------------------
# Problem reporting
# ---------------------------------------------------------------------------------------------------

_PROBLEM_MARK = "@@"


class SettingsError(Exception):
    """Raised with every settings problem found; `problems` are ready-to-print lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack settings:\n" + "\n".join(f"  - {p}" for p in problems))


def problems_error(problems: Iterable[tuple[str, str]]) -> ValueError:
    """Build the error a model validator raises for cross-field problems.

    Each problem is ``(key relative to the model, message)``; the key is turned into the full config
    key by `load_settings`, so the message names exactly what to fix.
    """
    return ValueError("".join(f"{_PROBLEM_MARK}{key}\t{message}" for key, message in problems))


def _raise_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise problems_error(problems)


class _Model(BaseModel):
    """Base of every settings model: camelCase keys in YAML, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
        use_attribute_docstrings=True,
    )


# ---------------------------------------------------------------------------------------------------
# Reusable field types
# ---------------------------------------------------------------------------------------------------


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4/IPv6 network in CIDR form such as 203.0.113.0/24 ({exc})") from None
    return value


def _ip_or_cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError("must be an IP address or a network in CIDR form such as 203.0.113.0/24") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
IpRule = Annotated[str, AfterValidator(_ip_or_cidr)]
Guid = Annotated[
    str,
    Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")]
HourMinute = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
DayOfWeek = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
KubernetesName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]


# ---------------------------------------------------------------------------------------------------
# Cluster (`aks-grpc:cluster`)
# ---------------------------------------------------------------------------------------------------


class IstioSettings(_Model):
    """The AKS Istio add-on (service mesh profile)."""

    revisions: list[Annotated[str, Field(pattern=r"^asm-1-\d+$")]] = Field(
        default_factory=lambda: ["asm-1-28"], min_length=1
    )
    """Istio control plane revisions; two only during a canary upgrade, and then consecutive."""
    external_ingress_gateway: bool = True
    internal_ingress_gateway: bool = False


class ClusterSettings(_Model):
    """The AKS cluster, its node pools, add-ons, registry and access (`aks-grpc:cluster`)."""

    kubernetes_version: Annotated[str, Field(pattern=r"^1\.\d{2}(\.\d+)?$")] = "1.33"
    """Kubernetes version: a minor (`1.33`, AKS picks the latest patch) or an exact patch."""
    istio: IstioSettings = Field(default_factory=IstioSettings)
    kubelogin_mode: Literal["azurecli", "workloadidentity", "spn"] = "azurecli"
    """How the Kubernetes provider authenticates (kubelogin exec plugin). The environment variable
    AKS_GRPC_KUBELOGIN_MODE overrides it (CI uses `workloadidentity`)."""

    @property
    def kubernetes_minor(self) -> str:
        return ".".join(self.kubernetes_version.split(".")[:2])


def _cluster_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Cluster rules that need the rest of the stack (e.g. production-only rules). Keys: full path."""
    return []


# ---------------------------------------------------------------------------------------------------
# Monitoring (`aks-grpc:monitoring`)
# ---------------------------------------------------------------------------------------------------


class MonitoringSettings(_Model):
    """Azure Monitor: logs, managed Prometheus, traces, alerts and Grafana (`aks-grpc:monitoring`)."""

    log_retention_days: Annotated[int, Field(ge=30, le=730)] = 30
    """Log Analytics retention (30-730 days)."""


def _monitoring_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    return []


# ---------------------------------------------------------------------------------------------------
# Key Vault (`aks-grpc:keyVault`)
# ---------------------------------------------------------------------------------------------------


class KeyVaultSettings(_Model):
    """The stack's Key Vault and the secrets it holds for the workload (`aks-grpc:keyVault`)."""

    ip_rules: list[IpRule] = Field(default_factory=list)
    """Addresses allowed through the vault firewall (default action Deny)."""


def _key_vault_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    return []


# ---------------------------------------------------------------------------------------------------
# API Management (`aks-grpc:apim`)
# ---------------------------------------------------------------------------------------------------


class ApimSettings(_Model):
    """API Management fronting the gRPC API through a self-hosted gateway (`aks-grpc:apim`)."""

    enabled: bool = True
    sku: str = "Developer"
    publisher_name: str = "aks-grpc platform team"
    publisher_email: Email = "platform@example.com"


def _apim_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    return []


# ---------------------------------------------------------------------------------------------------
# Workload (`aks-grpc:workload`)
# ---------------------------------------------------------------------------------------------------


class AutoscalingSettings(_Model):
    """How the workload scales (`aks-grpc:workload.autoscaling`)."""

    mode: Literal["cpu", "keda"] = "cpu"
    """`cpu`: HPA on the app container's CPU. `keda`: KEDA on gRPC request rate from managed Prometheus
    (turns on the cluster's KEDA add-on)."""
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    max_replicas: Annotated[int, Field(ge=1, le=500)] = 10
    target_cpu_utilization: Annotated[int, Field(ge=10, le=95)] = 70


class WorkloadSettings(_Model):
    """The gRPC workload deployed onto the cluster (`aks-grpc:workload`)."""

    name: KubernetesName = "greeter"
    """Application name: Kubernetes namespace, ServiceAccount and labels derive from it."""
    namespace: KubernetesName = "grpc-greeter"
    image: str = "mcr.microsoft.com/aks-grpc/greeter:0.1.0"
    """Container image: `repo:tag` or `repo@sha256:...`, never `latest`."""
    autoscaling: AutoscalingSettings = Field(default_factory=AutoscalingSettings)


def _workload_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    return []


# ---------------------------------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------------------------------


class StackSettings(_Model):
    """All settings of one stack. Keys are the config keys without the `aks-grpc:` namespace."""

    environment: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,7}$")]
    """Environment name (2-8 lower-case letters/digits): part of every resource name."""
    location: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{2,30}$")]
    """Azure region, e.g. `westeurope`."""
    workload_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,9}$")] = "grpc"
    """Short product name used in every Azure resource name (2-10 lower-case letters/digits)."""
    tags: dict[Annotated[str, Field(min_length=1, max_length=512)], Annotated[str, Field(max_length=256)]] = (
        Field(default_factory=dict)
    )
    """Extra tags for every Azure resource (on top of environment, project and managed-by)."""
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    key_vault: KeyVaultSettings = Field(default_factory=KeyVaultSettings)
    apim: ApimSettings = Field(default_factory=ApimSettings)
    workload: WorkloadSettings = Field(default_factory=WorkloadSettings)

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def standard_tags(self) -> dict[str, str]:
        """Tags every Azure resource carries: the configured ones plus the three the platform owns."""
        return {
            **self.tags,
            "environment": self.environment,
            "project": NAMESPACE,
            "managed-by": "pulumi",
        }

    @model_validator(mode="after")
    def _stack_rules(self) -> "StackSettings":
        problems: list[tuple[str, str]] = []
        reserved = {"environment", "project", "managed-by"} & set(self.tags)
        for key in sorted(reserved):
            problems.append((f"tags.{key}", "is set by the platform and cannot be overridden"))
        # Rules that span areas; each area keeps its own next to its model (keys are full paths).
        for area_rules in (_cluster_rules, _monitoring_rules, _key_vault_rules, _apim_rules, _workload_rules):
            problems.extend(area_rules(self))
        _raise_problems(problems)
        return self


# ---------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that a (camelCase) error location points into, if any."""
    model: Any = StackSettings
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return None
        annotation = field.annotation
        model = annotation if isinstance(annotation, type) else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _key(loc: Iterable[Any]) -> str:
    """`("cluster", "istio", "revisions", 0)` -> `aks-grpc:cluster.istio.revisions[0]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return f"{NAMESPACE}:{text}" if text else NAMESPACE


def _describe(error: Mapping[str, Any]) -> list[str]:
    loc = tuple(error["loc"])
    message = str(error["msg"])
    if _PROBLEM_MARK in message:
        lines = []
        for chunk in message.split(_PROBLEM_MARK)[1:]:
            relative, _, text = chunk.partition("\t")
            lines.append(f"{_key(loc + tuple(_split_key(relative)))}: {text.strip()}")
        return lines
    if error["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return [f"{_key(loc)}: unknown key{hint}"]
    if error["type"] == "missing":
        return [f"{_key(loc)}: is required"]
    message = message.removeprefix("Value error, ")
    return [f"{_key(loc)}: {message} (got {json.dumps(error.get('input'), default=str)})"]


def _split_key(relative: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", relative):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


def load_settings(config: Mapping[str, Any]) -> StackSettings:
    """Validate a stack's config (keys without the namespace, values already parsed).

    Raises `SettingsError` listing every problem at once.
    """
    try:
        return StackSettings.model_validate(dict(config))
    except ValidationError as exc:
        problems = [line for error in exc.errors() for line in _describe(error)]
        raise SettingsError(problems) from None


def config_from_stack_file(stack_config: Mapping[str, Any]) -> dict[str, Any]:
    """The `aks-grpc:*` entries of a stack file's `config:` block, namespace removed.

    Keys of other namespaces (`azure-native:location`, ...) are left to their providers.
    """
    prefix = f"{NAMESPACE}:"
    return {k.removeprefix(prefix): v for k, v in stack_config.items() if k.startswith(prefix)}


def config_from_pulumi() -> dict[str, Any]:
    """The `aks-grpc:*` config of the running program (real engine or mocks), parsed from JSON.

    Pulumi hands object values over as JSON strings and has no API to list keys, so this reads the
    runtime's config map directly; unknown top-level keys are then rejected by the model.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    values: dict[str, Any] = {}
    for key, raw in merged.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE or not name:
            continue
        values[name] = _parse_config_value(raw)
    return values


def _parse_config_value(raw: Any) -> Any:
    # Only objects and arrays arrive JSON-encoded; a scalar such as "1.30" must stay a string.
    if not isinstance(raw, str) or raw.lstrip()[:1] not in ("{", "["):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
