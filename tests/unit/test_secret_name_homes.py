"""The platform's Key Vault secret names are spelt in one place each: the App Insights secret in
`keyvault_rules.APP_INSIGHTS_SECRET`, a service's backend TLS secret in `naming.backend_tls_secret_name`.
A second literal copy would drift the day one of them changes."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted(p for folder in ("components", "program") for p in (ROOT / folder).rglob("*.py")),
    ROOT / "__main__.py",
]

HOMES = {
    "App Insights secret": (
        re.compile(r"""["']appinsights-connection-string["']"""),
        "components/keyvault_rules.py",
    ),
    "backend TLS secret": (
        re.compile(r"""f["'][^"']*\{[^}]+\}-tls["']|["']greeter-tls["']"""),
        "components/naming.py",
    ),
}


@pytest.mark.parametrize("what", sorted(HOMES))
def test_the_secret_name_is_spelt_only_in_its_home(what: str) -> None:
    pattern, home = HOMES[what]
    spelt = {str(p.relative_to(ROOT)) for p in SOURCES if pattern.search(p.read_text())}
    assert spelt == {home}, f"{what}: spelt outside {home}: {sorted(spelt - {home})}"
