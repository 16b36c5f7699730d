"""Kubernetes pod specs: the Pod Security Standards, profile "restricted" (PSS), on every workload kind.

Also the pod-spec readers (`pod_spec`, `containers`, `pod_check`) that the reliability policies in
`workload` use. Every check runs on one object at a time, so it holds for any number of services.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .helpers import (
    ADVISORY,
    MANDATORY,
    Check,
    as_list,
    as_map,
    dig,
    k8s_kind,
    number,
    of_kinds,
    resource_policy,
)

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
WORKLOAD = of_kinds(*WORKLOAD_KINDS)


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    kind = (k8s_kind(resource_type) or ("", ""))[1]
    if kind == "Pod":
        return as_map(props.get("spec"))
    if kind == "CronJob":
        return as_map(dig(props, "spec", "jobTemplate", "spec", "template", "spec"))
    return as_map(dig(props, "spec", "template", "spec"))


def containers(spec: Mapping[str, Any], *, init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container) for the app containers and, with `init`, init and ephemeral containers."""
    groups = ("containers", "initContainers", "ephemeralContainers") if init else ("containers",)
    for group in groups:
        for index, container in enumerate(as_list(spec.get(group))):
            container = as_map(container)
            yield f"{group}[{container.get('name') or index}]", container


def _effective(spec: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """A securityContext field: the container's value overrides the pod's."""
    own = dig(container, "securityContext", key)
    return own if own is not None else dig(spec, "securityContext", key)


def pod_check(check: Callable[[Mapping[str, Any]], Iterable[str]]) -> Check:
    return lambda resource_type, props: check(pod_spec(resource_type, props))


def _run_as_non_root(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if _effective(spec, container, "runAsNonRoot") is not True:
            yield f"{label}: runAsNonRoot must be true (pod or container securityContext)"
        if number(_effective(spec, container, "runAsUser")) == 0:
            yield f"{label}: runAsUser must not be 0"


k8s_run_as_non_root = resource_policy(
    "k8s-run-as-non-root",
    "Containers run as non-root.",
    MANDATORY,
    WORKLOAD,
    pod_check(_run_as_non_root),
    "Set securityContext.runAsNonRoot=true (and a non-zero runAsUser) on the pod.",
    "PSS restricted: Running as Non-root; CIS AKS 4.2.6",
)


def _no_privilege_escalation(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if dig(container, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{label}: securityContext.allowPrivilegeEscalation must be false"


k8s_no_privilege_escalation = resource_policy(
    "k8s-no-privilege-escalation",
    "Containers set allowPrivilegeEscalation: false.",
    MANDATORY,
    WORKLOAD,
    pod_check(_no_privilege_escalation),
    "Set securityContext.allowPrivilegeEscalation=false on every container.",
    "PSS restricted: Privilege Escalation; CIS AKS 4.2.5",
)

ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})


def _drop_all(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        capabilities = as_map(dig(container, "securityContext", "capabilities"))
        if "ALL" not in {str(c).upper() for c in as_list(capabilities.get("drop"))}:
            yield f"{label}: securityContext.capabilities.drop must include ALL"
        added = {str(c).upper() for c in as_list(capabilities.get("add"))} - ALLOWED_ADDED_CAPABILITIES
        if added:
            yield f"{label}: capabilities.add may only hold NET_BIND_SERVICE, got {', '.join(sorted(added))}"


k8s_drop_all_capabilities = resource_policy(
    "k8s-drop-all-capabilities",
    "Containers drop ALL capabilities and add none but NET_BIND_SERVICE.",
    MANDATORY,
    WORKLOAD,
    pod_check(_drop_all),
    "Set securityContext.capabilities={'drop': ['ALL']} on every container.",
    "PSS restricted: Capabilities; CIS AKS 4.2.7-4.2.9",
)


def _seccomp(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        profile = str(dig(_effective(spec, container, "seccompProfile"), "type") or "")
        if profile not in ("RuntimeDefault", "Localhost"):
            yield (
                f"{label}: seccompProfile.type must be RuntimeDefault (pod or container), got "
                f"{profile or 'none'}"
            )


k8s_seccomp_runtime_default = resource_policy(
    "k8s-seccomp-runtime-default",
    "Pods run with the RuntimeDefault (or a Localhost) seccomp profile.",
    MANDATORY,
    WORKLOAD,
    pod_check(_seccomp),
    "Set the pod's securityContext.seccompProfile={'type': 'RuntimeDefault'}.",
    "PSS restricted: Seccomp",
)


def _read_only_root(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if dig(container, "securityContext", "readOnlyRootFilesystem") is not True:
            yield f"{label}: securityContext.readOnlyRootFilesystem is not true"


k8s_read_only_root_filesystem = resource_policy(
    "k8s-read-only-root-filesystem",
    "Containers run with a read-only root filesystem (writable paths are emptyDir volumes).",
    ADVISORY,
    WORKLOAD,
    pod_check(_read_only_root),
    "Set securityContext.readOnlyRootFilesystem=true and mount an emptyDir at /tmp.",
    "AP: Kubernetes cluster containers should run with a read only root file system",
)


def _host_namespaces(spec: Mapping[str, Any]) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield f"{field} must not be true"
    for label, container in containers(spec):
        for port in as_list(container.get("ports")):
            if number(dig(port, "hostPort")):
                yield f"{label}: hostPort {dig(port, 'hostPort')} is not allowed"


k8s_no_host_namespaces = resource_policy(
    "k8s-no-host-namespaces",
    "Pods share no host namespace (network, PID, IPC) and use no host ports.",
    MANDATORY,
    WORKLOAD,
    pod_check(_host_namespaces),
    "Remove hostNetwork/hostPID/hostIPC and hostPort.",
    "PSS baseline: Host Namespaces, Host Ports; CIS AKS 4.2.2-4.2.4",
)


def _host_path(spec: Mapping[str, Any]) -> Iterator[str]:
    for volume in as_list(spec.get("volumes")):
        if dig(volume, "hostPath") is not None:
            yield f"volume {dig(volume, 'name')!s}: hostPath volumes are not allowed"


k8s_no_host_path_volumes = resource_policy(
    "k8s-no-host-path-volumes",
    "Pods mount no hostPath volumes.",
    MANDATORY,
    WORKLOAD,
    pod_check(_host_path),
    "Use emptyDir, configMap, projected or csi volumes instead.",
    "PSS baseline: HostPath Volumes; AP: hostPath volumes should only use allowed host paths",
)


def _privileged(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if dig(container, "securityContext", "privileged") is True:
            yield f"{label}: securityContext.privileged must not be true"


k8s_no_privileged_containers = resource_policy(
    "k8s-no-privileged-containers",
    "No container runs privileged.",
    MANDATORY,
    WORKLOAD,
    pod_check(_privileged),
    "Remove securityContext.privileged.",
    "PSS baseline: Privileged Containers; CIS AKS 4.2.1",
)


def _secrets_as_files(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        for env in as_list(container.get("env")):
            if dig(env, "valueFrom", "secretKeyRef") is not None:
                yield (
                    f"{label}: env {dig(env, 'name')!s} reads a Kubernetes Secret; mount secrets as CSI files"
                )
        for source in as_list(container.get("envFrom")):
            if dig(source, "secretRef") is not None:
                yield f"{label}: envFrom secretRef exposes a Secret as env vars; mount secrets as CSI files"


k8s_secrets_as_files = resource_policy(
    "k8s-secrets-as-files",
    "Containers get secrets as files (Key Vault CSI), never as environment variables from Secrets.",
    MANDATORY,
    WORKLOAD,
    pod_check(_secrets_as_files),
    "Mount a SecretProviderClass csi volume at /mnt/secrets and point the app at the file (*_FILE env vars).",
    "CIS AKS 4.4.1 Prefer using secrets as files over secrets as environment variables",
)
