"""The rule groups and scrape configuration as data: Azure's recording rules, gRPC alerts, ConfigMap data."""

import re

import pytest
import yaml

from components.monitoring import container_insights_extension_settings, email_receiver_name
from components.prometheus_rules import (
    KUBERNETES_RECORDING_RULES,
    NODE_RECORDING_RULES,
    RECORDING_RULE_GROUPS,
    UX_RECORDING_RULES,
    grpc_alert_rules,
    istio_scrape_configs,
    metrics_settings_data,
    namespace_regex,
    prometheus_config_data,
    rule_group_name,
)
from program.adapters.monitoring import container_insights_args
from program.settings import MonitoringSettings

# Record names of Azure's default recording rules (Azure/prometheus-collector AddonArmTemplate and
# AddonBicepTemplate, AKS docs "Enable Prometheus recording rules"), in upstream order.
UPSTREAM_NODE = [
    "instance:node_num_cpu:sum",
    "instance:node_cpu_utilisation:rate5m",
    "instance:node_load1_per_cpu:ratio",
    "instance:node_memory_utilisation:ratio",
    "instance:node_vmstat_pgmajfault:rate5m",
    "instance_device:node_disk_io_time_seconds:rate5m",
    "instance_device:node_disk_io_time_weighted_seconds:rate5m",
    "instance:node_network_receive_bytes_excluding_lo:rate5m",
    "instance:node_network_transmit_bytes_excluding_lo:rate5m",
    "instance:node_network_receive_drop_excluding_lo:rate5m",
    "instance:node_network_transmit_drop_excluding_lo:rate5m",
]
UPSTREAM_KUBERNETES = [
    "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
    "node_namespace_pod_container:container_memory_working_set_bytes",
    "node_namespace_pod_container:container_memory_rss",
    "node_namespace_pod_container:container_memory_cache",
    "node_namespace_pod_container:container_memory_swap",
    "cluster:namespace:pod_memory:active:kube_pod_container_resource_requests",
    "namespace_memory:kube_pod_container_resource_requests:sum",
    "cluster:namespace:pod_cpu:active:kube_pod_container_resource_requests",
    "namespace_cpu:kube_pod_container_resource_requests:sum",
    "cluster:namespace:pod_memory:active:kube_pod_container_resource_limits",
    "namespace_memory:kube_pod_container_resource_limits:sum",
    "cluster:namespace:pod_cpu:active:kube_pod_container_resource_limits",
    "namespace_cpu:kube_pod_container_resource_limits:sum",
    "namespace_workload_pod:kube_pod_owner:relabel",
    "namespace_workload_pod:kube_pod_owner:relabel",
    "namespace_workload_pod:kube_pod_owner:relabel",
    "namespace_workload_pod:kube_pod_owner:relabel",
    ":node_memory_MemAvailable_bytes:sum",
    "cluster:node_cpu:ratio_rate5m",
]
UPSTREAM_UX = [
    "ux:pod_cpu_usage:sum_irate",
    "ux:controller_cpu_usage:sum_irate",
    "ux:pod_workingset_memory:sum",
    "ux:controller_workingset_memory:sum",
    "ux:pod_rss_memory:sum",
    "ux:controller_rss_memory:sum",
    "ux:pod_container_count:sum",
    "ux:controller_container_count:sum",
    "ux:pod_container_restarts:max",
    "ux:controller_container_restarts:max",
    "ux:pod_resource_limit:sum",
    "ux:controller_resource_limit:sum",
    "ux:controller_pod_phase_count:sum",
    "ux:cluster_pod_phase_count:sum",
    "ux:node_cpu_usage:sum_irate",
    "ux:node_memory_usage:sum",
    "ux:node_network_receive_drop_total:sum_irate",
    "ux:node_network_transmit_drop_total:sum_irate",
]


@pytest.mark.parametrize(
    ("group", "kind", "records"),
    [
        (NODE_RECORDING_RULES, "NodeRecordingRulesRuleGroup", UPSTREAM_NODE),
        (KUBERNETES_RECORDING_RULES, "KubernetesRecordingRulesRuleGroup", UPSTREAM_KUBERNETES),
        (UX_RECORDING_RULES, "UXRecordingRulesRuleGroup", UPSTREAM_UX),
    ],
)
def test_recording_rules_are_azures_with_azures_group_names(group, kind, records):
    assert group.kind == kind
    assert [rule.record for rule in group.rules] == records
    assert not group.is_alerting
    assert group.interval == "PT1M"


def test_workload_relabel_rules_carry_their_workload_type():
    relabels = [
        r
        for r in KUBERNETES_RECORDING_RULES.rules
        if r.record == "namespace_workload_pod:kube_pod_owner:relabel"
    ]
    assert [r.labels["workload_type"] for r in relabels] == ["deployment", "daemonset", "statefulset", "job"]
    assert all(
        f'owner_kind="{kind}"' in r.expression
        for r, kind in zip(relabels, ["ReplicaSet", "DaemonSet", "StatefulSet", "Job"], strict=True)
    )


@pytest.mark.parametrize("group", RECORDING_RULE_GROUPS, ids=lambda g: g.kind)
def test_every_expression_has_balanced_brackets_and_quotes(group):
    for rule in group.rules:
        text = rule.expression
        assert text.count("(") == text.count(")"), rule.record
        assert text.count("{") == text.count("}"), rule.record
        assert text.count("[") == text.count("]"), rule.record
        assert text.count('"') % 2 == 0, rule.record


def test_rule_group_names_follow_azure_per_cluster_naming():
    assert (
        rule_group_name("UXRecordingRulesRuleGroup", "aks-grpc-dev-weu")
        == "UXRecordingRulesRuleGroup-aks-grpc-dev-weu"
    )


def alerts(**overrides):
    thresholds = {
        "pod_restarts": 3,
        "grpc_error_ratio": 0.05,
        "grpc_p99_latency_ms": 500,
        "hpa_max_replicas_minutes": 15,
        "severity": 1,
        **overrides,
    }
    group = grpc_alert_rules(["grpc-greeter", "payments"], services={"grpc-greeter": "greeter"}, **thresholds)
    greeter = [rule for rule in group.rules if rule.labels["service"] == "greeter"]
    return {rule.alert: rule for rule in greeter}


def test_grpc_alerts_cover_restarts_autoscaling_errors_and_latency():
    rules = alerts()
    assert set(rules) == {
        "GrpcPodRestarting",
        "GrpcHpaAtMaxReplicas",
        "GrpcErrorRatioHigh",
        "GrpcLatencyP99High",
    }
    assert all(rule.severity == 1 for rule in rules.values())
    assert all('=~"grpc-greeter"' in rule.expression for rule in rules.values())


def test_grpc_alerts_are_per_service_each_scoped_to_its_namespace_and_labelled():
    group = grpc_alert_rules(
        ["grpc-greeter", "grpc-orders"],
        services={"grpc-greeter": "greeter", "grpc-orders": "orders"},
        pod_restarts=3,
        grpc_error_ratio=0.05,
        grpc_p99_latency_ms=500,
        hpa_max_replicas_minutes=15,
        severity=1,
    )
    by_service: dict[str, list] = {}
    for rule in group.rules:
        by_service.setdefault(rule.labels["service"], []).append(rule)
    assert sorted(by_service) == ["greeter", "orders"]
    assert all(len(rules) == 4 for rules in by_service.values())
    assert all(
        '"grpc-orders"' in r.expression and "grpc-greeter" not in r.expression for r in by_service["orders"]
    )


def test_more_services_than_a_rule_group_holds_are_refused():
    with pytest.raises(ValueError, match="20 rules"):
        grpc_alert_rules(
            [f"ns-{i}" for i in range(6)],
            pod_restarts=3,
            grpc_error_ratio=0.05,
            grpc_p99_latency_ms=500,
            hpa_max_replicas_minutes=15,
            severity=1,
        )


def test_error_ratio_counts_only_server_side_grpc_statuses_from_the_server_sidecar():
    expression = alerts(grpc_error_ratio=0.01)["GrpcErrorRatioHigh"].expression
    assert 'grpc_response_status=~"2|4|8|12|13|14|15"' in expression
    assert expression.count('reporter="destination"') == 2
    assert expression.count('request_protocol="grpc"') == 2
    assert expression.endswith("> 0.01")


def test_latency_alert_is_the_p99_of_the_istio_histogram():
    expression = alerts(grpc_p99_latency_ms=300)["GrpcLatencyP99High"].expression
    assert re.match(
        r"histogram_quantile\(0\.99, sum by \(.*, le\) \(rate\(istio_request_duration_milliseconds_bucket",
        expression,
    )
    assert expression.endswith("> 300")


def test_hpa_alert_waits_the_configured_minutes_at_max_replicas():
    rule = alerts(hpa_max_replicas_minutes=30)["GrpcHpaAtMaxReplicas"]
    assert rule.for_duration == "PT30M"
    assert "kube_horizontalpodautoscaler_status_current_replicas" in rule.expression
    assert "kube_horizontalpodautoscaler_spec_max_replicas" in rule.expression


def test_restart_alert_uses_the_configured_count():
    assert alerts(pod_restarts=7)["GrpcPodRestarting"].expression.endswith(">= 7")


@pytest.mark.parametrize("namespaces", [[], ["Bad_Namespace"], ["a.b"]])
def test_namespace_regex_accepts_only_namespace_names(namespaces):
    with pytest.raises(ValueError):
        namespace_regex(namespaces)


def test_namespace_regex_is_sorted_unique_and_unescaped():
    assert namespace_regex(["b-ns", "a-ns", "b-ns"]) == "a-ns|b-ns"


def test_metrics_settings_use_the_documented_keys():
    data = metrics_settings_data(["grpc-greeter"], config_version="release-2026-07")
    assert data == {
        "schema-version": "v1",
        "config-version": "release-20",
        "pod-annotation-based-scraping": 'podannotationnamespaceregex = "grpc-greeter"',
    }


def test_prometheus_config_scrapes_istiod_and_the_ingress_gateways():
    config = yaml.safe_load(prometheus_config_data()["prometheus-config"])
    assert config == {"scrape_configs": istio_scrape_configs()}
    istiod, gateway = config["scrape_configs"]
    assert istiod["kubernetes_sd_configs"] == [
        {"role": "endpoints", "namespaces": {"names": ["aks-istio-system"]}}
    ]
    assert istiod["relabel_configs"][0]["regex"] == "istiod.*;http-monitoring"
    assert gateway["metrics_path"] == "/stats/prometheus"
    assert gateway["kubernetes_sd_configs"][0]["namespaces"] == {"names": ["aks-istio-ingress"]}
    assert gateway["relabel_configs"][0]["regex"] == ".*-envoy-prom"
    # The add-on expands environment variables in this config: a bare `$` would be eaten.
    assert "$" not in prometheus_config_data()["prometheus-config"]


def test_container_insights_settings_carry_the_configured_filter():
    settings = MonitoringSettings.model_validate(
        {
            "containerInsights": {
                "interval": "5m",
                "namespaceFilteringMode": "Include",
                "namespaces": ["grpc-greeter"],
            }
        }
    )
    assert container_insights_extension_settings(container_insights_args(settings.container_insights)) == {
        "dataCollectionSettings": {
            "interval": "5m",
            "namespaceFilteringMode": "Include",
            "namespaces": ["grpc-greeter"],
            "enableContainerLogV2": True,
        }
    }


def test_email_receiver_names_are_unique_and_readable():
    assert email_receiver_name(0, "on.call+pager@example.com") == "email-0-on-call-pager"
    assert email_receiver_name(0, "a@x.io") != email_receiver_name(1, "a@y.io")
