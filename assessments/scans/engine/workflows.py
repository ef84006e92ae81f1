"""Built-in checks over GitHub Actions workflows (catalogue `check:` entries).

Each check speaks for a good practice, like every finding: "found" means the practice holds
in every readable workflow, "absent" points at the workflows that break it, "unknown" means
there are no workflows or one could not be read or parsed (and none broke the rule).

- workflow-permissions (OpenSSF Scorecard Token-Permissions): every workflow sets top-level
  `permissions:` read-only (`read-all`, `{}` or only `read`/`none` scopes); write access is
  then granted per job.
- dangerous-workflow (Scorecard Dangerous-Workflow): no workflow checks out pull request code
  under `pull_request_target`/`workflow_run`, and no script interpolates untrusted event text
  (`${{ github.event.issue.title }}` and the like) into `run:` or github-script.
- pinned-actions (Scorecard Pinned-Dependencies): every third-party action is pinned to a full
  commit sha.

YAML is parsed with `safe_load` and only fixed paths are read (jobs.*.steps[*]), so aliases
cannot make a check walk an exponential structure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from assessments.scans.engine.model import Pointer, Status

WORKFLOW_GLOB = ".github/workflows/*.{yml,yaml}"


@dataclass(frozen=True)
class Workflow:
    path: str
    text: str
    data: Mapping[Any, Any] | None  # None: could not be parsed


@dataclass(frozen=True)
class CheckOutcome:
    status: Status
    detail: str
    evidence: tuple[Pointer, ...] = ()


def parse_workflow(path: str, text: str) -> Workflow:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return Workflow(path, text, None)
    return Workflow(path, text, data if isinstance(data, dict) else None)


def _line(text: str, pattern: str) -> int | None:
    match = re.search(pattern, text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _triggers(data: Mapping[Any, Any]) -> set[str]:
    # YAML 1.1 reads a bare `on:` key as the boolean True.
    on = data.get("on", data.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {t for t in on if isinstance(t, str)}
    if isinstance(on, dict):
        return {t for t in on if isinstance(t, str)}
    return set()


def _steps(data: Mapping[Any, Any]) -> Iterator[tuple[Mapping[Any, Any], Mapping[Any, Any]]]:
    jobs = data.get("jobs")
    if not isinstance(jobs, dict):
        return
    for job in jobs.values():
        if not isinstance(job, dict):
            continue
        steps = job.get("steps")
        if isinstance(steps, list):
            for step in steps:
                if isinstance(step, dict):
                    yield job, step


def _no_workflows(unreadable: int) -> CheckOutcome:
    if unreadable:
        return CheckOutcome("unknown", f"{unreadable} workflow file(s) could not be read.")
    return CheckOutcome("unknown", "No GitHub Actions workflows: there is nothing to check.")


def _summary(
    bad: list[tuple[Pointer, str]], total: int, unparsed: int, unreadable: int, what: str
) -> tuple[str, tuple[Pointer, ...]]:
    shown = "; ".join(f"{p.ref}: {why}" for p, why in bad[:10])
    more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
    skipped = unparsed + unreadable
    tail = f" {skipped} workflow(s) could not be read or parsed." if skipped else ""
    return f"{len(bad)} of {total} workflow(s) {what}: {shown}{more}.{tail}", tuple(
        p for p, _ in bad[:20]
    )


def check_workflow_permissions(workflows: Sequence[Workflow], unreadable: int) -> CheckOutcome:
    if not workflows:
        return _no_workflows(unreadable)
    bad: list[tuple[Pointer, str]] = []
    unparsed = 0
    for wf in workflows:
        if wf.data is None:
            unparsed += 1
            continue
        perms = wf.data.get("permissions", ...)
        line = _line(wf.text, r"^permissions\s*:")
        if perms is ...:
            bad.append((Pointer("file", wf.path, 1), "no top-level permissions"))
        elif (
            perms == "read-all"
            or perms == {}
            or isinstance(perms, dict)
            and all(v in ("read", "none") for v in perms.values())
        ):
            continue
        else:
            shown = perms if isinstance(perms, str) else "write scopes"
            bad.append((Pointer("file", wf.path, line), f"top-level permissions grant {shown}"))
    if bad:
        detail, evidence = _summary(
            bad, len(workflows), unparsed, unreadable, "do not default to a read-only token"
        )
        return CheckOutcome("absent", detail, evidence)
    if unparsed or unreadable:
        return CheckOutcome(
            "unknown",
            f"{unparsed + unreadable} workflow(s) could not be read or parsed; "
            "the others set read-only top-level permissions.",
        )
    return CheckOutcome(
        "found",
        f"All {len(workflows)} workflow(s) set read-only top-level permissions.",
        tuple(
            Pointer("file", wf.path, _line(wf.text, r"^permissions\s*:")) for wf in workflows[:20]
        ),
    )


_UNTRUSTED = re.compile(
    r"\$\{\{[^}]*\b(github\.head_ref|github\.event\.("
    r"issue\.(title|body)|pull_request\.(title|body|head\.ref|head\.label|head\.repo\.default_branch)"
    r"|comment\.body|review\.body|review_comment\.body|discussion\.(title|body)"
    r"|pages\.[^}]*page_name|commits\.[^}]*\.(message|author\.(email|name))"
    r"|head_commit\.(message|author\.(email|name))"
    r"|workflow_run\.(head_branch|head_commit\.(message|author\.(email|name))|pull_requests\.[^}]*head\.ref)"
    r"))"
)
_PR_REF = re.compile(
    r"github\.event\.(pull_request\.head|workflow_run\.head)|github\.head_ref|refs/pull/"
)
_PRIVILEGED_TRIGGERS = {"pull_request_target", "workflow_run"}


def check_dangerous_workflow(workflows: Sequence[Workflow], unreadable: int) -> CheckOutcome:
    if not workflows:
        return _no_workflows(unreadable)
    bad: list[tuple[Pointer, str]] = []
    unparsed = 0
    for wf in workflows:
        if wf.data is None:
            unparsed += 1
            continue
        privileged = bool(_triggers(wf.data) & _PRIVILEGED_TRIGGERS)
        for _job, step in _steps(wf.data):
            uses = step.get("uses")
            with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
            assert isinstance(with_, dict)
            ref = with_.get("ref")
            if (
                privileged
                and isinstance(uses, str)
                and uses.startswith("actions/checkout")
                and isinstance(ref, str)
                and _PR_REF.search(ref)
            ):
                line = _line(wf.text, r"ref\s*:.*" + re.escape(ref.strip()[:40]))
                bad.append(
                    (
                        Pointer("file", wf.path, line),
                        "checks out pull request code with a privileged token",
                    )
                )
            scripts = [step.get("run")]
            if isinstance(uses, str) and uses.startswith("actions/github-script"):
                scripts.append(with_.get("script"))
            for script in scripts:
                if isinstance(script, str):
                    match = _UNTRUSTED.search(script)
                    if match:
                        line = _line(wf.text, re.escape(match.group(0)[:60]))
                        bad.append(
                            (
                                Pointer("file", wf.path, line),
                                f"interpolates untrusted input ({match.group(1)}) into a script",
                            )
                        )
    if bad:
        detail, evidence = _summary(
            bad, len(workflows), unparsed, unreadable, "could run untrusted code"
        )
        return CheckOutcome("absent", detail, evidence)
    if unparsed or unreadable:
        return CheckOutcome(
            "unknown", f"{unparsed + unreadable} workflow(s) could not be read or parsed."
        )
    return CheckOutcome(
        "found",
        f"None of the {len(workflows)} workflow(s) runs untrusted code with a privileged token.",
    )


_PINNED = re.compile(r"@[0-9a-f]{40}$")


def _uses(data: Mapping[Any, Any]) -> Iterator[str]:
    jobs = data.get("jobs")
    if isinstance(jobs, dict):
        for job in jobs.values():
            if isinstance(job, dict) and isinstance(job.get("uses"), str):
                yield job["uses"]
    for _job, step in _steps(data):
        if isinstance(step.get("uses"), str):
            yield step["uses"]


def check_pinned_actions(workflows: Sequence[Workflow], unreadable: int) -> CheckOutcome:
    if not workflows:
        return _no_workflows(unreadable)
    bad: list[tuple[Pointer, str]] = []
    unparsed = used = 0
    for wf in workflows:
        if wf.data is None:
            unparsed += 1
            continue
        for uses in _uses(wf.data):
            used += 1
            if uses.startswith("./") or (uses.startswith("docker://") and "@sha256:" in uses):
                continue
            if not _PINNED.search(uses):
                line = _line(wf.text, r"uses\s*:\s*['\"]?" + re.escape(uses))
                bad.append(
                    (Pointer("file", wf.path, line), f"{uses} is not pinned to a commit sha")
                )
    if bad:
        detail, evidence = _summary(
            bad, len(workflows), unparsed, unreadable, "use actions by a movable tag"
        )
        return CheckOutcome("absent", f"{detail}", evidence)
    if unparsed or unreadable:
        return CheckOutcome(
            "unknown", f"{unparsed + unreadable} workflow(s) could not be read or parsed."
        )
    return CheckOutcome(
        "found", f"All {used} action reference(s) in {len(workflows)} workflow(s) are pinned."
    )


CHECK_FUNCTIONS: dict[str, Callable[[Sequence[Workflow], int], CheckOutcome]] = {
    "workflow-permissions": check_workflow_permissions,
    "dangerous-workflow": check_dangerous_workflow,
    "pinned-actions": check_pinned_actions,
}
