"""ApimInstance: the API Management service itself, hardened, with its logs and Application Insights logger.

Creating the service takes 30-60 minutes (Developer/Premium), so nothing outside API Management may
wait on it (tests/program/test_deployment_graph.py).
"""

import enum
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import apimanagement

from .apim_rules import validate_apim_capacity, validate_apim_sku
from .common import DiagnosticsArgs, LockLevel, diagnostic_settings, management_lock, validate_lock_level

# Manage protocols and ciphers in Azure API Management (customProperties, string values). Applies to
# the instance's managed gateway; the self-hosted gateway gets the equivalent container settings.
_SECURITY = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security"
HARDENING_CUSTOM_PROPERTIES: dict[str, str] = {
    f"{_SECURITY}.Protocols.Tls10": "False",
    f"{_SECURITY}.Protocols.Tls11": "False",
    f"{_SECURITY}.Protocols.Ssl30": "False",
    f"{_SECURITY}.Backend.Protocols.Tls10": "False",
    f"{_SECURITY}.Backend.Protocols.Tls11": "False",
    f"{_SECURITY}.Backend.Protocols.Ssl30": "False",
    f"{_SECURITY}.Ciphers.TripleDes168": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_128_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_256_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_128_CBC_SHA256": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_256_CBC_SHA256": "False",
    f"{_SECURITY}.Ciphers.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "False",
    f"{_SECURITY}.Ciphers.TLS_RSA_WITH_AES_128_GCM_SHA256": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Protocols.Server.Http2": "True",
}

APP_INSIGHTS_LOGGER_ID = "appinsights"


class ApimSku(enum.Enum):
    """The API Management tiers with a self-hosted gateway (the only ones that serve gRPC APIs here)."""

    DEVELOPER = "Developer"
    """One gateway node, no SLA: development and test."""
    PREMIUM = "Premium"
    """SLA, multi-node gateways."""


@dataclass
class ApimInstanceArgs:
    """Inputs of `ApimInstance`."""

    service_name: str
    """Globally unique name of the API Management service."""
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    publisher_email: str
    """Receives APIM system notifications."""
    publisher_name: str = "aks-grpc platform team"
    """Shown in the developer portal and notification emails."""
    sku: ApimSku = ApimSku.DEVELOPER
    """Tier. Developer is the cheapest tier with a self-hosted gateway."""
    capacity: int = 1
    """Scale units (Developer: exactly 1)."""
    app_insights_id: pulumi.Input[str] | None = None
    """Application Insights component the APIM logger writes to (none: no logger)."""
    app_insights_instrumentation_key: pulumi.Input[str] | None = None
    """Secret: the logger's credential (required with `app_insights_id`)."""
    app_insights_sampling_percentage: float = 100.0
    """Share of gateway requests traced to Application Insights (all APIs of the instance)."""
    diagnostics: DiagnosticsArgs | None = None
    """Where the gateway logs go (uniform knob; no categories: `GatewayLogs`)."""
    lock: LockLevel | None = None
    """`CanNotDelete` or `ReadOnly` on the service, or none."""


def validate_apim_instance_args(args: ApimInstanceArgs) -> None:
    """Reject arguments Azure would refuse, naming the field."""
    validate_apim_sku(args.sku.value)
    validate_apim_capacity(args.sku.value, args.capacity)
    if (args.app_insights_id is None) != (args.app_insights_instrumentation_key is None):
        raise ValueError("app_insights_instrumentation_key: give it together with app_insights_id")
    if not 0 <= args.app_insights_sampling_percentage <= 100:
        raise ValueError(
            f"app_insights_sampling_percentage: must be 0-100 (got {args.app_insights_sampling_percentage})"
        )
    validate_lock_level(args.lock, "lock")


class ApimInstance(pulumi.ComponentResource):
    """An API Management service (system identity, TLS hardening, HTTP/2) with logs and a logger."""

    service_name: pulumi.Output[str]
    """Name of the service; waits for the service (use it for every entity inside the instance)."""
    service_id: pulumi.Output[str]
    gateway_url: pulumi.Output[str]
    """The instance's managed gateway URL."""
    principal_id: pulumi.Output[str]
    """Object id of the service's system-assigned identity."""

    def __init__(self, name: str, args: ApimInstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:index:ApimInstance", name, None, opts)
        validate_apim_instance_args(args)
        child = pulumi.ResourceOptions(parent=self)
        self.service = apimanagement.ApiManagementService(
            f"{name}-service",
            apimanagement.ApiManagementServiceArgs(
                service_name=args.service_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                sku=apimanagement.ApiManagementServiceSkuPropertiesArgs(
                    name=args.sku.value, capacity=args.capacity
                ),
                publisher_name=args.publisher_name,
                publisher_email=args.publisher_email,
                identity=apimanagement.ApiManagementServiceIdentityArgs(type="SystemAssigned"),
                custom_properties=HARDENING_CUSTOM_PROPERTIES,
            ),
            opts=child,
        )
        management_lock(f"{name}-lock", scope=self.service.id, level=args.lock, opts=child)
        diagnostic_settings(
            f"{name}-diagnostics",
            resource_id=self.service.id,
            diagnostics=args.diagnostics,
            default_categories=["GatewayLogs"],
            opts=child,
        )
        self.logger = self._app_insights_logger(name, args, child)

        self.service_name = self.service.name
        self.service_id = self.service.id
        self.gateway_url = self.service.gateway_url
        self.principal_id = self.service.identity.apply(
            lambda identity: identity.principal_id if identity else ""
        )
        self.register_outputs(
            {
                "serviceName": self.service_name,
                "serviceId": self.service_id,
                "gatewayUrl": self.gateway_url,
                "principalId": self.principal_id,
            }
        )

    def _app_insights_logger(
        self, name: str, args: ApimInstanceArgs, opts: pulumi.ResourceOptions
    ) -> apimanagement.Logger | None:
        """The Application Insights logger and the instance-wide diagnostic (every API) that uses it."""
        if args.app_insights_id is None or args.app_insights_instrumentation_key is None:
            return None
        logger = apimanagement.Logger(
            f"{name}-logger",
            apimanagement.LoggerArgs(
                resource_group_name=args.resource_group_name,
                service_name=self.service.name,
                logger_id=APP_INSIGHTS_LOGGER_ID,
                logger_type="applicationInsights",
                resource_id=args.app_insights_id,
                # APIM stores the credential as a secret named value itself.
                credentials=pulumi.Output.secret(
                    pulumi.Output.from_input(args.app_insights_instrumentation_key).apply(
                        lambda key: {"instrumentationKey": key}
                    )
                ),
                description="Application Insights of the stack",
            ),
            opts=opts,
        )
        apimanagement.Diagnostic(
            f"{name}-api-diagnostic",
            apimanagement.DiagnosticArgs(
                resource_group_name=args.resource_group_name,
                service_name=self.service.name,
                diagnostic_id="applicationinsights",
                logger_id=logger.id,
                always_log="allErrors",
                http_correlation_protocol="W3C",
                verbosity="information",
                log_client_ip=False,
                sampling=apimanagement.SamplingSettingsArgs(
                    sampling_type="fixed", percentage=args.app_insights_sampling_percentage
                ),
            ),
            opts=opts,
        )
        return logger
