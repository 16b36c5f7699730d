"""Waits for Azure RBAC to propagate, as real resources in the graph (pulumiverse-time `Sleep`).

Azure accepts a role assignment (or a custom role definition) before every authorization server has it:
- AKS with Azure RBAC: "New role assignments can take up to five minutes to propagate and be updated by
  the authorization server" (AKS docs, articles/aks/entra-id-authorization.md). Until then the deployer
  gets 403 on its first Kubernetes object.
- A custom role definition used at once by an assignment can fail with `RoleDefinitionDoesNotExist`
  while ARM replicates it (Azure/azure-cli#20727; the Azure landing zones Terraform module,
  Azure/terraform-azurerm-caf-enterprise-scale, sleeps after role definitions for the same reason).

A `Sleep` with `create_duration` waits only when it is created: later updates do not wait, and a
change of `create_duration` alone does not wait again (pulumiverse-time docs). Its `triggers` are the
ids of what it waits for, so a *new* assignment or definition (a new deterministic GUID name, e.g.
another deployer or a replaced cluster) replaces the sleep and waits again; nothing else does. So only
the first deploy (and a deploy that creates a new assignment) pays the wait. Destroy does not wait.
"""

from collections.abc import Mapping, Sequence

import pulumi
import pulumiverse_time as time

AKS_RBAC_PROPAGATION = "5m"
"""AKS documents up to five minutes for a role assignment to reach its authorization server."""
ACR_RBAC_PROPAGATION = "5m"
"""Azure RBAC documents up to 10 minutes in the worst case ("Troubleshoot Azure RBAC"); the build runs
beside the 5-10 minute cluster creation, so the wait delays nothing the workload is not waiting on anyway."""
ROLE_DEFINITION_PROPAGATION = "5m"
"""Runs beside the 30-60 minute APIM creation, so a generous wait costs the first deploy nothing."""


def propagation_wait(
    name: str,
    *,
    duration: str,
    after: Sequence[pulumi.Resource],
    triggers: Mapping[str, pulumi.Input[str]],
    parent: pulumi.Resource,
) -> time.Sleep:
    """A sleep of `duration` that starts once `after` exist; re-runs only when a trigger changes."""
    if not after or not triggers:
        raise ValueError("propagation_wait needs the resources it waits after and their ids as triggers")
    return time.Sleep(
        name,
        time.SleepArgs(create_duration=duration, triggers=dict(triggers)),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after)),
    )
