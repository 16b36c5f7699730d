"""A consumer program builds a cluster and two services from `aks_grpc` in a fresh virtualenv.

tests/program/packaging.py builds the wheel and a virtualenv outside this repo's (dependencies from
PyPI) once per content hash under build/. examples/consumer/__main__.py runs there under the mock
engine (tools/mock_engine.py, loaded by path: the repository itself is not importable there), and mypy
checks it against the installed package, strictly enough that an `Any` export fails.

When the components' Args change, `EXPECTED_COUNTS` and the key-input assertions below are the only
places to adapt, with the consumer's `build_platform`/`build_service`.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.program.packaging import BUILD, REPO_ROOT, consumer_venv

CONSUMER = REPO_ROOT / "examples" / "consumer" / "__main__.py"
MOCK_ENGINE = REPO_ROOT / "tools" / "mock_engine.py"

RUNNER = textwrap.dedent(
    """
    import importlib.util
    import json
    import runpy
    import sys

    spec = importlib.util.spec_from_file_location("mock_engine", sys.argv[1])
    engine = importlib.util.module_from_spec(spec)
    sys.modules["mock_engine"] = engine
    spec.loader.exec_module(engine)

    import aks_grpc

    try:
        import components  # noqa: F401
        repository_importable = True
    except ModuleNotFoundError:
        repository_importable = False

    program = runpy.run_path(sys.argv[2], run_name="consumer")
    plan = engine.run_program(program["main"], {}, stack="test", project="consumer")
    print(json.dumps({
        "package": aks_grpc.__file__,
        "repository_importable": repository_importable,
        "resources": [r.as_json() for r in plan.resources],
        "outputs": plan.outputs,
    }, default=str))
    """
)

EXPECTED_COUNTS = {
    "azure-native:resources:ResourceGroup": 1,
    "aksgrpc:index:ClusterEgress": 1,
    "aksgrpc:index:AksCluster": 1,
    "azure-native:containerservice:ManagedCluster": 1,
    "azure-native:network:PublicIPAddress": 1,
    "pulumi:providers:kubernetes": 1,
    "aksgrpc:index:ServicePlatform": 1,
    "kubernetes:telemetry.istio.io/v1:Telemetry": 1,
    "aksgrpc:index:GrpcService": 2,
    "kubernetes:core/v1:Namespace": 2,
    "kubernetes:apps/v1:Deployment": 2,
    "kubernetes:core/v1:Service": 2,
    "kubernetes:core/v1:ServiceAccount": 2,
    "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass": 2,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 2,
    "aksgrpc:index:WorkloadIdentity": 2,
    "azure-native:managedidentity:UserAssignedIdentity": 3,
    "azure-native:managedidentity:FederatedIdentityCredential": 2,
    "aksgrpc:index:BackendCertificate": 2,
    "azure-native:keyvault:Secret": 2,
}
"""Resource type -> how many the consumer registers (a cluster with its egress IP and Kubernetes
provider, one service platform with the mesh's only Telemetry, and two services each with its own
namespace, workload and identity; the third identity is the cluster's control plane)."""

MYPY = [sys.executable, "-m", "mypy", "--config-file=", "--strict", "--disallow-any-unimported"]
MYPY += ["--cache-dir", str(BUILD / "consumer-mypy-cache"), "--no-error-summary"]
"""mypy from this venv, no project config, strict (`--warn-return-any`, `--disallow-untyped-calls`,
no implicit re-exports...) and refusing values that are `Any` because an import is not typed."""

MYPY_PROBE = textwrap.dedent(
    """
    from aks_grpc import GrpcService, GrpcServiceArgs

    wrong: int = GrpcService  # an Any export would pass silently
    args = GrpcServiceArgs(service_name=1)  # a typed dataclass refuses this
    """
)


@pytest.fixture(scope="module")
def venv() -> Path:
    return consumer_venv()


@pytest.fixture(scope="module")
def report(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("consumer")
    runner = work / "runner.py"
    runner.write_text(RUNNER)
    # -P and cwd outside the repo: only the venv's site-packages are importable.
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-P", str(runner), str(MOCK_ENGINE), str(CONSUMER)],
        cwd=work,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def _of_type(report: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in report["resources"] if r["type"] == resource_type]


def test_the_consumer_imports_the_installed_package_only(venv: Path, report: dict[str, Any]) -> None:
    assert report["package"].startswith(str(venv)), report["package"]
    assert "/aks_grpc/" in report["package"]
    assert report["repository_importable"] is False, "the repository's `components` leaked onto sys.path"


def test_the_consumer_registers_a_cluster_part_and_two_services(report: dict[str, Any]) -> None:
    counts = {t: len(_of_type(report, t)) for t in EXPECTED_COUNTS}
    assert counts == EXPECTED_COUNTS
    components = {r["urn"]: r for r in report["resources"] if r["type"].startswith("aksgrpc:")}
    for resource in report["resources"]:
        if resource["type"] in ("azure-native:network:PublicIPAddress", "azure-native:keyvault:Secret"):
            assert resource["parent"] in components, f"{resource['name']} is not inside its component"


def test_the_services_get_their_own_identity_and_certificate(report: dict[str, Any]) -> None:
    credentials = {
        r["inputs"]["subject"]: r["inputs"]
        for r in _of_type(report, "azure-native:managedidentity:FederatedIdentityCredential")
    }
    assert set(credentials) == {
        "system:serviceaccount:shop-orders:orders",
        "system:serviceaccount:shop-billing:billing",
    }
    # The services federate with the cluster's own OIDC issuer (an AksCluster output, faked by the mocks).
    issuers = {c["issuer"] for c in credentials.values()}
    assert len(issuers) == 1 and next(iter(issuers)).startswith("https://westeurope.oic.prod-aks.azure.com/")
    wrappers = {r["urn"] for r in _of_type(report, "aksgrpc:index:WorkloadIdentity")}
    identities = _of_type(report, "azure-native:managedidentity:UserAssignedIdentity")
    service_identities = [r["inputs"]["resourceName"] for r in identities if r["parent"] in wrappers]
    assert sorted(service_identities) == ["id-billing", "id-orders"]
    # Each service identity sits inside its own GrpcService.
    services = {r["name"]: r["urn"] for r in _of_type(report, "aksgrpc:index:GrpcService")}
    assert set(services) == {"orders", "billing"}
    parents = {r["parent"] for r in _of_type(report, "aksgrpc:index:WorkloadIdentity")}
    assert parents == set(services.values())
    cluster = _of_type(report, "azure-native:containerservice:ManagedCluster")[0]["inputs"]
    assert cluster["resourceName"] == "aks-consumer"
    assert cluster["oidcIssuerProfile"]["enabled"] is True
    assert cluster["securityProfile"]["workloadIdentity"]["enabled"] is True
    secrets = _of_type(report, "azure-native:keyvault:Secret")
    assert sorted(r["inputs"]["secretName"] for r in secrets) == ["billing-tls", "orders-tls"]
    assert {r["inputs"]["vaultName"] for r in secrets} == {"kv-consumer"}
    public_ip = _of_type(report, "azure-native:network:PublicIPAddress")[0]["inputs"]
    assert public_ip["sku"]["name"] == "Standard" and public_ip["zones"] == ["1", "2", "3"]
    assert {"ordersClientId", "billingClientId", "ordersHost", "billingHost"} <= set(report["outputs"])
    assert {"egressIp", "clusterName"} <= set(report["outputs"])
    assert report["outputs"]["ordersHost"] == "orders.shop-orders.svc.cluster.local"


def test_the_services_run_in_their_own_namespaces_on_the_clusters_provider(report: dict[str, Any]) -> None:
    provider = _of_type(report, "pulumi:providers:kubernetes")[0]["urn"]
    kubernetes = [r for r in report["resources"] if r["type"].startswith("kubernetes:")]
    assert kubernetes and {r["provider"] for r in kubernetes} == {provider}
    namespaces = sorted(
        r["inputs"]["metadata"]["name"] for r in _of_type(report, "kubernetes:core/v1:Namespace")
    )
    assert namespaces == ["shop-billing", "shop-orders"]
    deployments = {
        r["inputs"]["metadata"]["name"]: r["inputs"]
        for r in _of_type(report, "kubernetes:apps/v1:Deployment")
    }
    assert {name: d["metadata"]["namespace"] for name, d in deployments.items()} == {
        "orders": "shop-orders",
        "billing": "shop-billing",
    }
    images = {
        name: d["spec"]["template"]["spec"]["containers"][0]["image"] for name, d in deployments.items()
    }
    assert images == {
        "orders": "acrconsumer.azurecr.io/orders:1.4.0",
        "billing": "acrconsumer.azurecr.io/billing:2.0.1",
    }
    grpc_ports = {
        r["inputs"]["metadata"]["name"]: [
            p["name"] for p in r["inputs"]["spec"]["ports"] if p["appProtocol"] == "grpc"
        ]
        for r in _of_type(report, "kubernetes:core/v1:Service")
    }
    assert grpc_ports == {"orders": ["grpc-orders"], "billing": ["grpc-billing"]}
    # The mesh-wide Telemetry exists once (the platform's), however many services share the cluster.
    (telemetry,) = _of_type(report, "kubernetes:telemetry.istio.io/v1:Telemetry")
    assert telemetry["inputs"]["metadata"]["name"] == "mesh-default"
    assert telemetry["inputs"]["metadata"]["namespace"] == "aks-istio-system"
    assert telemetry["parent"] == _of_type(report, "aksgrpc:index:ServicePlatform")[0]["urn"]
    # Each service's pods read their own TLS secret from the vault.
    classes = {
        r["inputs"]["metadata"]["namespace"]: r["inputs"]["spec"]["parameters"]["objects"]
        for r in _of_type(report, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
    }
    assert set(classes) == {"shop-orders", "shop-billing"}
    assert "orders-tls" in classes["shop-orders"] and "billing-tls" not in classes["shop-orders"]
    assert "billing-tls" in classes["shop-billing"] and "orders-tls" not in classes["shop-billing"]


def test_mypy_sees_the_installed_packages_real_types(venv: Path, tmp_path: Path) -> None:
    probe = (tmp_path / "probe.py").resolve()
    probe.write_text(MYPY_PROBE)
    result = subprocess.run(
        [*MYPY, "--python-executable", str(venv / "bin" / "python"), str(CONSUMER), str(probe)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    errors = [line.split(": error: ", 1) for line in result.stdout.splitlines() if ": error: " in line]
    by_file: dict[Path, list[str]] = {}
    for where, message in errors:
        by_file.setdefault((tmp_path / where.split(":", 1)[0]).resolve(), []).append(f"{where}: {message}")
    assert set(by_file) <= {CONSUMER, probe}, result.stdout + result.stderr
    assert by_file.get(CONSUMER, []) == [], "\n".join(by_file[CONSUMER])
    probe_errors = by_file.get(probe, [])
    # Both lines of the probe must fail: mypy sees the class and the dataclass, not `Any`.
    assert any("type[GrpcService]" in e and '"int"' in e for e in probe_errors), result.stdout
    assert any("GrpcServiceArgs" in e for e in probe_errors), result.stdout
