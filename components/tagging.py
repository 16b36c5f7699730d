"""One mechanism puts the stack's tags on every Azure resource that takes tags.

A stack transformation sees every resource the program registers, including the children of
components, so no component can forget them. A resource's own tags are kept; on a clash the stack's
tags win, so `environment`, `project` and `managed-by` always say the truth for governance.
"""

import inspect
from collections.abc import Mapping

import pulumi


def _takes_tags(resource: pulumi.Resource) -> bool:
    init = getattr(type(resource), "_internal_init", None)
    return init is not None and "tags" in inspect.signature(init).parameters


def tags_transformation(tags: Mapping[str, str]) -> pulumi.ResourceTransformation:
    """A transformation adding `tags` to every azure-native resource whose inputs have `tags`."""
    standard = dict(tags)

    def add_tags(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not args.type_.startswith("azure-native:") or not _takes_tags(args.resource):
            return None
        props = args.props
        own = props.get("tags") if isinstance(props, Mapping) else getattr(props, "tags", None)
        merged = pulumi.Output.from_input(own or {}).apply(lambda explicit: {**(explicit or {}), **standard})
        if isinstance(props, dict):
            props["tags"] = merged
        else:
            props.__dict__["tags"] = merged
        return pulumi.ResourceTransformationResult(props, args.opts)

    return add_tags


def apply_stack_tags(tags: Mapping[str, str]) -> None:
    """Register the tagging transformation for the whole stack (call before any resource)."""
    pulumi.runtime.register_stack_transformation(tags_transformation(tags))
