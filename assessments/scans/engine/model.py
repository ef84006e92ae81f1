"""Plain data the scan engine returns: findings with pointers, facts, limits and errors.

Everything here is framework-free and JSON-ready through `to_dict()`. A finding's status always
speaks for the practice its title names: "found" means the good practice is in place (or the
measure meets its documented threshold), "absent" means it is not, and "unknown" means the
engine could not determine it (unreadable input, a limit hit, missing permissions). "unknown"
is never reported as "absent".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["found", "absent", "unknown"]
# "searched": what an absent finding looked at (a path glob, manifests, a content pattern).
PointerKind = Literal["file", "commit", "api", "row", "searched"]

# (stage label, percent 0..100). The callback may raise ScanCancelled to stop the scan: the
# engine calls it between steps and while long git processes run, then kills what it started.
Progress = Callable[[str, int], None]

# The capability ids of the operationalization rubric; a finding must name one of them.
CAPABILITIES: frozenset[str] = frozenset(
    {
        "obs.process-docs",
        "obs.process-telemetry",
        "obs.system-telemetry",
        "obs.agent-runs",
        "obs.delivery-measurement",
        "int.system-access",
        "int.agents-in-tools",
        "int.agent-identity",
        "int.context-ownership",
        "int.shared-capacity",
        "dep.ci-small-batches",
        "dep.automation-iac",
        "dep.safe-release",
        "dep.agent-runtime",
        "dep.ai-governance",
        "rev.policy-ownership",
        "rev.flow-capacity",
        "rev.automated-verification",
        "rev.agent-output-governance",
        "rev.learning-loop",
    }
)

GIB = 1024**3
MIB = 1024**2
KIB = 1024


@dataclass(frozen=True)
class Pointer:
    """Where a finding's evidence is: a file path (and line), a commit sha, an API URL, an
    export row number (as text), or for an absent finding what was searched."""

    kind: PointerKind
    ref: str
    line: int | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "line": self.line, "url": self.url}


@dataclass(frozen=True)
class Finding:
    detector: str
    capability: str
    status: Status
    strength: int  # 1 weak .. 3 strong
    title: str
    detail: str
    evidence: tuple[Pointer, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "capability": self.capability,
            "status": self.status,
            "strength": self.strength,
            "title": self.title,
            "detail": self.detail,
            "evidence": [p.to_dict() for p in self.evidence],
        }


@dataclass(frozen=True)
class ScanResult:
    """One scan's outcome. `partial` is True when some input could not be read in full (a limit
    hit, a rate limit, a timeout); `warnings` then say what is missing."""

    source: str
    findings: tuple[Finding, ...]
    facts: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    partial: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "findings": [f.to_dict() for f in self.findings],
            "facts": dict(self.facts),
            "warnings": list(self.warnings),
            "partial": self.partial,
        }

    def finding(self, detector: str) -> Finding:
        """The first finding of a detector (a detector may speak to several capabilities)."""
        for item in self.findings:
            if item.detector == detector:
                return item
        raise KeyError(detector)


class ScanError(Exception):
    """A scan could not run. The message is safe to show to users: it never contains tokens,
    credentials or server paths."""


class ScanCancelled(ScanError):
    """The progress callback asked the scan to stop."""


class ScanTimeout(ScanError):
    """The scan's wall-clock limit passed; every process it started has been killed."""


@dataclass(frozen=True)
class Limits:
    """Bounds for one scan. The defaults suit a server scanning typical repositories."""

    timeout_seconds: float = 600.0
    # Repository: bytes on disk of the bare copy (checked while cloning and after).
    max_repo_bytes: int = 2 * GIB
    # Repository: objects in the bare copy (`git count-objects -v`, loose and packed).
    max_objects: int = 10_000_000
    # Uploads: the archive file itself, what it expands to, entry count, compression ratio.
    max_archive_bytes: int = 1 * GIB
    max_extracted_bytes: int = 4 * GIB
    max_entries: int = 200_000
    max_ratio: float = 200.0
    # Files: tree entries listed; one blob read in full at most; total blob bytes read;
    # content patterns look at the first bytes of a file only; files per content rule.
    max_tree_entries: int = 300_000
    max_blob_bytes: int = 1 * MIB
    max_blob_bytes_read: int = 64 * MIB
    content_scan_bytes: int = 64 * KIB
    max_content_files: int = 300
    max_manifests: int = 400
    # History: per-change records kept for delivery metrics.
    max_change_records: int = 50_000
