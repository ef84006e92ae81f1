from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from assessments.scans.engine.detectors import (
    CatalogueError,
    GlobSet,
    expand_braces,
    load_catalogue,
    load_catalogue_text,
)
from assessments.scans.engine.model import CAPABILITIES

ROOT = Path(__file__).resolve().parents[3]
RUBRIC = ROOT / "scoring" / "rubrics" / "operationalization-1.yaml"


def _rubric() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RUBRIC.read_text())
    return data


def _evidence_ids(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "evidence" and isinstance(value, list):
                found |= set(value)
            else:
                found |= _evidence_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= _evidence_ids(item)
    return found


def test_shipped_catalogue_has_at_least_sixty_repository_detectors() -> None:
    catalogue = load_catalogue()
    assert len(catalogue.detectors) >= 60
    assert len(set(catalogue.ids)) == len(catalogue.ids)


def test_every_rubric_evidence_id_is_a_detector() -> None:
    ids = set(load_catalogue().ids)
    missing = sorted(_evidence_ids(_rubric()) - ids)
    assert missing == []


def test_engine_capabilities_are_the_rubric_capabilities() -> None:
    rubric = _rubric()
    capabilities = {c["id"] for d in rubric["dimensions"] for c in d["capabilities"]}
    assert capabilities == CAPABILITIES


def test_catalogue_covers_every_family_the_issue_names() -> None:
    ids = set(load_catalogue().ids)
    for required in [
        "repo.ci-github-actions",
        "repo.ci-gitlab",
        "repo.ci-jenkins",
        "repo.ci-circleci",
        "repo.ci-azure",
        "repo.ci-buildkite",
        "repo.dockerfile",
        "repo.helm",
        "repo.kubernetes",
        "repo.terraform",
        "repo.pulumi",
        "repo.release-automation",
        "repo.opentelemetry",
        "repo.prometheus-client",
        "repo.sentry",
        "repo.datadog",
        "repo.structured-logging",
        "repo.alert-rules",
        "repo.dashboards",
        "repo.slo-files",
        "repo.codeowners",
        "repo.pr-template",
        "repo.linter",
        "repo.type-checker",
        "repo.test-suite",
        "repo.coverage",
        "repo.dependency-updates",
        "repo.pre-commit",
        "repo.sast-codeql",
        "repo.agents-md",
        "repo.claude-md",
        "repo.copilot-instructions",
        "repo.cursor-rules",
        "repo.mcp-config",
        "repo.devcontainer",
        "repo.setup-docs",
        "repo.workflow-permissions",
        "repo.auto-merge",
        "history.commit-frequency",
        "history.change-size",
        "history.reverts",
        "history.ai-coauthored",
        "history.review-trailers",
        "history.release-tags",
        "history.lead-time",
        "history.merge-share",
        "github.branch-protection",
        "github.required-reviews",
        "github.codeowners-review",
        "github.status-checks",
        "github.ruleset-bypass-bots",
        "github.pr-review-latency",
        "github.pr-size",
        "github.merged-without-approval",
        "github.actions-success-rate",
        "github.deployments",
        "github.environments",
        "delivery.deployment-frequency",
        "delivery.lead-time",
        "delivery.change-failure-rate",
        "delivery.recovery-time",
    ]:
        assert required in ids, required


BASE = """
detectors:
  - id: repo.one
    capability: obs.process-docs
    title: One
    strength: 1
    matches:
      paths: ["ONE.md"]
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_text(textwrap.dedent(text), source="test.yaml")
    return caught.value.problems


def test_a_minimal_catalogue_loads() -> None:
    catalogue = load_catalogue_text(BASE)
    assert [d.id for d in catalogue.detectors] == ["repo.one"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BASE + BASE.split("detectors:")[1], "duplicate detector id 'repo.one'"),
        (BASE.replace("obs.process-docs", "obs.nope"), "unknown capability 'obs.nope'"),
        (
            BASE.replace('paths: ["ONE.md"]', "content: [{files: ['*.md'], pattern: '(unclosed'}]"),
            "bad regular expression",
        ),
        (BASE.replace('paths: ["ONE.md"]', 'paths: ["/abs"]'), "must be relative"),
        (BASE.replace('paths: ["ONE.md"]', 'paths: ["a/../b"]'), "must not contain '..'"),
        (BASE.replace("strength: 1", "strength: 4"), "strength: must be 1, 2 or 3"),
        (BASE.replace("strength: 1", "strength: true"), "strength: must be 1, 2 or 3"),
        (BASE.replace("id: repo.one", "id: Repo One"), "must look like repo."),
        (
            BASE.replace("    title: One\n", "    title: One\n    colour: red\n"),
            "unknown key 'colour'",
        ),
        (BASE.replace('paths: ["ONE.md"]', "check: nonsense"), "unknown check 'nonsense'"),
        (
            BASE.replace('paths: ["ONE.md"]', 'paths: ["x"]\n      check: pinned-actions'),
            "cannot be combined",
        ),
        (
            BASE.replace('paths: ["ONE.md"]', "dependencies: {cobol: [x]}"),
            "unknown ecosystem 'cobol'",
        ),
        (BASE.replace('paths: ["ONE.md"]', "content: [{pattern: 'x'}]"), "give at least one glob"),
        (
            BASE.replace("    title: One\n", "    title: One\n    title: Two\n"),
            "duplicate key 'title'",
        ),
        (
            BASE + "measures:\n  - {id: github.x, capability: nope, title: X, strength: 1}\n",
            "unknown capability 'nope'",
        ),
    ],
)
def test_invalid_catalogues_are_refused_with_a_clear_reason(text: str, expected: str) -> None:
    problems = _problems(text)
    assert any(expected in p for p in problems), problems


def test_all_problems_are_reported_at_once() -> None:
    text = BASE.replace("obs.process-docs", "obs.nope").replace("strength: 1", "strength: 9")
    problems = _problems(text)
    assert len(problems) == 2
    message = str(CatalogueError("test.yaml", problems))
    assert message.startswith("2 problem(s)") and "test.yaml: " in message


def test_braces_expand_including_empty_options() -> None:
    assert expand_braces("a/{b,c}/*.{yml,yaml}") == [
        "a/b/*.yml",
        "a/b/*.yaml",
        "a/c/*.yml",
        "a/c/*.yaml",
    ]
    assert expand_braces("renovate.json{,5}") == ["renovate.json", "renovate.json5"]


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("Dockerfile", "Dockerfile", True),
        ("Dockerfile", "svc/Dockerfile", False),
        ("**/Dockerfile", "svc/api/Dockerfile", True),
        ("**/Dockerfile", "Dockerfile", True),
        ("**/dockerfile", "svc/Dockerfile", True),
        (".github/workflows/*.{yml,yaml}", ".github/workflows/ci.yaml", True),
        (".github/workflows/*.{yml,yaml}", ".github/workflows/sub/ci.yml", False),
        ("**/tests/**", "tests/test_x.py", True),
        ("**/tests/**", "pkg/tests/a/b.py", True),
        ("**/tests/**", "pkg/contests/a.py", False),
        ("**/*.tf", "infra/main.tf", True),
        ("**/*.tf.json", "infra/main.tf.json", True),
        ("**/*.tf", "infra/main.tf.json", False),
        ("**/*_test.go", "pkg/x_test.go", True),
        ("**/requirements*.txt", "requirements-dev.txt", True),
        ("**/*alert*.{yml,yaml}", "ops/prometheus/alerts-api.yml", True),
        ("src/[ab].py", "src/a.py", True),
        ("src/[!ab].py", "src/a.py", False),
    ],
)
def test_glob_semantics(glob: str, path: str, matches: bool) -> None:
    globs = GlobSet()
    globs.add(glob, "k")
    assert (list(globs.match(path)) == ["k"]) is matches
