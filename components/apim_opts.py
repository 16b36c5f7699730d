"""`ResourceOptions` plumbing the APIM components share (a candidate for components/common.py).

Dependencies travel in `opts.depends_on`, not in Args (the schema analyzer rejects resources as Args
fields). A component that registered with them would hold back *all* its children (a child registers
only once its parent has), so the APIM instance - 30-60 minutes to create - would wait for the cluster.
Each APIM component therefore registers without them (`without_dependencies`) and hands them to exactly
the children that must wait: the Kubernetes objects and the Key Vault secret writes.
"""

import copy

import pulumi


def opts_dependencies(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The resources in `opts.depends_on` as a list (it may be one resource, a list, or nothing)."""
    depends_on = opts.depends_on if opts else None
    if depends_on is None:
        return []
    if isinstance(depends_on, pulumi.Resource):
        return [depends_on]
    if isinstance(depends_on, list | tuple) and all(isinstance(d, pulumi.Resource) for d in depends_on):
        return list(depends_on)
    raise TypeError("depends_on of an APIM component must be a list of resources known at construction")


def without_dependencies(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions | None:
    """`opts` minus `depends_on`, for the component's own registration."""
    if opts is None or opts.depends_on is None:
        return opts
    stripped = copy.copy(opts)
    stripped.depends_on = None
    return stripped
