"""Settings: loading."""

import datetime
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from components.kubernetes_versions import today as current_date

from .base import _COLLECTED, _PROBLEM_MARK, NAMESPACE, TODAY_CONTEXT_KEY, SettingsError, _field_named
from .stack import StackSettings

# ---------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------


def _map_model(annotation: Any) -> type[BaseModel] | None:
    """The value model of a map of settings models (`dict[str, Model]`, possibly `Annotated`)."""
    if typing.get_origin(annotation) is Annotated:
        return _map_model(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) is dict:
        value = typing.get_args(annotation)[1]
        return value if isinstance(value, type) and issubclass(value, BaseModel) else None
    return None


def _model_type(annotation: Any) -> type[BaseModel] | None:
    """The settings model of a field's annotation: `Model`, or `Model | None` (an optional object)."""
    if isinstance(annotation, type):
        return annotation if issubclass(annotation, BaseModel) else None
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if len(models) == 1 else None
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that a (camelCase) error location points into, if any."""
    model: type[BaseModel] | None = StackSettings
    entry_of: type[BaseModel] | None = None
    for part in loc:
        if entry_of is not None:
            model, entry_of = entry_of, None  # `part` is a map key: the entry is a model
            continue
        if model is None:
            return None
        field = _field_named(model, part)
        if field is None:
            return None
        model = _model_type(field.annotation)
        entry_of = _map_model(field.annotation)
    return model


_DICT_KEY_MARK = "[key]"
"""What pydantic appends to the location of an error in a mapping's key (not its value)."""


def _key(loc: Iterable[Any]) -> str:
    """`("cluster", "istio", "revisions", 0)` -> `aks-grpc:cluster.istio.revisions[0]`.

    A map key that is not a plain word (empty, or with dots or spaces) is quoted in brackets, so an empty
    tag name reads `aks-grpc:tags[""]` rather than `aks-grpc:tags.`.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == _DICT_KEY_MARK:
            continue
        elif not re.fullmatch(r"[A-Za-z0-9_-]+", str(part)):
            text += f"[{json.dumps(str(part))}]"
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
    if _DICT_KEY_MARK in loc:
        message = f"the name (map key) {message[:1].lower()}{message[1:]}"
    return [f"{_key(loc)}: {message} (got {json.dumps(error.get('input'), default=str)})"]


def _split_key(relative: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", relative):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


SECRET_VALUES_KEY = "secrets"
"""`aks-grpc:secrets`: an encrypted object {secret name: value} holding the values of the secrets that
`keyVault.secrets` declares. The loaders below reduce it to its names, so no value ever reaches the
settings model; `components.keyvault.SecretStore` reads the values itself, as Pulumi secrets."""

ENCRYPTED_NAMES_UNKNOWN = "<encrypted object>"
"""Stands for `aks-grpc:secrets` when the whole object is one ciphertext, so its names cannot be read."""


def _secret_value_names(value: Any) -> dict[str, bool] | str:
    """`aks-grpc:secrets` of a stack file -> {name: stored encrypted?}, never the values.

    In a stack file an encrypted value is written `{secure: <ciphertext>}`; anything else is plain text.
    """
    if isinstance(value, Mapping) and set(value) == {"secure"}:
        return ENCRYPTED_NAMES_UNKNOWN
    if not isinstance(value, Mapping):
        return ENCRYPTED_NAMES_UNKNOWN if isinstance(value, str) else {}
    return {str(name): isinstance(item, Mapping) and set(item) == {"secure"} for name, item in value.items()}


def _secret_value_problems(settings: StackSettings, provided: Any) -> list[str]:
    """Every declared secret has a value in `aks-grpc:secrets`, every value is declared and encrypted."""
    if provided is None:
        provided = {}
    if not isinstance(provided, Mapping):
        return []  # one ciphertext: the names are checked when the program runs and can decrypt it
    problems: list[str] = []
    declared = settings.key_vault.secrets
    for index, name in enumerate(declared):
        if name not in provided:
            problems.append(
                f"{NAMESPACE}:keyVault.secrets[{index}]: {name} has no value; set it with "
                f"`pulumi config set --secret --path '{NAMESPACE}:{SECRET_VALUES_KEY}.{name}' <value>`"
            )
    for name, encrypted in provided.items():
        key = f"{NAMESPACE}:{SECRET_VALUES_KEY}.{name}"
        if name not in declared:
            problems.append(f"{key}: has a value but is not declared in {NAMESPACE}:keyVault.secrets")
        elif encrypted is False:
            problems.append(f"{key}: is stored in plain text; set it again with `pulumi config set --secret`")
    return problems


def load_settings(config: Mapping[str, Any], *, today: datetime.date | None = None) -> StackSettings:
    """Validate a stack's config (keys without the namespace, values already parsed).

    `secrets` (the names of `aks-grpc:secrets`, see `SECRET_VALUES_KEY`) is checked against
    `keyVault.secrets` and never enters the model. Support windows (Kubernetes minors, Istio revisions)
    are checked as of `today` (default: the current UTC date). Raises `SettingsError` listing every
    problem at once: the field problems, and the cross-field and environment rules over the fields that
    did parse (`_rule_problems_despite`).
    """
    values = dict(config)
    provided = values.pop(SECRET_VALUES_KEY, None)
    context = {TODAY_CONTEXT_KEY: today or current_date()}
    settings, errors, rule_problems = _validate_collecting(values, context)
    if settings is not None:
        problems = rule_problems + _secret_value_problems(settings, provided)
        if problems:
            raise SettingsError(problems)
        return settings
    field_problems = [line for error in errors for line in _describe(error)]
    more = _rule_problems_despite(values, errors, context, provided)
    raise SettingsError(field_problems + [p for p in more if p not in field_problems])


def _validate_collecting(
    values: Mapping[str, Any], context: Mapping[str, Any]
) -> tuple[StackSettings | None, list[Any], list[str]]:
    """Validate with the rules collecting their problems: (settings or None, field errors, rule problems)."""
    collected: list[tuple[BaseModel, list[tuple[str, str]]]] = []
    token = _COLLECTED.set(collected)
    try:
        settings = StackSettings.model_validate(values, by_alias=True, by_name=False, context=dict(context))
    except ValidationError as exc:
        return None, list(exc.errors()), []
    finally:
        _COLLECTED.reset(token)
    where = _locations(settings)
    problems = [
        f"{_key(where.get(id(owner), ()) + tuple(_split_key(relative)))}: {message}"
        for owner, owner_problems in collected
        for relative, message in owner_problems
    ]
    return settings, [], problems


def _locations(model: BaseModel, loc: tuple[Any, ...] = ()) -> dict[int, tuple[Any, ...]]:
    """id(model instance) -> its config location, for every model in a validated settings tree."""
    found = {id(model): loc}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = field.alias or name
        if isinstance(value, BaseModel):
            found.update(_locations(value, (*loc, key)))
        elif isinstance(value, dict):
            for entry, item in value.items():
                if isinstance(item, BaseModel):
                    found.update(_locations(item, (*loc, key, entry)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found.update(_locations(item, (*loc, key, index)))
    return found


# A required top-level field that failed is replaced by a placeholder so the other rules can run; `dev`
# is the most lenient environment (the production rules stay off when the environment itself is wrong).
_PLACEHOLDERS: dict[str, Any] = {"environment": "dev", "location": "westeurope"}


def _rule_problems_despite(
    values: Mapping[str, Any], errors: list[Any], context: Mapping[str, Any], provided: Any
) -> list[str]:
    """The rule problems of a config whose fields did not all parse.

    Pydantic runs no model rule once a field of the model fails, so one bad field would hide every
    cross-field and environment rule. Each failed field is set back to its default (or its enclosing
    optional object dropped) and the config validated again, a few times if needed; the rule problems of
    that run are reported, except those that name or sit under a field that was replaced (they would be
    about a value the user did not write).
    """
    data: Any = json.loads(json.dumps(values, default=str))
    replaced: list[tuple[Any, ...]] = []
    for _ in range(4):
        for error in errors:
            path = _replacement_path(tuple(error["loc"]))
            if path and path not in replaced:
                replaced.append(path)
                _replace(data, path)
        settings, errors, problems = _validate_collecting(data, context)
        if settings is not None:
            problems += _secret_value_problems(settings, provided)
            return [p for p in problems if not _mentions_replaced(p, replaced)]
    return []


def _replacement_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The config path to set back to its default for a field error at `loc`: the field itself, or the
    nearest enclosing field that has a default (an unknown key: the key itself)."""
    model: type[BaseModel] | None = StackSettings
    path: list[Any] = []
    has_default: list[bool] = []
    entry_of: type[BaseModel] | None = None
    for part in loc:
        if entry_of is not None:
            # A map entry: keep its name in the path; its fields have the defaults.
            path.append(part)
            has_default.append(False)
            model, entry_of = entry_of, None
            continue
        if model is None or isinstance(part, int):
            break
        field = _field_named(model, part)
        path.append(part)
        if field is None:
            has_default.append(True)  # an unknown key: dropping it is the fix
            break
        has_default.append(not field.is_required())
        model = _model_type(field.annotation)
        entry_of = _map_model(field.annotation)
    for length in range(len(path), 0, -1):
        if has_default[length - 1]:
            return tuple(path[:length])
    return tuple(path[:1])


def _replace(data: Any, path: tuple[Any, ...]) -> None:
    parent = data
    for part in path[:-1]:
        if not isinstance(parent, dict) or not isinstance(parent.get(part), dict):
            return
        parent = parent[part]
    if isinstance(parent, dict):
        if len(path) == 1 and path[0] in _PLACEHOLDERS:
            parent[path[0]] = _PLACEHOLDERS[path[0]]
        else:
            parent.pop(path[-1], None)


def _mentions_replaced(problem: str, replaced: list[tuple[Any, ...]]) -> bool:
    key, _, message = problem.partition(": ")
    for path in replaced:
        full = _key(path)
        if key == full or key.startswith((f"{full}.", f"{full}[")) or full.startswith((f"{key}.", f"{key}[")):
            return True
        leaf = str(path[-1])
        if re.search(rf"(?<![\w-]){re.escape(leaf)}(?![\w-])", message):
            return True
    return False


def config_from_stack_file(stack_config: Mapping[str, Any]) -> dict[str, Any]:
    """The `aks-grpc:*` entries of a stack file's `config:` block, namespace removed.

    Keys of other namespaces (`azure-native:location`, ...) are left to their providers.
    `aks-grpc:secrets` is reduced to its names (`_secret_value_names`).
    """
    prefix = f"{NAMESPACE}:"
    values = {k.removeprefix(prefix): v for k, v in stack_config.items() if k.startswith(prefix)}
    if SECRET_VALUES_KEY in values:
        values[SECRET_VALUES_KEY] = _secret_value_names(values[SECRET_VALUES_KEY])
    return values


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
        if name == SECRET_VALUES_KEY:
            # Names only: the values stay in Pulumi's config, read as secrets by the component.
            encrypted = (
                runtime_config.is_config_secret(key) or key in runtime_config.get_config_secret_keys_env()
            )
            parsed = _parse_config_value(raw)
            names = parsed if isinstance(parsed, Mapping) else {}
            values[name] = {str(n): encrypted for n in names}
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
