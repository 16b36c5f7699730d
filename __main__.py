"""aks-grpc: one stack = one environment of the gRPC platform on Azure.

Composition root only: settings -> components -> exports. Everything with logic lives in components/.
"""

import pulumi
from pulumi_azure_native import authorization, resources

from components.naming import StackNames
from components.settings import SettingsError, config_from_pulumi, load_settings
from components.tagging import apply_stack_tags

try:
    settings = load_settings(config_from_pulumi())
except SettingsError as error:
    # RunError ends the program with the message alone: every problem listed, no traceback.
    raise pulumi.RunError(str(error)) from None

apply_stack_tags(settings.standard_tags)
client = authorization.get_client_config()
names = StackNames(settings.workload_name, settings.environment, settings.location, client.subscription_id)

resource_group = resources.ResourceGroup(
    "resource-group",
    resources.ResourceGroupArgs(resource_group_name=names.resource_group, location=settings.location),
)

# Each block below is one component; the order is the data flow of docs/architecture.md.
# --- observability (components/monitoring.py: Observability) -------------------------------------

# --- secrets (components/keyvault.py: SecretStore) ------------------------------------------------

# --- cluster (components/aks.py: AksCluster) ------------------------------------------------------

# --- cluster monitoring (components/monitoring.py: ClusterMonitoring) -----------------------------

# --- workload (components/workload.py: GrpcWorkload, components/identity.py: WorkloadIdentity) ---

# --- API gateway (components/apim.py: GrpcApiGateway) ---------------------------------------------

# --- outputs --------------------------------------------------------------------------------------
pulumi.export("resourceGroupName", resource_group.name)
