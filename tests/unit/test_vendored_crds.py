"""The CRD schemas the tests validate against live in the repository, with their provenance."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tools import vendor_crds

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "tests" / "schemas" / "crds"


def vendored_files() -> set[str]:
    return {p.relative_to(CRD_DIR).as_posix() for p in CRD_DIR.glob("*/*.json")}


def test_every_vendored_schema_has_a_provenance_row_and_every_row_a_file():
    rows = {row["file"] for row in vendor_crds.sources()}
    assert rows == vendored_files()


def test_each_schema_names_the_source_its_row_gives():
    for row in vendor_crds.sources():
        source = json.loads((CRD_DIR / row["file"]).read_text(encoding="utf-8"))["x-crd-source"]
        assert source["source"] == {k: row[k] for k in ("repo", "path", "ref", "commit")}, row["file"]
        assert row["file"] == f"{source['group']}/{source['kind'].lower()}_{source['version']}.json"


def _upstream_crd(vendored: dict) -> dict:
    """An upstream-shaped CRD carrying the vendored schema, with descriptions put back in."""
    source = vendored["x-crd-source"]
    schema = {k: v for k, v in vendored.items() if k not in ("$comment", "x-crd-source")}
    described = json.loads(json.dumps(schema))
    described["description"] = "upstream prose the vendored copy drops"
    described["properties"]["spec"]["description"] = "more prose"
    versions = [
        {"name": v, "served": True, "storage": v == source["version"]}
        | ({"schema": {"openAPIV3Schema": described}} if v == source["version"] else {})
        | ({"deprecated": True} if source["deprecated"] and v == source["version"] else {})
        for v in source["servedVersions"]
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{source['kind'].lower()}s.{source['group']}"},
        "spec": {
            "group": source["group"],
            "names": {"kind": source["kind"]},
            "scope": source["scope"],
            "versions": versions,
        },
    }


def test_regenerating_from_upstream_crds_reproduces_the_vendored_files(tmp_path):
    upstream = tmp_path / "upstream"
    out = tmp_path / "crds"
    out.mkdir()
    shutil.copy(CRD_DIR / "README.md", out / "README.md")
    by_file: dict[Path, list[dict]] = {}
    for row in vendor_crds.sources():
        vendored = json.loads((CRD_DIR / row["file"]).read_text(encoding="utf-8"))
        crd_file = upstream / row["repo"].replace("/", "+") / row["path"]
        by_file.setdefault(crd_file, []).append(_upstream_crd(vendored))
    for crd_file, crds in by_file.items():
        crd_file.parent.mkdir(parents=True, exist_ok=True)
        # Upstream files mix in other documents (other kinds, comments): they must be ignored.
        other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "noise"}}
        crd_file.write_text(yaml.safe_dump_all([other, *crds], sort_keys=False), encoding="utf-8")

    written = vendor_crds.regenerate(upstream, out)

    assert {p.relative_to(out).as_posix() for p in written} == vendored_files()
    for name in vendored_files():
        assert (out / name).read_text(encoding="utf-8") == (CRD_DIR / name).read_text(encoding="utf-8"), name


def test_regenerating_refuses_a_missing_upstream_file(tmp_path):
    out = tmp_path / "crds"
    out.mkdir()
    shutil.copy(CRD_DIR / "README.md", out / "README.md")
    with pytest.raises(SystemExit, match="missing upstream file"):
        vendor_crds.regenerate(tmp_path / "nothing", out)


OUTSIDE = re.compile(r"""\.\./shared|["']/work/|parent\s*/\s*["']shared|parents\[\d\]\s*/\s*["']shared""")


def test_nothing_in_tests_tools_or_components_reads_outside_the_repository():
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{n}"
        for folder in ("tests", "tools", "components", "policy", "benchmarks")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if path != Path(__file__).resolve()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []
