from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def personas(db: Any) -> Any:
    """alice owns org A, bob is a read-only member of A, fiona facilitates A and C,
    charlie is an outsider who owns org B."""
    from tests.factories import make_personas  # Django models: only for tests that use them

    return make_personas()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Debian's Chromium, never a downloaded browser; the flags keep it off the network.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under `make test` (and so in CI) a skipped test fails the run: nothing, browser tests
    included, may quietly not run."""
    if os.environ.get("OPREADY_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) were skipped; OPREADY_FORBID_SKIPS=1 forbids skips.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
