"""The aks-grpc CrossGuard policy pack: `pulumi preview --policy-pack policy`.

Builds the pack from `policies.ALL_POLICIES` and nothing else (the policies are tested in tests/policy).
The Pulumi CLI runs this file with the pack directory on sys.path, hence the plain `policies` import.
"""

from policies import ALL_POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="aks-grpc",
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.ADVISORY,
    description="Guardrails for the aks-grpc platform: CIS AKS, Azure Policy built-ins (AKS, Key Vault, API "
    "Management), Kubernetes Pod Security Standards (restricted), workload reliability and Istio mTLS.",
)
