"""Who runs the program: the one place the stack program reads the environment for its principal type."""

import os
from collections.abc import Mapping

from components.common import PrincipalType, resolve_deployer_principal_type


def deployer_principal_type(
    configured: str = "auto", environ: Mapping[str, str] | None = None
) -> PrincipalType:
    """`aks-grpc:cluster.deployerPrincipalType`, resolved against the environment when `auto`.

    `AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE` overrides; else `ServicePrincipal` exactly when `ARM_CLIENT_ID` is
    set (the azure-native provider then signs in as that service principal, as in CI), else `User`
    (the Azure CLI's signed-in user). Components take the result as a plain `PrincipalType`.
    """
    return resolve_deployer_principal_type(configured, os.environ if environ is None else environ)
