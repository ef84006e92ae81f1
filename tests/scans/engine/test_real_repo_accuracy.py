"""Detector errors found by benchmarks/accuracy.py on real public repositories, each fixed in
general and checked here on repositories the tests build (no project's files): a pair per rule,
one that must be found and one that must not."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessments.scans.engine import scan_repository
from tests.scans.engine.gitbuild import RepoBuilder, day

WORKFLOW_HEAD = "name: ci\non: [push]\njobs:\n"
KIND_TEST = (
    WORKFLOW_HEAD + "  deploy-chart:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: helm/kind-action@v1\n"
    "      - run: helm install app ./chart --wait\n"
    "      - run: kubectl apply -f samples/app.yaml\n"
)
REAL_DEPLOY_JOB = (
    WORKFLOW_HEAD + "  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"
    "  deploy:\n    needs: build\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./ship.sh\n"
)
REAL_HELM_DEPLOY = (
    WORKFLOW_HEAD + "  ship:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: helm upgrade --install app ./chart -n prod\n"
)


def _statuses(tmp_path: Path, files: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Layout", files=files, when=day(1))
    job = tmp_path / "job"
    job.mkdir()
    result = scan_repository(
        source=builder.path, kind="path", workdir=job, now=day(100), allowed_roots=[tmp_path]
    )
    return {
        f.detector: (f.status, [f"{p.ref}:{p.line}" for p in f.evidence if p.kind == "file"])
        for f in result.findings
    }


@pytest.mark.parametrize(
    ("workflow", "status", "line"),
    [
        (KIND_TEST, "absent", None),  # a chart installed into a throwaway cluster is a test
        (REAL_DEPLOY_JOB, "found", 8),  # the job named deploy
        (REAL_HELM_DEPLOY, "found", 7),
    ],
)
def test_deployments_are_not_tests_in_a_throwaway_cluster(
    tmp_path: Path, workflow: str, status: str, line: int | None
) -> None:
    got = _statuses(tmp_path, {".github/workflows/ci.yml": workflow})["repo.deploy-pipeline"]
    assert got[0] == status
    if line is not None:
        assert got[1] == [f".github/workflows/ci.yml:{line}"]


def test_linters_run_in_ci_without_a_configuration_file(tmp_path: Path) -> None:
    ci = (
        WORKFLOW_HEAD
        + "  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo clippy -- -D warnings\n"
    )
    assert _statuses(tmp_path / "a", {".github/workflows/ci.yml": ci})["repo.linter"][0] == "found"
    tests_only = (
        WORKFLOW_HEAD + "  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n"
    )
    assert (
        _statuses(tmp_path / "b", {".github/workflows/ci.yml": tests_only})["repo.linter"][0]
        == "absent"
    )


def test_workflow_security_analysis_is_sast(tmp_path: Path) -> None:
    ci = (
        WORKFLOW_HEAD
        + "  audit:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: zizmorcore/zizmor-action@v0\n"
    )
    assert (
        _statuses(tmp_path, {".github/workflows/zizmor.yml": ci})["repo.sast-codeql"][0] == "found"
    )


def test_release_notes_drafted_by_a_tool_are_release_automation(tmp_path: Path) -> None:
    files = {
        ".github/release-drafter.yml": "template: |\n  $CHANGES\nversion-resolver:\n  default: minor\n"
    }
    status, evidence = _statuses(tmp_path, files)["repo.release-automation"]
    assert status == "found" and evidence[0].startswith(".github/release-drafter.yml")


def test_go_standard_structured_logging_counts(tmp_path: Path) -> None:
    with_slog = {
        "go.mod": "module example.com/svc\n\ngo 1.22\n",
        "main.go": 'package main\n\nimport (\n\t"fmt"\n\t"log/slog"\n)\n\nfunc main() { slog.Info("up", "port", 80); fmt.Println() }\n',
    }
    status, evidence = _statuses(tmp_path / "a", with_slog)["repo.structured-logging"]
    assert (status, evidence) == ("found", ["main.go:5"])
    plain_log = {
        "go.mod": "module example.com/svc\n\ngo 1.22\n",
        "main.go": 'package main\n\nimport "log"\n\nfunc main() { log.Println("up") }\n',
    }
    assert _statuses(tmp_path / "b", plain_log)["repo.structured-logging"][0] == "absent"


def test_alert_rules_in_a_jsonnet_monitoring_mixin(tmp_path: Path) -> None:
    mixin = {
        "mixin/alerts.libsonnet": (
            "{\n  prometheusAlerts+:: {\n    groups+: [{\n      name: 'svc',\n      rules: [{\n"
            "        alert: 'SvcDown',\n        expr: 'up == 0',\n      }],\n    }],\n  },\n}\n"
        )
    }
    status, evidence = _statuses(tmp_path / "a", mixin)["repo.alert-rules"]
    assert status == "found" and evidence == ["mixin/alerts.libsonnet:2"]
    config_only = {"mixin/config.libsonnet": "{\n  _config+:: { selector: 'job=\"svc\"' },\n}\n"}
    assert _statuses(tmp_path / "b", config_only)["repo.alert-rules"][0] == "absent"


def test_a_security_page_that_is_not_a_policy_is_not_one(tmp_path: Path) -> None:
    hardening = {
        "docs/security.md": "## Security\n\nThe manifests run as non-root with read-only file systems.\n"
    }
    assert _statuses(tmp_path / "a", hardening)["repo.security-policy"][0] == "absent"
    policy = {
        "SECURITY.md": "# Security policy\n\nReport vulnerabilities to security@example.com.\n"
    }
    status, evidence = _statuses(tmp_path / "b", policy)["repo.security-policy"]
    assert status == "found" and evidence[0].startswith("SECURITY.md")


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("go test -v -cover ./...", "found"),
        ("go test -coverprofile=c.out ./...", "found"),
        ("npx jest --coverage", "found"),
        ("coverage run -m pytest", "found"),
        ("go test -v ./...", "absent"),  # tests without coverage measure none
        ("echo 'discover the tests'", "absent"),
    ],
)
def test_tests_run_with_coverage_in_ci_measure_coverage(
    tmp_path: Path, command: str, status: str
) -> None:
    ci = (
        WORKFLOW_HEAD + f"  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {command}\n"
    )
    assert _statuses(tmp_path, {".github/workflows/ci.yml": ci})["repo.coverage"][0] == status


def test_a_large_go_tree_without_slog_is_absent_not_undecided(tmp_path: Path) -> None:
    files = {"go.mod": "module example.com/big\n\ngo 1.22\n"}
    files.update({f"pkg/p{i}/p.go": f'package p{i}\n\nimport "fmt"\n' for i in range(320)})
    assert _statuses(tmp_path / "a", files)["repo.structured-logging"][0] == "absent"
    files["cmd/server/main.go"] = (
        'package main\n\nimport "log/slog"\n\nfunc main() { slog.Info("up") }\n'
    )
    status, evidence = _statuses(tmp_path / "b", files)["repo.structured-logging"]
    assert (status, evidence) == ("found", ["cmd/server/main.go:3"])
