"""The shared recording-mocks fixtures: every test sees what the Pulumi engine would receive."""

import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tools.mock_engine import Plan, run_program  # noqa: E402
from tools.offline_plan import available_stacks, plan_stack  # noqa: E402

STACKS = available_stacks()
EXAMPLE_STACKS: dict[str, tuple[str, Path]] = {
    "two-services": ("dev", REPO_ROOT / "examples" / "two-services.yaml"),
}
"""Example stack files planned like the stacks (`--stack dev --stack-file examples/two-services.yaml`)."""

PLANNED_STACKS = [*STACKS, *EXAMPLE_STACKS]
"""Every stack file the suite plans: the shipped stacks and the examples, held to the same invariants."""


def stack_file(stack: str) -> Path:
    """The stack file of a stack in `stacks/` or of an `EXAMPLE_STACKS` entry."""
    return (
        EXAMPLE_STACKS[stack][1] if stack in EXAMPLE_STACKS else REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    )


def plan_named(stack: str) -> Plan:
    """`plan_stack` of a stack in `stacks/` or of an example stack file (`EXAMPLE_STACKS`)."""
    if stack in EXAMPLE_STACKS:
        name, stack_file = EXAMPLE_STACKS[stack]
        return plan_stack(name, stack_file)
    return plan_stack(stack)


def _shared_plan(stack: str, directory: Path) -> Plan:
    """`plan_stack(stack)` computed once for all pytest-xdist workers of this run.

    The first worker to ask creates `<stack>.lock` and writes the pickled plan; the others wait for
    the pickle (or, if the computing worker died, compute it themselves after PLAN_WAIT seconds).
    """
    done, lock = directory / f"{stack}.pickle", directory / f"{stack}.lock"
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        deadline = time.monotonic() + PLAN_WAIT
        while time.monotonic() < deadline:
            if done.exists():
                return pickle.loads(done.read_bytes())
            time.sleep(0.05)
        return plan_named(stack)
    plan = plan_named(stack)
    partial = done.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(plan))
    partial.replace(done)  # atomic: a waiting worker never reads half a file
    return plan


PLAN_WAIT = 120.0


@pytest.fixture(scope="session")
def stack_plan(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[str], Plan]:
    """The offline plan of a stack in `stacks/` (or an `EXAMPLE_STACKS` file), computed once per test run
    (shared by xdist workers)."""
    cache: dict[str, Plan] = {}
    # Workers of one run share the parent of their base temp directories; a run without xdist
    # computes in-process.
    in_xdist_worker = hasattr(request.config, "workerinput")  # also works with `-p no:xdist`
    shared = tmp_path_factory.getbasetemp().parent / "stack-plans" if in_xdist_worker else None
    if shared is not None:
        shared.mkdir(exist_ok=True)

    def get(stack: str) -> Plan:
        if stack not in cache:
            cache[stack] = _shared_plan(stack, shared) if shared is not None else plan_named(stack)
        return cache[stack]

    return get


@pytest.fixture
def run_mocked() -> Callable[..., Plan]:
    """Run any function (e.g. one that builds a single component) under the recording mocks.

    `run_mocked(fn, config={"aks-grpc:environment": "dev"}, stack="test")` returns the `Plan` with
    every registration's type, name, parent, provider, dependencies and inputs (camelCase).
    """

    def run(program: Callable[[], Any], config: dict[str, Any] | None = None, stack: str = "test") -> Plan:
        return run_program(program, config or {}, stack=stack)

    return run
