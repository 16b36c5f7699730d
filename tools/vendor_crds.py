"""Regenerate tests/schemas/crds/ from upstream CustomResourceDefinition YAML files.

Each vendored file is the `openAPIV3Schema` of one served CRD version, with every `description`
removed (they are most of the bytes and validate nothing) and an `x-crd-source` block naming the
upstream repository, path, tag and commit. tests/schemas/crds/README.md lists the sources; this
script reads them from there, so the table is the single source of truth.

Usage: python -m tools.vendor_crds UPSTREAM_DIR
  UPSTREAM_DIR holds one checkout per repository, named owner+name (as the search tool's `fetch`
  lays them out, after `git worktree add` or `git archive` at the listed commit), e.g.
  UPSTREAM_DIR/kedacore+keda/config/crd/bases/keda.sh_scaledobjects.yaml.
"""

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CRD_DIR = REPO_ROOT / "tests" / "schemas" / "crds"
ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \| (?P<repo>[^ |]+) \| `(?P<path>[^`]+)` \| (?P<ref>[^ |]+) \| `(?P<commit>[0-9a-f]{40})` \|$"
)


def sources(readme: Path = CRD_DIR / "README.md") -> list[dict[str, str]]:
    """The provenance rows of the README table, one per vendored file."""
    rows = [
        m.groupdict() for line in readme.read_text(encoding="utf-8").splitlines() if (m := ROW.match(line))
    ]
    if not rows:
        raise SystemExit(f"no provenance rows found in {readme}")
    return rows


def without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def vendored_schema(crd: dict[str, Any], version: str, source: dict[str, str]) -> dict[str, Any]:
    """The JSON document vendored for one version of one CRD."""
    spec = crd["spec"]
    served = [v for v in spec["versions"] if v.get("served")]
    match = [v for v in served if v["name"] == version]
    if not match:
        raise SystemExit(f"{spec['group']} {spec['names']['kind']}: version {version} is not served upstream")
    schema = without_descriptions(match[0]["schema"]["openAPIV3Schema"])
    kind = spec["names"]["kind"]
    where = f"{source['repo']} {source['path']} at {source['ref']} ({source['commit']})"
    return {
        "$comment": f"openAPIV3Schema of {spec['group']}/{version} {kind} from {where}; descriptions removed",
        **schema,
        "x-crd-source": {
            "group": spec["group"],
            "kind": kind,
            "version": version,
            "scope": spec["scope"],
            "deprecated": bool(match[0].get("deprecated", False)),
            "servedVersions": [v["name"] for v in served],
            "source": {k: source[k] for k in ("repo", "path", "ref", "commit")},
        },
    }


def regenerate(upstream: Path, crd_dir: Path = CRD_DIR) -> list[Path]:
    written = []
    for row in sources(crd_dir / "README.md"):
        group, file_name = row["file"].split("/")
        kind_lower, version = file_name.removesuffix(".json").rsplit("_", 1)
        crd_file = upstream / row["repo"].replace("/", "+") / row["path"]
        if not crd_file.is_file():
            raise SystemExit(f"missing upstream file {crd_file} (check out {row['repo']} at {row['commit']})")
        crds = [
            d
            for d in yaml.safe_load_all(crd_file.read_text(encoding="utf-8"))
            if d
            and d.get("kind") == "CustomResourceDefinition"
            and d["spec"]["group"] == group
            and d["spec"]["names"]["kind"].lower() == kind_lower
        ]
        if len(crds) != 1:
            raise SystemExit(f"{crd_file}: expected one CRD for {group} {kind_lower}, found {len(crds)}")
        target = crd_dir / group / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(vendored_schema(crds[0], version, row), indent=1)
        target.write_text(text, encoding="utf-8")
        written.append(target)
        print(f"wrote {target}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("upstream", type=Path, help="directory of upstream checkouts named owner+name")
    regenerate(parser.parse_args(argv).upstream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
