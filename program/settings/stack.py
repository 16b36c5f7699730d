"""Settings: stack."""

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    model_validator,
)

from components.naming import DERIVED_NAMES, SERVICE_KEY, DerivedName

from .apim import ApimSettings, _apim_rules
from .base import NAMESPACE, _field_named, _Model, _raise_problems, nested
from .cluster import ClusterSettings, _cluster_rules
from .keyvault import KeyVaultSettings, _key_vault_rules
from .monitoring import MonitoringSettings, _monitoring_rules
from .services import (
    DEFAULT_SERVICE,
    GrpcServiceSettings,
    PlatformSettings,
    ServiceName,
    _services_rules,
    _services_with_defaults,
)

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
    protect_stateful_resources: bool | None = None
    """Pulumi `protect` on the resources holding state (AKS cluster, Key Vault, Log Analytics, Azure Monitor
    workspace, API Management, container registry): a plan that would delete one fails instead. Default:
    on in prod, off elsewhere. Set `false` before a deliberate `pulumi destroy` (docs/operations.md)."""
    cluster: ClusterSettings = nested()
    monitoring: MonitoringSettings = nested()
    key_vault: KeyVaultSettings = nested()
    apim: ApimSettings = nested()
    platform: PlatformSettings = nested()
    services: Annotated[
        dict[ServiceName, GrpcServiceSettings], BeforeValidator(_services_with_defaults), Field(min_length=1)
    ] = Field(default_factory=lambda: {DEFAULT_SERVICE: {}}, validate_default=True)
    """The gRPC services the platform runs, by name (the Kubernetes Service, ServiceAccount, Deployment,
    labels and the Azure identity derive from it). Default: the reference greeter alone."""

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def keda_enabled(self) -> bool:
        """Whether any service scales with KEDA (the cluster's KEDA add-on and the operator's identity)."""
        return any(s.autoscaling.mode == "keda" for s in self.services.values())

    @property
    def dapr_enabled(self) -> bool:
        """Whether any service runs a Dapr sidecar (the cluster's Dapr extension)."""
        return any(s.dapr.enabled for s in self.services.values())

    @property
    def protects_stateful_resources(self) -> bool:
        """Whether the stateful resources get `protect`: the setting, or on by default in prod."""
        if self.protect_stateful_resources is None:
            return self.is_production
        return self.protect_stateful_resources

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
        for area_rules in (
            _cluster_rules,
            _monitoring_rules,
            _key_vault_rules,
            _apim_rules,
            _services_rules,
            _derived_name_rules,
        ):
            problems.extend(area_rules(self))
        _raise_problems(problems, self)
        return self


def _config_value(stack: BaseModel, key: str) -> Any:
    """The value at a config key relative to the namespace (`services.greeter.ingress.host`); a key
    ending at a map entry (`services.greeter`) is the entry's name."""
    value: Any = stack
    parts = key.split(".")
    for index, part in enumerate(parts):
        if isinstance(value, Mapping):
            if part not in value:
                raise KeyError(key)
            value = value[part] if index < len(parts) - 1 else part
            continue
        field = _field_named(type(value), part) if isinstance(value, BaseModel) else None
        if field is None:
            raise KeyError(key)
        value = getattr(value, next(n for n, f in type(value).model_fields.items() if f is field))
    return value


def _derived_instances(
    stack: "StackSettings", derived: DerivedName
) -> list[tuple[DerivedName, dict[str, str]]]:
    """A derived name once per service when it is per service (`{services.*}`), else once: (the name with
    its keys made concrete, {concrete key: template key})."""
    if not any(key.startswith(SERVICE_KEY) for key in (*derived.keys, derived.when)):
        return [(derived, {key: key for key in derived.keys})]
    found = []
    for service in stack.services:
        concrete = SERVICE_KEY.replace("*", service)
        template = derived.template.replace(SERVICE_KEY, concrete)
        instance = DerivedName(
            template,
            derived.becomes,
            derived.rule,
            derived.rule_text,
            derived.when.replace(SERVICE_KEY, concrete),
        )
        found.append((instance, {key.replace(SERVICE_KEY, concrete): key for key in derived.keys}))
    return found


def _derived_name_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Every name derived from settings (components/naming.py `DERIVED_NAMES`) against its rule, once per
    service for the per-service ones.

    A broken name is reported at its first config key, once per key: the tightest rule it breaks (the
    one that leaves the configurable parts the fewest characters).
    """
    worst: dict[str, tuple[int, str]] = {}
    for template_name in DERIVED_NAMES:
        for derived, _ in _derived_instances(stack, template_name):
            if derived.when and not _config_value(stack, derived.when):
                continue
            parts = {key: str(_config_value(stack, key)) for key in derived.keys}
            name = derived.render(parts)
            if derived.rule.check(name):
                continue
            room = derived.rule.max_length - (len(name) - sum(len(v) for v in parts.values()))
            message = (
                f"{parts[derived.keys[0]]!r} becomes the {derived.becomes} {name!r} ({len(name)} characters), "
                f"which must be {derived.rule_text}"
            )
            if len(name) > derived.rule.max_length:
                message += f"; {' + '.join(derived.keys)} may have at most {room} characters here"
            key = derived.keys[0]
            if key not in worst or room < worst[key][0]:
                worst[key] = (room, message)
    return [(key, message) for key, (_, message) in worst.items()]
