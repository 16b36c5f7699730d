"""Identifiers that Azure defines, in one place, each with its meaning and source.

Role definition ids are the same in every tenant (Azure built-in roles, "Azure built-in roles" doc).
"""

# --- Built-in role definition ids (learn.microsoft.com: Azure built-in roles) ---------------------
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
"""Azure Kubernetes Service RBAC Cluster Admin: full Kubernetes API access through Azure RBAC."""

ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
"""AcrPull: pull images from a container registry (given to the kubelet identity)."""

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
"""Key Vault Secrets User: read secret contents (workload identities, CSI driver)."""

KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
"""Key Vault Secrets Officer: manage secrets (the deploying principal writes them)."""

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

WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
"""Audience of every federated identity credential used by workload identity."""

# --- Azure Monitor managed Prometheus ------------------------------------------------------------
PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
"""Stream name that the metrics add-on sends to (Azure Monitor: "Data collection rules for Prometheus")."""

PROMETHEUS_DESTINATION = "MonitoringAccount1"
"""Destination name of the Azure Monitor workspace inside the Prometheus DCR."""

PROMETHEUS_EXTENSION = "prometheusForwarder"
"""Data source name that the AKS metrics add-on looks for in its DCR."""

CONFIGURATION_ACCESS_ENDPOINT = "configurationAccessEndpoint"
"""The exact name AKS requires for the DCE association (association of a DCE, not a DCR)."""

CONTAINER_INSIGHTS_STREAMS = ("Microsoft-ContainerLogV2", "Microsoft-KubeEvents", "Microsoft-KubePodInventory")
"""Container Insights streams kept by default (ContainerLogV2 schema)."""
