"""Prometheus rule groups and scrape configuration for managed Prometheus, as plain data.

Pure functions only (no Pulumi resources): `components.monitoring.ClusterMonitoring` turns these into
`alertsmanagement.PrometheusRuleGroup`s and ConfigMaps, and the unit tests read them directly.

The recording rules are the ones Azure installs when managed Prometheus is enabled from the portal or
CLI, with Azure's group names; the portal's Kubernetes views and the default Grafana dashboards query
the recorded series. Source: Azure/prometheus-collector `AddonArmTemplate`/`AddonBicepTemplate`
(FullAzureMonitorMetricsProfile) and AKS docs "Enable Prometheus recording rules". Expressions are
kept as upstream writes them, so an upstream diff stays readable.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

# ---------------------------------------------------------------------------------------------------
# Rule model
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrometheusRule:
    """One recording rule (`record`) or alert rule (`alert`)."""

    expression: str
    record: str = ""
    alert: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    for_duration: str = ""
    """ISO 8601 duration the condition must hold before the alert fires (`PT5M`)."""
    severity: int | None = None


@dataclass(frozen=True)
class RuleGroup:
    """A rule group as Azure names it (`NodeRecordingRulesRuleGroup`), evaluated every `interval`."""

    kind: str
    description: str
    rules: tuple[PrometheusRule, ...]
    interval: str = "PT1M"

    @property
    def is_alerting(self) -> bool:
        return any(rule.alert for rule in self.rules)


def rule_group_name(kind: str, cluster_name: str) -> str:
    """`NodeRecordingRulesRuleGroup-<cluster>`: Azure's own naming for the rule groups of one cluster."""
    return f"{kind}-{cluster_name}"


def _rules(pairs: Sequence[tuple[str, str]]) -> tuple[PrometheusRule, ...]:
    return tuple(PrometheusRule(record=record, expression=expression) for record, expression in pairs)


# ---------------------------------------------------------------------------------------------------
# Recording rules (upstream: Azure/prometheus-collector AddonArmTemplate / AddonBicepTemplate)
# ---------------------------------------------------------------------------------------------------

NODE_RECORDING_RULES = RuleGroup(
    kind="NodeRecordingRulesRuleGroup",
    description="Node Recording Rules RuleGroup",
    rules=_rules(
        [
            (
                "instance:node_num_cpu:sum",
                'count without (cpu, mode) (  node_cpu_seconds_total{job="node",mode="idle"})',
            ),
            (
                "instance:node_cpu_utilisation:rate5m",
                "1 - avg without (cpu) (  sum without (mode) "
                '(rate(node_cpu_seconds_total{job="node", mode=~"idle|iowait|steal"}[5m])))',
            ),
            (
                "instance:node_load1_per_cpu:ratio",
                '(  node_load1{job="node"}/  instance:node_num_cpu:sum{job="node"})',
            ),
            (
                "instance:node_memory_utilisation:ratio",
                '1 - (  (    node_memory_MemAvailable_bytes{job="node"}    or    (      '
                'node_memory_Buffers_bytes{job="node"}      +      node_memory_Cached_bytes{job="node"}      +      '
                'node_memory_MemFree_bytes{job="node"}      +      node_memory_Slab_bytes{job="node"}    )  )/  '
                'node_memory_MemTotal_bytes{job="node"})',
            ),
            ("instance:node_vmstat_pgmajfault:rate5m", 'rate(node_vmstat_pgmajfault{job="node"}[5m])'),
            (
                "instance_device:node_disk_io_time_seconds:rate5m",
                'rate(node_disk_io_time_seconds_total{job="node", device!=""}[5m])',
            ),
            (
                "instance_device:node_disk_io_time_weighted_seconds:rate5m",
                'rate(node_disk_io_time_weighted_seconds_total{job="node", device!=""}[5m])',
            ),
            (
                "instance:node_network_receive_bytes_excluding_lo:rate5m",
                'sum without (device) (  rate(node_network_receive_bytes_total{job="node", device!="lo"}[5m]))',
            ),
            (
                "instance:node_network_transmit_bytes_excluding_lo:rate5m",
                'sum without (device) (  rate(node_network_transmit_bytes_total{job="node", device!="lo"}[5m]))',
            ),
            (
                "instance:node_network_receive_drop_excluding_lo:rate5m",
                'sum without (device) (  rate(node_network_receive_drop_total{job="node", device!="lo"}[5m]))',
            ),
            (
                "instance:node_network_transmit_drop_excluding_lo:rate5m",
                'sum without (device) (  rate(node_network_transmit_drop_total{job="node", device!="lo"}[5m]))',
            ),
        ]
    ),
)

_PENDING_OR_RUNNING = (
    'max by (namespace, pod, cluster) (  (kube_pod_status_phase{phase=~"Pending|Running"} == 1))'
)


def _namespace_sum(resource: str, kind: str) -> str:
    return (
        "sum by (namespace, cluster) (    sum by (namespace, pod, cluster) (        "
        f"max by (namespace, pod, container, cluster) (          "
        f'kube_pod_container_resource_{kind}{{resource="{resource}",job="kube-state-metrics"}}        ) '
        "* on(namespace, pod, cluster) group_left() max by (namespace, pod, cluster) (          "
        'kube_pod_status_phase{phase=~"Pending|Running"} == 1        )    ))'
    )


def _active(resource: str, kind: str) -> str:
    return (
        f'kube_pod_container_resource_{kind}{{resource="{resource}",job="kube-state-metrics"}}  '
        f"* on (namespace, pod, cluster)group_left() {_PENDING_OR_RUNNING}"
    )


def _node_join(metric: str) -> str:
    return (
        f'{metric}{{job="cadvisor", image!=""}}* on (namespace, pod) group_left(node) topk by(namespace, pod) '
        '(1,  max by(namespace, pod, node) (kube_pod_info{node!=""}))'
    )


def _owner(owner_kind: str) -> str:
    return (
        "max by (cluster, namespace, workload, pod) (  label_replace(    "
        f'kube_pod_owner{{job="kube-state-metrics", owner_kind="{owner_kind}"}},    '
        '"workload", "$1", "owner_name", "(.*)"  ))'
    )


KUBERNETES_RECORDING_RULES = RuleGroup(
    kind="KubernetesRecordingRulesRuleGroup",
    description="Kubernetes Recording Rules RuleGroup",
    rules=(
        *_rules(
            [
                (
                    "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
                    "sum by (cluster, namespace, pod, container) (  "
                    'irate(container_cpu_usage_seconds_total{job="cadvisor", image!=""}[5m])) '
                    "* on (cluster, namespace, pod) group_left(node) topk by (cluster, namespace, pod) (  1, "
                    'max by(cluster, namespace, pod, node) (kube_pod_info{node!=""}))',
                ),
                (
                    "node_namespace_pod_container:container_memory_working_set_bytes",
                    _node_join("container_memory_working_set_bytes"),
                ),
                ("node_namespace_pod_container:container_memory_rss", _node_join("container_memory_rss")),
                ("node_namespace_pod_container:container_memory_cache", _node_join("container_memory_cache")),
                ("node_namespace_pod_container:container_memory_swap", _node_join("container_memory_swap")),
                (
                    "cluster:namespace:pod_memory:active:kube_pod_container_resource_requests",
                    _active("memory", "requests"),
                ),
                (
                    "namespace_memory:kube_pod_container_resource_requests:sum",
                    _namespace_sum("memory", "requests"),
                ),
                (
                    "cluster:namespace:pod_cpu:active:kube_pod_container_resource_requests",
                    _active("cpu", "requests"),
                ),
                ("namespace_cpu:kube_pod_container_resource_requests:sum", _namespace_sum("cpu", "requests")),
                (
                    "cluster:namespace:pod_memory:active:kube_pod_container_resource_limits",
                    _active("memory", "limits"),
                ),
                (
                    "namespace_memory:kube_pod_container_resource_limits:sum",
                    _namespace_sum("memory", "limits"),
                ),
                (
                    "cluster:namespace:pod_cpu:active:kube_pod_container_resource_limits",
                    _active("cpu", "limits"),
                ),
                ("namespace_cpu:kube_pod_container_resource_limits:sum", _namespace_sum("cpu", "limits")),
            ]
        ),
        PrometheusRule(
            record="namespace_workload_pod:kube_pod_owner:relabel",
            expression=(
                "max by (cluster, namespace, workload, pod) (  label_replace(    label_replace(      "
                'kube_pod_owner{job="kube-state-metrics", owner_kind="ReplicaSet"},      '
                '"replicaset", "$1", "owner_name", "(.*)"    ) * on(replicaset, namespace) group_left(owner_name) '
                "topk by(replicaset, namespace) (      1, max by (replicaset, namespace, owner_name) (        "
                'kube_replicaset_owner{job="kube-state-metrics"}      )    ),    '
                '"workload", "$1", "owner_name", "(.*)"  ))'
            ),
            labels={"workload_type": "deployment"},
        ),
        PrometheusRule(
            record="namespace_workload_pod:kube_pod_owner:relabel",
            expression=_owner("DaemonSet"),
            labels={"workload_type": "daemonset"},
        ),
        PrometheusRule(
            record="namespace_workload_pod:kube_pod_owner:relabel",
            expression=_owner("StatefulSet"),
            labels={"workload_type": "statefulset"},
        ),
        PrometheusRule(
            record="namespace_workload_pod:kube_pod_owner:relabel",
            expression=_owner("Job"),
            labels={"workload_type": "job"},
        ),
        *_rules(
            [
                (
                    ":node_memory_MemAvailable_bytes:sum",
                    'sum(  node_memory_MemAvailable_bytes{job="node"} or  (    node_memory_Buffers_bytes{job="node"} +'
                    '    node_memory_Cached_bytes{job="node"} +    node_memory_MemFree_bytes{job="node"} +    '
                    'node_memory_Slab_bytes{job="node"}  )) by (cluster)',
                ),
                (
                    "cluster:node_cpu:ratio_rate5m",
                    'sum(rate(node_cpu_seconds_total{job="node",mode!="idle",mode!="iowait",mode!="steal"}[5m])) '
                    'by (cluster) /count(sum(node_cpu_seconds_total{job="node"}) by (cluster, instance, cpu)) '
                    "by (cluster)",
                ),
            ]
        ),
    ),
)

# The UX rules join every pod series to its controller (created_by_*) and node; the portal's
# "Kubernetes resources" and "Nodes" views are built on these series.
_POD_INFO_JOIN = (
    " * on (pod, namespace, cluster, microsoft_resourceid) group_left (node, created_by_name, created_by_kind)\n"
    "(max by (node, created_by_name, created_by_kind, pod, namespace, cluster, microsoft_resourceid) "
    '(kube_pod_info{pod != "", job = "kube-state-metrics"}))'
)
_CONTROLLER_BY = "sum by (namespace, node, cluster, created_by_name, created_by_kind, microsoft_resourceid)"


def _pod_sum(metric: str, irate: bool = False) -> str:
    selector = f'{metric}{{container != "", pod != "", job = "cadvisor"}}'
    inner = f"irate({selector}[5m])" if irate else selector
    return f"(sum by (namespace, pod, cluster, microsoft_resourceid) (\n    {inner}\n)){_POD_INFO_JOIN}"


def _container_count(metric: str, init_metric: str, aggregate: str, inner: str) -> str:
    return (
        f"{aggregate} by (node, created_by_name, created_by_kind, namespace, cluster, pod, microsoft_resourceid) (\n"
        f"((\n{inner} by (container, pod, namespace, cluster, microsoft_resourceid) ({metric})\n"
        f"or sum by (container, pod, namespace, cluster, microsoft_resourceid) ({init_metric})\n)"
        "\n* on (pod, namespace, cluster, microsoft_resourceid) group_left (node, created_by_name, created_by_kind)\n"
        "(\nmax by (node, created_by_name, created_by_kind, pod, namespace, cluster, microsoft_resourceid) (\n"
        '    kube_pod_info{pod != "", job = "kube-state-metrics"}\n)\n)\n)\n\n)'
    )


UX_RECORDING_RULES = RuleGroup(
    kind="UXRecordingRulesRuleGroup",
    description="UX Recording Rules for Linux",
    rules=_rules(
        [
            ("ux:pod_cpu_usage:sum_irate", _pod_sum("container_cpu_usage_seconds_total", irate=True)),
            ("ux:controller_cpu_usage:sum_irate", f"{_CONTROLLER_BY} (\nux:pod_cpu_usage:sum_irate\n)"),
            ("ux:pod_workingset_memory:sum", _pod_sum("container_memory_working_set_bytes")),
            ("ux:controller_workingset_memory:sum", f"{_CONTROLLER_BY} (\nux:pod_workingset_memory:sum\n)"),
            ("ux:pod_rss_memory:sum", _pod_sum("container_memory_rss")),
            ("ux:controller_rss_memory:sum", f"{_CONTROLLER_BY} (\nux:pod_rss_memory:sum\n)"),
            (
                "ux:pod_container_count:sum",
                _container_count(
                    'kube_pod_container_info{container != "", pod != "", container_id != "", job = "kube-state-metrics"}',
                    'kube_pod_init_container_info{container != "", pod != "", container_id != "", '
                    'job = "kube-state-metrics"}',
                    "sum",
                    "sum",
                ),
            ),
            (
                "ux:controller_container_count:sum",
                "sum by (node, created_by_name, created_by_kind, namespace, cluster, microsoft_resourceid) (\n"
                "ux:pod_container_count:sum\n)",
            ),
            (
                "ux:pod_container_restarts:max",
                _container_count(
                    'kube_pod_container_status_restarts_total{container != "", pod != "", job = "kube-state-metrics"}',
                    'kube_pod_init_status_restarts_total{container != "", pod != "", job = "kube-state-metrics"}',
                    "max",
                    "max",
                ),
            ),
            (
                "ux:controller_container_restarts:max",
                "max by (node, created_by_name, created_by_kind, namespace, cluster, microsoft_resourceid) (\n"
                "ux:pod_container_restarts:max\n)",
            ),
            (
                "ux:pod_resource_limit:sum",
                "(sum by (cluster, pod, namespace, resource, microsoft_resourceid) (\n(\n"
                "    max by (cluster, microsoft_resourceid, pod, container, namespace, resource)\n"
                '     (kube_pod_container_resource_limits{container != "", pod != "", job = "kube-state-metrics"})\n'
                ")\n)unless (count by (pod, namespace, cluster, resource, microsoft_resourceid)\n"
                '    (kube_pod_container_resource_limits{container != "", pod != "", job = "kube-state-metrics"})\n'
                "!= on (pod, namespace, cluster, microsoft_resourceid) group_left()\n"
                " sum by (pod, namespace, cluster, microsoft_resourceid)\n"
                ' (kube_pod_container_info{container != "", pod != "", job = "kube-state-metrics"}) \n)\n\n)'
                "* on (namespace, pod, cluster, microsoft_resourceid) group_left (node, created_by_kind, "
                'created_by_name)\n(\n    kube_pod_info{pod != "", job = "kube-state-metrics"}\n)',
            ),
            (
                "ux:controller_resource_limit:sum",
                "sum by (cluster, namespace, created_by_name, created_by_kind, node, resource, microsoft_resourceid) "
                "(\nux:pod_resource_limit:sum\n)",
            ),
            (
                "ux:controller_pod_phase_count:sum",
                "sum by (cluster, phase, node, created_by_kind, created_by_name, namespace, microsoft_resourceid) ( (\n"
                '(kube_pod_status_phase{job="kube-state-metrics",pod!=""})\n'
                ' or (label_replace((count(kube_pod_deletion_timestamp{job="kube-state-metrics",pod!=""}) '
                "by (namespace, pod, cluster, microsoft_resourceid) * "
                'count(kube_pod_status_reason{reason="NodeLost", job="kube-state-metrics"} == 0) '
                'by (namespace, pod, cluster, microsoft_resourceid)), "phase", "terminating", "", ""))) '
                "* on (pod, namespace, cluster, microsoft_resourceid) group_left (node, created_by_name, "
                "created_by_kind)\n(\nmax by (node, created_by_name, created_by_kind, pod, namespace, cluster, "
                'microsoft_resourceid) (\nkube_pod_info{job="kube-state-metrics",pod!=""}\n)\n)\n)',
            ),
            (
                "ux:cluster_pod_phase_count:sum",
                "sum by (cluster, phase, node, namespace, microsoft_resourceid) (\nux:controller_pod_phase_count:sum\n)",
            ),
            (
                "ux:node_cpu_usage:sum_irate",
                "sum by (instance, cluster, microsoft_resourceid) (\n"
                '(1 - irate(node_cpu_seconds_total{job="node", mode="idle"}[5m]))\n)',
            ),
            (
                "ux:node_memory_usage:sum",
                "sum by (instance, cluster, microsoft_resourceid) ((\n"
                'node_memory_MemTotal_bytes{job = "node"}\n- node_memory_MemFree_bytes{job = "node"} \n'
                '- node_memory_cached_bytes{job = "node"}\n- node_memory_buffers_bytes{job = "node"}\n))',
            ),
            (
                "ux:node_network_receive_drop_total:sum_irate",
                "sum by (instance, cluster, microsoft_resourceid) "
                '(irate(node_network_receive_drop_total{job="node", device!="lo"}[5m]))',
            ),
            (
                "ux:node_network_transmit_drop_total:sum_irate",
                "sum by (instance, cluster, microsoft_resourceid) "
                '(irate(node_network_transmit_drop_total{job="node", device!="lo"}[5m]))',
            ),
        ]
    ),
)

RECORDING_RULE_GROUPS = (NODE_RECORDING_RULES, KUBERNETES_RECORDING_RULES, UX_RECORDING_RULES)
"""The three recording-rule groups Azure installs with managed Prometheus (Linux nodes only)."""

# ---------------------------------------------------------------------------------------------------
# gRPC alert rules (Istio standard metrics, kube-state-metrics)
# ---------------------------------------------------------------------------------------------------

GRPC_ALERTS_KIND = "GrpcAlertRulesRuleGroup"

GRPC_SERVER_ERROR_CODES = ("2", "4", "8", "12", "13", "14", "15")
"""gRPC status codes that mean the server failed the call: UNKNOWN, DEADLINE_EXCEEDED,
RESOURCE_EXHAUSTED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS (grpc.io "Status codes").
Client mistakes (INVALID_ARGUMENT, NOT_FOUND, ...) do not page anyone."""

# Istio's standard metrics as the server-side sidecar reports them ("Istio Standard Metrics").
_GRPC_BY = "cluster, destination_workload_namespace, destination_service_name"


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def namespace_regex(namespaces: Sequence[str]) -> str:
    """A regex matching exactly the given namespaces (`a|b`), for PromQL and the add-on's settings.

    Namespaces are DNS labels, which hold no regex metacharacters, so nothing needs escaping (a
    backslash would also be an invalid escape in the add-on's TOML-style settings).
    """
    if not namespaces:
        raise ValueError("at least one namespace is required")
    for namespace in namespaces:
        if not _DNS_LABEL.fullmatch(namespace):
            raise ValueError(f"{namespace!r} is not a Kubernetes namespace name (DNS label)")
    return "|".join(sorted(set(namespaces)))


MAX_RULES_PER_GROUP = 20
"""Azure Monitor managed Prometheus: at most 20 rules in one rule group (Azure Monitor service limits,
"Prometheus metrics": rules per rule group)."""


def grpc_alert_rules(
    namespaces: Sequence[str],
    *,
    pod_restarts: int,
    grpc_error_ratio: float,
    grpc_p99_latency_ms: int,
    hpa_max_replicas_minutes: int,
    severity: int,
    services: Mapping[str, str] | None = None,
) -> RuleGroup:
    """The alert rules that matter for gRPC services: one set per service, scoped to its namespace and
    labelled `service: <name>` so an alert says whose it is. `services` maps a namespace to its service's
    name (each service owns its namespace); a namespace without an entry is labelled with its own name."""
    names = dict(services or {})
    rules: list[PrometheusRule] = []
    for namespace in namespace_regex(namespaces).split("|"):
        rules.extend(
            _service_alert_rules(
                names.get(namespace, namespace),
                namespace,
                pod_restarts=pod_restarts,
                grpc_error_ratio=grpc_error_ratio,
                grpc_p99_latency_ms=grpc_p99_latency_ms,
                hpa_max_replicas_minutes=hpa_max_replicas_minutes,
                severity=severity,
            )
        )
    if len(rules) > MAX_RULES_PER_GROUP:
        raise ValueError(
            f"namespaces: {len(rules)} alert rules for {len(rules) // 4} services exceed the "
            f"{MAX_RULES_PER_GROUP} rules an Azure Prometheus rule group holds"
        )
    return RuleGroup(
        kind=GRPC_ALERTS_KIND,
        description="gRPC service alerts: restarts, autoscaling headroom, error ratio and p99 latency",
        rules=tuple(rules),
    )


def _service_alert_rules(
    service: str,
    namespace: str,
    *,
    pod_restarts: int,
    grpc_error_ratio: float,
    grpc_p99_latency_ms: int,
    hpa_max_replicas_minutes: int,
    severity: int,
) -> tuple[PrometheusRule, ...]:
    """The four alerts of one service (pods restarting, HPA at max, error ratio, p99 latency)."""
    ns = namespace
    grpc = f'reporter="destination", request_protocol="grpc", destination_workload_namespace=~"{ns}"'
    errors = "|".join(GRPC_SERVER_ERROR_CODES)
    common_labels = {"team": "platform", "service_type": "grpc", "service": service}
    return (
        PrometheusRule(
            alert="GrpcPodRestarting",
            expression=(
                "sum by (cluster, namespace, pod, container) ("
                f'increase(kube_pod_container_status_restarts_total{{job="kube-state-metrics", namespace=~"{ns}"}}'
                f"[15m])) >= {pod_restarts}"
            ),
            severity=severity,
            labels=common_labels,
            annotations={
                "summary": "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} "
                f"restarted at least {pod_restarts} times in 15 minutes",
            },
        ),
        PrometheusRule(
            alert="GrpcHpaAtMaxReplicas",
            expression=(
                "max by (cluster, namespace, horizontalpodautoscaler) ("
                f'kube_horizontalpodautoscaler_status_current_replicas{{job="kube-state-metrics", namespace=~"{ns}"}})'
                " >= max by (cluster, namespace, horizontalpodautoscaler) ("
                f'kube_horizontalpodautoscaler_spec_max_replicas{{job="kube-state-metrics", namespace=~"{ns}"}})'
            ),
            for_duration=f"PT{hpa_max_replicas_minutes}M",
            severity=severity,
            labels=common_labels,
            annotations={
                "summary": "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has been at its "
                f"maximum replicas for {hpa_max_replicas_minutes} minutes: no headroom left",
            },
        ),
        PrometheusRule(
            alert="GrpcErrorRatioHigh",
            expression=(
                f'sum by ({_GRPC_BY}) (rate(istio_requests_total{{{grpc}, grpc_response_status=~"{errors}"}}'
                f"[5m]))\n/\nsum by ({_GRPC_BY}) (rate(istio_requests_total{{{grpc}}}[5m]))\n> {grpc_error_ratio}"
            ),
            for_duration="PT5M",
            severity=severity,
            labels=common_labels,
            annotations={
                "summary": "{{ $labels.destination_service_name }}: more than "
                f"{grpc_error_ratio:.1%} of gRPC calls failed with a server-side status over 5 minutes",
            },
        ),
        PrometheusRule(
            alert="GrpcLatencyP99High",
            expression=(
                f"histogram_quantile(0.99, sum by ({_GRPC_BY}, le) ("
                f"rate(istio_request_duration_milliseconds_bucket{{{grpc}}}[5m])))\n> {grpc_p99_latency_ms}"
            ),
            for_duration="PT5M",
            severity=severity,
            labels=common_labels,
            annotations={
                "summary": "{{ $labels.destination_service_name }}: p99 gRPC latency above "
                f"{grpc_p99_latency_ms} ms over 5 minutes",
            },
        ),
    )


# ---------------------------------------------------------------------------------------------------
# Scrape configuration (Azure Monitor: "Customize scraping of Prometheus metrics in Azure Monitor
# managed service for Prometheus"; ConfigMaps from Azure/prometheus-collector otelcollector/configmaps)
# ---------------------------------------------------------------------------------------------------

METRICS_SETTINGS_CONFIGMAP = "ama-metrics-settings-configmap"
PROMETHEUS_CONFIG_CONFIGMAP = "ama-metrics-prometheus-config"
METRICS_CONFIG_NAMESPACE = "kube-system"
ISTIO_SYSTEM_NAMESPACE = "aks-istio-system"
ISTIO_INGRESS_NAMESPACE = "aks-istio-ingress"


def metrics_settings_data(annotation_namespaces: Sequence[str], config_version: str = "v1") -> dict[str, str]:
    """`ama-metrics-settings-configmap` data: pod-annotation scraping for `annotation_namespaces`.

    Only the documented keys this stack changes are set; every other setting keeps the add-on's
    default (the agent treats a missing section as its default).
    """
    return {
        "schema-version": "v1",
        # Free text for the operator, at most 10 characters (the agent truncates longer values).
        "config-version": config_version[:10],
        "pod-annotation-based-scraping": f'podannotationnamespaceregex = "{namespace_regex(annotation_namespaces)}"',
    }


def istio_scrape_configs() -> list[dict[str, object]]:
    """Scrape jobs for the Istio add-on's control plane (istiod) and ingress gateways (Envoy).

    Workload sidecars are covered by pod-annotation scraping: the Istio injector points a meshed pod's
    `prometheus.io/*` annotations at the merged app+Envoy endpoint (port 15020), so scraping them here
    as well would ingest every Istio series twice. No `$` appears in these jobs: the add-on expands
    environment variables in this config, so a literal `$` would have to be written `$$`.
    """
    return [
        {
            "job_name": "istiod",
            "kubernetes_sd_configs": [
                {"role": "endpoints", "namespaces": {"names": [ISTIO_SYSTEM_NAMESPACE]}}
            ],
            "relabel_configs": [
                {
                    "source_labels": [
                        "__meta_kubernetes_service_name",
                        "__meta_kubernetes_endpoint_port_name",
                    ],
                    "action": "keep",
                    "regex": "istiod.*;http-monitoring",
                },
            ],
        },
        {
            "job_name": "istio-ingressgateway-envoy",
            "metrics_path": "/stats/prometheus",
            "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [ISTIO_INGRESS_NAMESPACE]}}],
            "relabel_configs": [
                {
                    "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                    "action": "keep",
                    "regex": ".*-envoy-prom",
                },
                {
                    "source_labels": ["__meta_kubernetes_namespace"],
                    "action": "replace",
                    "target_label": "namespace",
                },
                {
                    "source_labels": ["__meta_kubernetes_pod_name"],
                    "action": "replace",
                    "target_label": "pod",
                },
                {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
            ],
        },
    ]


def prometheus_config_data() -> dict[str, str]:
    """`ama-metrics-prometheus-config` data: the custom scrape jobs as Prometheus YAML."""
    document = {"scrape_configs": istio_scrape_configs()}
    return {"prometheus-config": yaml.safe_dump(document, sort_keys=False, default_flow_style=False)}
