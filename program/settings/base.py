"""Settings: base."""

import datetime
import ipaddress
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonDict

from components.kubernetes_versions import today as current_date

NAMESPACE = "aks-grpc"
TODAY_CONTEXT_KEY = "today"
"""Validation context key of the date the support checks compare with (`load_settings(..., today=)`)."""


def _validation_date(info: ValidationInfo) -> datetime.date:
    context = info.context if isinstance(info.context, Mapping) else {}
    value = context.get(TODAY_CONTEXT_KEY)
    return value if isinstance(value, datetime.date) else current_date()


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


_COLLECTED: ContextVar[list[tuple[BaseModel, list[tuple[str, str]]]] | None] = ContextVar(
    "aks_grpc_settings_problems", default=None
)
"""Set by `load_settings`: rule problems are collected here with the model they belong to instead of
raised, so the rules of the enclosing models (and the stack's environment rules) still run; the models'
locations are found afterwards by walking the validated tree."""


def _raise_problems(problems: list[tuple[str, str]], owner: BaseModel | None = None) -> None:
    if not problems:
        return
    collected = _COLLECTED.get()
    if collected is not None and owner is not None:
        collected.append((owner, problems))
        return
    raise problems_error(problems)


class _Model(BaseModel):
    """Base of every settings model: camelCase keys in YAML, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        # Python code may build models by field name; stack config is read by alias only (see
        # load_settings), so a snake_case key there is an unknown key, not a silent alias.
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
        use_attribute_docstrings=True,
    )


def nested() -> Any:
    """Default for a nested settings model: `{}`, validated into the model at its own key.

    (A `default_factory=Model` would build the default outside validation, and a rule it breaks
    would be reported without its config key.)
    """
    return Field(default_factory=dict)


def service_key(service: str, relative: str = "") -> str:
    """`services.<name>[.relative]`: a service's config key relative to the namespace."""
    return f"services.{service}.{relative}" if relative else f"services.{service}"


def _field_named(model: type[BaseModel], part: Any) -> Any:
    return next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)


# ---------------------------------------------------------------------------------------------------
# Reusable field types
# ---------------------------------------------------------------------------------------------------


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"must be an IPv4/IPv6 network in CIDR form such as 203.0.113.0/24 ({exc})"
        ) from None
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

CREATE_ONLY: JsonDict = {"createOnly": True}
"""`json_schema_extra` of a field Azure fixes at creation: changing it replaces the resource (a node pool
is replaced create-before-delete under a new name; the cluster itself would be deleted and created
again, which `protect` blocks). The configuration reference marks these fields (tools/config_reference.py)."""


def create_only(default: Any = ..., **kwargs: Any) -> Any:
    """A `Field` marked create-only (see `CREATE_ONLY`)."""
    return Field(default, json_schema_extra=CREATE_ONLY, **kwargs)


KubernetesName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]

CLUSTER_OWNED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "gatekeeper-system")
"""Namespaces every AKS cluster has (or its Azure Policy add-on creates): the program must not create them."""
CLUSTER_OWNED_NAMESPACE_PREFIXES = ("kube-", "aks-")
"""Prefixes of namespaces Kubernetes and AKS add-ons own (`aks-istio-system`, `aks-istio-ingress`, ...)."""


def _namespace_problems(key: str, namespace: str) -> list[tuple[str, str]]:
    """A namespace the program creates must not be one the cluster already owns."""
    if namespace in CLUSTER_OWNED_NAMESPACES or namespace.startswith(CLUSTER_OWNED_NAMESPACE_PREFIXES):
        return [
            (
                key,
                f"{namespace} belongs to the cluster (Kubernetes or an AKS add-on), and the program creates "
                f"and labels its namespace; choose another name (not {', '.join(CLUSTER_OWNED_NAMESPACES)} "
                f"nor {'*, '.join(CLUSTER_OWNED_NAMESPACE_PREFIXES)}*)",
            )
        ]
    return []
