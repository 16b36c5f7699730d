"""The aks-grpc guardrails as CrossGuard policies: importable, so each is unit-tested directly.

Every policy is a module-level object in the module of its area and is listed here, in `ALL_POLICIES`;
`__main__.py` only builds the `PolicyPack` from that list. The areas:

- `cluster`: AKS (ManagedCluster, AgentPool)
- `keyvault`: Key Vault (vault, secrets)
- `apim`: API Management (service, APIs)
- `identity`, `registry`, `tags`: role assignments and federated credentials, ACR, required tags
- `pods`: Kubernetes pod specs, Pod Security Standards "restricted"
- `workload`: Kubernetes workload reliability (resources, probes, images, PDBs, autoscalers, gRPC ports)
- `mesh`: Istio mTLS and injection
- `monitoring`: diagnostic settings (resource logs to Log Analytics)
- `stack`: cross-resource rules (the cluster's path to the vault)
- `helpers`: reading engine values safely, the policy builders

Sources: CIS Azure Kubernetes Service Benchmark (CIS AKS), Azure Policy built-in definitions (AP), the
Kubernetes Pod Security Standards, profile "restricted" (PSS), and docs/DESIGN facts (platform). The
table in docs/policy.md lists every policy with its source, enforcement level and reason.
"""

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from . import apim, cluster, identity, keyvault, mesh, monitoring, pods, registry, stack, tags, workload
from .helpers import azure_type
from .stack import keyvault_admits_cluster_egress
from .tags import TAGGABLE_TYPES

__all__ = ["ALL_POLICIES", "TAGGABLE_TYPES", "azure_type", "keyvault_admits_cluster_egress"]

ALL_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    # AKS
    cluster.aks_local_accounts_disabled,
    cluster.aks_entra_id_azure_rbac,
    cluster.aks_api_server_access_restricted,
    cluster.aks_network_policy_enabled,
    cluster.aks_workload_identity_enabled,
    cluster.aks_defender_enabled,
    cluster.aks_auto_upgrade_channels,
    cluster.aks_azure_policy_addon,
    cluster.aks_keyvault_csi_secret_rotation,
    cluster.aks_no_ssh_keys,
    cluster.aks_node_ssh_disabled,
    cluster.aks_image_cleaner_enabled,
    cluster.aks_managed_prometheus_enabled,
    cluster.aks_container_insights_entra_auth,
    cluster.aks_system_pool_isolated,
    monitoring.aks_diagnostic_audit_logs,
    # Key Vault
    keyvault.keyvault_rbac_authorization,
    keyvault.keyvault_purge_protection,
    keyvault.keyvault_soft_delete_retention,
    keyvault.keyvault_firewall_default_deny,
    keyvault.keyvault_secret_expiration,
    monitoring.keyvault_diagnostic_audit_events,
    stack.keyvault_admits_cluster_egress,
    # API Management
    apim.apim_no_legacy_tls,
    apim.apim_no_weak_ciphers,
    apim.apim_system_assigned_identity,
    apim.apim_self_hosted_gateway_tier,
    apim.apim_api_https_only,
    apim.apim_grpc_api_empty_path,
    monitoring.apim_diagnostic_gateway_logs,
    # Azure identity, registry, tags
    identity.azure_role_assignment_deterministic_name,
    tags.azure_required_tags,
    registry.acr_no_admin_or_anonymous_pull,
    identity.workload_identity_federated_credential,
    # Kubernetes Pod Security Standards (restricted)
    pods.k8s_run_as_non_root,
    pods.k8s_no_privilege_escalation,
    pods.k8s_drop_all_capabilities,
    pods.k8s_seccomp_runtime_default,
    pods.k8s_read_only_root_filesystem,
    pods.k8s_no_host_namespaces,
    pods.k8s_no_host_path_volumes,
    pods.k8s_no_privileged_containers,
    pods.k8s_secrets_as_files,
    # Workload reliability
    workload.k8s_resource_requests_limits,
    workload.k8s_probes,
    workload.k8s_image_pinned,
    workload.k8s_pdb_allows_drain,
    workload.k8s_workload_has_drainable_pdb,
    workload.k8s_autoscaler_min_replicas,
    workload.k8s_autoscaler_target_exists,
    workload.k8s_no_replicas_with_autoscaler,
    workload.k8s_grpc_service_ports,
    # Istio
    mesh.istio_peer_authentication_strict,
    mesh.istio_meshed_namespace_strict_mtls,
    mesh.istio_revision_label,
]
