from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assessments.scans.engine import GitHubClient, HttpResponse, ScanError, ScanResult, scan_github

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
TOKEN = "ghp_TestToken0123456789abcdefghijSECRET"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
API = "https://api.github.com"
R = "/repos/acme/widgets"
DATE = "Sun, 01 Mar 2026 00:00:00 GMT"
PULLS = f"{R}/pulls?state=closed&sort=updated&direction=desc&per_page=100"
PULLS_2 = "/repositories/1296269/pulls?state=closed&sort=updated&direction=desc&per_page=100&page=2"
LINK = f'<{API}{PULLS_2}>; rel="next", <{API}{PULLS_2}>; rel="last"'

Reply = tuple[int, Mapping[str, str], str]


def ok(name: str, headers: Mapping[str, str] | None = None) -> Reply:
    return 200, dict(headers or {}), name


def routes() -> dict[str, list[Reply]]:
    """Every exchange of a complete scan of acme/widgets."""
    table: dict[str, list[Reply]] = {
        R: [ok("repo.json")],
        f"{R}/branches/main/protection": [ok("branch-protection.json")],
        f"{R}/rulesets?per_page=100&includes_parents=true": [ok("rulesets.json")],
        f"{R}/rulesets/42": [ok("ruleset-42.json")],
        PULLS: [ok("pulls-page-1.json", {"link": LINK})],
        PULLS_2: [ok("pulls-page-2.json")],
        f"{R}/actions/runs?per_page=100&created=%3E%3D2025-12-01": [ok("actions-runs.json")],
        f"{R}/deployments?per_page=100": [ok("deployments.json")],
        f"{R}/environments?per_page=100": [ok("environments.json")],
    }
    for number in (106, 105, 104, 103, 102, 101):
        table[f"{R}/pulls/{number}/reviews?per_page=100"] = [ok(f"reviews-{number}.json")]
        if number != 102:
            table[f"{R}/pulls/{number}"] = [ok(f"pull-{number}.json")]
    for deployment in (9003, 9002, 9001):
        table[f"{R}/deployments/{deployment}/statuses?per_page=100"] = [
            ok(f"deployment-statuses-{deployment}.json")
        ]
    return table


class FakeGitHub:
    """Serves recorded bodies by URL; each route's replies are used in order, the last repeats."""

    def __init__(self, table: dict[str, list[Reply]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, url: str, headers: Mapping[str, str]) -> HttpResponse:
        assert headers["Authorization"] == f"Bearer {TOKEN}"
        assert headers["X-GitHub-Api-Version"] == "2022-11-28"
        path = url.removeprefix(API)
        self.calls.append(path)
        replies = self.table.get(path)
        reply: Reply = (404, {}, "not-found.json")
        if replies is not None:
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
        status, extra, name = reply
        body = (FIXTURES / name).read_bytes()
        return HttpResponse(
            status, {"content-type": "application/json", "date": DATE, **extra}, body
        )


def run(table: dict[str, list[Reply]], **kwargs: Any) -> tuple[ScanResult, FakeGitHub, list[float]]:
    fake = FakeGitHub(table)
    slept: list[float] = []
    client = GitHubClient(token=TOKEN, transport=fake, sleep=slept.append)
    result = scan_github(repo="acme/widgets", token=TOKEN, now=NOW, client=client, **kwargs)
    return result, fake, slept


def statuses(result: ScanResult) -> dict[str, str]:
    return {f.detector: f.status for f in result.findings}


FULL = {
    "github.branch-protection": "found",
    "github.required-reviews": "found",
    "github.codeowners-review": "found",
    "github.status-checks": "found",
    "github.ruleset-bypass-bots": "absent",
    "github.auto-merge-guarded": "found",
    "github.merged-without-approval": "absent",
    "github.pr-review-latency": "found",
    "github.pr-size": "found",
    "github.agent-pull-requests": "found",
    "github.actions-success-rate": "absent",
    "github.deployments": "found",
    "github.environments": "found",
}


def test_a_complete_scan(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    result, fake, slept = run(routes())
    assert statuses(result) == FULL
    assert result.partial is False and slept == []
    assert result.source == "github:acme/widgets"
    facts = result.facts
    assert facts["branch_rules"] == {
        "branch": "main", "classic_protection": True, "rulesets": ["main rules"],
        "required_approvals": 2, "code_owner_review": True, "required_checks": ["ci/test", "lint"],
    }  # fmt: skip
    pulls = facts["pulls"]
    assert (pulls["closed_in_window"], pulls["examined"], pulls["merged"]) == (6, 6, 5)
    assert pulls["median_hours_to_first_review"] == 4.0
    assert pulls["p90_hours_to_first_review"] == 24.0
    assert pulls["reviews_per_pr"] == 1.0  # self-reviews and bot reviews do not count
    assert pulls["without_human_review"] == 1
    assert (pulls["merged_without_approval"], pulls["merged_without_approval_share"]) == (1, 0.2)
    assert (pulls["median_size"], pulls["p90_size"]) == (40, 500)
    assert pulls["by_agent"] == {"Devin": 1, "GitHub Copilot": 1}
    assert facts["actions"] == {
        "runs": 8, "completed": 7, "success": 5, "failed": 1, "success_rate": 0.8333,
        "median_minutes": 7.0, "rerun_share": round(1 / 7, 4),
    }  # fmt: skip
    deployments = facts["deployments"]
    assert (deployments["in_window"], deployments["successful"]) == (3, 2)
    assert deployments["records"][0] == {
        "id": "9003", "time": "2026-02-25T12:00:00Z", "status": "success", "shas": ["a" * 40], "environment": "production",
    }  # fmt: skip
    assert [r["status"] for r in deployments["records"]] == ["success", "success", "failure"]
    assert facts["environments"] == {
        "names": ["production", "staging"],
        "protected": ["production"],
    }
    # Paginated with the Link header, stopping at the first pull request older than the window.
    assert fake.calls.count(PULLS_2) == 1
    assert f"{R}/pulls/102" not in fake.calls  # closed unmerged: the list entry is enough
    assert TOKEN not in caplog.text and TOKEN not in json.dumps(result.to_dict())


def test_findings_carry_api_pointers() -> None:
    result, _fake, _slept = run(routes())
    bypass = result.finding("github.ruleset-bypass-bots")
    assert "Integration 98765 on ruleset main rules" in bypass.detail
    assert bypass.evidence[0].kind == "api" and bypass.evidence[0].ref == f"{API}{R}/rulesets/42"
    unapproved = result.finding("github.merged-without-approval")
    assert [(p.ref, p.url) for p in unapproved.evidence] == [
        (f"{API}{R}/pulls/104", "https://github.com/acme/widgets/pull/104")
    ]
    capabilities = [
        f.capability for f in result.findings if f.detector == "github.ruleset-bypass-bots"
    ]
    assert capabilities == ["dep.ai-governance", "rev.policy-ownership"]
    listing = f"{API}{R}/pulls?state=closed&sort=updated&direction=desc"
    assert [p.ref for p in result.finding("github.pr-review-latency").evidence][-1] == listing
    size = result.finding("github.pr-size").evidence
    assert size[0].url == "https://github.com/acme/widgets/pull/105"  # the largest, 500 lines
    assert size[-1].ref == listing


def _without(table: dict[str, list[Reply]], *paths: str) -> dict[str, list[Reply]]:
    for path in paths:
        table[path] = [ok("rulesets-empty.json")]  # an empty list
    return table


def _scenarios() -> dict[str, dict[str, list[Reply]]]:
    unprotected = routes()
    unprotected[f"{R}/branches/main/protection"] = [(404, {}, "branch-not-protected.json")]
    unprotected[f"{R}/rulesets?per_page=100&includes_parents=true"] = [ok("rulesets-empty.json")]
    auto_merge_off = _without(
        routes(), f"{R}/deployments?per_page=100", f"{R}/environments?per_page=100"
    )
    auto_merge_off[R] = [ok("repo-auto-merge-off.json")]
    unprotected_envs = routes()
    unprotected_envs[f"{R}/environments?per_page=100"] = [ok("rulesets-empty.json")]
    rate_limited = routes()
    reset = str(int(NOW.timestamp()) + 3600)
    rate_limited[PULLS_2] = [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}, "rate-limited.json")
    ]
    return {
        "complete": routes(),
        "unprotected": unprotected,
        "auto-merge off, no deployments or environments": auto_merge_off,
        "rate limited": rate_limited,
    }


@pytest.mark.parametrize("scenario", list(_scenarios()))
def test_every_found_or_absent_finding_has_a_pointer(scenario: str) -> None:
    result, _fake, _slept = run(_scenarios()[scenario])
    decided = [f for f in result.findings if f.status in ("found", "absent")]
    assert decided
    for finding in decided:
        assert finding.evidence, f"{finding.detector} ({finding.status}) has no pointer"
        assert all(p.kind == "api" and p.ref.startswith(f"{API}/") for p in finding.evidence)


def test_pointers_for_settings_and_empty_lists() -> None:
    result, _fake, _slept = run(_scenarios()["auto-merge off, no deployments or environments"])
    assert statuses(result)["github.auto-merge-guarded"] == "found"
    assert [p.ref for p in result.finding("github.auto-merge-guarded").evidence] == [f"{API}{R}"]
    for ident, path in (("github.deployments", "deployments"), ("github.environments", "environments")):  # fmt: skip
        assert result.finding(ident).status == "absent"
        assert [p.ref for p in result.finding(ident).evidence] == [f"{API}{R}/{path}"]
    unprotected, _fake, _slept = run(_scenarios()["unprotected"])
    assert [p.ref for p in unprotected.finding("github.branch-protection").evidence] == [
        f"{API}{R}/branches/main/protection",
        f"{API}{R}/rulesets",
    ]


def test_a_short_rate_limit_mid_pagination_is_waited_out() -> None:
    table = routes()
    table[PULLS_2] = [(429, {"retry-after": "3"}, "rate-limited.json"), ok("pulls-page-2.json")]
    result, _fake, slept = run(table)
    assert slept == [3.0]
    assert result.partial is False
    assert statuses(result) == FULL


def test_a_long_rate_limit_stops_with_a_partial_result() -> None:
    table = routes()
    reset = int(NOW.timestamp()) + 3600
    table[PULLS_2] = [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}, "rate-limited.json")
    ]
    result, fake, slept = run(table)
    assert slept == []
    assert result.partial is True
    found = statuses(result)
    # Read before the limit: branch rules, and agent pull requests from the first page.
    assert found["github.branch-protection"] == "found"
    assert found["github.agent-pull-requests"] == "found"
    for ident in (
        "github.pr-review-latency",
        "github.actions-success-rate",
        "github.deployments",
        "github.environments",
    ):
        assert found[ident] == "unknown"
    assert "rate limit" in result.finding("github.deployments").detail
    (warning,) = [w for w in result.warnings if "rate limit" in w]
    assert "60 min" in warning
    assert "pull requests and reviews, Actions runs, deployments, environments" in warning
    assert not any("/actions/runs" in c for c in fake.calls)  # nothing more was requested


def test_a_rate_limit_before_any_agent_pull_request_leaves_agents_unknown() -> None:
    table = routes()
    table[PULLS] = [ok("pulls-page-1-without-agents.json", {"link": LINK})]
    reset = str(int(NOW.timestamp()) + 3600)
    table[PULLS_2] = [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}, "rate-limited.json")
    ]
    result, _fake, _slept = run(table)
    assert result.partial is True
    agents = result.finding("github.agent-pull-requests")
    assert agents.status == "unknown"  # page 2 was never read: it may hold one
    assert "not all were listed" in agents.detail
    # With the whole list read, no agent pull request is a real absence.
    complete = routes()
    complete[PULLS] = [ok("pulls-page-1-without-agents.json")]
    result, _fake, _slept = run(complete)
    assert result.finding("github.agent-pull-requests").status == "absent"


def test_missing_permission_on_branch_protection_is_unknown_never_absent() -> None:
    table = routes()
    table[f"{R}/branches/main/protection"] = [(404, {}, "not-found.json")]
    table[f"{R}/rulesets?per_page=100&includes_parents=true"] = [ok("rulesets-empty.json")]
    result, _fake, _slept = run(table)
    found = statuses(result)
    for ident in ("github.branch-protection", "github.required-reviews", "github.codeowners-review",
                  "github.status-checks", "github.ruleset-bypass-bots", "github.auto-merge-guarded"):  # fmt: skip
        assert found[ident] == "unknown", ident
    assert any("Branch protection could not be read (404)" in w for w in result.warnings)


def test_an_unprotected_branch_is_absent() -> None:
    table = routes()
    table[f"{R}/branches/main/protection"] = [(404, {}, "branch-not-protected.json")]
    table[f"{R}/rulesets?per_page=100&includes_parents=true"] = [ok("rulesets-empty.json")]
    result, _fake, _slept = run(table)
    found = statuses(result)
    assert found["github.branch-protection"] == "absent"
    assert found["github.required-reviews"] == "absent"
    assert found["github.status-checks"] == "absent"
    assert found["github.ruleset-bypass-bots"] == "unknown"  # nothing to bypass
    assert found["github.auto-merge-guarded"] == "absent"  # auto-merge on, no required checks


def test_forbidden_actions_are_unknown() -> None:
    table = routes()
    table[f"{R}/actions/runs?per_page=100&created=%3E%3D2025-12-01"] = [(403, {}, "forbidden.json")]
    result, _fake, _slept = run(table)
    assert result.finding("github.actions-success-rate").status == "unknown"
    assert "(403)" in result.finding("github.actions-success-rate").detail
    assert result.partial is False


def test_a_rejected_token_is_an_error_that_does_not_show_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    table = routes()
    table[R] = [(401, {}, "bad-credentials.json")]
    with pytest.raises(ScanError) as caught:
        run(table)
    assert str(caught.value) == "GitHub rejected the token."
    assert TOKEN not in caplog.text


def test_an_unreadable_repository_is_a_clear_error() -> None:
    table = routes()
    table[R] = [(404, {}, "not-found.json")]
    with pytest.raises(ScanError, match="not found, or the token cannot read it"):
        run(table)


def test_a_rate_limit_on_the_first_call_says_when_to_retry() -> None:
    table = routes()
    table[R] = [
        (
            429,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW.timestamp()) + 1800)},
            "rate-limited.json",
        )
    ]
    with pytest.raises(ScanError, match="try again in about 30 minutes"):
        run(table)


def test_the_client_never_shows_its_token() -> None:
    client = GitHubClient(token=TOKEN, transport=FakeGitHub(routes()))
    assert TOKEN not in repr(client) and "hidden" in repr(client)
    assert TOKEN not in str(vars(client).get("token", ""))
    with pytest.raises(ScanError):
        GitHubClient(token="abc\r\nX-Injected: 1")


@pytest.mark.parametrize("repo", ["acme", "../etc/passwd", "acme/widgets/extra", "ac me/x", "-x/y"])
def test_repository_names_are_validated(repo: str) -> None:
    client = GitHubClient(token=TOKEN, transport=FakeGitHub(routes()))
    with pytest.raises(ScanError, match="owner/name"):
        scan_github(repo=repo, token=TOKEN, now=NOW, client=client)


def test_progress_reports_stages() -> None:
    seen: list[tuple[str, int]] = []
    run(routes(), progress=lambda stage, percent: seen.append((stage, percent)))
    assert seen[0] == ("github: repository", 5)
    assert seen[-1] == ("done", 100)
    percents = [p for _s, p in seen]
    assert percents == sorted(percents)
