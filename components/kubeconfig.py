"""The kubeconfig the Kubernetes provider uses: kubelogin as a client-go exec credential plugin.

With local accounts disabled there is no admin kubeconfig: every request carries an Entra ID token
that kubelogin obtains for the AKS AAD server application. The arguments per login mode follow
kubelogin's own converter (Azure/kubelogin `pkg/internal/converter/convert.go`, `convert-kubeconfig`):

- `azurecli` (laptops): `get-token --login azurecli --server-id <id>`; no `--tenant-id`, because the
  Azure CLI already knows its tenant and an MSI-logged-in CLI refuses one (kubelogin issue 123).
- `workloadidentity` (CI): `--client-id`/`--tenant-id` when known; the federated token comes from
  `AZURE_FEDERATED_TOKEN_FILE`, which the CI action keeps fresh.
- `spn`: `--client-id` and `--tenant-id` are required; the secret or certificate comes from the
  environment (`AAD_SERVICE_PRINCIPAL_CLIENT_SECRET`/`AZURE_CLIENT_SECRET`), never from the file.

Everything here is pure (no Pulumi, no environment): the component calls it inside an `apply` and wraps
the result in `Output.secret`. Which mode a run uses (config, or the CI's environment override) is the
program's decision (program/adapters/cluster.py); the component takes it as a `KubeloginMode`.
"""

import base64
import binascii
import enum
from dataclasses import dataclass
from typing import Any

import yaml

from .azure_ids import AKS_AAD_SERVER_APP_ID


class KubeloginMode(enum.Enum):
    """How kubelogin obtains the Entra ID token (its `--login` argument)."""

    AZURE_CLI = "azurecli"
    """The Azure CLI's signed-in account (laptops)."""
    WORKLOAD_IDENTITY = "workloadidentity"
    """A federated token from `AZURE_FEDERATED_TOKEN_FILE` (CI)."""
    SPN = "spn"
    """A service principal secret or certificate from the environment; needs the client id."""


LOGIN_MODES: tuple[str, ...] = tuple(mode.value for mode in KubeloginMode)

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
INSTALL_HINT = (
    "kubelogin is required to reach an Entra ID (AAD) enabled AKS cluster: https://azure.github.io/kubelogin/"
)


def kubelogin_args(
    login_mode: KubeloginMode | str, *, tenant_id: str | None = None, client_id: str | None = None
) -> list[str]:
    """The `kubelogin` arguments for one login mode (see the module docstring for the sources)."""
    if isinstance(login_mode, KubeloginMode):
        login_mode = login_mode.value
    if login_mode not in LOGIN_MODES:
        raise ValueError(
            f"login_mode: unknown kubelogin login mode {login_mode!r}; allowed: {', '.join(LOGIN_MODES)}"
        )
    args = ["get-token", "--login", login_mode, "--server-id", AKS_AAD_SERVER_APP_ID]
    if login_mode == "spn":
        if not client_id:
            raise ValueError(
                "client_id: the spn login mode needs the service principal's client (application) id"
            )
        if not tenant_id:
            raise ValueError("tenant_id: the spn login mode needs the tenant id")
    if login_mode in ("spn", "workloadidentity"):
        if client_id:
            args += ["--client-id", client_id]
        if tenant_id:
            args += ["--tenant-id", tenant_id]
    return args


def kubelogin_kubeconfig(
    *,
    cluster_name: str,
    server: str,
    certificate_authority_data: str,
    login_mode: KubeloginMode | str,
    tenant_id: str | None = None,
    client_id: str | None = None,
) -> str:
    """A complete kubeconfig (YAML text) for one AKS cluster, authenticating through kubelogin."""
    if isinstance(login_mode, KubeloginMode):
        login_mode = login_mode.value
    if not server.startswith("https://"):
        raise ValueError(f"server: must be an https:// URL, got {server!r}")
    if not certificate_authority_data:
        raise ValueError("certificate_authority_data: must be the base64 CA bundle of the API server")
    user = f"kubelogin-{login_mode}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": server, "certificate-authority-data": certificate_authority_data},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API_VERSION,
                        "command": "kubelogin",
                        "args": kubelogin_args(login_mode, tenant_id=tenant_id, client_id=client_id),
                        "installHint": INSTALL_HINT,
                        "interactiveMode": "IfAvailable",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
        "preferences": {},
    }
    return yaml.safe_dump(document, sort_keys=False)


@dataclass(frozen=True)
class ClusterEndpoint:
    """The API server address and CA bundle of a cluster, read from an AKS-issued kubeconfig."""

    server: str
    certificate_authority_data: str


def decode_credential(value: str) -> str:
    """The kubeconfig text of one `kubeconfigs[].value` (base64 as returned by ARM)."""
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return value  # some SDK versions already decode the bytes


def cluster_endpoint(kubeconfig_text: str) -> ClusterEndpoint:
    """Server URL and CA data of the first cluster in a kubeconfig (YAML or JSON text)."""
    document: Any = yaml.safe_load(kubeconfig_text)
    try:
        cluster = document["clusters"][0]["cluster"]
        return ClusterEndpoint(
            server=str(cluster["server"]),
            certificate_authority_data=str(cluster["certificate-authority-data"]),
        )
    except (KeyError, IndexError, TypeError):
        raise ValueError(
            "the AKS credentials hold no cluster with server and certificate-authority-data"
        ) from None
