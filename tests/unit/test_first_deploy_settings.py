"""Settings behind a first deploy that works: egress the vault can admit, `protect` on stateful resources,
a vault redeploy path, and create-only settings marked as such in the configuration reference."""

from typing import Any

import pytest

from program.settings import SettingsError, StackSettings, load_settings
from tools.config_reference import CREATE_ONLY_NOTE, rows

BASE: dict[str, Any] = {"location": "westeurope"}
PROD: dict[str, Any] = {
    "environment": "prod",
    "location": "westeurope",
    "monitoring": {"alertEmails": ["oncall@example.com"]},
    "cluster": {"registry": {"sku": "Premium"}},
    "apim": {"sku": "Premium", "gateway": {"replicas": 2}},
}


def problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    return caught.value.problems


@pytest.mark.parametrize("outbound", ["userDefinedRouting", "userAssignedNATGateway"])
def test_outbound_types_that_need_a_subnet_of_your_own_are_refused_naming_the_key(outbound: str) -> None:
    found = problems({**BASE, "environment": "dev", "cluster": {"network": {"outboundType": outbound}}})
    (problem,) = [p for p in found if p.startswith("aks-grpc:cluster.network.outboundType:")]
    assert outbound in problem and "subnet" in problem and "loadBalancer" in problem


def test_managed_nat_gateway_is_refused_unless_a_private_endpoint_serves_the_vault() -> None:
    config = {**BASE, "environment": "dev", "cluster": {"network": {"outboundType": "managedNATGateway"}}}
    (problem,) = problems(config)
    assert problem.startswith("aks-grpc:cluster.network.outboundType:") and "privateEndpoint" in problem
    subnet = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/pe"
    vnet = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v"
    with_endpoint = {
        **config,
        "keyVault": {"privateEndpoint": {"enabled": True, "subnetId": subnet, "virtualNetworkId": vnet}},
    }
    assert load_settings(with_endpoint).cluster.network.outbound_type == "managedNATGateway"


def test_load_balancer_egress_is_the_default() -> None:
    assert load_settings({**BASE, "environment": "dev"}).cluster.network.outbound_type == "loadBalancer"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({**BASE, "environment": "dev"}, False),
        (PROD, True),
        ({**PROD, "protectStatefulResources": False}, False),
        ({**BASE, "environment": "dev", "protectStatefulResources": True}, True),
    ],
)
def test_stateful_resources_are_protected_in_prod_by_default(config: dict[str, Any], expected: bool) -> None:
    assert load_settings(config).protects_stateful_resources is expected


def test_vault_create_mode_and_name_generation() -> None:
    vault = load_settings(
        {**BASE, "environment": "dev", "keyVault": {"createMode": "recover", "nameGeneration": 2}}
    )
    assert vault.key_vault.create_mode == "recover" and vault.key_vault.name_generation == 2
    found = problems(
        {**BASE, "environment": "dev", "keyVault": {"createMode": "purge", "nameGeneration": -1}}
    )
    assert any(p.startswith("aks-grpc:keyVault.createMode:") for p in found)
    assert any(p.startswith("aks-grpc:keyVault.nameGeneration:") for p in found)


CREATE_ONLY_KEYS = {
    "cluster.zones",
    "cluster.network.podCidr",
    "cluster.network.serviceCidr",
    "cluster.network.dnsServiceIp",
    "cluster.network.outboundType",
    "cluster.systemPool.vmSize",
    "cluster.systemPool.maxPods",
    "cluster.systemPool.osDiskType",
    "cluster.systemPool.osDiskSizeGb",
    "cluster.userPool.vmSize",
    "cluster.userPool.maxPods",
    "cluster.userPool.osDiskType",
    "cluster.userPool.osDiskSizeGb",
    "keyVault.nameGeneration",
}


def test_the_configuration_reference_marks_exactly_the_create_only_settings() -> None:
    marked = {key for key, _, _, meaning in rows(StackSettings) if meaning.startswith(CREATE_ONLY_NOTE)}
    assert marked == CREATE_ONLY_KEYS
