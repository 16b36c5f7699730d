"""Kubernetes workload reliability: resources, probes, pinned images, PodDisruptionBudgets, autoscalers and
gRPC Service ports, on single objects and across the stack's objects.

Nothing here assumes one workload: the stack policies key every Deployment/StatefulSet, PDB and
autoscaler by (namespace, kind, name), so several services, in several namespaces (or sharing one, or
reusing one object name in two namespaces), are each checked against their own objects.
"""

import math
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
)

from .helpers import (
    MANDATORY,
    as_list,
    as_map,
    dig,
    k8s_kind,
    name_of,
    namespace_of,
    number,
    objects,
    of_kinds,
    resource_policy,
    stack_policy,
)
from .pods import WORKLOAD, containers, pod_check


def _requests_limits(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        resources = as_map(container.get("resources"))
        for field in ("cpu", "memory"):
            if dig(resources, "requests", field) in (None, "", 0):
                yield f"{label}: resources.requests.{field} must be set"
        if dig(resources, "limits", "memory") in (None, "", 0):
            yield f"{label}: resources.limits.memory must be set"


k8s_resource_requests_limits = resource_policy(
    "k8s-resource-requests-limits",
    "Containers request CPU and memory and limit memory.",
    MANDATORY,
    WORKLOAD,
    pod_check(_requests_limits),
    "Set resources.requests.{cpu,memory} and resources.limits.memory on every container.",
    "AP: Kubernetes cluster containers CPU and memory resource limits; reliability",
)


def _probes(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec, init=False):
        for probe in ("readinessProbe", "livenessProbe"):
            if not as_map(container.get(probe)):
                yield f"{label}: {probe} must be set"
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            port = dig(container, probe, "grpc", "port")
            if isinstance(port, str):
                yield (
                    f"{label}: {probe}.grpc.port must be a number (named ports are not allowed "
                    "for gRPC probes)"
                )


k8s_probes = resource_policy(
    "k8s-probes",
    "Containers have readiness and liveness probes (gRPC probes on numbered ports).",
    MANDATORY,
    of_kinds("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"),
    pod_check(_probes),
    "Add readinessProbe/livenessProbe (grpc: {port: <the service's gRPC port>, service: readiness|liveness} for the "
    "gRPC service).",
    "reliability (Kubernetes docs: configure probes)",
)


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it is (`repo:tag` not latest, or a digest)."""
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image} has no tag (means latest)"
    if last.rsplit(":", 1)[1].lower() == "latest":
        return f"image {image} uses the latest tag"
    return None


def _images(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        problem = image_problem(container.get("image"))
        if problem:
            yield f"{label}: {problem}"


k8s_image_pinned = resource_policy(
    "k8s-image-pinned",
    "Container images are pinned to a tag other than latest, or to a digest.",
    MANDATORY,
    WORKLOAD,
    pod_check(_images),
    "Use repo:<version> or repo@sha256:<digest>.",
    "AP: Kubernetes cluster containers should only use allowed images; reliability",
)


def _percent(value: Any) -> float | None:
    if isinstance(value, str) and value.strip().endswith("%"):
        return number(value.strip()[:-1])
    return None


def _pdb(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    spec = as_map(props.get("spec"))
    max_unavailable, min_available = spec.get("maxUnavailable"), spec.get("minAvailable")
    if max_unavailable is None and min_available is None:
        yield "set spec.maxUnavailable (1 or more) so node drains can evict a pod"
    if max_unavailable is not None and (number(max_unavailable) == 0 or _percent(max_unavailable) == 0):
        yield f"spec.maxUnavailable {max_unavailable} blocks every drain and upgrade"
    if min_available is not None and (_percent(min_available) or 0) >= 100:
        yield f"spec.minAvailable {min_available} blocks every drain and upgrade"


k8s_pdb_allows_drain = resource_policy(
    "k8s-pdb-allows-drain",
    "PodDisruptionBudgets never forbid every eviction (maxUnavailable 0 or minAvailable 100%).",
    MANDATORY,
    of_kinds("PodDisruptionBudget"),
    _pdb,
    "Use spec.maxUnavailable: 1.",
    "AKS docs: upgrades stall on PDBs allowing zero disruptions; reliability",
)

MIN_AUTOSCALED_REPLICAS = 2


def _min_replicas(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    kind = (k8s_kind(resource_type) or ("", ""))[1]
    field, default = ("minReplicaCount", 0) if kind == "ScaledObject" else ("minReplicas", 1)
    value = number(dig(props, "spec", field))
    value = default if value is None else value
    if value < MIN_AUTOSCALED_REPLICAS:
        yield (
            f"spec.{field} is {value:g}: at least {MIN_AUTOSCALED_REPLICAS} so a drain or crash "
            "never takes the service down"
        )


k8s_autoscaler_min_replicas = resource_policy(
    "k8s-autoscaler-min-replicas",
    f"HorizontalPodAutoscalers and KEDA ScaledObjects keep at least {MIN_AUTOSCALED_REPLICAS} replicas.",
    MANDATORY,
    lambda t: (
        of_kinds("HorizontalPodAutoscaler", group="autoscaling")(t)
        or of_kinds("ScaledObject", group="keda.sh")(t)
    ),
    _min_replicas,
    f"Set spec.minReplicas (HPA) / spec.minReplicaCount (KEDA) to {MIN_AUTOSCALED_REPLICAS} or more.",
    "reliability (AKS best practices: high availability)",
)


def _is_grpc_name(name: str) -> bool:
    return name == "grpc" or name.startswith("grpc-")


def _grpc_ports(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    for port in as_list(dig(props, "spec", "ports")):
        name = str(dig(port, "name") or "")
        app_protocol = dig(port, "appProtocol")
        if _is_grpc_name(name) and app_protocol != "grpc":
            yield f"port {name}: appProtocol must be grpc (Istio then balances per request)"
        if app_protocol == "grpc" and not _is_grpc_name(name):
            yield f"port {name or dig(port, 'port')}: a gRPC port must be named grpc or grpc-<suffix>"


k8s_grpc_service_ports = resource_policy(
    "k8s-grpc-service-ports",
    "gRPC Service ports are named grpc-* and declare appProtocol grpc.",
    MANDATORY,
    of_kinds("Service", group="core"),
    _grpc_ports,
    "Name the port grpc (or grpc-<suffix>) and set app_protocol='grpc'.",
    "Istio docs: protocol selection; platform (per-request gRPC balancing)",
)


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A LabelSelector against labels; an empty or missing selector matches nothing (as in a PDB)."""
    selector = as_map(selector)
    match_labels = as_map(selector.get("matchLabels"))
    expressions = as_list(selector.get("matchExpressions"))
    if not match_labels and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in expressions:
        key, operator = dig(expression, "key"), dig(expression, "operator")
        values = [str(v) for v in as_list(dig(expression, "values"))]
        present = key in labels
        if (
            (operator == "In" and not (present and str(labels[key]) in values))
            or (operator == "NotIn" and present and str(labels[key]) in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


SCALED_KINDS = ("Deployment", "StatefulSet")

Target = tuple[str, str, str]
"""(namespace, kind, name) of a Deployment/StatefulSet: unique per object, however many services there are."""


def _target(resource: PolicyResource, obj: Mapping[str, Any]) -> Target:
    return namespace_of(obj), (k8s_kind(resource.resource_type) or ("", ""))[1], name_of(obj, resource)


def _scaler_targets(resources: list[PolicyResource]) -> dict[Target, list[tuple[float, PolicyResource]]]:
    """Each autoscaled workload -> (minimum replicas, autoscaler) of every autoscaler that targets it.

    A list, not one autoscaler: with several services a copied scaleTargetRef can point two autoscalers
    at one workload, and none of them may drop out of the checks."""
    targets: dict[Target, list[tuple[float, PolicyResource]]] = {}
    for resource, obj in objects(resources, "HorizontalPodAutoscaler", "ScaledObject"):
        is_keda = (k8s_kind(resource.resource_type) or ("", ""))[1] == "ScaledObject"
        ref = as_map(dig(obj, "spec", "scaleTargetRef"))
        kind = str(ref.get("kind") or ("Deployment" if is_keda else ""))
        minimum = number(dig(obj, "spec", "minReplicaCount" if is_keda else "minReplicas"))
        minimum = (0.0 if is_keda else 1.0) if minimum is None else minimum
        key = (namespace_of(obj), kind, str(ref.get("name") or ""))
        targets.setdefault(key, []).append((minimum, resource))
    return targets


def _min_available_problems(
    target: Target, pdbs: list[tuple[PolicyResource, Mapping[str, Any]]], replicas: float
) -> Iterator[str]:
    """The PDBs whose minAvailable leaves no pod of `target` (at `replicas` replicas) evictable."""
    namespace, kind, name = target
    for pdb_resource, pdb in pdbs:
        min_available = dig(pdb, "spec", "minAvailable")
        if min_available is None:
            continue
        percent = _percent(min_available)
        required = math.ceil(percent * replicas / 100) if percent is not None else number(min_available)
        if required is not None and required >= replicas:
            yield (
                f"PodDisruptionBudget {namespace}/{name_of(pdb, pdb_resource)} needs minAvailable "
                f"{min_available} of "
                f"{replicas:g} replicas of {kind} {name}: no pod can ever be evicted, drains "
                "and upgrades stall"
            )


def _check_pdb_coverage(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    pdbs = objects(resources, "PodDisruptionBudget")
    scalers = _scaler_targets(resources)
    for resource, obj in objects(resources, *SCALED_KINDS):
        target = _target(resource, obj)
        namespace, kind, name = target
        labels = as_map(dig(obj, "spec", "template", "metadata", "labels"))
        matching = [
            (r, p)
            for r, p in pdbs
            if namespace_of(p) == namespace and selector_matches(dig(p, "spec", "selector"), labels)
        ]
        if not matching:
            yield f"{kind} {namespace}/{name} has no PodDisruptionBudget selecting its pods", resource.urn
            continue
        if len(matching) > 1:
            # Kubernetes' eviction subresource (pkg/registry/core/pod/storage/eviction.go) answers 500
            # "This pod has more than one PodDisruptionBudget" whatever each budget allows.
            names = ", ".join(sorted(f"{namespace}/{name_of(p, r)}" for r, p in matching))
            yield (
                f"{kind} {namespace}/{name}: its pods are selected by {len(matching)} "
                f"PodDisruptionBudgets ({names}); the eviction API refuses to evict a pod covered by more "
                "than one, drains and upgrades stall",
                resource.urn,
            )
        owners = scalers.get(target)
        # Several autoscalers on one workload: the lowest minimum is the replica count a drain may meet.
        replicas = min(m for m, _ in owners) if owners else (number(dig(obj, "spec", "replicas")) or 1.0)
        for problem in _min_available_problems(target, matching, replicas):
            yield problem, resource.urn


k8s_workload_has_drainable_pdb = stack_policy(
    "k8s-workload-has-drainable-pdb",
    "Every Deployment/StatefulSet has a PodDisruptionBudget selecting its pods that still allows "
    "one eviction.",
    MANDATORY,
    _check_pdb_coverage,
    "Add a PodDisruptionBudget (policy/v1) with the pod labels as selector and maxUnavailable: 1.",
    "reliability (AKS docs: plan for availability using PDBs)",
)


def _check_scaler_targets(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    existing = {_target(r, obj) for r, obj in objects(resources, *SCALED_KINDS)}
    for (namespace, kind, name), owners in _scaler_targets(resources).items():
        if (namespace, kind, name) in existing:
            continue
        for _, scaler in owners:
            yield (
                f"{scaler.name}: scaleTargetRef {kind} {namespace}/{name} is not part of the stack",
                scaler.urn,
            )


k8s_autoscaler_target_exists = stack_policy(
    "k8s-autoscaler-target-exists",
    "Every HPA / KEDA ScaledObject targets a Deployment or StatefulSet that the stack creates.",
    MANDATORY,
    _check_scaler_targets,
    "Point scaleTargetRef at the workload's kind and metadata.name in the same namespace.",
    "reliability (an autoscaler with a missing target silently does nothing)",
)


def _check_replicas_with_scaler(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    scalers = _scaler_targets(resources)
    for resource, obj in objects(resources, *SCALED_KINDS):
        key = _target(resource, obj)
        kind = key[1]
        if key in scalers and dig(obj, "spec", "replicas") is not None:
            owners = ", ".join(scaler.name for _, scaler in scalers[key])
            yield (
                f"{kind} {key[0]}/{key[2]} sets spec.replicas but {owners} owns the "
                "replica count: "
                "every deploy would reset it",
                resource.urn,
            )


k8s_no_replicas_with_autoscaler = stack_policy(
    "k8s-no-replicas-with-autoscaler",
    "A Deployment/StatefulSet owned by an HPA or KEDA ScaledObject does not set spec.replicas.",
    MANDATORY,
    _check_replicas_with_scaler,
    "Omit spec.replicas on autoscaled workloads.",
    "Kubernetes docs: HPA, migrating Deployments to horizontal autoscaling",
)
