"""The aks-grpc CrossGuard policy pack: `pulumi preview --policy-pack policy`.

Builds the pack from `policies.ALL_POLICIES` and nothing else (the policies are tested in tests/policy).
The Pulumi CLI runs this file with `runpy.run_path(<pack dir>)` (pulumi/policy/__main__.py): the pack
directory is on `sys.path` but is no package, and its name is not fixed (a published pack is unpacked
into a directory of the service's choosing). The area modules import each other relatively, so this file
loads the pack directory as the package `PACKAGE` first, whatever the directory is called.
"""

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pulumi_policy import EnforcementLevel, PolicyPack

PACKAGE = "aksgrpc_policy"
"""The name the pack directory is imported under when the CLI runs it."""


def load_policies(directory: Path) -> ModuleType:
    """`<directory>/policies.py` imported as `PACKAGE.policies`, the directory being the package."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, directory / "__init__.py", submodule_search_locations=[str(directory)]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the policy pack from {directory}")
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.policies")


PolicyPack(
    name="aks-grpc",
    policies=load_policies(Path(__file__).resolve().parent).ALL_POLICIES,
    enforcement_level=EnforcementLevel.ADVISORY,
    description="Guardrails for the aks-grpc platform: CIS AKS, Azure Policy built-ins (AKS, Key Vault, API "
    "Management), Kubernetes Pod Security Standards (restricted), workload reliability and Istio mTLS.",
)
