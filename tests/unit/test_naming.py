"""Every name StackNames produces satisfies Azure's rule for its type, for any valid stack identity."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from components.naming import REGION_CODES, RULES, StackNames, deterministic_guid, region_code

# The same domains the settings model allows (program/settings/).
workloads = st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True)
environments = st.from_regex(r"[a-z][a-z0-9]{1,7}", fullmatch=True)
locations = st.one_of(
    st.sampled_from(sorted(REGION_CODES)), st.from_regex(r"[a-z][a-z0-9]{2,30}", fullmatch=True)
)
subscriptions = st.uuids().map(str)

# name produced -> the rule it must satisfy
NAME_RULES = {
    "resource_group": "resource_group",
    "aks": "aks",
    "aks_dns_prefix": "aks_dns_prefix",
    "node_resource_group": "node_resource_group",
    "container_registry": "container_registry",
    "key_vault": "key_vault",
    "log_analytics": "log_analytics",
    "application_insights": "application_insights",
    "monitor_workspace": "monitor_workspace",
    "data_collection_endpoint": "data_collection_endpoint",
    "container_insights_rule": "data_collection_rule",
    "action_group": "action_group",
    "action_group_short": "action_group_short",
    "grafana": "grafana",
    "api_management": "api_management",
}
METHOD_RULES = {
    "identity": "managed_identity",
    "data_collection_rule": "data_collection_rule",
    "prometheus_rule_group": "prometheus_rule_group",
    "diagnostic_setting": "diagnostic_setting",
}


def _all_names(names: StackNames) -> dict[str, tuple[str, str]]:
    produced = {attr: (getattr(names, attr), rule) for attr, rule in NAME_RULES.items()}
    for method, rule in METHOD_RULES.items():
        produced[method] = (getattr(names, method)("some-long-purpose-name-for-testing"), rule)
    return produced


@settings(max_examples=150, deadline=None)
@given(workloads, environments, locations, subscriptions)
def test_every_name_satisfies_its_azure_rule(workload, environment, location, subscription):
    names = StackNames(workload, environment, location, subscription)
    for attr, (name, rule) in _all_names(names).items():
        assert RULES[rule].check(name), f"{attr}={name!r} breaks the {rule} rule {RULES[rule]}"


@settings(max_examples=50, deadline=None)
@given(workloads, environments, locations, subscriptions)
def test_names_are_deterministic(workload, environment, location, subscription):
    first = _all_names(StackNames(workload, environment, location, subscription))
    again = _all_names(StackNames(workload, environment, location, subscription))
    assert first == again


@settings(max_examples=50, deadline=None)
@given(workloads, environments, locations, subscriptions, subscriptions)
def test_globally_unique_names_differ_across_subscriptions(workload, environment, location, sub_a, sub_b):
    a = StackNames(workload, environment, location, sub_a)
    b = StackNames(workload, environment, location, sub_b)
    if sub_a != sub_b:
        for attr, (name, rule) in _all_names(a).items():
            if RULES[rule].globally_unique:
                assert name != _all_names(b)[attr][0]


@settings(max_examples=50, deadline=None)
@given(workloads, environments, locations, subscriptions)
def test_globally_unique_names_keep_the_full_suffix(workload, environment, location, subscription):
    names = StackNames(workload, environment, location, subscription)
    for name in (names.key_vault, names.api_management, names.container_registry):
        assert name.endswith(names.suffix)


def test_names_follow_caf_abbreviations():
    names = StackNames("grpc", "dev", "westeurope", "00000000-0000-0000-0000-000000000000")
    assert names.resource_group == "rg-grpc-dev-weu"
    assert names.aks == "aks-grpc-dev-weu"
    assert names.log_analytics == "log-grpc-dev-weu"
    assert re.fullmatch(r"kv-grpc-dev-weu-[0-9a-f]{5}", names.key_vault)
    assert re.fullmatch(r"crgrpcdevweu[0-9a-f]{5}", names.container_registry)
    assert names.container_insights_rule.startswith("MSCI-")


def test_unknown_region_gets_a_short_stable_code():
    assert region_code("westeurope") == "weu"
    code = region_code("marsnorth")
    assert code == region_code("marsnorth") and len(code) == 5


def test_deterministic_guid_is_stable_and_input_sensitive():
    a = deterministic_guid("/scope", "principal", "role")
    assert a == deterministic_guid("/scope", "principal", "role")
    assert a != deterministic_guid("/scope", "other-principal", "role")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", a)
