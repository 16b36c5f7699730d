"""Which AKS Istio add-on revisions support which Kubernetes minors, and the checks built on that.

Istio add-on revisions (`asm-1-NN`) ship every few months and each supports a window of Kubernetes
minors; a revision that falls out of support blocks cluster upgrades. The table is data, updated by
hand from its source, and deliberately forgiving: a revision *newer* than the table passes with a
warning (confirm it with `az aks mesh get-revisions --location <region>`), so a stale table never
blocks a deploy. A known revision that does not support the configured minor is an error.

Each revision also has an (expected) end of life: once it has passed, AKS deprecates the revision and
no new mesh installation can use it (source below, "Supported revisions"). The calendar gives these
dates as estimates ("~Dec 2026 (expected)"), so a revision past its expected end of life is a warning
that names a newer revision to move to, not an error.

Source: AKS docs "Istio-based service mesh add-on support policy", section "Service mesh add-on release
calendar" (https://learn.microsoft.com/azure/aks/istio-support-policy; MicrosoftDocs/azure-aks-docs
articles/aks/istio-support-policy.md @ fb060ab, last changed 2026-06-24), checked 2026-12-02. The
calendar's "Compatible AKS LTS versions" column equals the standard column for every row below.
"""

import datetime
import re
from dataclasses import dataclass

from .kubernetes_versions import today

TABLE_URL = "https://learn.microsoft.com/azure/aks/istio-support-policy"
TABLE_SOURCE = f"{TABLE_URL} / `az aks mesh get-revisions`"
TABLE_DATE = "2026-12-02"
"""When the table was last compared with its source."""


@dataclass(frozen=True)
class SupportedMinors:
    """The inclusive range of Kubernetes minors one revision supports (`1.30` .. `1.35`), and the
    revision's end of life (the calendar gives a month: read as its last day)."""

    oldest: str
    newest: str
    end_of_life: datetime.date | None = None
    end_of_life_expected: bool = True
    """The calendar marks the date as an estimate ("~Aug 2026 (expected)")."""

    def contains(self, minor: str) -> bool:
        return _minor_number(self.oldest) <= _minor_number(minor) <= _minor_number(self.newest)


# revision -> Kubernetes minors it supports and its end of life. Update from the source above (source
# and check date: module docstring); add new revisions at the end.
SUPPORTED_KUBERNETES_MINORS: dict[str, SupportedMinors] = {
    # AKS release Jan 2026; end of life ~Aug 2026 (expected).
    "asm-1-28": SupportedMinors("1.30", "1.35", datetime.date(2026, 8, 31)),
    # AKS release Apr 2026; end of life ~Sept 2026 (expected).
    "asm-1-29": SupportedMinors("1.31", "1.36", datetime.date(2026, 9, 30)),
    # AKS release July 2026; end of life ~Dec 2026 (expected).
    "asm-1-30": SupportedMinors("1.32", "1.36", datetime.date(2026, 12, 31)),
}

DEFAULT_ISTIO_REVISIONS = ("asm-1-30",)
"""The default Istio add-on revision: the newest in the table; it supports Kubernetes 1.32-1.36."""

_REVISION = re.compile(r"^asm-1-(\d+)$")


def revision_number(revision: str) -> int:
    """`asm-1-28` -> 28. Raises ValueError for anything that is not an add-on revision."""
    match = _REVISION.fullmatch(revision)
    if match is None:
        raise ValueError(f"{revision!r} is not an Istio add-on revision (asm-1-NN)")
    return int(match.group(1))


def _minor_number(minor: str) -> int:
    return int(minor.split(".")[1])


def newest_revision(revisions: list[str]) -> str:
    """The newest of the given revisions (by number, not by string order: asm-1-9 < asm-1-10)."""
    return max(revisions, key=revision_number)


@dataclass(frozen=True)
class RevisionCheck:
    """Outcome of checking revisions against a Kubernetes minor: blocking errors and warnings."""

    errors: list[tuple[int, str]]
    """(index into the revisions list, message)."""
    warnings: list[str]


def check_revisions(
    revisions: list[str], kubernetes_minor: str, *, on: datetime.date | None = None
) -> RevisionCheck:
    """Check each revision against the table for the configured Kubernetes minor (`1.36`) on a date
    (default: today).

    Also checks the canary rules: at most two revisions, and two only when consecutive.
    """
    on = on or today()
    errors: list[tuple[int, str]] = []
    warnings: list[str] = []
    known = sorted(SUPPORTED_KUBERNETES_MINORS, key=revision_number)
    oldest_known, newest_known = revision_number(known[0]), revision_number(known[-1])
    for index, revision in enumerate(revisions):
        number = revision_number(revision)
        supported = SUPPORTED_KUBERNETES_MINORS.get(revision)
        if supported is not None:
            if not supported.contains(kubernetes_minor):
                alternatives = ", ".join(compatible_revisions(kubernetes_minor)) or "none"
                errors.append(
                    (
                        index,
                        f"Istio revision {revision} supports Kubernetes {supported.oldest}-"
                        f"{supported.newest}, not {kubernetes_minor} "
                        f"(table of {TABLE_DATE}: {TABLE_SOURCE}); "
                        f"supported with {kubernetes_minor}: {alternatives}",
                    )
                )
            elif supported.end_of_life is not None and on > supported.end_of_life:
                message = _end_of_life_message(revision, supported, kubernetes_minor, on)
                if supported.end_of_life_expected:
                    warnings.append(message)
                else:
                    errors.append((index, message))
        elif number > newest_known:
            warnings.append(
                f"Istio revision {revision} is newer than the revision table ({TABLE_DATE}, newest "
                f"{known[-1]}): confirm it supports Kubernetes {kubernetes_minor} with "
                "`az aks mesh get-revisions --location <region>` and add it to components/istio_revisions.py"
            )
        elif number < oldest_known:
            errors.append(
                (
                    index,
                    f"Istio revision {revision} is older than every supported revision ({', '.join(known)})",
                )
            )
        else:
            errors.append(
                (index, f"Istio revision {revision} is not a released revision ({', '.join(known)})")
            )
    if len(set(revisions)) != len(revisions):
        errors.append((-1, f"lists a revision twice ({', '.join(revisions)})"))
    elif len(revisions) > 2:
        errors.append((-1, f"at most two revisions (two only during a canary upgrade), got {len(revisions)}"))
    elif len(revisions) == 2:
        first, second = sorted(revision_number(r) for r in revisions)
        if second - first != 1:
            errors.append((-1, f"a canary upgrade needs consecutive revisions, got {', '.join(revisions)}"))
    return RevisionCheck(errors=errors, warnings=warnings)


def _end_of_life_message(revision: str, supported: SupportedMinors, minor: str, on: datetime.date) -> str:
    newer = [
        r
        for r in compatible_revisions(minor)
        if revision_number(r) > revision_number(revision)
        and not ((end := SUPPORTED_KUBERNETES_MINORS[r].end_of_life) is not None and on > end)
    ]
    expected = "was expected to reach" if supported.end_of_life_expected else "reached"
    move = (
        f"move to {', '.join(newer)}"
        if newer
        else "move to a newer revision: `az aks mesh get-revisions --location <region>` lists them"
    )
    return (
        f"Istio revision {revision} {expected} end of life on {supported.end_of_life:%b %Y} "
        f"(table of {TABLE_DATE}: {TABLE_SOURCE}); AKS installs no new mesh on a deprecated revision: {move}"
    )


def compatible_revisions(kubernetes_minor: str) -> list[str]:
    """Known revisions that support a Kubernetes minor, oldest first."""
    return [
        revision
        for revision in sorted(SUPPORTED_KUBERNETES_MINORS, key=revision_number)
        if SUPPORTED_KUBERNETES_MINORS[revision].contains(kubernetes_minor)
    ]
