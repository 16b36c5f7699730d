"""The pure manifest builders of the gRPC workload (components/manifests.py)."""

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components import manifests as m
from program.adapters.services import server_tuning, shutdown_policy
from program.settings import GrpcServiceSettings, ShutdownSettings


@given(
    pre_stop=st.integers(0, 120),
    drain=st.integers(0, 120),
    grace=st.integers(1, 600),
    margin=st.integers(2, 120),
)
def test_termination_grace_period_outlasts_prestop_drain_and_shutdown_grace_by_the_margin(
    pre_stop: int, drain: int, grace: int, margin: int
) -> None:
    timing = m.shutdown_timing(
        m.ShutdownPolicy(
            pre_stop_seconds=pre_stop,
            drain_delay_seconds=drain,
            shutdown_grace_seconds=grace,
            margin_seconds=margin,
        )
    )
    assert timing.termination_grace_period_seconds >= pre_stop + drain + grace + margin
    assert timing.termination_grace_period_seconds > timing.app_shutdown_seconds
    # The Istio proxy outlives the app but not the pod.
    assert timing.app_shutdown_seconds < timing.proxy_drain_seconds < timing.termination_grace_period_seconds


def test_service_environment_carries_the_same_drain_and_grace_as_the_pod_timing() -> None:
    settings = GrpcServiceSettings(
        namespace="grpc-greeter",
        shutdown=ShutdownSettings(pre_stop_seconds=7, drain_delay_seconds=3, shutdown_grace_seconds=25),
    )
    timing = m.shutdown_timing(shutdown_policy(settings))
    env = m.container_env("greeter", server_tuning(settings), timing)
    assert env["DRAIN_DELAY_SECONDS"] == "3"
    assert env["SHUTDOWN_GRACE_SECONDS"] == "25"
    assert (env["GRPC_PORT"], env["GRPC_TLS_PORT"], env["METRICS_PORT"]) == ("50051", "50443", "9464")
    assert env["TLS_CERT_FILE"] == env["TLS_KEY_FILE"] == "/mnt/secrets/greeter-tls.pem"
    assert env["APPLICATIONINSIGHTS_CONNECTION_STRING_FILE"] == "/mnt/secrets/appinsights-connection-string"
    assert env["APPLICATIONINSIGHTS_STORAGE_DIRECTORY"].startswith(m.TMP_PATH + "/")
    assert env["OTEL_SERVICE_NAME"] == "greeter"
    assert m.container_env("orders", server_tuning(settings), timing)["TLS_CERT_FILE"] == (
        "/mnt/secrets/orders-tls.pem"
    )
    assert not any(k.rsplit("_", 2)[-1] == "CONNECTION_STRING" for k in env)  # secrets only as files


def test_probes_are_native_grpc_on_the_numeric_port_with_the_service_health_names() -> None:
    probes = {"startup": m.startup_probe(), "readiness": m.readiness_probe(), "liveness": m.liveness_probe()}
    assert {k: (p.grpc.port, p.grpc.service) for k, p in probes.items()} == {
        "startup": (50051, "readiness"),
        "readiness": (50051, "readiness"),
        "liveness": (50051, "liveness"),
    }
    assert all(isinstance(p.grpc.port, int) for p in probes.values())


def test_container_security_context_is_restricted() -> None:
    context = m.container_security_context(10001)
    assert context.run_as_non_root is True and context.allow_privilege_escalation is False
    assert context.read_only_root_filesystem is True and context.privileged is False
    assert context.capabilities.drop == ["ALL"]
    assert context.seccomp_profile.type == "RuntimeDefault"
    assert m.pod_security_context(10001).seccomp_profile.type == "RuntimeDefault"


def test_topology_spread_covers_zones_and_nodes_per_replicaset() -> None:
    constraints = m.topology_spread({"app.kubernetes.io/name": "x"}, "DoNotSchedule")
    assert [(c.topology_key, c.when_unsatisfiable) for c in constraints] == [
        ("topology.kubernetes.io/zone", "DoNotSchedule"),
        ("kubernetes.io/hostname", "ScheduleAnyway"),
    ]
    assert all(c.match_label_keys == ["pod-template-hash"] and c.max_skew == 1 for c in constraints)


def test_namespace_is_meshed_with_the_revision_and_warns_and_audits_restricted() -> None:
    labels = m.namespace_labels("asm-1-28", "privileged")
    assert labels["istio.io/rev"] == "asm-1-28"
    assert "istio-injection" not in labels
    assert (
        labels["pod-security.kubernetes.io/warn"]
        == labels["pod-security.kubernetes.io/audit"]
        == "restricted"
    )
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.1.0", "0.1.0"), ("sha256:" + "a" * 64, ("sha256-" + "a" * 64)[:63]), ("-x-", "x")],
)
def test_label_values_are_valid_kubernetes_label_values(text: str, expected: str) -> None:
    assert m.label_value(text) == expected


def test_pod_labels_select_like_the_service_and_opt_into_workload_identity() -> None:
    labels = m.pod_labels("greeter", "1.0.0")
    assert m.selector_labels("greeter").items() <= labels.items()
    assert labels["azure.workload.identity/use"] == "true"
    assert {"app.kubernetes.io/version", "app.kubernetes.io/component", "app.kubernetes.io/part-of"} <= set(
        labels
    )


def test_key_vault_objects_always_mount_app_insights_and_the_tls_pem() -> None:
    objects = m.service_key_vault_objects(
        "greeter", "appinsights-connection-string", "greeter-tls", ["db", "greeter-tls", "db"]
    )
    assert [(o.name, o.file_name) for o in objects] == [
        ("appinsights-connection-string", "appinsights-connection-string"),
        ("greeter-tls", "greeter-tls.pem"),
        ("db", "db"),
    ]
    parsed = yaml.safe_load(m.key_vault_objects_parameter(objects[:2]))
    entries = [yaml.safe_load(item) for item in parsed["array"]]
    assert entries == [
        {
            "objectName": "appinsights-connection-string",
            "objectType": "secret",
            "objectAlias": "appinsights-connection-string",
        },
        {"objectName": "greeter-tls", "objectType": "secret", "objectAlias": "greeter-tls.pem"},
    ]


def test_pod_annotations_hold_the_app_until_the_proxy_starts_and_drain_the_proxy_past_the_app() -> None:
    timing = m.shutdown_timing(m.ShutdownPolicy())
    proxy = m.ContainerResources("100m", "128Mi", "1", "256Mi")
    annotations = m.pod_annotations("greeter", proxy, timing, None)
    proxy_config = json.loads(annotations["proxy.istio.io/config"])
    assert proxy_config == {
        "holdApplicationUntilProxyStarts": True,
        "terminationDrainDuration": f"{timing.proxy_drain_seconds}s",
    }
    # Only the metrics port bypasses the sidecar; the TLS port stays in the mesh (mTLS + AuthorizationPolicy).
    assert annotations["traffic.sidecar.istio.io/excludeInboundPorts"] == "9464"
    assert not any(k.startswith("dapr.io/") for k in annotations)
    dapr = m.pod_annotations("greeter", proxy, timing, "greeter-dapr")
    assert dapr["dapr.io/app-protocol"] == "grpc" and dapr["dapr.io/app-port"] == "50051"


def test_authorization_policy_allows_only_gateways_on_their_ports_and_the_namespace() -> None:
    spec = m.authorization_policy_spec(
        labels={"a": "b"},
        namespace="ns",
        ingress_principals=["cluster.local/ns/aks-istio-ingress/sa/aks-istio-ingressgateway-external"],
        apim_principal=m.principal("apim-gateway", "apim-gateway"),
    )
    assert spec["action"] == "ALLOW"
    allowed = [(r["from"][0]["source"], r["to"][0]["operation"]["ports"]) for r in spec["rules"]]
    assert allowed == [
        (
            {"principals": ["cluster.local/ns/aks-istio-ingress/sa/aks-istio-ingressgateway-external"]},
            ["50051"],
        ),
        ({"principals": ["cluster.local/ns/apim-gateway/sa/apim-gateway"]}, ["50443"]),
        ({"namespaces": ["ns"]}, ["50051"]),
    ]


def test_virtual_service_sets_timeout_and_retries_on_unavailable_and_binds_the_gateway() -> None:
    spec = m.virtual_service_spec(
        "svc.ns.svc.cluster.local",
        m.TrafficPolicy(),
        ingress_host="g.example.com",
        gateway="aks-istio-ingress/gw",
    )
    route = spec["http"][0]
    assert spec["hosts"] == ["svc.ns.svc.cluster.local", "g.example.com"]
    assert spec["gateways"] == ["mesh", "aks-istio-ingress/gw"]
    assert route["timeout"] == "30s"
    assert "unavailable" in route["retries"]["retryOn"].split(",")
    assert route["route"][0]["destination"]["port"]["number"] == 50051
    assert m.virtual_service_spec("h", m.TrafficPolicy())["gateways"] == ["mesh"]


def test_destination_rule_balances_per_request_and_ejects_outliers() -> None:
    spec = m.destination_rule_spec("h", m.TrafficPolicy())
    policy = spec["trafficPolicy"]
    assert policy["loadBalancer"] == {"simple": "LEAST_REQUEST"}
    assert policy["outlierDetection"]["consecutiveGatewayErrors"] == 5
    # keepalive under the Azure Load Balancer's 4-minute idle timeout
    assert int(policy["connectionPool"]["tcp"]["tcpKeepalive"]["time"].rstrip("s")) < 240


def test_hpa_scales_on_the_app_containers_cpu_and_scales_down_slowly() -> None:
    spec = m.hpa_spec("greeter", "greeter", m.AutoscalingPolicy())
    metric = spec.metrics[0]
    assert metric.type == "ContainerResource"
    assert (metric.container_resource.name, metric.container_resource.container) == ("cpu", "greeter")
    assert metric.container_resource.target.average_utilization == 70
    assert (spec.min_replicas, spec.max_replicas) == (2, 10)
    assert spec.behavior.scale_down.stabilization_window_seconds == 300


def test_request_rate_query_counts_started_rpcs_of_the_namespace() -> None:
    query = m.request_rate_query("grpc-greeter", ["helloworld.Greeter"])
    assert query.startswith("sum(rate(grpc_server_started_total{")
    assert 'namespace="grpc-greeter"' in query
    assert 'grpc_service="helloworld.Greeter"' in query


def test_request_rate_query_counts_the_services_own_grpc_services() -> None:
    query = m.request_rate_query("grpc-orders", ["orders.v1.Orders", "orders.v1.Admin"])
    assert 'grpc_service=~"orders.v1.Admin|orders.v1.Orders"' in query
    assert "helloworld" not in query


def test_port_and_secret_names_are_per_service() -> None:
    assert (m.grpc_port_name("orders"), m.tls_port_name("orders")) == ("grpc-orders", "tls-orders")
    assert m.tls_pem_file("orders") == "orders-tls.pem"


def test_ingress_certificate_sync_produces_a_tls_secret_with_the_addon_identity() -> None:
    spec = m.ingress_tls_secret_provider_class_spec(
        addon_client_id="cid", vault_name="kv", tenant_id="t", certificate_name="cert", secret_name="tls"
    )
    assert spec["secretObjects"][0]["type"] == "kubernetes.io/tls"
    assert {d["key"] for d in spec["secretObjects"][0]["data"]} == {"tls.key", "tls.crt"}
    assert spec["parameters"]["userAssignedIdentityID"] == "cid"
    assert spec["parameters"]["useVMManagedIdentity"] == "true"


# --- Ports (`GrpcServiceArgs.ports`) ------------------------------------------------------------------


def test_default_ports_are_the_service_contract_constants() -> None:
    ports = m.ServicePortsArgs()
    assert (ports.grpc, ports.tls, ports.metrics) == (m.GRPC_PORT, m.TLS_PORT, m.METRICS_PORT)
    m.validate_service_ports(ports)


@pytest.mark.parametrize(
    ("ports", "refused"),
    [
        # Below 1024: the non-root container without NET_BIND_SERVICE cannot bind it.
        (m.ServicePortsArgs(grpc=80), "ports.grpc: 80 is not in 1024-65535"),
        (m.ServicePortsArgs(tls=443), "ports.tls: 443 is not in 1024-65535"),
        (m.ServicePortsArgs(metrics=1023), "ports.metrics: 1023 is not in 1024-65535"),
        (m.ServicePortsArgs(grpc=0), "ports.grpc: 0 is not in 1024-65535"),
        (m.ServicePortsArgs(tls=65536), "ports.tls: 65536 is not in 1024-65535"),
        # The Istio sidecar's own ports (Istio docs: "Ports used by Istio").
        (m.ServicePortsArgs(grpc=15000), "ports.grpc: 15000 is in 15000-15090"),
        (m.ServicePortsArgs(tls=15006), "ports.tls: 15006 is in 15000-15090"),
        (m.ServicePortsArgs(metrics=15020), "ports.metrics: 15020 is in 15000-15090"),
        (m.ServicePortsArgs(metrics=15090), "ports.metrics: 15090 is in 15000-15090"),
        # One listener per port.
        (m.ServicePortsArgs(tls=50051), "ports.tls: 50051 is also ports.grpc"),
        (m.ServicePortsArgs(metrics=50051), "ports.metrics: 50051 is also ports.grpc"),
        (m.ServicePortsArgs(metrics=50443), "ports.metrics: 50443 is also ports.tls"),
    ],
)
def test_validate_service_ports_refuses_privileged_istio_and_shared_ports(
    ports: m.ServicePortsArgs, refused: str
) -> None:
    with pytest.raises(ValueError) as error:
        m.validate_service_ports(ports)
    assert str(error.value).startswith(refused), error.value


@pytest.mark.parametrize("port", [1024, 14999, 15091, 65535])
def test_validate_service_ports_accepts_the_edges_of_the_allowed_ranges(port: int) -> None:
    m.validate_service_ports(m.ServicePortsArgs(grpc=port))


def test_builders_use_the_ports_they_are_given() -> None:
    ports = m.ServicePortsArgs(grpc=8080, tls=8443, metrics=9100)
    timing = m.shutdown_timing(m.ShutdownPolicy())
    env = m.container_env("orders", m.ServerTuning(), timing, ports)
    assert (env["GRPC_PORT"], env["GRPC_TLS_PORT"], env["METRICS_PORT"]) == ("8080", "8443", "9100")
    probes = [m.startup_probe(8080), m.readiness_probe(8080), m.liveness_probe(8080)]
    assert {p.grpc.port for p in probes} == {8080}
    annotations = m.pod_annotations("orders", m.ContainerResources(), timing, "orders-dapr", ports)
    assert annotations["traffic.sidecar.istio.io/excludeInboundPorts"] == "9100"
    assert annotations["dapr.io/app-port"] == "8080"
    spec = m.authorization_policy_spec(
        labels={"a": "b"},
        namespace="ns",
        ingress_principals=["p"],
        apim_principal="apim",
        ports=ports,
    )
    assert [r["to"][0]["operation"]["ports"] for r in spec["rules"]] == [["8080"], ["8443"], ["8080"]]
    route = m.virtual_service_spec("h", m.TrafficPolicy(), grpc_port=8080)["http"][0]
    assert route["match"][0]["port"] == 8080 and route["route"][0]["destination"]["port"]["number"] == 8080
    allow = m.ingress_allow_spec(
        labels={"a": "b"}, namespace="ns", ingress_enabled=True, apim_namespace="apim", ports=ports
    )
    assert [[p.port for p in rule.ports] for rule in allow.ingress] == [
        [8080],
        [8443],
        [8080],
        [9100, 15020, 15090],
    ]
