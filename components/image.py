"""ServiceImage: the workload's container image, built from its source and pushed to the stack's registry.

Used when `aks-grpc:workload.image` is not configured (a laptop's `pulumi up`); CI builds, smoke-tests
and pushes its own image and configures it, and then nothing here is created.

- Build: pulumi-docker-build (BuildKit on the deploying machine), context = the service directory, one
  platform (`linux/amd64`, the node pools' architecture), pushed to the stack's registry.
- Tag: `src-<hash of the context's files>` (`source_tree_tag`), so an unchanged service keeps its tag,
  the provider sees no change and the Deployment does not roll; the Deployment uses `ref`
  (`<tag>@sha256:<digest>`), so pods run exactly the pushed bytes.
- Registry login with the admin user disabled: the deployer's own Entra token (azure-native
  `getClientToken`, ARM audience) is exchanged at the registry's `/oauth2/exchange` endpoint
  (pulumi-http `getHttp`) for a registry refresh token, the same exchange `az acr login` makes
  (Azure Container Registry docs: "Authenticate with an Azure container registry", AAD-OAuth.md in
  Azure/acr). The token is marked secret, so the state holds it encrypted.
- Push right: AcrPush for the deployer on the registry, then a wait for RBAC to propagate
  (components/propagation.py) before the first push.
"""

import fnmatch
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker_build as docker_build
import pulumi_http as http
from pulumi_azure_native import authorization

from . import azure_ids
from .common import PrincipalType, RoleAssignmentArgs, role_assignment, validate_principal_type
from .propagation import ACR_RBAC_PROPAGATION, propagation_wait

ACR_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000"
"""The user name that goes with a registry refresh token obtained by token exchange (ACR docs:
"Azure Container Registry authentication with Microsoft Entra tokens")."""

ALWAYS_IGNORED = ("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")
"""Local artifacts that never belong in the image nor in its content tag (also in service/.dockerignore)."""


def dockerignore_patterns(context: Path) -> list[str]:
    """The context's `.dockerignore` patterns (comments and blank lines dropped) plus `ALWAYS_IGNORED`."""
    patterns = list(ALWAYS_IGNORED)
    ignore_file = context / ".dockerignore"
    if ignore_file.is_file():
        for line in ignore_file.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line.removeprefix("**/").rstrip("/"))
    return patterns


def _ignored(relative: str, patterns: Sequence[str]) -> bool:
    parts = relative.split("/")
    return any(
        fnmatch.fnmatchcase(relative, p) or any(fnmatch.fnmatchcase(part, p) for part in parts)
        for p in patterns
    )


def source_tree_tag(context: Path, dockerfile: str = "Dockerfile") -> str:
    """`src-<16 hex>`: a hash of every file's path and bytes under `context`, ignored files left out.

    The same tree gives the same tag on every machine (paths sorted, POSIX separators, no timestamps
    or permissions), and any change to a file that reaches the image gives a new one. The Dockerfile
    always counts, even where `.dockerignore` lists it (the builder reads it all the same).
    """
    if not context.is_dir():
        raise ValueError(f"context: {context} is not a directory")
    patterns = dockerignore_patterns(context)
    digest = hashlib.sha256()
    files = sorted(p for p in context.rglob("*") if p.is_file())
    for path in files:
        relative = path.relative_to(context).as_posix()
        if relative != dockerfile and _ignored(relative, patterns):
            continue
        content = path.read_bytes()
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    return f"src-{digest.hexdigest()[:16]}"


def registry_refresh_token(exchange_response: str, status_code: float | int, login_server: str) -> str:
    """The `refresh_token` of the registry's `/oauth2/exchange` answer, or an error saying what failed."""
    if int(status_code) != 200:
        raise ValueError(
            f"{login_server}/oauth2/exchange answered {int(status_code)}: the deployer's Entra token was "
            "refused (is the registry's Entra authentication on, and is the token for this tenant?)"
        )
    token = json.loads(exchange_response).get("refresh_token")
    if not token:
        raise ValueError(f"{login_server}/oauth2/exchange answered without a refresh_token")
    return str(token)


@dataclass
class ServiceImageArgs:
    """Inputs of `ServiceImage`."""

    context: str
    """The build context directory (`service`, relative to the project directory Pulumi runs in)."""
    registry_id: pulumi.Input[str]
    """Resource id of the registry (the scope of the deployer's AcrPush)."""
    registry_login_server: pulumi.Input[str]
    """`<name>.azurecr.io`."""
    subscription_id: pulumi.Input[str]
    """Subscription of the AcrPush role definition."""
    deployer_object_id: pulumi.Input[str]
    """Object id of whoever runs `pulumi up` (it pushes)."""
    deployer_principal_type: PrincipalType = PrincipalType.USER
    """Who pushes: a signed-in `User` or a `ServicePrincipal` (CI); the program decides
    (program/adapters/deployer.py)."""
    repository: str = "grpc-greeter"
    """Repository in the registry."""
    dockerfile: str = "Dockerfile"
    """Dockerfile path inside the context."""
    platform: str = "linux/amd64"
    """Target platform: the node pools' architecture."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra image labels (the Dockerfile carries the OCI ones)."""


def validate_service_image_args(args: ServiceImageArgs) -> None:
    """Raise ValueError naming the field when the args cannot build an image."""
    context = Path(args.context)
    if not context.is_dir():
        raise ValueError(f"context: {args.context} is not a directory")
    if not (context / args.dockerfile).is_file():
        raise ValueError(f"dockerfile: {args.dockerfile} not found in {args.context}")
    if args.platform not in {p.value for p in docker_build.Platform}:
        raise ValueError(f"platform: {args.platform!r} is not a BuildKit platform")
    if not args.repository or args.repository != args.repository.lower():
        raise ValueError(f"repository: {args.repository!r} must be a non-empty lower-case name")
    if (
        validate_principal_type(args.deployer_principal_type, "deployer_principal_type")
        is PrincipalType.GROUP
    ):
        raise ValueError(
            "deployer_principal_type: a group cannot run `pulumi up`; use User or ServicePrincipal"
        )


class ServiceImage(pulumi.ComponentResource):
    """The service's image in the stack's registry; `ref` is `<repo>:<tag>@sha256:<digest>`."""

    tag: str
    """The content tag (`src-<hash>`)."""
    ref: pulumi.Output[str]
    """`<repo>:<tag>@sha256:<digest>` of the pushed image."""

    def __init__(self, name: str, args: ServiceImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:index:ServiceImage", name, None, opts)
        validate_service_image_args(args)
        self.tag = source_tree_tag(Path(args.context), args.dockerfile)
        child = pulumi.ResourceOptions(parent=self)

        self.push_role = role_assignment(
            f"{name}-acr-push",
            scope=args.registry_id,
            assignment=RoleAssignmentArgs(
                principal_id=args.deployer_object_id,
                role_definition_id=azure_ids.ACR_PUSH,
                principal_type=validate_principal_type(args.deployer_principal_type),
                description="The deploying principal pushes the service image it builds.",
            ),
            subscription_id=args.subscription_id,
            opts=child,
        )
        push_ready = propagation_wait(
            f"{name}-acr-push-propagation",
            duration=ACR_RBAC_PROPAGATION,
            after=[self.push_role],
            triggers={"deployerAcrPush": self.push_role.id},
            parent=self,
        )

        login_server = pulumi.Output.from_input(args.registry_login_server)
        # Typed Any: the SDK's stubs make `Output.secret(Output[str])` a type error.
        token: pulumi.Output[Any] = authorization.get_client_token_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).token
        entra_token = pulumi.Output.secret(token)
        exchange_body: pulumi.Output[Any] = pulumi.Output.all(login_server, entra_token).apply(
            lambda v: f"grant_type=access_token&service={v[0]}&access_token={v[1]}"
        )
        exchange = http.get_http_output(
            url=login_server.apply(lambda server: f"https://{server}/oauth2/exchange"),
            method="POST",
            request_headers={"Content-Type": "application/x-www-form-urlencoded"},
            request_body=pulumi.Output.secret(exchange_body),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        answer: pulumi.Output[Any] = pulumi.Output.all(
            exchange.response_body, exchange.status_code, login_server
        ).apply(lambda v: registry_refresh_token(str(v[0] or ""), v[1] or 0, str(v[2])))
        refresh_token: pulumi.Output[str] = pulumi.Output.secret(answer)

        self.image = docker_build.Image(
            f"{name}-build",
            docker_build.ImageArgs(
                context=docker_build.BuildContextArgs(location=args.context),
                dockerfile=docker_build.DockerfileArgs(location=f"{args.context}/{args.dockerfile}"),
                platforms=[docker_build.Platform(args.platform)],
                push=True,
                tags=[pulumi.Output.concat(login_server, "/", args.repository, ":", self.tag)],
                labels=args.labels or None,
                registries=[
                    docker_build.RegistryArgs(
                        address=login_server, username=ACR_TOKEN_USERNAME, password=refresh_token
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[push_ready]),
        )
        self.ref = self.image.ref
        self.register_outputs({"ref": self.ref, "tag": self.tag})
