"""The values the pack restates on purpose, held to their home in `components/`.

The pack runs in its own virtualenv without the provider SDKs and never imports `components/`
(policy/helpers.py says why), so a value both sides need is written twice. Each copy is checked here,
where both are importable: change the component and this fails until the policy follows.
"""

from components import aks, azure_ids, manifests
from policy import cluster, identity, mesh


def test_the_federated_credential_policy_expects_the_components_audience() -> None:
    assert identity.WORKLOAD_IDENTITY_AUDIENCE == azure_ids.WORKLOAD_IDENTITY_AUDIENCE


def test_the_mesh_root_namespaces_include_the_add_ons_namespace() -> None:
    assert manifests.ISTIO_SYSTEM_NAMESPACE in mesh.MESH_ROOT_NAMESPACES


def test_the_system_pool_policy_expects_the_components_taint() -> None:
    assert cluster.SYSTEM_POOL_TAINT == aks.SYSTEM_POOL_TAINT
