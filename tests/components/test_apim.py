"""GrpcApiGateway under the mock engine: the exact inputs the engine receives, for dev and prod settings."""

import dataclasses
import json
from xml.etree import ElementTree

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import azure_ids
from components.apim import GrpcApiGateway, GrpcApiGatewayArgs, validate_grpc_api_gateway_args
from components.apim_api import ApiRateLimit, GrpcApiDefinition, validate_grpc_api_definition
from components.apim_gateway import SelfHostedGatewayArgs, custom_role_guid, validate_self_hosted_gateway_args
from components.apim_gateway_pod import GATEWAY_STATUS_PATH
from components.apim_instance import HARDENING_CUSTOM_PROPERTIES, ApimInstanceArgs
from components.backend_tls import certificate_pfx
from program.adapters.apim import ServiceApiExposure, grpc_api_gateway_args
from program.settings import (
    DEFAULT_KUBERNETES_VERSION,
    ApimRateLimitSettings,
    ApimSettings,
    config_from_stack_file,
)
from tests.conftest import REPO_ROOT
from tests.k8s_schemas import problems_of, schema_version
from tools.mock_engine import SECRET_PLACEHOLDER, fake_pem

PROTO = (REPO_ROOT / "service" / "protos" / "helloworld.proto").read_text(encoding="utf-8")
SERVICE_NAME = "apim-grpc-dev-weu-abcde"
RG_ID = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-grpc-dev-weu"
SUB = "00000000-0000-4000-8000-000000000001"
TENANT = "00000000-0000-4000-8000-000000000002"
BACKEND_HOST = "greeter.grpc-greeter.svc.cluster.local"
CA_PEM = fake_pem("backend-tls-ca", "CERTIFICATE")
IKEY = "fake-instrumentation-key-0123"
ISSUER = "https://westeurope.oic.prod-aks.azure.com/tenant/cluster/"
JWT = {
    "openidConfigUrl": "https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration",
    "audiences": ["api://grpc-greeter"],
    "issuers": ["https://login.microsoftonline.com/tenant/v2.0"],
}


GREETER_RATE_LIMIT = ApimRateLimitSettings()
"""The greeter's rate limit: `aks-grpc:services.greeter.apim.rateLimit`, which no shipped stack sets."""


def stack_apim(stack: str) -> ApimSettings:
    document = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return ApimSettings.model_validate(config_from_stack_file(document["config"]).get("apim", {}))


def greeter(settings: ApimSettings) -> ServiceApiExposure:
    return ServiceApiExposure(
        service_name="greeter",
        proto=PROTO,
        proto_file="service/protos/helloworld.proto",
        backend_host=BACKEND_HOST,
        backend_tls_port=50443,
        backend_ca_certificate_pem=CA_PEM,
        rate_limit_calls=GREETER_RATE_LIMIT.calls,
        rate_limit_renewal_period_seconds=GREETER_RATE_LIMIT.renewal_period_seconds,
    )


def build(settings: ApimSettings, services: list[ServiceApiExposure] | None = None) -> GrpcApiGateway:
    """The gateway as the stack builds it: stack settings through the adapter, dependencies in opts."""
    provider = k8s.Provider("k8s", kubeconfig="{}")
    ready = pulumi.CustomResource("test:index:ClusterAdmin", "cluster-admin", {})
    writers = pulumi.CustomResource("test:index:SecretsOfficer", "secrets-officer", {})
    return GrpcApiGateway(
        "api",
        grpc_api_gateway_args(
            settings,
            services if services is not None else [greeter(settings)],
            service_name=SERVICE_NAME,
            resource_group_name="rg-grpc-dev-weu",
            resource_group_id=RG_ID,
            location="westeurope",
            subscription_id=SUB,
            tenant_id=TENANT,
            oidc_issuer_url=ISSUER,
            istio_revision="asm-1-28",
            vault_name="kv-grpc-dev-weu-abcde",
            app_insights_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/components/appi",
            app_insights_instrumentation_key=pulumi.Output.secret(IKEY),
            diagnostics="/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log",
        ),
        pulumi.ResourceOptions(provider=provider, depends_on=[ready, writers]),
    )


@pytest.fixture(scope="module")
def plans():
    """dev and prod settings from the stack files, plus prod with an API host and JWT validation."""
    from tools.mock_engine import run_program

    variants = {
        "dev": stack_apim("dev"),
        "prod": stack_apim("prod"),
        "prod-host-jwt": stack_apim("prod").model_copy(
            update={
                "api_host": "grpc.example.com",
                "api_host_certificate_id": "grpc-example-com",
                "jwt": ApimSettings.model_validate({"jwt": JWT}).jwt,
            }
        ),
    }
    result = {}
    for key, settings in variants.items():

        def program(settings=settings):
            gateway = build(settings)
            pulumi.export("gatewayUrl", gateway.gateway_url)
            pulumi.export("apiId", gateway.api_id)

        result[key] = (settings, run_program(program, {}, stack="test"))
    return result


ALL = ["dev", "prod", "prod-host-jwt"]


def k8s_object(plan, kind: str):
    found = [r for r in plan.resources if r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


# --- APIM service ---------------------------------------------------------------------------------


def test_stack_files_choose_developer_for_dev_and_premium_with_two_gateways_for_prod():
    assert (stack_apim("dev").sku, stack_apim("dev").gateway.replicas) == ("Developer", 1)
    assert (stack_apim("prod").sku, stack_apim("prod").gateway.replicas) == ("Premium", 2)


@pytest.mark.parametrize("variant", ALL)
def test_service_has_tier_publisher_and_system_identity(plans, variant):
    settings, plan = plans[variant]
    service = plan.one("azure-native:apimanagement:ApiManagementService", "api-service")
    assert service.inputs["serviceName"] == SERVICE_NAME
    assert service.inputs["sku"] == {"name": settings.sku, "capacity": 1}
    assert service.inputs["publisherName"] == settings.publisher_name
    assert service.inputs["publisherEmail"] == settings.publisher_email
    assert service.inputs["identity"] == {"type": "SystemAssigned"}
    assert service.inputs["location"] == "westeurope"


@pytest.mark.parametrize("variant", ALL)
def test_service_turns_off_old_tls_ssl3_3des_and_weak_cbc_ciphers_and_turns_on_http2(plans, variant):
    props = (
        plans[variant][1].one("azure-native:apimanagement:ApiManagementService").inputs["customProperties"]
    )
    prefix = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security."
    for side in ("", "Backend."):
        for protocol in ("Tls10", "Tls11", "Ssl30"):
            assert props[f"{prefix}{side}Protocols.{protocol}"] == "False"
    assert props[f"{prefix}Ciphers.TripleDes168"] == "False"
    for cipher in (
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_RSA_WITH_AES_256_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    ):
        assert props[f"{prefix}Ciphers.{cipher}"] == "False"
    assert props["Microsoft.WindowsAzure.ApiManagement.Gateway.Protocols.Server.Http2"] == "True"
    assert all(isinstance(v, str) and v in ("True", "False") for v in props.values())
    assert props == HARDENING_CUSTOM_PROPERTIES


@pytest.mark.parametrize("variant", ALL)
def test_gateway_logs_go_to_log_analytics(plans, variant):
    setting = plans[variant][1].one("azure-native:monitor:DiagnosticSetting", "api-diagnostics")
    assert setting.inputs["logs"] == [{"category": "GatewayLogs", "enabled": True}]
    assert setting.inputs["workspaceId"].endswith("/workspaces/log")


@pytest.mark.parametrize("variant", ALL)
def test_app_insights_logger_credential_is_secret_and_diagnostic_uses_it(plans, variant):
    settings, plan = plans[variant]
    logger = plan.one("azure-native:apimanagement:Logger", "api-logger")
    assert logger.inputs["loggerType"] == "applicationInsights"
    assert logger.inputs["loggerId"] == "appinsights"
    assert logger.inputs["credentials"] == SECRET_PLACEHOLDER
    assert logger.secret_inputs()["credentials"] == {"instrumentationKey": IKEY}
    diagnostic = plan.one("azure-native:apimanagement:Diagnostic", "api-api-diagnostic")
    assert diagnostic.inputs["diagnosticId"] == "applicationinsights"
    assert (
        diagnostic.inputs["loggerId"].endswith("/appinsights")
        or "appinsights" in diagnostic.inputs["loggerId"]
    )
    assert diagnostic.inputs["sampling"] == {
        "samplingType": "fixed",
        "percentage": settings.app_insights_sampling_percentage,
    }


# --- gRPC API, backend and policy ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", ALL)
def test_api_is_grpc_from_the_proto_on_disk_with_empty_path_https_and_subscription(plans, variant):
    api = plans[variant][1].one("azure-native:apimanagement:Api", "api-greeter-api")
    assert api.inputs["apiType"] == "grpc"
    assert api.inputs["format"] == "grpc"
    assert api.inputs["value"] == (REPO_ROOT / "service/protos/helloworld.proto").read_text(encoding="utf-8")
    assert api.inputs["path"] == ""
    assert api.inputs["protocols"] == ["https"]
    assert api.inputs["serviceUrl"] == f"https://{BACKEND_HOST}:50443"
    assert api.inputs["subscriptionRequired"] is True


@pytest.mark.parametrize("variant", ALL)
def test_backend_validates_the_service_certificate_chain_and_name(plans, variant):
    backend = plans[variant][1].one("azure-native:apimanagement:Backend", "api-greeter-backend")
    assert backend.inputs["url"] == f"https://{BACKEND_HOST}:50443"
    assert backend.inputs["protocol"] == "http"
    assert backend.inputs["tls"] == {"validateCertificateChain": True, "validateCertificateName": True}


@pytest.mark.parametrize("variant", ALL)
def test_gateway_trusts_the_private_ca_as_a_gateway_certificate_authority(plans, variant):
    plan = plans[variant][1]
    certificate = plan.one("azure-native:apimanagement:Certificate", "api-greeter-backend-ca")
    assert certificate.inputs["data"] == certificate_pfx(CA_PEM)
    authority = plan.one("azure-native:apimanagement:GatewayCertificateAuthority", "api-greeter-gateway-ca")
    assert authority.inputs["isTrusted"] is True
    assert authority.inputs["certificateId"] == certificate.inputs["certificateId"]
    assert authority.inputs["gatewayId"] == "apim-gateway"


@pytest.mark.parametrize("variant", ALL)
def test_api_policy_is_the_policy_builder_output_for_the_settings(plans, variant):
    settings, plan = plans[variant]
    policy = plan.one("azure-native:apimanagement:ApiPolicy", "api-greeter-api-policy")
    assert policy.inputs["format"] == "xml"
    root = ElementTree.fromstring(policy.inputs["value"])
    assert [child.tag for child in root] == ["inbound", "backend", "outbound", "on-error"]
    limit = root.find("inbound/rate-limit-by-key")
    assert limit is not None
    per_node = -(-GREETER_RATE_LIMIT.calls // settings.gateway.replicas)
    assert limit.get("calls") == str(per_node)
    assert limit.get("counter-key") == "@(context.Subscription.Id)"
    assert root.find("inbound/set-backend-service").get("backend-id") == "greeter-grpc-backend"
    assert root.find("backend/forward-request").get("http-version") == "2"
    assert (root.find("inbound/validate-jwt") is not None) == (settings.jwt is not None)


@pytest.mark.parametrize("variant", ALL)
def test_product_holds_the_api_and_the_subscription_key_goes_only_to_key_vault(plans, variant):
    plan = plans[variant][1]
    product = plan.one("azure-native:apimanagement:Product", "api-grpc-product")
    assert product.inputs["subscriptionRequired"] is True
    assert product.inputs["state"] == "published"
    link = plan.one("azure-native:apimanagement:ProductApi", "api-greeter-product-api")
    assert (link.inputs["productId"], link.inputs["apiId"]) == ("grpc", "greeter-grpc")
    subscription = plan.one("azure-native:apimanagement:Subscription", "api-grpc-subscription")
    assert subscription.inputs["scope"].endswith("/grpc")
    assert "primaryKey" not in subscription.inputs
    invokes = [
        args for token, args in plan.invokes if token == "azure-native:apimanagement:listSubscriptionSecrets"
    ]
    assert invokes == [
        {"resourceGroupName": "rg-grpc-dev-weu", "serviceName": SERVICE_NAME, "sid": "grpc-default"}
    ]
    secret = plan.one("azure-native:keyvault:Secret", "api-grpc-subscription-key")
    assert secret.inputs["secretName"] == "apim-grpc-subscription-key"
    assert secret.inputs["properties"] == SECRET_PLACEHOLDER
    assert secret.secret_inputs()["properties"]["value"] == "fake-primary-key-grpc-default"
    officer = plan.one("test:index:SecretsOfficer", "secrets-officer")
    assert officer.urn in secret.dependencies


@pytest.mark.parametrize("variant", ALL)
def test_no_secret_appears_in_plain_text_in_inputs_or_outputs(plans, variant):
    plan = plans[variant][1]
    secrets = ["fake-primary-key", "fake-secondary-key", IKEY, "PRIVATE KEY"]
    for resource in plan.resources:
        text = json.dumps(resource.inputs)
        assert not any(s in text for s in secrets), f"{resource.type} {resource.name}"
    outputs = json.dumps(plan.outputs) + json.dumps({k: v for k, v in plan.resources[0].inputs.items()})
    assert not any(s in outputs for s in secrets)


# --- Gateway resource ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ALL)
def test_gateway_is_linked_to_the_api_with_an_http2_hostname_configuration(plans, variant):
    settings, plan = plans[variant]
    gateway = plan.one("azure-native:apimanagement:Gateway", "api-gateway")
    assert gateway.inputs["gatewayId"] == "apim-gateway"
    assert gateway.inputs["locationData"] == {"name": "aks"}
    link = plan.one("azure-native:apimanagement:GatewayApiEntityTag", "api-greeter-gateway-api")
    assert (link.inputs["gatewayId"], link.inputs["apiId"]) == ("apim-gateway", "greeter-grpc")
    hostname = plan.one("azure-native:apimanagement:GatewayHostnameConfiguration", "api-gateway-hostname")
    assert hostname.inputs["http2Enabled"] is True
    assert hostname.inputs["tls10Enabled"] is False and hostname.inputs["tls11Enabled"] is False
    expected_host = settings.api_host or "apim-gateway.apim-gateway.svc.cluster.local"
    assert hostname.inputs["hostname"] == expected_host
    if settings.api_host_certificate_id:
        assert hostname.inputs["certificateId"].endswith(f"/certificates/{settings.api_host_certificate_id}")
    else:
        assert "certificateId" not in hostname.inputs


# --- Entra workload identity and custom roles ------------------------------------------------------------


@pytest.mark.parametrize("variant", ALL)
def test_federated_credential_trusts_the_gateway_service_account_on_the_cluster_issuer(plans, variant):
    plan = plans[variant][1]
    app = plan.one("azuread:index/application:Application", "api-gateway-app")
    credential = plan.one(
        "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
        "api-gateway-federated",
    )
    assert credential.inputs["issuer"] == ISSUER
    assert credential.inputs["subject"] == "system:serviceaccount:apim-gateway:apim-gateway"
    assert credential.inputs["audiences"] == [azure_ids.WORKLOAD_IDENTITY_AUDIENCE]
    assert credential.inputs["applicationId"] == app.outputs.get("id", credential.inputs["applicationId"])
    principal = plan.one("azuread:index/servicePrincipal:ServicePrincipal", "api-gateway-sp")
    assert principal.inputs["clientId"]
    assert not any(
        "password" in r.type.lower() or "secret" in r.type.lower()
        for r in plan.resources
        if "azuread" in r.type
    )


@pytest.mark.parametrize("variant", ALL)
def test_custom_roles_have_deterministic_guids_unique_names_and_the_documented_permissions(plans, variant):
    plan = plans[variant][1]
    validator = plan.one("azure-native:authorization:RoleDefinition", "api-role-validator")
    reader = plan.one("azure-native:authorization:RoleDefinition", "api-role-reader")
    assert validator.inputs["roleDefinitionId"] == custom_role_guid(
        SUB, SERVICE_NAME, "config-api-access-validator"
    )
    assert reader.inputs["roleDefinitionId"] == custom_role_guid(
        SUB, SERVICE_NAME, "gateway-configuration-reader"
    )
    assert validator.inputs["roleName"] == (
        f"API Management Configuration API Access Validator Service Role ({SERVICE_NAME})"
    )
    assert reader.inputs["roleName"] == f"API Management Gateway Configuration Reader Role ({SERVICE_NAME})"
    assert validator.inputs["permissions"] == [{"actions": ["Microsoft.Authorization/*/read"]}]
    assert reader.inputs["permissions"] == [
        {"dataActions": ["Microsoft.ApiManagement/service/gateways/getConfiguration/action"]}
    ]
    for role in (validator, reader):
        assert role.inputs["assignableScopes"] == [RG_ID]
        assert role.inputs["scope"] == RG_ID
        assert role.inputs["roleType"] == "CustomRole"


@pytest.mark.parametrize("variant", ALL)
def test_validator_goes_to_the_apim_identity_and_reader_to_the_app_on_the_narrowest_scopes(plans, variant):
    plan = plans[variant][1]
    service = plan.one("azure-native:apimanagement:ApiManagementService", "api-service")
    principal = plan.one("azuread:index/servicePrincipal:ServicePrincipal", "api-gateway-sp")
    validator = plan.one("azure-native:authorization:RoleAssignment", "api-ra-validator")
    reader = plan.one("azure-native:authorization:RoleAssignment", "api-ra-reader")
    role_path = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
    assert validator.inputs["scope"] == RG_ID
    assert validator.inputs["roleDefinitionId"] == role_path + custom_role_guid(
        SUB, SERVICE_NAME, "config-api-access-validator"
    )
    assert validator.inputs["principalType"] == "ServicePrincipal"
    assert service.urn in validator.dependencies
    # Through the propagation sleep after both definitions (RoleDefinitionDoesNotExist otherwise).
    sleep = plan.one("time:index/sleep:Sleep", "api-role-definitions-propagation")
    assert sleep.urn in validator.dependencies and sleep.urn in reader.dependencies
    for role in ("api-role-validator", "api-role-reader"):
        assert plan.one("azure-native:authorization:RoleDefinition", role).urn in sleep.dependencies
    assert reader.inputs["scope"].endswith(f"/Microsoft.ApiManagement/service/{SERVICE_NAME}")
    assert reader.inputs["roleDefinitionId"] == role_path + custom_role_guid(
        SUB, SERVICE_NAME, "gateway-configuration-reader"
    )
    assert principal.urn in reader.dependencies


# --- in-cluster self-hosted gateway -------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ALL)
def test_kubernetes_objects_validate_against_the_official_schemas(plans, variant):
    plan = plans[variant][1]
    objects = plan.kubernetes_objects()
    assert objects
    problems = [p for obj in objects for p in problems_of(obj, schema_version(DEFAULT_KUBERNETES_VERSION))]
    assert not problems, problems


@pytest.mark.parametrize("variant", ALL)
def test_every_kubernetes_object_uses_the_cluster_provider_and_waits_for_cluster_rbac(plans, variant):
    plan = plans[variant][1]
    ready = plan.one("test:index:ClusterAdmin", "cluster-admin")
    provider = plan.one("pulumi:providers:kubernetes", "k8s")
    for resource in plan.resources:
        if resource.type.startswith("kubernetes:") and resource.custom and "kind" in resource.inputs:
            assert resource.provider == provider.urn, resource.name
            assert ready.urn in resource.dependencies, resource.name
            assert resource.inputs["metadata"]["name"], resource.name


@pytest.mark.parametrize("variant", ALL)
def test_namespace_is_meshed_and_service_account_carries_the_app_client_id(plans, variant):
    plan = plans[variant][1]
    namespace = k8s_object(plan, "Namespace")
    assert namespace.inputs["metadata"]["labels"]["istio.io/rev"] == "asm-1-28"
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    account = k8s_object(plan, "ServiceAccount")
    app = plan.one("azuread:index/application:Application", "api-gateway-app")
    annotations = account.inputs["metadata"]["annotations"]
    assert annotations["azure.workload.identity/client-id"]
    assert annotations["azure.workload.identity/tenant-id"] == TENANT
    assert app.urn in account.dependencies


@pytest.mark.parametrize("variant", ALL)
def test_config_map_points_the_gateway_at_its_configuration_endpoint_with_workload_identity(plans, variant):
    data = k8s_object(plans[variant][1], "ConfigMap").inputs["data"]
    assert data["gateway.name"] == "apim-gateway"
    assert data["config.service.endpoint"] == f"https://{SERVICE_NAME}.configuration.azure-api.net"
    assert data["config.service.auth"] == "workloadIdentity"
    assert "config.service.auth.azureAd.clientSecret" not in data
    for key in ("net.server.tls.ciphers.allowed-suites", "net.client.tls.ciphers.allowed-suites"):
        assert "CBC" not in data[key] and "TLS_RSA_" not in data[key]


@pytest.mark.parametrize("variant", ALL)
def test_deployment_runs_the_pinned_image_with_status_probes_and_a_restricted_context(plans, variant):
    settings, plan = plans[variant]
    deployment = k8s_object(plan, "Deployment")
    spec = deployment.inputs["spec"]
    pod = spec["template"]["spec"]
    assert spec["replicas"] == settings.gateway.replicas
    assert spec["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["serviceAccountName"] == "apim-gateway"
    (container,) = pod["containers"]
    assert container["image"] == "mcr.microsoft.com/azure-api-management/gateway:2.12.1"
    assert [p["containerPort"] for p in container["ports"]] == [8080, 8081]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": GATEWAY_STATUS_PATH, "port": "http", "scheme": "HTTP"}
    assert container["envFrom"] == [{"configMapRef": {"name": "apim-gateway-env"}}]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "512Mi"}
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}


@pytest.mark.parametrize("variant", ALL)
def test_deployment_starts_only_after_identity_rbac_and_trusted_ca_exist(plans, variant):
    plan = plans[variant][1]
    deployment = k8s_object(plan, "Deployment")
    for resource_type, name in [
        ("azure-native:authorization:RoleAssignment", "api-ra-validator"),
        ("azure-native:authorization:RoleAssignment", "api-ra-reader"),
        ("azure-native:apimanagement:GatewayCertificateAuthority", "api-greeter-gateway-ca"),
        (
            "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
            "api-gateway-federated",
        ),
    ]:
        assert plan.one(resource_type, name).urn in deployment.dependencies


def test_developer_runs_one_gateway_without_spread_and_a_pdb_that_allows_drains(plans):
    plan = plans["dev"][1]
    pod = k8s_object(plan, "Deployment").inputs["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in pod
    pdb = k8s_object(plan, "PodDisruptionBudget").inputs["spec"]
    assert pdb["maxUnavailable"] == 1 and "minAvailable" not in pdb


@pytest.mark.parametrize("variant", ["prod", "prod-host-jwt"])
def test_premium_runs_two_gateways_with_pdb_and_zone_spread(plans, variant):
    plan = plans[variant][1]
    pod = k8s_object(plan, "Deployment").inputs["spec"]["template"]["spec"]
    keys = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
    assert keys == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    pdb = k8s_object(plan, "PodDisruptionBudget").inputs["spec"]
    assert pdb["maxUnavailable"] == 1
    assert (
        pdb["selector"]["matchLabels"]
        == k8s_object(plan, "Deployment").inputs["spec"]["selector"]["matchLabels"]
    )


@pytest.mark.parametrize("variant", ALL)
def test_gateway_namespace_requires_mutual_tls(plans, variant):
    plan = plans[variant][1]
    peer = k8s_object(plan, "PeerAuthentication").inputs
    namespace = k8s_object(plan, "Namespace").inputs["metadata"]["name"]
    assert peer["metadata"] == {**peer["metadata"], "name": "default", "namespace": namespace}
    assert peer["spec"] == {"mtls": {"mode": "STRICT"}}


@pytest.mark.parametrize("variant", ALL)
def test_service_declares_8080_plain_http_and_8081_tls(plans, variant):
    """8080 cannot be relied on for h2c (docs/decisions.md): Istio must treat it as HTTP/1.1, not http2."""
    ports = k8s_object(plans[variant][1], "Service").inputs["spec"]["ports"]
    assert [(p["name"], p["port"], p["appProtocol"], p["targetPort"]) for p in ports] == [
        ("http", 8080, "http", "http"),
        ("https", 8081, "https", "https"),
    ]


@pytest.mark.parametrize("variant", ALL)
def test_gateway_runs_as_a_uid_and_gid_of_at_least_10000(plans, variant):
    pod = k8s_object(plans[variant][1], "Deployment").inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for context in (pod["securityContext"], container["securityContext"]):
        assert context["runAsUser"] >= 10000 and context["runAsGroup"] >= 10000
    assert pod["securityContext"]["fsGroup"] >= 10000


@pytest.mark.parametrize("variant", ALL)
def test_read_only_gateway_gets_a_writable_dotnet_certificate_store(plans, variant):
    """The gateway installs the trusted backend CA into /.dotnet/corefx/cryptography/x509stores/root
    (MicrosoftDocs/azure-docs#116325): with a read-only root that path must be a writable volume."""
    pod = k8s_object(plans[variant][1], "Deployment").inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/.dotnet"] == "dotnet" and mounts["/tmp"] == "tmp"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["dotnet"] and volumes["dotnet"]["emptyDir"]["sizeLimit"] == "16Mi"
    assert not volumes["dotnet"].get("readOnly")
    # HOME decides where .NET puts the CurrentUser stores: "/" makes it /.dotnet whatever the image says.
    assert {"name": "HOME", "value": "/"} in container["env"]


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_no_istio_route_without_an_api_host(plans, variant):
    plan = plans[variant][1]
    assert not [r for r in plan.resources if r.type.startswith("kubernetes:networking.istio.io")]


def test_api_host_passes_tls_through_the_ingress_gateway_to_the_gateway_https_port(plans):
    plan = plans["prod-host-jwt"][1]
    gateway = k8s_object(plan, "Gateway").inputs
    assert gateway["spec"]["selector"] == {"istio": "aks-istio-ingressgateway-external"}
    (server,) = gateway["spec"]["servers"]
    assert server["hosts"] == ["grpc.example.com"] and server["tls"] == {"mode": "PASSTHROUGH"}
    route = k8s_object(plan, "VirtualService").inputs["spec"]
    assert route["gateways"] == ["apim-gateway/apim-gateway"]
    (tls,) = route["tls"]
    assert tls["match"] == [{"port": 443, "sniHosts": ["grpc.example.com"]}]
    assert tls["route"][0]["destination"] == {
        "host": "apim-gateway.apim-gateway.svc.cluster.local",
        "port": {"number": 8081},
    }


# --- args validation ------------------------------------------------------------------------------


GREETER_API = GrpcApiDefinition(
    name="greeter",
    proto=PROTO,
    backend_host=BACKEND_HOST,
    backend_port=50443,
    backend_ca_certificate_pem=CA_PEM,
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("proto", "not a proto"),
        ("backend_port", 0),
        ("backend_host", "https://greeter"),
        ("path", "greeter"),
        ("name", "Greeter"),
    ],
)
def test_invalid_api_definitions_are_rejected_naming_the_field(field, value):
    validate_grpc_api_definition(GREETER_API)
    with pytest.raises(ValueError, match=f"^{field}:"):
        validate_grpc_api_definition(dataclasses.replace(GREETER_API, **{field: value}))


def test_a_gateway_without_an_istio_revision_is_rejected_naming_the_field():
    args = SelfHostedGatewayArgs(
        service_name=SERVICE_NAME,
        service_id="/id",
        service_principal_id="p",
        resource_group_name="rg",
        resource_group_id=RG_ID,
        subscription_id=SUB,
        tenant_id=TENANT,
        oidc_issuer_url=ISSUER,
        istio_revision="asm-1-28",
    )
    validate_self_hosted_gateway_args(args)
    with pytest.raises(ValueError, match=r"^istio_revision:"):
        validate_self_hosted_gateway_args(dataclasses.replace(args, istio_revision=""))


# --- the whole program --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_whole_plan_never_carries_a_key_or_credential_in_plain_text(stack, stack_plan):
    plan = stack_plan(stack)
    instrumentation_keys = [
        r.outputs.get("instrumentationKey")
        for r in plan.resources
        if r.type.endswith("applicationinsights:Component")
    ]
    needles = [
        "fake-primary-key",
        "fake-secondary-key",
        "PRIVATE KEY",
        *[k for k in instrumentation_keys if k],
    ]
    for resource in plan.resources:
        text = json.dumps(resource.inputs)
        assert not any(n in text for n in needles), f"{resource.type} {resource.name}"
    assert not any(n in json.dumps(plan.outputs) for n in needles)
    assert "apimGatewayUrl" in plan.outputs and "apimGrpcApiId" in plan.outputs
    assert not [
        k
        for k in plan.outputs
        if k.startswith("apim") and "key" in k.lower() and not k.endswith("SecretName")
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_whole_plan_backend_is_the_workload_tls_port_named_in_its_certificate(stack, stack_plan):
    plan = stack_plan(stack)
    api = plan.one("azure-native:apimanagement:Api", "api-greeter-api")
    host_port = api.inputs["serviceUrl"].removeprefix("https://")
    host, port = host_port.split(":")
    assert host == plan.outputs["workloadServiceHost"]
    request = plan.one("tls:index/certRequest:CertRequest", "greeter-backend-tls-csr")
    assert host in request.inputs["dnsNames"]
    service_ports = [
        p["port"]
        for r in plan.resources
        if r.inputs.get("kind") == "Service"
        and r.inputs["metadata"]["namespace"] == plan.outputs["workloadNamespace"]
        for p in r.inputs["spec"]["ports"]
    ]
    assert int(port) in service_ports


# --- two services behind one gateway -------------------------------------------------------------

ORDERS_PROTO = """syntax = "proto3";

package orders.v1;

service Orders {
  rpc PlaceOrder (OrderRequest) returns (OrderReply) {}
}

message OrderRequest { string item = 1; }
message OrderReply { string id = 1; }
"""


@pytest.fixture(scope="module")
def two_api_plan():
    """Built from Args alone (no settings): the greeter and an orders service, each its own API."""
    from tools.mock_engine import run_program

    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        ready = pulumi.CustomResource("test:index:ClusterAdmin", "cluster-admin", {})
        GrpcApiGateway(
            "api",
            GrpcApiGatewayArgs(
                instance=ApimInstanceArgs(
                    service_name=SERVICE_NAME,
                    resource_group_name="rg-grpc-dev-weu",
                    location="westeurope",
                    publisher_email="platform@example.com",
                ),
                apis=[
                    dataclasses.replace(
                        GREETER_API, rate_limit=ApiRateLimit(calls=600, renewal_period_seconds=60)
                    ),
                    GrpcApiDefinition(
                        name="orders",
                        proto=ORDERS_PROTO,
                        backend_host="orders.orders.svc.cluster.local",
                        backend_port=50443,
                        backend_ca_certificate_pem=fake_pem("orders-ca", "CERTIFICATE"),
                        rate_limit=ApiRateLimit(calls=50, renewal_period_seconds=10),
                    ),
                ],
                resource_group_id=RG_ID,
                subscription_id=SUB,
                tenant_id=TENANT,
                oidc_issuer_url=ISSUER,
                istio_revision="asm-1-28",
                vault_name="kv-grpc-dev-weu-abcde",
            ),
            pulumi.ResourceOptions(provider=provider, depends_on=[ready]),
        )

    return run_program(program, {}, stack="test")


def test_two_services_get_two_grpc_apis_each_from_its_own_proto(two_api_plan):
    apis = {r.inputs["apiId"]: r.inputs for r in two_api_plan.of_type("azure-native:apimanagement:Api")}
    assert sorted(apis) == ["greeter-grpc", "orders-grpc"]
    for api in apis.values():
        assert (api["apiType"], api["format"], api["path"], api["protocols"]) == (
            "grpc",
            "grpc",
            "",
            ["https"],
        )
    assert apis["greeter-grpc"]["value"] == PROTO
    assert apis["orders-grpc"]["value"] == ORDERS_PROTO
    assert apis["orders-grpc"]["serviceUrl"] == "https://orders.orders.svc.cluster.local:50443"
    assert apis["orders-grpc"]["description"] == "orders.v1.Orders (gRPC)"


def test_one_gateway_serves_both_apis_and_trusts_both_backend_cas(two_api_plan):
    (gateway,) = two_api_plan.of_type("azure-native:apimanagement:Gateway")
    links = two_api_plan.of_type("azure-native:apimanagement:GatewayApiEntityTag")
    assert sorted((link.inputs["gatewayId"], link.inputs["apiId"]) for link in links) == [
        ("apim-gateway", "greeter-grpc"),
        ("apim-gateway", "orders-grpc"),
    ]
    assert all(gateway.urn in link.dependencies for link in links)
    authorities = two_api_plan.of_type("azure-native:apimanagement:GatewayCertificateAuthority")
    assert sorted(a.inputs["certificateId"] for a in authorities) == [
        "greeter-backend-ca",
        "orders-backend-ca",
    ]
    deployments = [r for r in two_api_plan.resources if r.type == "kubernetes:apps/v1:Deployment"]
    assert [d.name for d in deployments] == ["api-deployment"]
    for resource in [*links, *authorities]:
        assert resource.urn in deployments[0].dependencies, resource.name


def test_each_api_has_its_own_policy_with_its_own_rate_limit_and_backend(two_api_plan):
    limits = {}
    for policy in two_api_plan.of_type("azure-native:apimanagement:ApiPolicy"):
        root = ElementTree.fromstring(policy.inputs["value"])
        limit = root.find("inbound/rate-limit-by-key")
        backend = root.find("inbound/set-backend-service").get("backend-id")
        limits[policy.name] = (limit.get("calls"), limit.get("renewal-period"), backend)
    assert limits == {
        "api-greeter-api-policy": ("600", "60", "greeter-grpc-backend"),
        "api-orders-api-policy": ("50", "10", "orders-grpc-backend"),
    }


def test_both_apis_join_the_one_product_and_the_instance_is_created_once(two_api_plan):
    assert len(two_api_plan.of_type("azure-native:apimanagement:ApiManagementService")) == 1
    (product,) = two_api_plan.of_type("azure-native:apimanagement:Product")
    links = two_api_plan.of_type("azure-native:apimanagement:ProductApi")
    assert sorted((link.inputs["productId"], link.inputs["apiId"]) for link in links) == [
        ("grpc", "greeter-grpc"),
        ("grpc", "orders-grpc"),
    ]
    assert all(product.urn in link.dependencies for link in links)
    # No App Insights given: no logger and no diagnostic, and nothing else is required.
    assert not two_api_plan.of_type("azure-native:apimanagement:Logger")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "greeter"}, "API name greeter is used more than once"),
        ({"proto": PROTO}, "gRPC service helloworld.Greeter is defined by more than one API"),
        ({"product": "partners"}, "product partners is not one of the products"),
    ],
)
def test_the_gateway_refuses_a_list_of_apis_one_instance_cannot_serve(change, message):
    orders = GrpcApiDefinition(
        name="orders",
        proto=ORDERS_PROTO,
        backend_host="orders",
        backend_port=1,
        backend_ca_certificate_pem="",
    )
    args = GrpcApiGatewayArgs(
        instance=ApimInstanceArgs(
            service_name="s", resource_group_name="rg", location="l", publisher_email="e"
        ),
        apis=[GREETER_API, dataclasses.replace(orders, **change)],
        resource_group_id=RG_ID,
        subscription_id=SUB,
        tenant_id=TENANT,
        oidc_issuer_url=ISSUER,
        istio_revision="asm-1-28",
        vault_name="kv",
    )
    with pytest.raises(ValueError, match=f"^apis: {message}"):
        validate_grpc_api_gateway_args(args)
