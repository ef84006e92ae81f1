"""Start-up, settings and commands: what an operator sees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The test runner's own switches (Playwright needs DJANGO_ALLOW_ASYNC_UNSAFE) are not part
    # of a deployment, so the child does not inherit them.
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "SECRET_KEY": "x" * 60 + "-production-like-secret-key",
            "ALLOWED_HOSTS": "opready.example",
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_typo_in_a_boolean_setting_stops_start_up() -> None:
    result = _manage("check", env={"DEBUG": "ture"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_validate_rubric_counts_the_shipped_rubric() -> None:
    result = _manage("validate_rubric")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == "4 dimensions, 24 capabilities, " + result.stdout.split(", ")[2].strip()
    )
    assert result.stdout.strip().endswith("questions")


def test_validate_rubric_still_passes_version_1() -> None:
    from scoring.rubric import rubric_path

    result = _manage("validate_rubric", str(rubric_path("operationalization", 1)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("4 dimensions, 20 capabilities, 50 questions")


def test_validate_rubric_enforces_the_authoring_rules_a_program_can_check(
    tmp_path: Path,
) -> None:
    from scoring.rubric import rubric_path

    data = yaml.safe_load(rubric_path("operationalization", 2).read_text())
    question = data["dimensions"][0]["capabilities"][0]["questions"][0]
    question["text"] = "Is there a list? Does it have owners?"
    question["levels"][4] = question["levels"][3] + " Also reviewed."
    fork = tmp_path / "operationalization-2.yaml"
    fork.write_text(yaml.safe_dump(data, sort_keys=False))
    result = _manage("validate_rubric", str(fork))
    assert result.returncode == 1
    assert "ask exactly one question" in result.stderr
    assert "levels.4: repeats level 3" in result.stderr


def test_validate_rubric_reports_every_error_and_exits_1(tmp_path: Path) -> None:
    from scoring.rubric import rubric_path

    data = yaml.safe_load(rubric_path("operationalization", 1).read_text())
    data["dimensions"][0]["capabilities"][0]["questions"][0]["levels"][6] = "beyond"
    data["dimensions"][1]["target_level"] = 9
    broken = tmp_path / "operationalization-1.yaml"
    broken.write_text(yaml.safe_dump(data, sort_keys=False))
    result = _manage("validate_rubric", str(broken))
    assert result.returncode == 1
    assert str(broken) in result.stderr
    assert "levels" in result.stderr and "target_level" in result.stderr


def test_validate_rubric_refuses_evidence_ids_no_detector_knows(tmp_path: Path) -> None:
    from scoring.rubric import rubric_path

    data = yaml.safe_load(rubric_path("operationalization", 1).read_text())
    question = data["dimensions"][0]["capabilities"][0]["questions"][0]
    question["evidence"] = ["repo.codeowners-typo"]
    fork = tmp_path / "operationalization-1.yaml"
    fork.write_text(yaml.safe_dump(data, sort_keys=False))
    result = _manage("validate_rubric", str(fork))
    assert result.returncode == 1
    assert "'repo.codeowners-typo' is not a scan detector" in result.stderr


def test_a_broken_shipped_rubric_stops_start_up(tmp_path: Path) -> None:
    from scoring.rubric import rubric_path

    text = rubric_path("operationalization", 1).read_text()
    (tmp_path / "operationalization-1.yaml").write_text(text.replace("levels:", "levles:", 1))
    code = (
        "import scoring.rubric as r, pathlib, django; "
        f"r.RUBRICS_DIR = pathlib.Path({str(tmp_path)!r}); r.get_rubric.cache_clear(); "
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "operationalization-1.yaml" in result.stderr
    assert "levles" in result.stderr


def test_validate_rubric_reports_a_broken_fork_among_the_shipped_rubrics(tmp_path: Path) -> None:
    # docs/rubric.md: authors write their fork next to the shipped rubric and validate it.
    # Start-up refuses broken rubrics, but must let validate_rubric list the errors first.
    from scoring.rubric import rubric_path

    text = rubric_path("operationalization", 1).read_text()
    fork = tmp_path / "acme-readiness-1.yaml"
    fork.write_text(text.replace("levels:", "levles:", 1))
    (tmp_path / "operationalization-1.yaml").write_text(text)
    code = (
        "import scoring.rubric as r, pathlib, os, sys; "
        f"r.RUBRICS_DIR = pathlib.Path({str(tmp_path)!r}); "
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
        f"sys.argv = ['manage.py', 'validate_rubric', {str(fork)!r}]; "
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(sys.argv)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert str(fork) in result.stderr and "levles" in result.stderr


@pytest.mark.django_db
def test_pages_carry_a_nonce_csp_and_a_strict_referrer_policy() -> None:
    client = Client()
    for url in ["/login/", "/no-such-page/", "/i/unknown-token/"]:
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in csp, url
        assert "object-src 'none'" in csp
        assert response["Referrer-Policy"] in {"same-origin", "no-referrer"}
        assert response["X-Frame-Options"] == "DENY"
    assert client.get("/i/unknown-token/")["Referrer-Policy"] == "no-referrer"
    html = client.get("/login/").content.decode()
    assert "<script>" not in html, "inline scripts without a nonce break under CSP"


@pytest.mark.django_db
def test_migrations_are_complete() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
