"""Identifiers that Azure defines, in one place, each with its meaning and source.

Role definition ids are the same in every tenant (Azure built-in roles, "Azure built-in roles" doc).
"""

# --- Built-in role definition ids (learn.microsoft.com: Azure built-in roles) ---------------------
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
"""Azure Kubernetes Service RBAC Cluster Admin: full Kubernetes API access through Azure RBAC."""

ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
"""AcrPull: pull images from a container registry (given to the kubelet identity)."""

ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
"""AcrPush: push and pull images (given to the deployer when the program builds the service image)."""

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
"""Key Vault Secrets User: read secret contents (workload identities, CSI driver)."""

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
"""Network Contributor: given to the AKS control-plane identity on the stack's egress public IP, which it
must join to the cluster's load balancer (AKS docs: "AKS service permissions",
Microsoft.Network/publicIPAddresses/join/action for outbound IPs on the Standard Load Balancer)."""

MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"
"""Monitoring Data Reader: query an Azure Monitor workspace (Grafana, KEDA)."""

MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
"""Monitoring Metrics Publisher: ingest metrics through a data collection rule."""

GRAFANA_ADMIN = "22926164-76b3-42b3-bc55-97df8dab3e41"
"""Grafana Admin: administer an Azure Managed Grafana instance."""

GRAFANA_VIEWER = "60921a7e-fef1-4a43-9b16-a26c52ad4769"
"""Grafana Viewer: read dashboards of an Azure Managed Grafana instance."""

# --- AKS ------------------------------------------------------------------------------------------
AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The Entra application id of the AKS AAD server: the audience kubelogin requests tokens for
(AKS docs: "Use kubelogin to authenticate").
"""

AKS_AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule"
"""Maintenance configuration name AKS reads for cluster auto-upgrades (AKS docs: "Planned maintenance")."""

AKS_NODE_OS_UPGRADE_SCHEDULE = "aksManagedNodeOSUpgradeSchedule"
"""Maintenance configuration name AKS reads for node OS (node image) upgrades."""

ADDON_KEY_VAULT_SECRETS_PROVIDER = "azureKeyvaultSecretsProvider"
"""Add-on profile key of the Key Vault Secrets Store CSI driver (config values are strings)."""

ADDON_AZURE_POLICY = "azurepolicy"
"""Add-on profile key of Azure Policy for Kubernetes (Gatekeeper)."""

ADDON_MONITORING = "omsagent"
"""Add-on profile key of Container Insights (config: logAnalyticsWorkspaceResourceID, useAADAuth)."""

CONTAINER_INSIGHTS_ASSOCIATION = "ContainerInsightsExtension"
"""Name of the association binding the MSCI- DCR to a cluster (Container Insights onboarding templates)."""

WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
"""Audience of every federated identity credential used by workload identity."""

# --- Azure Monitor managed Prometheus ------------------------------------------------------------
PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
"""Stream name that the metrics add-on sends to (Azure Monitor: "Data collection rules for Prometheus")."""

PROMETHEUS_DESTINATION = "MonitoringAccount1"
"""Destination name of the Azure Monitor workspace inside the Prometheus DCR."""

PROMETHEUS_EXTENSION = "prometheusForwarder"
"""The DCR data source kind (`dataSources.prometheusForwarder`) the AKS metrics add-on sends through."""

PROMETHEUS_DATA_SOURCE = "PrometheusDataSource"
"""Name of the `prometheusForwarder` data source in Azure's own Prometheus DCRs
(Azure/prometheus-collector AddonArmTemplate)."""

CONFIGURATION_ACCESS_ENDPOINT = "configurationAccessEndpoint"
"""The exact name AKS requires for the DCE association (association of a DCE, not a DCR)."""

CONTAINER_INSIGHTS_STREAMS = (
    "Microsoft-ContainerLogV2",
    "Microsoft-KubeEvents",
    "Microsoft-KubePodInventory",
)
"""Container Insights streams kept by default (ContainerLogV2 schema)."""

CONTAINER_INSIGHTS_EXTENSION = "ContainerInsights"
"""`extensionName` of the Container Insights data source in the `MSCI-` DCR."""

CONTAINER_INSIGHTS_DATA_SOURCE = "ContainerInsightsExtension"
"""Name of the Container Insights extension data source (what `az aks enable-addons` writes)."""

CONTAINER_INSIGHTS_DESTINATION = "ciworkspace"
"""Name of the Log Analytics destination inside the `MSCI-` DCR; data flows refer to it."""

# --- Key Vault ------------------------------------------------------------------------------------
KEY_VAULT_PRIVATE_DNS_ZONE = "privatelink.vaultcore.azure.net"
"""Private DNS zone of Key Vault private endpoints (Azure docs: "Azure Private Endpoint DNS configuration")."""

KEY_VAULT_PRIVATE_LINK_GROUP = "vault"
"""Private link sub-resource (group id) of a Key Vault."""

# --- API Management self-hosted gateway (Entra workload identity) --------------------------------
# includes/api-management-gateway-role-assignments.md (MicrosoftDocs/azure-docs): the two custom roles.
APIM_ACCESS_VALIDATOR_ACTION = "Microsoft.Authorization/*/read"
"""Action of "API Management Configuration API Access Validator Service Role": lets the instance's
system-assigned identity read RBAC to authorise gateways calling the configuration API."""

APIM_GATEWAY_CONFIGURATION_READ_ACTION = "Microsoft.ApiManagement/service/gateways/getConfiguration/action"
"""Data action of "API Management Gateway Configuration Reader Role": read a self-hosted gateway's
configuration."""
