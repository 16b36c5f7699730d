"""Another Pulumi program can `pip install` this repo and import the components as `aks_grpc`.

The quick check: the wheel (tests/program/packaging.py) installed with `--target` next to this venv's
dependencies. tests/program/test_consumer.py does the same in a fresh virtualenv from PyPI.
"""

import inspect
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pulumi

import components
from tests.program.packaging import build_wheel

CONSUMER = textwrap.dedent(
    """
    import json
    import sys

    import pulumi

    import aks_grpc
    from aks_grpc import WorkloadIdentity, WorkloadIdentityArgs

    try:
        import components
    except ModuleNotFoundError:
        components = None

    registered = []


    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            registered.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
            outputs = {**args.inputs, "principalId": "p-1", "clientId": "c-1"}
            return f"/fake/{args.name}", outputs

        def call(self, args):
            return {}


    pulumi.runtime.set_mocks(Mocks(), project="consumer", stack="test", preview=False)


    @pulumi.runtime.test
    def program():
        identity = WorkloadIdentity(
            "orders",
            WorkloadIdentityArgs(
                resource_group_name="rg-orders",
                location="westeurope",
                name="id-orders",
                oidc_issuer_url="https://issuer.example/",
                namespace="orders",
                service_account="orders-api",
                subscription_id="00000000-0000-0000-0000-000000000000",
            ),
        )
        return identity.client_id


    program()
    print(json.dumps({"package": aks_grpc.__file__, "components": components is not None, "registered": registered}))
    """
)


def test_installed_package_builds_a_component_in_a_consumer_program(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(build_wheel()),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    assert (site / "aks_grpc" / "identity.py").exists()
    assert (site / "aks_grpc" / "py.typed").exists(), "PEP 561: the package says it is typed"
    shipped = {p.name for p in site.iterdir() if not p.name.endswith((".dist-info", ".egg-info"))}
    assert shipped == {"aks_grpc"}, f"only the aks_grpc package ships, not {sorted(shipped - {'aks_grpc'})}"

    program = tmp_path / "consumer" / "__main__.py"
    program.parent.mkdir()
    program.write_text(CONSUMER)
    # -P: the consumer's folder is not on sys.path; the repo is not either (cwd is the temp folder).
    result = subprocess.run(
        [sys.executable, "-P", str(program)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["package"].startswith(str(site)), report["package"]
    assert report["components"] is False, "the installed package is aks_grpc, not a top-level components"
    by_type = {r["type"]: r for r in report["registered"]}
    assert "aksgrpc:index:WorkloadIdentity" in by_type
    credential = by_type["azure-native:managedidentity:FederatedIdentityCredential"]["inputs"]
    assert credential["subject"] == "system:serviceaccount:orders:orders-api"
    assert credential["issuer"] == "https://issuer.example/"


def test_the_package_exports_every_component_and_its_args_by_name() -> None:
    """`from aks_grpc import X` for every component and its Args: real names in `__all__`, no lazy getattr."""
    assert not hasattr(components, "__getattr__"), "a lazy __getattr__ hides the types from mypy"
    exported = set(components.__all__)
    assert all(name in vars(components) for name in exported), "every name in __all__ is imported"
    for module in pkgutil.iter_modules(components.__path__):
        namespace = vars(__import__(f"components.{module.name}", fromlist=["_"]))
        for name, value in namespace.items():
            if not (inspect.isclass(value) and value.__module__ == f"components.{module.name}"):
                continue
            if issubclass(value, pulumi.ComponentResource):
                args = inspect.get_annotations(value.__init__).get("args")
                assert name in exported, f"components/__init__.py does not export {name}"
                assert args is not None and args.__name__ in exported, f"{name}'s Args are not exported"
