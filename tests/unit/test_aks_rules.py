"""The AKS Azure-validity rules (components/aks_rules.py) with plain values: each refusal names its field."""

import datetime

import pytest

from components.aks_rules import (
    ArgsProblems,
    validate_active_revision,
    validate_api_server_access,
    validate_istio_revisions,
    validate_kubernetes_version,
    validate_lock,
    validate_login,
    validate_network,
    validate_node_pool,
    validate_outbound_public_ips,
    validate_zones,
)

ON = datetime.date(2026, 12, 2)
POOL = {
    "vm_size": "Standard_D4ds_v5",
    "min_count": 2,
    "max_count": 10,
    "max_pods": 110,
    "os_disk_type": "auto",
    "os_disk_size_gb": 128,
    "max_surge": "33%",
}
NETWORK = {
    "pod_cidr": "10.244.0.0/16",
    "service_cidr": "10.0.0.0/16",
    "dns_service_ip": "10.0.0.10",
    "outbound_type": "loadBalancer",
}


def _fields(error: pytest.ExceptionInfo[ArgsProblems]) -> list[str]:
    return [field for field, _ in error.value.problems]


def test_a_default_pool_passes():
    validate_node_pool(**POOL)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_count": 5, "max_count": 3}, "min_count"),
        ({"min_count": 0}, "min_count"),
        ({"max_count": 1001}, "max_count"),
        ({"max_pods": 251}, "max_pods"),
        ({"max_pods": 9}, "max_pods"),
        ({"os_disk_size_gb": 20}, "os_disk_size_gb"),
        ({"os_disk_type": "Ultra"}, "os_disk_type"),
        ({"max_surge": "0"}, "max_surge"),
        ({"vm_size": "Standard_D2ds_v5", "os_disk_type": "Ephemeral"}, "os_disk_size_gb"),
    ],
)
def test_a_pool_azure_refuses_names_the_field(change, field):
    with pytest.raises(ArgsProblems) as error:
        validate_node_pool(**{**POOL, **change})
    assert _fields(error) == [field]
    assert str(error.value).startswith(f"{field}: ")


def test_an_ephemeral_disk_that_fits_the_vm_passes_and_auto_never_refuses():
    validate_node_pool(
        **{**POOL, "vm_size": "Standard_D2ds_v5", "os_disk_type": "Ephemeral", "os_disk_size_gb": 75}
    )
    validate_node_pool(
        **{**POOL, "vm_size": "Standard_D2ds_v5", "os_disk_type": "auto", "os_disk_size_gb": 512}
    )


def test_every_pool_problem_is_listed_at_once():
    with pytest.raises(ArgsProblems) as error:
        validate_node_pool(**{**POOL, "min_count": 5, "max_count": 3, "max_pods": 5})
    assert _fields(error) == ["min_count", "max_pods"]


def test_a_supported_kubernetes_minor_passes_and_returns_its_warnings():
    assert validate_kubernetes_version("1.36", on=ON) == []
    # 1.35 leaves support 2027-03-31: within 60 days of 2027-02-15.
    (warning,) = validate_kubernetes_version("1.35", on=datetime.date(2027, 2, 15))
    assert "plan the upgrade" in warning


def test_a_kubernetes_minor_past_its_end_of_life_is_refused_unless_premium_lts():
    with pytest.raises(ArgsProblems, match=r"^kubernetes_version: Kubernetes 1\.33 left AKS support"):
        validate_kubernetes_version("1.33", on=ON)
    validate_kubernetes_version("1.33", sku_tier="Premium", support_plan="AKSLongTermSupport", on=ON)


def test_long_term_support_needs_the_premium_tier():
    with pytest.raises(ArgsProblems) as error:
        validate_kubernetes_version("1.36", sku_tier="Standard", support_plan="AKSLongTermSupport", on=ON)
    assert _fields(error) == ["support_plan"]


def test_an_exact_patch_fights_a_version_moving_upgrade_channel():
    with pytest.raises(ArgsProblems, match=r"^kubernetes_version: an exact patch"):
        validate_kubernetes_version("1.36.2", upgrade_channel="patch", on=ON)
    validate_kubernetes_version("1.36.2", upgrade_channel="none", on=ON)


def test_a_malformed_kubernetes_version_is_refused():
    with pytest.raises(ArgsProblems, match=r"^kubernetes_version"):
        validate_kubernetes_version("latest", on=ON)


def test_istio_revisions_follow_the_kubernetes_minor():
    assert validate_istio_revisions(["asm-1-30"], kubernetes_version="1.36", on=ON) == []
    with pytest.raises(ArgsProblems) as error:
        validate_istio_revisions(["asm-1-28"], kubernetes_version="1.36.1", on=ON)
    assert _fields(error) == ["istio.revisions[0]"]
    with pytest.raises(ArgsProblems) as error:
        validate_istio_revisions(["asm-1-28", "asm-1-30"], kubernetes_version="1.35", on=ON)
    assert "istio.revisions" in _fields(error)
    (warning,) = validate_istio_revisions(["asm-1-99"], kubernetes_version="1.36", on=ON)
    assert "newer than the revision table" in warning


def test_istio_needs_a_well_formed_revision():
    with pytest.raises(ArgsProblems, match=r"^istio\.revisions:"):
        validate_istio_revisions([], kubernetes_version="1.36", on=ON)
    with pytest.raises(ArgsProblems, match=r"^istio\.revisions\[0\]: 'istio-1\.30'"):
        validate_istio_revisions(["istio-1.30"], kubernetes_version="1.36", on=ON)


def test_the_active_revision_must_be_one_the_mesh_runs():
    validate_active_revision(["asm-1-29", "asm-1-30"], "asm-1-29")
    validate_active_revision(["asm-1-30"], "")
    with pytest.raises(ArgsProblems, match=r"^active_revision: must be one of revisions"):
        validate_active_revision(["asm-1-30"], "asm-1-29")


def test_zones_are_azure_zones_listed_once():
    validate_zones([])
    validate_zones(["1", "2", "3"])
    with pytest.raises(ArgsProblems, match=r"^zones: lists a zone twice"):
        validate_zones(["1", "1"])
    with pytest.raises(ArgsProblems, match=r"^zones\[0\]"):
        validate_zones(["4"])


def test_a_default_network_passes():
    validate_network(**NETWORK)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dns_service_ip": "10.1.0.10"}, "dns_service_ip"),
        ({"dns_service_ip": "10.0.0.1"}, "dns_service_ip"),
        ({"dns_service_ip": "dns"}, "dns_service_ip"),
        ({"pod_cidr": "10.0.0.0/8"}, "pod_cidr"),
        ({"service_cidr": "nope"}, "service_cidr"),
        ({"outbound_type": "userDefinedRouting"}, "outbound_type"),
        ({"outbound_type": "userAssignedNATGateway"}, "outbound_type"),
    ],
)
def test_a_network_azure_refuses_names_the_field(change, field):
    with pytest.raises(ArgsProblems) as error:
        validate_network(**{**NETWORK, **change})
    assert field in _fields(error)


def test_managed_nat_gateway_is_an_outbound_type_the_cluster_runs():
    validate_network(**{**NETWORK, "outbound_type": "managedNATGateway"})


def test_given_public_ips_only_with_the_load_balancer_outbound_type():
    validate_outbound_public_ips("loadBalancer", 1)
    validate_outbound_public_ips("managedNATGateway", 0)
    with pytest.raises(ArgsProblems, match=r"^outbound_public_ip_ids"):
        validate_outbound_public_ips("managedNATGateway", 1)


def test_a_private_api_server_takes_no_authorized_ranges():
    validate_api_server_access(private_cluster=True, authorized_ip_ranges=[])
    validate_api_server_access(private_cluster=False, authorized_ip_ranges=["203.0.113.0/24"])
    with pytest.raises(ArgsProblems, match=r"^authorized_ip_ranges"):
        validate_api_server_access(private_cluster=True, authorized_ip_ranges=["203.0.113.0/24"])


def test_the_spn_login_needs_the_client_id():
    validate_login("spn", True)
    validate_login("azurecli", False)
    with pytest.raises(ArgsProblems, match=r"^deployer_client_id"):
        validate_login("spn", False)


def test_a_lock_is_an_azure_lock_level():
    for level in (None, "CanNotDelete", "ReadOnly"):
        validate_lock(level)
    with pytest.raises(ArgsProblems, match=r"^lock"):
        validate_lock("DoNotDelete")


def test_a_pool_args_os_disk_type_outside_the_enum_names_the_field():
    from components.node_pool import NodePoolArgs, validate_node_pool_args

    with pytest.raises(ArgsProblems, match=r"^user_pool\.os_disk_type: must be auto, Ephemeral or Managed"):
        validate_node_pool_args(NodePoolArgs(os_disk_type="Ultra"), "user_pool")  # type: ignore[arg-type]
