"""Run the Pulumi program under Pulumi's mock engine and record what the engine would receive.

Used by the offline plan (`tools/offline_plan.py`) and by every program and component test.
`RecordingMonitor` wraps the SDK's `MockMonitor` so each registration's parent, provider and
dependencies are seen as well as its inputs; `FakeAzure` answers like Azure would, with
deterministic provider-computed outputs (ids, principal ids, OIDC issuer, endpoints, ...).
"""

import asyncio
import base64
import hashlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
TENANT_ID = "00000000-0000-4000-8000-000000000002"
DEPLOYER_OBJECT_ID = "00000000-0000-4000-8000-000000000003"
DEPLOYER_CLIENT_ID = "00000000-0000-4000-8000-000000000004"
FAKE_CA_DATA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nfake-ca\n-----END CERTIFICATE-----\n").decode()
SECRET_PLACEHOLDER = "[secret]"


def fake_guid(*parts: str) -> str:
    """A deterministic fake GUID for provider-computed ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, "/".join(parts)))


# azure-native type token -> ARM resource provider/type, for realistic fake ids.
ARM_TYPES: dict[str, str] = {
    "resources:ResourceGroup": "",
    "containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "containerservice:AgentPool": "Microsoft.ContainerService/managedClusters/agentPools",
    "containerservice:MaintenanceConfiguration": "Microsoft.ContainerService/managedClusters/maintenanceConfigurations",
    "containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "kubernetesconfiguration:Extension": "Microsoft.KubernetesConfiguration/extensions",
    "monitor:DataCollectionRuleAssociation": "Microsoft.Insights/dataCollectionRuleAssociations",
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
    "keyvault:Secret": "Microsoft.KeyVault/vaults/secrets",
    "managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "managedidentity:FederatedIdentityCredential": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "applicationinsights:Component": "Microsoft.Insights/components",
    "monitor:AzureMonitorWorkspace": "Microsoft.Monitor/accounts",
    "monitor:DataCollectionEndpoint": "Microsoft.Insights/dataCollectionEndpoints",
    "monitor:DataCollectionRule": "Microsoft.Insights/dataCollectionRules",
    "monitor:ActionGroup": "Microsoft.Insights/actionGroups",
    "monitor:DiagnosticSetting": "Microsoft.Insights/diagnosticSettings",
    "alertsmanagement:PrometheusRuleGroup": "Microsoft.AlertsManagement/prometheusRuleGroups",
    "dashboard:Grafana": "Microsoft.Dashboard/grafana",
    "network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "network:PrivateDnsZoneGroup": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    "privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "privatedns:VirtualNetworkLink": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    "apimanagement:ApiManagementService": "Microsoft.ApiManagement/service",
    "authorization:RoleAssignment": "Microsoft.Authorization/roleAssignments",
    "authorization:RoleDefinition": "Microsoft.Authorization/roleDefinitions",
}

# Input keys that carry a resource's Azure name, most specific first: a child resource also carries
# its parent's name (an AgentPool has `resourceName` = its cluster, a Secret has `vaultName`), so the
# keys that name a parent for some types come last.
_NAME_KEYS = (
    "secretName",
    "workspaceName",
    "azureMonitorWorkspaceName",
    "dataCollectionEndpointName",
    "dataCollectionRuleName",
    "associationName",
    "actionGroupName",
    "ruleGroupName",
    "registryName",
    "agentPoolName",
    "configName",
    "gatewayId",
    "apiId",
    "productId",
    "sid",
    "loggerId",
    "roleAssignmentName",
    "privateDnsZoneGroupName",
    "virtualNetworkLinkName",
    "privateEndpointName",
    "publicIpAddressName",
    "privateZoneName",
    "roleDefinitionId",
    "certificateId",
    "backendId",
    "diagnosticId",
    "hcId",
    "name",
    # parents of other types, names of their own
    "resourceName",
    "vaultName",
    "serviceName",
)


def _azure_name(resource_type: str, logical: str, inputs: Mapping[str, Any]) -> str:
    if resource_type == "azure-native:resources:ResourceGroup":
        return str(inputs.get("resourceGroupName") or logical)
    for key in _NAME_KEYS:
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return logical


def _arm_id(resource_type: str, name: str, inputs: Mapping[str, Any]) -> str:
    module_type = resource_type.removeprefix("azure-native:")
    if module_type == "resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"
    scope = inputs.get("scope")
    arm_type = ARM_TYPES.get(module_type)
    if arm_type is None:
        module, _, type_name = module_type.partition(":")
        arm_type = f"Microsoft.{module.capitalize()}/{type_name[:1].lower()}{type_name[1:]}s"
    if isinstance(scope, str) and scope:
        return f"{scope}/providers/{arm_type}/{name}"
    group = inputs.get("resourceGroupName") or "rg-unknown"
    return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}/providers/{arm_type}/{name}"


def _identity_block(identity: Any, seed: str) -> Any:
    """System-assigned identities get a principal id from Azure."""
    if not isinstance(identity, dict):
        return identity
    result = dict(identity)
    if "SystemAssigned" in str(identity.get("type", "")):
        result.setdefault("principalId", fake_guid(seed, "principal"))
        result.setdefault("tenantId", TENANT_ID)
    # azure-native v3 takes user-assigned identity ids as a list; Azure returns a map id -> identity.
    user_assigned = identity.get("userAssignedIdentities")
    if isinstance(user_assigned, list):
        result["userAssignedIdentities"] = {
            str(uid): {
                "principalId": fake_guid(str(uid), "principal"),
                "clientId": fake_guid(str(uid), "client"),
            }
            for uid in user_assigned
        }
    return result


def _azure_outputs(resource_type: str, name: str, arm_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Provider-computed outputs Azure returns for the types this program creates."""
    module_type = resource_type.removeprefix("azure-native:")
    location = str(inputs.get("location") or "westeurope")
    out: dict[str, Any] = {"name": name, "azureApiVersion": "fake"}
    if "identity" in inputs:
        out["identity"] = _identity_block(inputs["identity"], arm_id)
    if module_type == "managedidentity:UserAssignedIdentity":
        out.update(
            principalId=fake_guid(arm_id, "principal"),
            clientId=fake_guid(arm_id, "client"),
            tenantId=TENANT_ID,
        )
    elif module_type == "containerservice:ManagedCluster":
        addons = dict(inputs.get("addonProfiles") or {})
        for addon_name, addon in addons.items():
            if isinstance(addon, dict) and addon.get("enabled"):
                addons[addon_name] = {
                    **addon,
                    "identity": {
                        "clientId": fake_guid(arm_id, addon_name, "client"),
                        "objectId": fake_guid(arm_id, addon_name, "object"),
                        "resourceId": f"{arm_id}/addonIdentities/{addon_name}",
                    },
                }
        out.update(
            addonProfiles=addons,
            oidcIssuerProfile={
                **dict(inputs.get("oidcIssuerProfile") or {}),
                "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{TENANT_ID}/{fake_guid(arm_id)}/",
            },
            identityProfile={
                "kubeletidentity": {
                    "clientId": fake_guid(arm_id, "kubelet", "client"),
                    "objectId": fake_guid(arm_id, "kubelet", "object"),
                    "resourceId": f"{arm_id}-kubelet",
                }
            },
            fqdn=f"{inputs.get('dnsPrefix', name)}-fake.hcp.{location}.azmk8s.io",
            nodeResourceGroup=inputs.get("nodeResourceGroup") or f"MC_{name}",
            currentKubernetesVersion=inputs.get("kubernetesVersion"),
        )
    elif module_type == "network:PublicIPAddress":
        # Static allocation: Azure assigns the address at creation. A documentation range (RFC 5737
        # TEST-NET-3), different per resource, never a real one.
        digest = hashlib.sha256(arm_id.encode()).digest()
        out["ipAddress"] = f"203.0.113.{1 + digest[0] % 254}"
    elif module_type == "containerregistry:Registry":
        out["loginServer"] = f"{name.lower()}.azurecr.io"
    elif module_type == "keyvault:Vault":
        props = dict(inputs.get("properties") or {})
        out["properties"] = {**props, "vaultUri": f"https://{name}.vault.azure.net/"}
    elif module_type == "keyvault:Secret":
        vault = inputs.get("vaultName", "vault")
        properties = inputs.get("properties") or {}
        # A secret value makes the whole `properties` object a secret; Azure never returns the value.
        if rpc.is_rpc_secret(properties):
            properties = rpc.unwrap_rpc_secret(properties)
        out["properties"] = {
            **{k: v for k, v in dict(properties).items() if k != "value"},
            "secretUri": f"https://{vault}.vault.azure.net/secrets/{name}",
        }
    elif module_type == "operationalinsights:Workspace":
        out["customerId"] = fake_guid(arm_id, "customer")
    elif module_type == "applicationinsights:Component":
        key = fake_guid(arm_id, "ikey")
        out.update(
            instrumentationKey=key,
            connectionString=f"InstrumentationKey={key};IngestionEndpoint=https://{location}.in.applicationinsights.azure.com/",
        )
    elif module_type == "monitor:AzureMonitorWorkspace":
        out.update(
            metrics={
                "prometheusQueryEndpoint": f"https://{name}-fake.{location}.prometheus.monitor.azure.com",
                "internalId": fake_guid(arm_id),
            },
            defaultIngestionSettings={
                "dataCollectionEndpointResourceId": f"{arm_id}-dce",
                "dataCollectionRuleResourceId": f"{arm_id}-dcr",
            },
        )
    elif module_type == "monitor:DataCollectionEndpoint":
        out.update(
            metricsIngestion={
                "endpoint": f"https://{name}-fake.{location}-1.metrics.ingest.monitor.azure.com"
            },
            configurationAccess={
                "endpoint": f"https://{name}-fake.{location}-1.handler.control.monitor.azure.com"
            },
        )
    elif module_type == "dashboard:Grafana":
        out["properties"] = {
            **dict(inputs.get("properties") or {}),
            "endpoint": f"https://{name}-fake.{location}.grafana.azure.com",
        }
    elif module_type == "apimanagement:ApiManagementService":
        out.update(
            gatewayUrl=f"https://{name}.azure-api.net",
            developerPortalUrl=f"https://{name}.developer.azure-api.net",
            managementApiUrl=f"https://{name}.management.azure-api.net",
        )
    return out


def _kubernetes_outputs(inputs: Mapping[str, Any], logical: str) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", logical)
    metadata.setdefault("uid", fake_guid("k8s", str(metadata.get("namespace", "")), str(metadata["name"])))
    return {"metadata": metadata}


def _kubernetes_id(inputs: Mapping[str, Any], logical: str) -> str:
    metadata = inputs.get("metadata") or {}
    name = metadata.get("name", logical)
    namespace = metadata.get("namespace")
    return f"{namespace}/{name}" if namespace else str(name)


def fake_kubeconfig(cluster_name: str, server: str, user: str) -> str:
    """A kubeconfig shaped like the one `listManagedClusterUserCredentials` returns."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": server, "certificate-authority-data": FAKE_CA_DATA},
                }
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": user,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "kubelogin",
                            "args": ["get-token", "--login", "devicecode"],
                        }
                    },
                }
            ],
        }
    )


def fake_pem(label: str, kind: str) -> str:
    """A PEM block whose body is valid base64 of a recognisable fake (never real key material)."""
    body = base64.b64encode(f"fake-{kind.lower().replace(' ', '-')}:{label}".encode()).decode()
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


FAKE_CERT_NOT_AFTER = "2036-01-01T00:00:00Z"


def _tls_outputs(resource_type: str, name: str) -> dict[str, Any]:
    """Outputs of the pulumi-tls resources (keys and certificates are placeholders)."""
    kind = resource_type.removeprefix("tls:index/").partition(":")[0]
    if kind == "privateKey":
        return {
            "privateKeyPem": fake_pem(name, "EC PRIVATE KEY"),
            "privateKeyPemPkcs8": fake_pem(name, "PRIVATE KEY"),
            "privateKeyOpenssh": fake_pem(name, "OPENSSH PRIVATE KEY"),
            "publicKeyPem": fake_pem(name, "PUBLIC KEY"),
        }
    if kind == "certRequest":
        return {"certRequestPem": fake_pem(name, "CERTIFICATE REQUEST")}
    if kind in ("selfSignedCert", "locallySignedCert"):
        return {
            "certPem": fake_pem(name, "CERTIFICATE"),
            "validityStartTime": "2026-01-01T00:00:00Z",
            "validityEndTime": FAKE_CERT_NOT_AFTER,
            "readyForRenewal": False,
        }
    return {}


FAKE_ENTRA_TOKEN = "fake-entra-access-token"
FAKE_ACR_REFRESH_TOKEN = "fake-acr-refresh-token"


def _registry_token_exchange(args: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's `/oauth2/exchange`: a refresh token for a form-encoded Entra access token.

    Answers only a request shaped as the registry expects it (POST, form body naming the registry as
    `service` and carrying the Entra token), so a malformed exchange fails the plan instead of passing.
    """
    url = str(args.get("url", ""))
    match = re.fullmatch(r"https://([a-z0-9]+\.azurecr\.io)/oauth2/exchange", url)
    body = dict(urllib.parse.parse_qsl(str(args.get("requestBody", ""))))
    headers = dict(args.get("requestHeaders") or {})
    expected = {
        "grant_type": "access_token",
        "service": match.group(1) if match else "",
        "access_token": FAKE_ENTRA_TOKEN,
    }
    if (
        not match
        or args.get("method") != "POST"
        or headers.get("Content-Type") != "application/x-www-form-urlencoded"
        or body != expected
    ):
        return {"url": url, "statusCode": 400, "responseBody": '{"errors":[{"code":"UNAUTHORIZED"}]}'}
    return {
        "url": url,
        "statusCode": 200,
        "responseBody": json.dumps({"refresh_token": FAKE_ACR_REFRESH_TOKEN}),
    }


def _docker_build_outputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What docker-build returns for a pushed image: a digest of what was built and `<tag>@<digest>`."""
    tags = [str(t) for t in inputs.get("tags") or []]
    seed = json.dumps(
        {k: inputs.get(k) for k in ("tags", "context", "dockerfile", "platforms")}, sort_keys=True
    )
    digest = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    pushed = bool(inputs.get("push"))
    return {
        "digest": digest if pushed else "",
        "ref": f"{tags[0]}@{digest}" if pushed and tags else (tags[0] if tags else ""),
        "contextHash": hashlib.sha256(seed.encode()).hexdigest(),
    }


class FakeAzure(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes like Azure, Entra ID and Kubernetes would."""

    def __init__(self) -> None:
        self.invokes: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ.startswith("azure-native:"):
            name = _azure_name(args.typ, args.name, inputs)
            arm_id = _arm_id(args.typ, name, inputs)
            return arm_id, {**inputs, **_azure_outputs(args.typ, name, arm_id, inputs)}
        if args.typ.startswith("kubernetes:"):
            if args.typ == "pulumi:providers:kubernetes":
                return "k8s-provider", inputs
            return _kubernetes_id(inputs, args.name), {**inputs, **_kubernetes_outputs(inputs, args.name)}
        if args.typ.startswith("azuread:"):
            object_id = fake_guid(args.typ, args.name, "object")
            return object_id, {
                **inputs,
                "objectId": object_id,
                "clientId": fake_guid(args.typ, args.name, "client"),
                "applicationId": fake_guid(args.typ, args.name, "client"),
            }
        if args.typ == "docker-build:index:Image":
            return f"{args.name}-id", {**inputs, **_docker_build_outputs(inputs)}
        if args.typ.startswith("tls:"):
            return f"{args.name}-id", {**inputs, **_tls_outputs(args.typ, args.name)}
        if args.typ.startswith("random:"):
            return args.name, {**inputs, "result": hashlib.sha256(args.name.encode()).hexdigest()[:16]}
        return f"{args.name}-id", inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.invokes.append((args.token, dict(args.args)))
        token = args.token
        if token in (
            "azure-native:authorization:getClientConfig",
            "azuread:index/getClientConfig:getClientConfig",
        ):
            return {
                "clientId": DEPLOYER_CLIENT_ID,
                "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }
        if token in (
            "azure-native:containerservice:listManagedClusterUserCredentials",
            "azure-native:containerservice:listManagedClusterAdminCredentials",
        ):
            cluster = str(args.args.get("resourceName", "cluster"))
            server = f"https://{cluster}-fake.hcp.westeurope.azmk8s.io:443"
            user = "clusterAdmin" if "Admin" in token else "clusterUser"
            kubeconfig = fake_kubeconfig(cluster, server, f"{user}_{cluster}")
            return {"kubeconfigs": [{"name": user, "value": base64.b64encode(kubeconfig.encode()).decode()}]}
        if token == "azure-native:authorization:getClientToken":
            return {"token": FAKE_ENTRA_TOKEN}
        if token == "http:index/getHttp:getHttp":
            return _registry_token_exchange(args.args)
        if token == "azure-native:apimanagement:listSubscriptionSecrets":
            sid = str(args.args.get("sid", "subscription"))
            return {"primaryKey": f"fake-primary-key-{sid}", "secondaryKey": f"fake-secondary-key-{sid}"}
        raise NotImplementedError(
            f"the offline plan does not answer the invoke {token!r}; add it to tools/mock_engine.py FakeAzure.call"
        )


# ---------------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Engine-side value -> JSON-able value: secrets masked, integral floats back to ints."""
    if rpc.is_rpc_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, pulumi.Resource):
        return "[resource]"
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
            return value.get("urn")
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def unmasked(value: Any) -> Any:
    """Like `plain`, but secret values are revealed (for tests that must see what a secret holds)."""
    if rpc.is_rpc_secret(value):
        return unmasked(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unmasked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unmasked(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _provider_urn(reference: str) -> str | None:
    # A provider reference is "<urn>::<id>".
    return reference.rsplit("::", 1)[0] if reference else None


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    raw_inputs: dict[str, Any] = field(repr=False, default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    """The lifecycle options the engine receives: protect, ignoreChanges, replaceOnChanges,
    deleteBeforeReplace (see `resource_options`)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "dependencies": self.dependencies,
            "options": self.options,
            "inputs": self.inputs,
        }

    def secret_inputs(self) -> dict[str, Any]:
        """The inputs with secret values revealed (tests only)."""
        return unmasked(self.raw_inputs)


def resource_options(request: Any) -> dict[str, Any]:
    """The lifecycle options of a RegisterResourceRequest, so a reviewer of the plan sees which resources
    are protected, what drift is ignored and what a change replaces (and in which order)."""
    protect = request.protect if request.HasField("protect") else False
    return {
        "protect": bool(protect),
        "ignoreChanges": list(request.ignoreChanges),
        "replaceOnChanges": list(request.replaceOnChanges),
        # Unset means the engine's default: create the replacement first, then delete.
        "deleteBeforeReplace": bool(request.deleteBeforeReplace)
        if request.deleteBeforeReplaceDefined
        else False,
    }


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also recording parent, provider and dependencies of each resource."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self.outputs: dict[str, dict[str, Any]] = {}
        self.raw_outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        pulumi_mocks._ensure_event_loop()
        raw = rpc.deserialize_properties(request.object)
        self.recorded.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=_provider_urn(request.provider),
                dependencies=sorted(set(request.dependencies)),
                inputs=plain(raw),
                raw_inputs=raw,
                options=resource_options(request),
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        pulumi_mocks._ensure_event_loop()
        raw = rpc.deserialize_properties(request.outputs)
        self.raw_outputs[request.urn] = raw
        self.outputs[request.urn] = plain(raw)
        return super().RegisterResourceOutputs(request)


@dataclass
class Plan:
    """What one program run registered, in the order the program created the resources."""

    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    raw_outputs: dict[str, Any]
    invokes: list[tuple[str, dict[str, Any]]]

    def of_type(self, resource_type: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == resource_type]

    def one(self, resource_type: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(resource_type) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(resource_type)]
            raise AssertionError(f"expected one {resource_type} named {name!r}, found {names}")
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    def kubernetes_objects(self) -> list[dict[str, Any]]:
        """Every Kubernetes object the stack creates, as `kubectl apply` would take it."""
        return [
            r.inputs
            for r in self.resources
            if r.custom and r.type.startswith("kubernetes:") and "kind" in r.inputs
        ]


class InlineExecutor(ThreadPoolExecutor):
    """An executor that runs each call at once on the calling thread (the mock monitor is instant).

    (A ThreadPoolExecutor subclass only because asyncio accepts nothing else as default executor.)
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> "Future[Any]":
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine, like a worker thread would
            future.set_exception(exc)
        return future


def _config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def run_program(
    program: Callable[[], Any],
    config: Mapping[str, Any],
    *,
    stack: str,
    project: str = "aks-grpc",
    secret_keys: list[str] | None = None,
) -> Plan:
    """Run `program` under the mock engine with the given full config keys (`aks-grpc:cluster`, ...)."""
    mocks = FakeAzure()
    monitor = RecordingMonitor(mocks)
    # A fresh loop per run (callbacks left over from an earlier run in this process must not
    # interleave), whose default executor answers the SDK's monitor calls inline: no threads.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(InlineExecutor())
    pulumi.runtime.set_all_config({k: _config_value(v) for k, v in config.items()}, secret_keys or [])
    # A fresh root Stack per run, so several programs can run in one process (tests).
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    created: dict[tuple[str, str], int] = {}

    @pulumi.runtime.test
    def _run() -> None:
        # The SDK registers resources from coroutines whose interleaving depends on set iteration
        # over objects (id-hashed), so the order registrations reach the engine varies from run to
        # run. The order the program *creates* them is deterministic: a transformation sees every
        # resource synchronously in its constructor, and the plan is listed in that order.
        def record_creation(args: pulumi.ResourceTransformationArgs) -> None:
            created.setdefault((args.type_, args.name), len(created))

        pulumi.runtime.register_stack_transformation(record_creation)
        program()
        # Under mocks the root stack registered its (empty) outputs before the program ran:
        # register them again so the exports are recorded like the engine would see them.
        root = pulumi.runtime.settings.get_root_resource()
        if root is not None:
            root._outputs_registered = False  # type: ignore[attr-defined]
            root._finish()  # type: ignore[attr-defined]

    _run()
    stack_urn = f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"
    return Plan(
        stack=stack,
        resources=sorted(
            monitor.recorded,
            key=lambda r: (
                r.type != "pulumi:pulumi:Stack",
                created.get((r.type, r.name), len(created)),
                r.urn,
            ),
        ),
        outputs=monitor.outputs.get(stack_urn, {}),
        raw_outputs=monitor.raw_outputs.get(stack_urn, {}),
        invokes=mocks.invokes,
    )
