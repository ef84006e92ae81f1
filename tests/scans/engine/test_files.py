from __future__ import annotations

from pathlib import Path

import pytest

from assessments.scans.engine import Limits, Pointer, ScanResult, load_catalogue, scan_repository
from assessments.scans.engine.workflows import (
    check_dangerous_workflow,
    check_pinned_actions,
    check_workflow_permissions,
    parse_workflow,
)
from tests.scans.engine.gitbuild import RepoBuilder, day

FOUND_IN_POLYGLOT = {
    "repo.agent-evals", "repo.agent-tracing", "repo.agents-md", "repo.alert-rules",
    "repo.auto-merge", "repo.ci-azure", "repo.ci-buildkite", "repo.ci-circleci",
    "repo.ci-github-actions", "repo.ci-gitlab", "repo.ci-jenkins", "repo.claude-md",
    "repo.codeowners", "repo.copilot-instructions", "repo.coverage", "repo.cursor-rules",
    "repo.dangerous-workflow", "repo.dashboards", "repo.datadog", "repo.dependency-updates",
    "repo.deploy-pipeline", "repo.devcontainer", "repo.dockerfile", "repo.e2e-tests",
    "repo.feature-flags", "repo.health-probes", "repo.helm", "repo.kubernetes", "repo.linter",
    "repo.mcp-config", "repo.opentelemetry", "repo.pr-template", "repo.pre-commit",
    "repo.prometheus-client", "repo.release-automation", "repo.sast-codeql", "repo.sentry",
    "repo.setup-docs", "repo.slo-files", "repo.structured-logging", "repo.task-runner",
    "repo.terraform", "repo.test-suite", "repo.type-checker", "repo.workflow-permissions",
}  # fmt: skip


def _scan(repo: Path, workdir: Path, **kwargs: object) -> ScanResult:
    return scan_repository(
        source=repo,
        kind="path",
        workdir=workdir,
        now=day(100),
        allowed_roots=[repo.parent],
        **kwargs,  # type: ignore[arg-type]
    )


def _statuses(result: ScanResult, prefix: str = "repo.") -> dict[str, str]:
    return {f.detector: f.status for f in result.findings if f.detector.startswith(prefix)}


def test_every_repository_detector_has_its_exact_status(polyglot_repo: Path, workdir: Path) -> None:
    result = _scan(polyglot_repo, workdir)
    statuses = _statuses(result)
    assert set(statuses) == {d.id for d in load_catalogue().detectors}
    assert {d for d, s in statuses.items() if s == "found"} == FOUND_IN_POLYGLOT
    # Everything else is determinably absent: the vendored Pulumi.yaml and the .gitlab-ci.yml
    # under node_modules do not count, and the release workflow uses an unpinned action.
    assert {d for d, s in statuses.items() if s == "unknown"} == set()
    assert statuses["repo.pulumi"] == "absent"
    assert statuses["repo.pinned-actions"] == "absent"
    assert result.partial is False


def test_findings_point_at_files_and_lines(polyglot_repo: Path, workdir: Path) -> None:
    result = _scan(polyglot_repo, workdir)
    assert result.finding("repo.sentry").evidence == (Pointer("file", "requirements.txt", 2),)
    assert result.finding("repo.prometheus-client").evidence == (
        Pointer("file", "requirements.txt", 5),
        Pointer("file", "go.mod", 6),
    )
    assert result.finding("repo.kubernetes").evidence == (
        Pointer("file", "deploy/k8s/deployment.yaml", 2),
    )
    assert result.finding("repo.ci-github-actions").evidence == (
        Pointer("file", ".github/workflows/ci.yml"),
        Pointer("file", ".github/workflows/release.yaml"),
    )
    assert result.finding("repo.slo-files").evidence == (Pointer("file", "slos/api.yaml", 1),)
    pinned = result.finding("repo.pinned-actions")
    assert pinned.evidence == (Pointer("file", ".github/workflows/release.yaml", 13),)
    assert "googleapis/release-please-action@v4 is not pinned" in pinned.detail


def test_a_detector_speaks_to_each_of_its_capabilities(polyglot_repo: Path, workdir: Path) -> None:
    result = _scan(polyglot_repo, workdir)
    capabilities = [f.capability for f in result.findings if f.detector == "repo.test-suite"]
    assert capabilities == [
        "rev.automated-verification",
        "dep.ci-small-batches",
        "dep.agent-runtime",
    ]


def test_file_facts(polyglot_repo: Path, workdir: Path) -> None:
    facts = _scan(polyglot_repo, workdir).facts["files"]
    assert facts["tree_entries"] == 32
    assert facts["ignored_entries"] == 2
    assert facts["truncated"] is False
    # go.mod's zap is `// indirect`: a dependency of a dependency, not the project's.
    assert facts["dependencies"] == {"go": 1, "javascript": 6, "python": 5}
    assert facts["workflows"] == 2


def test_unreadable_inputs_make_detectors_unknown_not_absent(
    polyglot_repo: Path, workdir: Path
) -> None:
    # Blobs over 40 bytes cannot be read: content and dependency detectors that matched
    # nothing else become unknown; path matches stay found.
    result = _scan(polyglot_repo, workdir, limits=Limits(max_blob_bytes=40))
    statuses = _statuses(result)
    assert statuses["repo.sentry"] == "unknown"
    assert statuses["repo.kubernetes"] == "unknown"
    assert statuses["repo.dockerfile"] == "found"
    assert statuses["repo.terraform"] == "found"
    assert "larger than 0 KiB" in result.finding("repo.sentry").detail
    assert statuses["repo.workflow-permissions"] == "unknown"
    assert result.partial is True


def test_a_truncated_tree_turns_everything_not_found_unknown(
    polyglot_repo: Path, workdir: Path
) -> None:
    result = _scan(polyglot_repo, workdir, limits=Limits(max_tree_entries=3))
    statuses = _statuses(result)
    assert "absent" not in statuses.values()
    assert statuses["repo.ci-buildkite"] == "found"  # .buildkite/ sorts among the first three
    assert statuses["repo.terraform"] == "unknown"
    assert result.partial is True
    assert any("more than 3 files" in w for w in result.warnings)


def test_a_manifest_that_does_not_parse_leaves_its_ecosystem_unknown(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "r")
    repo.commit(
        "x", files={"package.json": "{not json", "requirements.txt": "flask\n"}, when=day(1)
    )
    work = tmp_path / "job"
    work.mkdir()
    statuses = _statuses(_scan(repo.path, work))
    assert statuses["repo.feature-flags"] == "unknown"  # has javascript names
    assert statuses["repo.type-checker"] == "absent"  # no javascript names: python read fine


WORKFLOWS = {
    "read-only map": ("permissions:\n  contents: read\n  pull-requests: none\njobs: {}\n", "found"),
    "read-all": ("permissions: read-all\njobs: {}\n", "found"),
    "empty": ("permissions: {}\njobs: {}\n", "found"),
    "missing": ("on: push\njobs: {}\n", "absent"),
    "write-all": ("permissions: write-all\njobs: {}\n", "absent"),
    "a write scope": ("permissions:\n  contents: write\njobs: {}\n", "absent"),
    "unparsable": ("permissions: [\n", "unknown"),
}


@pytest.mark.parametrize("case", sorted(WORKFLOWS))
def test_workflow_permissions(case: str) -> None:
    text, expected = WORKFLOWS[case]
    outcome = check_workflow_permissions([parse_workflow(".github/workflows/x.yml", text)], 0)
    assert outcome.status == expected


def test_workflow_checks_with_no_workflows_are_unknown() -> None:
    for check in (check_workflow_permissions, check_dangerous_workflow, check_pinned_actions):
        assert check([], 0).status == "unknown"


DANGEROUS = {
    "pr target checkout": (
        "on: pull_request_target\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n"
        "        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n",
        "absent",
        7,
    ),
    "script injection": (
        'on: issues\njobs:\n  t:\n    steps:\n      - run: echo "${{ github.event.issue.title }}"\n',
        "absent",
        5,
    ),
    "safe pull_request checkout": (
        "on: pull_request\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n"
        "        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: echo ${{ github.sha }}\n",
        "found",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(DANGEROUS))
def test_dangerous_workflow(case: str) -> None:
    text, expected, line = DANGEROUS[case]
    outcome = check_dangerous_workflow([parse_workflow("w.yml", text)], 0)
    assert outcome.status == expected
    if line is not None:
        assert outcome.evidence[0] == Pointer("file", "w.yml", line)


def test_pinned_actions_accept_shas_local_actions_and_digests() -> None:
    text = (
        "jobs:\n  t:\n    steps:\n      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab\n"
        "      - uses: ./local-action\n      - uses: docker://alpine@sha256:abc\n"
    )
    assert check_pinned_actions([parse_workflow("w.yml", text)], 0).status == "found"


def _damaged_copy(tmp_path: Path, files: dict[str, str], lose: str) -> Path:
    """A bare copy of a repository with `files`, missing the blob of the file `lose`, as a
    partial clone or a damaged pack leaves it."""
    builder = RepoBuilder(tmp_path / "src")
    builder.commit("Layout", files=files, when=day(1))
    bare = tmp_path / "job" / "copy.git"
    bare.parent.mkdir()
    builder.git("clone", "-q", "--bare", "--no-hardlinks", str(builder.path), str(bare))
    sha = builder.git("rev-parse", f"HEAD:{lose}").strip()
    (bare / "objects" / sha[:2] / sha[2:]).unlink()
    return bare


def test_one_missing_object_leaves_every_other_file_readable(tmp_path: Path) -> None:
    from assessments.scans.engine.files import scan_files
    from assessments.scans.engine.gitrunner import GitRunner

    files = {
        # Sorted before the others, so every later read follows the failure.
        "a/alerts.yml": "groups:\n  - name: api\n    rules:\n      - alert: HighLatency\n",
        "package.json": '{"dependencies": {"@sentry/node": "8"}}\n',
        "requirements.txt": "structlog\n",
        "deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\n",
    }
    bare = _damaged_copy(tmp_path, files, lose="a/alerts.yml")
    scan = scan_files(
        catalogue=load_catalogue(),
        runner=GitRunner(job_root=bare.parent),
        git_dir=bare,
        limits=Limits(),
    )
    status = {f.detector: (f.status, f.detail) for f in scan.findings}
    assert status["repo.sentry"][0] == "found"
    assert status["repo.structured-logging"][0] == "found"
    assert status["repo.kubernetes"][0] == "found"
    # The detector that needed the lost file cannot tell, and it says which and why.
    assert status["repo.alert-rules"] == (
        "unknown",
        "Could not determine: a/alerts.yml: object missing from the source.",
    )
    # Every other detector that could not say names that file; none blames a limit.
    for detector, (state, detail) in status.items():
        if state == "unknown" and detail.startswith("Could not determine"):
            assert detail == (
                "Could not determine: a/alerts.yml: object missing from the source."
            ), detector
    assert scan.warnings == (
        "1 file(s) could not be read: a/alerts.yml (object missing from the source).",
    )
    assert scan.partial is True
    assert "limit" not in " ".join(scan.warnings)


def test_every_absent_finding_says_what_it_searched(polyglot_repo: Path, workdir: Path) -> None:
    result = _scan(polyglot_repo, workdir)
    for finding in result.findings:
        if finding.detector.startswith("repo.") and finding.status == "absent":
            assert finding.evidence, f"{finding.detector} is absent with no pointer"
    pulumi = result.finding("repo.pulumi")
    assert pulumi.status == "absent"
    assert all(p.kind == "searched" for p in pulumi.evidence)
    assert pulumi.evidence[0].ref.startswith("paths ")
    sentry_like = [
        f
        for f in result.findings
        if f.status == "absent" and f.evidence[0].ref.find("dependencies") >= 0
    ]
    assert all("found in manifests" in f.evidence[0].ref for f in sentry_like)
