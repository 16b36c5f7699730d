"""Container registry: azure-native:containerregistry:Registry."""

from collections.abc import Iterator, Mapping
from typing import Any

from .helpers import (
    MANDATORY,
    of_azure,
    resource_policy,
)


def _registry(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("adminUserEnabled") is True:
        yield "adminUserEnabled must be false (pull with the kubelet identity's AcrPull role)"
    if props.get("anonymousPullEnabled") is True:
        yield "anonymousPullEnabled must be false"


acr_no_admin_or_anonymous_pull = resource_policy(
    "acr-no-admin-or-anonymous-pull",
    "Container registries have the admin user and anonymous pull disabled.",
    MANDATORY,
    of_azure("containerregistry:Registry"),
    _registry,
    "Set admin_user_enabled=False, anonymous_pull_enabled=False.",
    "AP: Container registries should have local admin account disabled / anonymous authentication disabled",
)
