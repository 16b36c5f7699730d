"""Names for every Azure resource the program creates.

Names follow the Cloud Adoption Framework abbreviations (CAF: "Abbreviation recommendations for
Azure resources") in the shape ``<abbr>-<workload>-<environment>-<region>`` and the limits of
"Naming rules and restrictions for Azure resources". Resources whose names must be unique across
all of Azure (Key Vault, Container Registry, API Management) get a short suffix derived from the
subscription id and the stack's identity: stable run after run, different across subscriptions.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass

# Short region codes (CAF style). An unknown region still gets a short deterministic code.
REGION_CODES: dict[str, str] = {
    "australiaeast": "aue",
    "brazilsouth": "brs",
    "canadacentral": "cac",
    "centralindia": "inc",
    "centralus": "cus",
    "eastasia": "ea",
    "eastus": "eus",
    "eastus2": "eus2",
    "francecentral": "frc",
    "germanywestcentral": "gwc",
    "italynorth": "itn",
    "japaneast": "jpe",
    "koreacentral": "krc",
    "northeurope": "neu",
    "norwayeast": "noe",
    "polandcentral": "plc",
    "southcentralus": "scus",
    "southeastasia": "sea",
    "spaincentral": "spc",
    "swedencentral": "sdc",
    "switzerlandnorth": "szn",
    "uaenorth": "uan",
    "uksouth": "uks",
    "westeurope": "weu",
    "westus": "wus",
    "westus2": "wus2",
    "westus3": "wus3",
}


@dataclass(frozen=True)
class NameRule:
    """Azure's rule for one resource type's name."""

    min_length: int
    max_length: int
    pattern: str  # full-match regex on allowed characters and start/end
    globally_unique: bool = False

    def check(self, name: str) -> bool:
        return (
            self.min_length <= len(name) <= self.max_length and re.fullmatch(self.pattern, name) is not None
        )


_ALNUM_HYPHEN = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"

# Naming rules and restrictions for Azure resources (learn.microsoft.com), per resource type.
RULES: dict[str, NameRule] = {
    "resource_group": NameRule(1, 90, r"[-\w.()]*[-\w()]"),
    "aks": NameRule(1, 63, r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?"),
    "aks_dns_prefix": NameRule(1, 54, _ALNUM_HYPHEN),
    "node_resource_group": NameRule(1, 80, r"[-\w.()]*[-\w()]"),
    "agent_pool": NameRule(1, 12, r"[a-z][a-z0-9]*"),
    "data_collection_rule_association": NameRule(1, 64, r"[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?"),
    "container_registry": NameRule(5, 50, r"[a-zA-Z0-9]+", globally_unique=True),
    # Key Vault: letters, digits and single hyphens; starts with a letter, ends with a letter or digit.
    "key_vault": NameRule(3, 24, r"[a-zA-Z](?:-?[a-zA-Z0-9])*", globally_unique=True),
    "log_analytics": NameRule(4, 63, _ALNUM_HYPHEN),
    "application_insights": NameRule(1, 255, r"[^%&\\?/]+"),
    "monitor_workspace": NameRule(4, 44, _ALNUM_HYPHEN),
    "data_collection_endpoint": NameRule(3, 44, _ALNUM_HYPHEN),
    "data_collection_rule": NameRule(1, 64, r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?"),
    "prometheus_rule_group": NameRule(1, 260, r"[^<>*%{}&:\\?+/#|\s]+"),
    "action_group": NameRule(1, 260, r"[^%&\\?/]+"),
    "action_group_short": NameRule(1, 12, r"[a-zA-Z0-9-]+"),
    "grafana": NameRule(2, 23, r"[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"),
    "api_management": NameRule(1, 50, r"[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?", globally_unique=True),
    "managed_identity": NameRule(3, 128, r"[a-zA-Z0-9][a-zA-Z0-9_-]*"),
    "federated_credential": NameRule(3, 120, r"[a-zA-Z0-9][a-zA-Z0-9_-]*"),
    "diagnostic_setting": NameRule(1, 260, r"[^*<>%:&\\?+/]+"),
    "public_ip": NameRule(1, 80, r"[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9_])?"),
}


# Kubernetes name rules (Kubernetes docs: "Object Names and IDs", "Labels and Selectors").
DNS_LABEL = NameRule(1, 63, r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
"""RFC 1123 label: Namespace names, container names, DNS labels."""
SERVICE_NAME = NameRule(1, 63, r"[a-z](?:[-a-z0-9]*[a-z0-9])?")
"""RFC 1035 label: a Service's name must start with a letter."""
LABEL_VALUE = NameRule(0, 63, r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
"""A label value: at most 63 characters, alphanumeric at both ends."""
CERTIFICATE_COMMON_NAME = NameRule(1, 64, r"[^\x00]+")
"""X.509 subject common name: at most 64 characters (RFC 5280, ub-common-name)."""
FEDERATED_CREDENTIAL_DISPLAY_NAME = NameRule(3, 120, r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""Name of a Microsoft Entra application's federated identity credential (3-120 characters)."""


@dataclass(frozen=True)
class DerivedName:
    """A Kubernetes or Azure name made from settings: `template` with config keys in braces."""

    template: str
    """E.g. `{workload.name}-ingress-tls-sync`; keys are relative to the `aks-grpc:` namespace."""
    becomes: str
    """What the program names (or labels) with it."""
    rule: NameRule
    rule_text: str
    """The rule in words, for the error message."""
    when: str = ""
    """A config key that must be set (truthy) for the name to exist; empty: always."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(re.findall(r"\{([^}]+)\}", self.template)))

    def render(self, values: dict[str, str]) -> str:
        return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], self.template)


SERVICE_KEY = "services.*"
"""In a `DerivedName` template, `{services.*}` is a service's name (its map key under `aks-grpc:services`)
and `{services.*.namespace}` a key of that service: the rule is checked once per service."""

DERIVED_NAMES: tuple[DerivedName, ...] = (
    DerivedName("{services.*}", "gRPC Service name", SERVICE_NAME, "an RFC 1035 label (a-z first)"),
    DerivedName(
        "grpc-{services.*}",
        "name of the Service's gRPC port (Istio selects the protocol by its `grpc-` prefix)",
        SERVICE_NAME,
        "a Service port name (an RFC 1035 label, at most 63 characters)",
    ),
    DerivedName(
        "{services.*}-ingress-tls-sync",
        "label value app.kubernetes.io/name (and Deployment name) of the ingress certificate syncer",
        LABEL_VALUE,
        "a label value (at most 63 characters)",
        when="services.*.ingress.host",
    ),
    DerivedName(
        "{services.*}.{services.*.namespace}.svc.cluster.local",
        "common name of the backend TLS certificate (components/backend_tls.py)",
        CERTIFICATE_COMMON_NAME,
        "an X.509 common name (at most 64 characters)",
    ),
    DerivedName(
        "{apim.gateway.name}",
        "self-hosted gateway Service name",
        SERVICE_NAME,
        "an RFC 1035 label (a-z first)",
        when="apim.enabled",
    ),
    DerivedName(
        "aks-{apim.gateway.namespace}-{apim.gateway.name}",
        "federated credential of the gateway's Entra application",
        FEDERATED_CREDENTIAL_DISPLAY_NAME,
        "an Entra federated credential name (at most 120 characters)",
        when="apim.enabled",
    ),
)
"""Every name the program derives from a configurable part that can break a rule, with the tightest rule
it reaches (labels, Service names, certificate fields). `program.settings` checks each of them once
before any resource is registered; a test renders each one and finds it in the plan
(tests/unit/test_naming.py), so the table cannot drift from the components. Names that cannot break a
rule (Azure names built from the 10-character `workloadName`, fitted with `_fit`) are not listed."""


def backend_tls_secret_name(service: str) -> str:
    """Key Vault secret holding a service's backend TLS key + chain PEM (`BackendCertificate.secret_name`,
    mounted by the service as `<secret>.pem`): `greeter` -> `greeter-tls`."""
    return f"{service}-tls"


def region_code(location: str) -> str:
    """Short code for an Azure region, e.g. ``westeurope`` -> ``weu``."""
    key = location.lower().replace(" ", "")
    if key in REGION_CODES:
        return REGION_CODES[key]
    return re.sub(r"[^a-z0-9]", "", key)[:3] + hashlib.sha256(key.encode()).hexdigest()[:2]


def _slug(text: str) -> str:
    """Lower-case letters and digits with single hyphens."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "", text.lower())).strip("-")


def _fit(name: str, rule: NameRule) -> str:
    """Cut a name to the rule's length without leaving a hyphen at the end."""
    return name[: rule.max_length].rstrip("-_.")


def deterministic_guid(*parts: str) -> str:
    """A GUID that is the same for the same parts, run after run (role assignment names)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(p.lower() for p in parts)))


@dataclass(frozen=True)
class StackNames:
    """Every Azure name one stack uses, derived from its identity alone.

    ``subscription_id`` seeds the suffix of globally unique names, so two organisations deploying
    the same stack configuration do not collide, while one stack keeps its names forever.
    """

    workload: str
    environment: str
    location: str
    subscription_id: str

    @property
    def _base(self) -> str:
        return f"{_slug(self.workload)}-{_slug(self.environment)}-{region_code(self.location)}"

    @property
    def suffix(self) -> str:
        return self._suffix(0)

    def _suffix(self, generation: int) -> str:
        seed = f"{self.subscription_id}/{self.workload}/{self.environment}/{self.location}".lower()
        if generation:
            seed += f"/generation-{generation}"
        return hashlib.sha256(seed.encode()).hexdigest()[:5]

    def _regional(self, abbr: str, rule: str, extra: str = "") -> str:
        parts = [abbr, self._base] + ([_slug(extra)] if extra else [])
        return _fit("-".join(p for p in parts if p), RULES[rule])

    def _unique(self, abbr: str, rule: str, separator: str = "-", generation: int = 0) -> str:
        """A globally unique name: the base is shortened, never the suffix."""
        max_length = RULES[rule].max_length
        tail = f"{separator}{self._suffix(generation)}"
        head = f"{abbr}{separator}{self._base}"
        if not separator:
            head = head.replace("-", "")
        return head[: max_length - len(tail)].rstrip("-") + tail

    # --- resource group and cluster -----------------------------------------------------------
    @property
    def resource_group(self) -> str:
        return self._regional("rg", "resource_group")

    @property
    def aks(self) -> str:
        return self._regional("aks", "aks")

    @property
    def aks_dns_prefix(self) -> str:
        return self._regional("aks", "aks_dns_prefix")

    @property
    def node_resource_group(self) -> str:
        return self._regional("rg", "node_resource_group", "aks-nodes")

    @property
    def egress_public_ip(self) -> str:
        """The cluster's outbound public IP (CAF abbreviation `pip`)."""
        return self._regional("pip", "public_ip", "aks-egress")

    @property
    def system_agent_pool(self) -> str:
        """The inline system node pool (agent pool names: 1-12 lower-case letters and digits)."""
        return "system"

    @property
    def user_agent_pool(self) -> str:
        """The workload node pool (a separate AgentPool resource)."""
        return "user"

    @property
    def prometheus_rule_association(self) -> str:
        # The name the managed Prometheus onboarding templates use (Azure/prometheus-collector:
        # MSProm-<region>-<cluster>).
        return _fit(f"MSProm-{self.location}-{self.aks}", RULES["data_collection_rule_association"])

    @property
    def container_registry(self) -> str:
        return self._unique("cr", "container_registry", separator="")

    def identity(self, purpose: str) -> str:
        return self._regional("id", "managed_identity", purpose)

    # --- secrets and monitoring -----------------------------------------------------------------
    @property
    def key_vault(self) -> str:
        return self.key_vault_of_generation(0)

    def key_vault_of_generation(self, generation: int) -> str:
        """The vault name for `keyVault.nameGeneration`: 0 is the original name; each other number gives
        a new suffix, for a redeploy while the old vault sits soft-deleted under purge protection."""
        return self._unique("kv", "key_vault", generation=generation)

    @property
    def log_analytics(self) -> str:
        return self._regional("log", "log_analytics")

    @property
    def application_insights(self) -> str:
        return self._regional("appi", "application_insights")

    @property
    def monitor_workspace(self) -> str:
        return self._regional("amw", "monitor_workspace")

    @property
    def data_collection_endpoint(self) -> str:
        return self._regional("dce", "data_collection_endpoint")

    def data_collection_rule(self, purpose: str) -> str:
        return self._regional("dcr", "data_collection_rule", purpose)

    @property
    def container_insights_rule(self) -> str:
        # The portal recognises Container Insights rules by the MSCI- prefix.
        return _fit(f"MSCI-{region_code(self.location)}-{self.aks}", RULES["data_collection_rule"])

    def prometheus_rule_group(self, purpose: str) -> str:
        return _fit(f"prg-{_slug(purpose)}-{self.aks}", RULES["prometheus_rule_group"])

    @property
    def action_group(self) -> str:
        return self._regional("ag", "action_group")

    @property
    def action_group_short(self) -> str:
        return _fit(f"{_slug(self.workload)[:6]}-{_slug(self.environment)}", RULES["action_group_short"])

    @property
    def grafana(self) -> str:
        return self._regional("amg", "grafana")

    def diagnostic_setting(self, target: str) -> str:
        return _fit(f"diag-{_slug(target)}", RULES["diagnostic_setting"])

    # --- API Management -------------------------------------------------------------------------
    @property
    def api_management(self) -> str:
        return self._unique("apim", "api_management")
