"""Detector precision and recall on real repositories built by the tests: each class of false
positive and miss named in issue 12, in general form (no project's files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessments.scans.engine import Pointer, ScanResult, scan_repository
from assessments.scans.engine.history import RELEASE_TAG
from tests.scans.engine.gitbuild import ALICE, RepoBuilder, day

GRAFANA = '{\n  "title": "API",\n  "panels": [{"type": "graph"}],\n  "schemaVersion": 39\n}\n'
ALERT_RULES = (
    "groups:\n  - name: api\n    rules:\n      - alert: HighErrorRate\n        expr: x > 1\n"
)


def _scan(repo: Path, tmp_path: Path) -> ScanResult:
    job = tmp_path / "job"
    job.mkdir(exist_ok=True)
    return scan_repository(
        source=repo, kind="path", workdir=job, now=day(100), allowed_roots=[repo.parent]
    )


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Layout", files=files, when=day(1))
    return builder.path


def test_names_and_indirect_dependencies_are_not_evidence(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            # Everything observability-looking here is indirect or only named so.
            "go.mod": (
                "module example.com/svc\n\ngo 1.22\n\nrequire (\n"
                "\tgithub.com/spf13/cobra v1.8.0\n"
                "\tgo.opentelemetry.io/otel v1.24.0 // indirect\n"
                "\tgo.uber.org/zap v1.27.0 // indirect\n"
                "\tgithub.com/prometheus/client_golang v1.19.0 // indirect\n)\n"
                "require go.opentelemetry.io/contrib v0.1.0 // indirect\n"
            ),
            # A Prometheus Operator resource named prometheus.yaml: not a client or scrape config.
            "deploy/prometheus.yaml": "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: main\n",
            # An empty rules file and an API fixture that only have telling names.
            "ops/no-alerts.yml": "# alerting is handled elsewhere\ngroups: []\n",
            "tests/fixtures/dashboard-response.json": '{"dashboard": {"id": 1, "owner": "x"}}\n',
            # A Helm chart's templates are not raw manifests.
            "charts/svc/Chart.yaml": "apiVersion: v2\nname: svc\nversion: 0.1.0\n",
            "charts/svc/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
            # Uploading release assets is not versioning and changelog tooling.
            ".github/workflows/release.yml": (
                "on: {push: {tags: ['v*']}}\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - uses: softprops/action-gh-release@v2\n      - run: gh release create $TAG dist/*\n"
            ),
        },
    )
    status = {f.detector: f.status for f in _scan(repo, tmp_path).findings}
    for detector in (
        "repo.opentelemetry",
        "repo.structured-logging",
        "repo.prometheus-client",
        "repo.alert-rules",
        "repo.dashboards",
        "repo.kubernetes",
        "repo.release-automation",
    ):
        assert status[detector] == "absent", detector
    assert status["repo.helm"] == "found"


def test_content_decides_and_the_evidence_points_at_the_proving_file(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "ops/no-alerts.yml": "groups: []\n",
            "monitoring/rules/api.yaml": ALERT_RULES,
            "monitoring/scrape.yml": "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: api\n",
            "ops/grafana/dashboards/api.json": GRAFANA,
            # Manifests by content, in a folder with no telling name.
            "platform/svc/app.yml": "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n",
            "go.mod": "module x\n\ngo 1.22\n\nrequire go.opentelemetry.io/otel v1.24.0\n",
        },
    )
    result = _scan(repo, tmp_path)
    assert result.finding("repo.alert-rules").evidence == (
        Pointer("file", "monitoring/rules/api.yaml", 4),
    )
    assert result.finding("repo.prometheus-client").evidence == (
        Pointer("file", "monitoring/scrape.yml", 3),
    )
    assert result.finding("repo.dashboards").evidence == (
        Pointer("file", "ops/grafana/dashboards/api.json", 1),
    )
    assert result.finding("repo.kubernetes").evidence == (
        Pointer("file", "platform/svc/app.yml", 3),
    )
    assert result.finding("repo.opentelemetry").evidence == (Pointer("file", "go.mod", 5),)


@pytest.mark.parametrize(
    ("files", "detector"),
    [
        # A reusable security workflow from another repository, named for what it runs.
        (
            {".github/workflows/ci.yml": "on: push\njobs:\n  sast:\n    uses: acme/shared/.github/workflows/codeql-analysis.yml@v2\n"},
            "repo.sast-codeql",
        ),
        # A composite action of the repository that runs Semgrep.
        (
            {
                ".github/workflows/ci.yml": "on: push\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./.github/actions/scan\n",
                ".github/actions/scan/action.yml": "runs:\n  using: composite\n  steps:\n    - run: semgrep ci\n      shell: bash\n",
            },
            "repo.sast-codeql",
        ),
        # Trivy behind a workflow step.
        (
            {".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: aquasecurity/trivy-action@0.20.0\n"},
            "repo.sast-codeql",
        ),
        # Coverage uploaded from CI.
        (
            {".travis.yml": "language: python\nafter_success:\n  - coveralls\n"},
            "repo.coverage",
        ),
        (
            {".circleci/config.yml": "version: 2.1\njobs:\n  t:\n    steps:\n      - run: bash <(curl -s https://codecov.io/bash)\n"},
            "repo.coverage",
        ),
        # Charts released by chart-releaser are release automation.
        (
            {".github/workflows/release.yml": "on: push\njobs:\n  r:\n    runs-on: x\n    steps:\n      - uses: helm/chart-releaser-action@v1.6.0\n"},
            "repo.release-automation",
        ),
    ],
)  # fmt: skip
def test_recall_for_shared_workflows_ci_coverage_and_chart_releases(
    tmp_path: Path, files: dict[str, str], detector: str
) -> None:
    assert _scan(_repo(tmp_path, files), tmp_path).finding(detector).status == "found"


@pytest.mark.parametrize(
    ("tag", "release"),
    [
        ("v1.2.3", True),
        ("852.v317db_5d17a_b_0", True),  # Jenkins plugin (Maven incrementals)
        ("my-chart-0.4.1", True),  # chart-releaser: <chart>-<version>
        ("spring-boot-2.7.0", True),
        ("5.3.2.Final", True),
        ("v2.0.0-rc.1", False),
        ("nightly", False),
    ],
)
def test_release_tags_in_the_forms_real_projects_use(tag: str, release: bool) -> None:
    assert bool(RELEASE_TAG.match(tag)) is release


def test_co_authors_anywhere_in_the_message_and_bot_name_forms(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Start", files={"a.txt": "0"}, when=day(80))
    # A squash merge lists the co-author mid-body, before other text: not a trailer block.
    builder.commit(
        "Add feature (#12)\n\n* first step\n\nCo-authored-by: Claude <noreply@anthropic.com>\n\n"
        "* second step, see the docs",
        files={"a.txt": "1"},
        when=day(81),
    )
    # A bot that appears only as a co-author.
    builder.commit(
        "Format\n\nCo-authored-by: lint-bot <lint-bot@example.com>",
        files={"a.txt": "2"},
        when=day(82),
    )
    # Bot authors by the "-bot" account and the "... Bot" display-name forms.
    builder.commit(
        "Bump", files={"a.txt": "3"}, when=day(83), author=("deploy-bot", "ci@example.com")
    )
    builder.commit(
        "Sync", files={"a.txt": "4"}, when=day(84), author=("Docs Sync Bot", "docs@example.com")
    )
    builder.commit("Human", files={"a.txt": "5"}, when=day(85), author=ALICE)
    facts = _scan(builder.path, tmp_path).facts["history"]
    assert facts["ai"]["co_authored"] == 1
    assert facts["ai"]["by_identity"] == {"Claude": 1}
    assert facts["bots"]["other_changes"] == 3
    assert facts["trailers"]["co-authored-by"] == 2


def test_a_quiet_repository_says_when_it_was_last_active_instead_of_absent(
    tmp_path: Path,
) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Only commit", files={"a.txt": "0"}, when=day(1))
    job = tmp_path / "job"
    job.mkdir()
    result = scan_repository(
        source=builder.path, kind="path", workdir=job, now=day(400), allowed_roots=[tmp_path]
    )
    finding = result.finding("history.commit-frequency")
    assert finding.status == "unknown"
    assert finding.detail == (
        "No activity in the last 180 days; last commit on 2026-01-02. Scan the window ending "
        "at the last commit to measure it."
    )
    assert result.facts["history"]["last_commit_at"] == "2026-01-02T12:00:00+00:00"


def test_a_remote_reusable_workflow_that_cannot_be_read_leaves_sast_undetermined(
    tmp_path: Path,
) -> None:
    files = {
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  checks:\n    uses: acme/shared/.github/workflows/checks.yml@v3\n"
        )
    }
    finding = _scan(_repo(tmp_path, files), tmp_path).finding("repo.sast-codeql")
    assert finding.status == "unknown"
    assert finding.detail == (
        "Could not determine: .github/workflows/ci.yml calls the reusable workflow "
        "acme/shared/.github/workflows/checks.yml@v3 of another repository, which the scan "
        "cannot read."
    )
