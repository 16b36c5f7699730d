"""The shared recording-mocks fixtures: every test sees what the Pulumi engine would receive."""

import sys
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


@pytest.fixture(scope="session")
def stack_plan() -> Callable[[str], Plan]:
    """The offline plan of a stack in `stacks/`, computed once per test session."""
    cache: dict[str, Plan] = {}

    def get(stack: str) -> Plan:
        if stack not in cache:
            cache[stack] = plan_stack(stack)
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
