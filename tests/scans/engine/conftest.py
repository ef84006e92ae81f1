from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scans.engine.gitbuild import RepoBuilder, day

CI_WORKFLOW = """\
name: ci
on: [push, pull_request]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
      - uses: github/codeql-action/init@4dd16135b69a43b6c8efb853346f8437d92d3c93
      - run: pytest --cov
"""

RELEASE_WORKFLOW = """\
name: release
on:
  push:
    branches: [main]
permissions: read-all
jobs:
  release:
    runs-on: ubuntu-latest
    environment: production
    permissions:
      contents: write
    steps:
      - uses: googleapis/release-please-action@v4
"""

POLYGLOT: dict[str, str] = {
    ".github/workflows/ci.yml": CI_WORKFLOW,
    ".github/workflows/release.yaml": RELEASE_WORKFLOW,
    ".gitlab-ci.yml": "test:\n  script: make test\n",
    "Jenkinsfile": "pipeline { agent any }\n",
    ".circleci/config.yml": "version: 2.1\n",
    "azure-pipelines.yml": "trigger: [main]\n",
    ".buildkite/pipeline.yml": "steps: []\n",
    "services/api/Dockerfile": "FROM python:3.13\nHEALTHCHECK CMD curl -f http://localhost/\n",
    "charts/api/Chart.yaml": "apiVersion: v2\nname: api\n",
    "deploy/k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - readinessProbe:\n            httpGet: {path: /health}\n",
    "infra/main.tf": 'resource "datadog_monitor" "latency" {}\n',
    "slos/api.yaml": "apiVersion: openslo/v1\nkind: SLO\n",
    "requirements.txt": "# runtime\nsentry-sdk==2.0\nopentelemetry-sdk>=1.20\nstructlog\nprometheus_client\nlangfuse\n",
    "package.json": '{\n  "scripts": {"test": "vitest"},\n  "dependencies": {"@openfeature/server-sdk": "1.0", "dd-trace": "5"},\n  "devDependencies": {"eslint": "9", "husky": "9", "@playwright/test": "1", "promptfoo": "0.1"}\n}\n',
    "go.mod": "module example.com/x\n\ngo 1.22\n\nrequire (\n\tgithub.com/prometheus/client_golang v1.19.0\n\tgo.uber.org/zap v1.27.0 // indirect\n)\n",
    "pyproject.toml": "[project]\nname = 'x'\n\n[tool.mypy]\nstrict = true\n\n[tool.pytest.ini_options]\naddopts = '-q'\n",
    "tests/test_app.py": "def test_ok():\n    assert True\n",
    ".github/CODEOWNERS": "* @example/team\n",
    ".github/pull_request_template.md": "## What and why\n",
    ".github/dependabot.yml": "version: 2\n",
    "renovate.json": '{"automerge": true}\n',
    "AGENTS.md": "# Agents\nRun make test.\n",
    "CLAUDE.md": "See AGENTS.md\n",
    ".github/copilot-instructions.md": "Use ruff.\n",
    ".cursor/rules/python.mdc": "Be typed.\n",
    ".mcp.json": '{"mcpServers": {}}\n',
    ".devcontainer/devcontainer.json": '{"image": "python:3.13"}\n',
    "README.md": "# X\n\nSet up with `uv sync`, then run `make test`.\n",
    "Makefile": "test:\n\tpytest\n",
    "grafana/dashboards/api.json": '{"title": "API", "panels": [], "schemaVersion": 39}\n',
    # Vendored files are never evidence.
    "vendor/github.com/acme/Pulumi.yaml": "name: acme\n",
    "node_modules/x/.gitlab-ci.yml": "x: 1\n",
}


@pytest.fixture(scope="session")
def polyglot_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    builder = RepoBuilder(tmp_path_factory.mktemp("polyglot") / "repo")
    builder.commit("Initial layout", files=POLYGLOT, when=day(1))
    yield builder.path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "job"
    path.mkdir()
    return path
