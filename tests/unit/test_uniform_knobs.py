"""The shared knobs of components/common.py: one spelling of lock, role assignments, diagnostics and tags."""

import pytest

from components.common import (
    DiagnosticsArgs,
    LockLevel,
    PrincipalType,
    RoleAssignmentArgs,
    diagnostic_settings,
    management_lock,
    resolve_deployer_principal_type,
    resource_tags,
    validate_lock_level,
    validate_principal_type,
    validate_role_assignments,
    validate_tags,
    validate_uniform_knobs,
)
from program.adapters.deployer import deployer_principal_type as program_deployer_principal_type

GROUP = "11111111-2222-4333-8444-555555555555"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
SCOPE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("CanNotDelete", LockLevel.CAN_NOT_DELETE),
        (LockLevel.READ_ONLY, LockLevel.READ_ONLY),
    ],
)
def test_lock_levels_are_the_two_azure_knows(value, expected):
    assert validate_lock_level(value) is expected


@pytest.mark.parametrize("value", ["Frozen", "cannotdelete", "Delete"])
def test_other_lock_levels_are_refused_naming_the_field(value):
    with pytest.raises(ValueError, match=r"^lock: "):
        validate_lock_level(value)


def test_principal_types_accept_the_enum_and_its_plain_spelling():
    assert validate_principal_type("Group") is PrincipalType.GROUP
    assert RoleAssignmentArgs(
        principal_id=GROUP, role_definition_id=READER, principal_type="User"
    ).principal_type is (  # type: ignore[arg-type]
        PrincipalType.USER
    )
    with pytest.raises(ValueError, match=r"^principal_type: 'Device'"):
        RoleAssignmentArgs(principal_id=GROUP, role_definition_id=READER, principal_type="Device")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        (
            [RoleAssignmentArgs(principal_id=GROUP, role_definition_id="Reader")],
            r"^role_assignments\[0\]\.role_definition_id",
        ),
        (
            [RoleAssignmentArgs(principal_id="someone", role_definition_id=READER)],
            r"^role_assignments\[0\]\.principal_id",
        ),
        (
            [
                RoleAssignmentArgs(principal_id=GROUP, role_definition_id=READER),
                RoleAssignmentArgs(
                    principal_id=GROUP.upper(),
                    role_definition_id=f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                ),
            ],
            r"^role_assignments\[1\]: the same principal gets the same role twice",
        ),
    ],
)
def test_role_assignments_azure_would_refuse_are_refused(assignments, message):
    with pytest.raises(ValueError, match=message):
        validate_role_assignments(assignments)


def test_role_assignments_with_a_full_role_id_or_an_output_principal_pass():
    validate_role_assignments(
        [
            RoleAssignmentArgs(
                principal_id=GROUP,
                role_definition_id=f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            )
        ]
    )


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({f"t{i}": "v" for i in range(51)}, r"^tags: 51 tags"),
        ({"": "v"}, r"^tags: '' is not a tag name"),
        ({"cost/center": "v"}, r"^tags: 'cost/center'"),
        ({"owner": "x" * 257}, r"^tags\.owner: "),
    ],
)
def test_tags_azure_would_refuse_are_refused(tags, message):
    with pytest.raises(ValueError, match=message):
        validate_tags(tags)


def test_empty_tags_send_nothing_and_given_tags_are_sent_as_is():
    validate_tags({f"t{i}": "v" for i in range(50)})
    assert resource_tags({}) is None
    assert resource_tags({"team": "a"}) == {"team": "a"}


def test_uniform_knobs_check_each_knob_with_its_field_name():
    with pytest.raises(ValueError, match=r"^diagnostics: give at least one"):
        validate_uniform_knobs(
            tags={},
            lock=None,
            role_assignments=[],
            diagnostics=DiagnosticsArgs(workspace_id=WORKSPACE, metrics=False),
        )
    validate_uniform_knobs(
        tags={}, lock=None, role_assignments=[], diagnostics=DiagnosticsArgs(workspace_id=WORKSPACE)
    )


def test_diagnostics_use_the_components_categories_unless_the_knob_names_its_own(run_mocked):
    def program() -> None:
        diagnostic_settings(
            "a", resource_id=SCOPE, diagnostics=DiagnosticsArgs(WORKSPACE), default_categories=["AuditEvent"]
        )
        diagnostic_settings(
            "b",
            resource_id=SCOPE,
            diagnostics=DiagnosticsArgs(WORKSPACE, category_groups=["allLogs"]),
            default_categories=["AuditEvent"],
        )
        assert (
            diagnostic_settings("c", resource_id=SCOPE, diagnostics=None, default_categories=["AuditEvent"])
            is None
        )

    plan = run_mocked(program)
    by_name = {r.name: r.inputs for r in plan.of_type("azure-native:monitor:DiagnosticSetting")}
    assert set(by_name) == {"a", "b"}
    assert by_name["a"]["logs"] == [{"category": "AuditEvent", "enabled": True}]
    assert by_name["b"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert by_name["a"]["workspaceId"] == WORKSPACE and by_name["a"]["resourceUri"] == SCOPE


def test_management_lock_takes_the_enum_or_its_plain_spelling(run_mocked):
    def program() -> None:
        management_lock("enum", scope=SCOPE, level=LockLevel.READ_ONLY)
        management_lock("plain", scope=SCOPE, level="CanNotDelete")
        assert management_lock("none", scope=SCOPE, level=None) is None

    plan = run_mocked(program)
    locks = {r.name: r.inputs for r in plan.of_type("azure-native:authorization:ManagementLockByScope")}
    assert locks["enum"]["level"] == "ReadOnly" and locks["enum"]["lockName"] == "lock-readonly"
    assert locks["plain"]["level"] == "CanNotDelete" and locks["plain"]["lockName"] == "lock-cannotdelete"
    assert set(locks) == {"enum", "plain"}


@pytest.mark.parametrize(
    ("configured", "environ", "expected"),
    [
        ("auto", {}, PrincipalType.USER),
        ("auto", {"ARM_CLIENT_ID": "x"}, PrincipalType.SERVICE_PRINCIPAL),
        ("auto", {"ARM_CLIENT_ID": "x", "AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE": "User"}, PrincipalType.USER),
        ("ServicePrincipal", {}, PrincipalType.SERVICE_PRINCIPAL),
    ],
)
def test_the_deployers_principal_type_is_decided_in_one_place(configured, environ, expected):
    assert resolve_deployer_principal_type(configured, environ) is expected
    assert program_deployer_principal_type(configured, environ) is expected


def test_the_program_side_reads_the_process_environment(monkeypatch):
    monkeypatch.delenv("AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE", raising=False)
    monkeypatch.setenv("ARM_CLIENT_ID", "ci-app")
    assert program_deployer_principal_type() is PrincipalType.SERVICE_PRINCIPAL
    monkeypatch.delenv("ARM_CLIENT_ID")
    assert program_deployer_principal_type() is PrincipalType.USER


def test_a_bad_principal_type_in_the_environment_is_refused_naming_the_variable():
    with pytest.raises(ValueError, match=r"^AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE: 'Robot'"):
        resolve_deployer_principal_type("auto", {"AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE": "Robot"})


def test_the_components_taking_the_knobs_pass_pulumis_component_schema_analyzer():
    from pulumi.provider.experimental.analyzer import Analyzer

    from components.backend_tls import BackendCertificate
    from components.identity import WorkloadIdentity
    from components.image import ServiceImage
    from components.keyvault import SecretStore
    from components.monitoring import ClusterMonitoring, Observability

    result = Analyzer("aksgrpc").analyze(
        [Observability, ClusterMonitoring, SecretStore, WorkloadIdentity, BackendCertificate, ServiceImage]
    )
    types = result["type_definitions"]
    assert {"LockLevel", "PrincipalType", "RoleAssignmentArgs", "DiagnosticsArgs"} <= set(types)
    assert [v.value for v in types["LockLevel"].enum] == ["CanNotDelete", "ReadOnly"]
    components = result["component_definitions"]
    for name in ("Observability", "SecretStore", "WorkloadIdentity"):
        assert {"tags", "lock", "roleAssignments"} <= set(components[name].inputs), name
    assert {"tags", "lock", "roleAssignments", "diagnostics", "location"} <= set(
        components["SecretStore"].inputs
    )
    assert "logAnalyticsWorkspaceId" in components["Observability"].outputs


def test_every_args_class_spells_the_shared_knobs_with_the_shared_types() -> None:
    """AVM style: a reader who learned `lock`/`diagnostics`/`role_assignments` on one component knows them
    on every other, so no Args class may declare them with a type of its own."""
    import dataclasses

    import components

    shared = {
        "lock": LockLevel | None,
        "diagnostics": DiagnosticsArgs | None,
        "role_assignments": list[RoleAssignmentArgs],
    }
    args_classes = [
        getattr(components, name)
        for name in components.__all__
        if name.endswith("Args") and dataclasses.is_dataclass(getattr(components, name))
    ]
    checked, wrong = 0, {}
    for cls in args_classes:
        hints = {f.name: f.type for f in dataclasses.fields(cls)}  # no string annotations in components
        for knob, expected in shared.items():
            if knob in hints:
                checked += 1
                if hints[knob] != expected:
                    wrong[f"{cls.__name__}.{knob}"] = hints[knob]
    assert checked >= 8, f"the knobs must be found on the Azure-facing Args (found {checked})"
    assert not wrong, f"use the shared knob types from components/common.py: {wrong}"
