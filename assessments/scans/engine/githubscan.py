"""The GitHub scan: reads branch rules, pull requests and reviews, Actions runs, deployments
and environments (judging branch rules and pull requests is in githubmeasures.py).

Every section reads its endpoints and turns them into findings; a section whose endpoint
answered 403/404 reports its findings as "unknown" (could not determine), never "absent".
A rate limit too long to wait out stops the scan: what was read is kept, the rest is
"unknown", and the result is marked partial with a warning naming what is missing.
Thresholds are documented in docs/scans.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from assessments.scans.engine.detectors import Catalogue
from assessments.scans.engine.github import GitHubClient, NotAvailable, RateLimited
from assessments.scans.engine.githubmeasures import (
    Outcome,
    applies_to_branch,
    judge_branch_rules,
    judge_pulls,
    parse_time,
)
from assessments.scans.engine.history import Sample
from assessments.scans.engine.model import Pointer, Progress, ScanError, ScanResult

_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
MAX_PULLS = 100
MAX_RUN_PAGES = 5
MAX_DEPLOYMENTS = 300
MAX_DEPLOYMENT_STATUSES = 100
MIN_RUNS = 5
ACTIONS_SUCCESS = 0.85  # docs/scans.md
FAILED = {"failure", "timed_out", "startup_failure"}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Stop(Exception):
    """A rate limit too long to wait out: stop reading."""


# The measures the branch-rule section decides (all "unknown" when it cannot run).
BRANCH_RULE_MEASURES = (
    "github.branch-protection",
    "github.required-reviews",
    "github.codeowners-review",
    "github.status-checks",
    "github.ruleset-bypass-bots",
    "github.auto-merge-guarded",
)


@dataclass
class _Scan:
    repo: str
    client: GitHubClient
    now: datetime
    window_days: int
    progress: Progress | None
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stopped_wait: float | None = None

    @property
    def since(self) -> datetime:
        return self.now - timedelta(days=self.window_days)

    def api(self, path: str) -> str:
        return self.client.url(f"/repos/{self.repo}{path}")

    def call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except RateLimited as exc:
            self.stopped_wait = exc.wait_seconds
            raise _Stop from None

    def step(self, label: str, percent: int) -> None:
        if self.progress is not None:
            self.progress(label, percent)

    def unknown(self, ids: tuple[str, ...], why: str) -> None:
        for ident in ids:
            self.outcomes.setdefault(ident, ("unknown", f"Could not determine: {why}.", ()))

    # -- branch rules ------------------------------------------------------------------------

    def branch_rules(self, branch: str, allow_auto_merge: Any) -> None:
        ids = BRANCH_RULE_MEASURES
        protection_url = self.api(f"/branches/{branch}/protection")
        classic: dict[str, Any] | None = None
        classic_known = True
        try:
            data, _ = self.call(lambda: self.client.get(protection_url))
            classic = data if isinstance(data, dict) else {}
        except NotAvailable as exc:
            if exc.status == 404 and exc.message.lower() == "branch not protected":
                classic = None  # known: no classic protection
            else:
                classic_known = False
                self.warnings.append(
                    f"Branch protection could not be read ({exc.status}); the token may need "
                    "administration read access."
                )
        rulesets: list[dict[str, Any]] = []
        rulesets_known = True
        bypass_known = True
        try:
            for page in self.call(
                lambda: list(
                    self.client.pages(
                        self.api("/rulesets"),
                        {"per_page": 100, "includes_parents": "true"},
                        max_pages=5,
                    )
                )
            ):
                for item in page:
                    if not isinstance(item, dict) or item.get("enforcement") != "active":
                        continue
                    if item.get("target", "branch") != "branch":
                        continue
                    detail_url = self.api(f"/rulesets/{item.get('id')}")
                    full, _ = self.call(partial(self.client.get, detail_url))
                    if isinstance(full, dict) and applies_to_branch(full, branch):
                        full["_api_url"] = detail_url
                        rulesets.append(full)
                        if "bypass_actors" not in full:
                            bypass_known = False
        except NotAvailable as exc:
            rulesets_known = False
            self.warnings.append(f"Rulesets could not be read ({exc.status}).")

        outcomes, facts = judge_branch_rules(
            branch=branch,
            classic=classic,
            classic_known=classic_known,
            rulesets=rulesets,
            rulesets_known=rulesets_known,
            bypass_known=bypass_known,
            allow_auto_merge=allow_auto_merge,
            protection_url=protection_url,
            rulesets_url=self.api("/rulesets"),
            repo_url=self.client.url(f"/repos/{self.repo}"),
        )
        self.outcomes.update(outcomes)
        self.facts["branch_rules"] = facts
        self.unknown(ids, "the token cannot read the branch rules (403/404)")

    # -- pull requests -----------------------------------------------------------------------

    def pulls(self) -> None:
        ids = (
            "github.pr-review-latency",
            "github.merged-without-approval",
            "github.pr-size",
            "github.agent-pull-requests",
        )
        since = self.since
        selected: list[dict[str, Any]] = []
        try:
            for page in self.client.pages(
                self.api("/pulls"),
                {"state": "closed", "sort": "updated", "direction": "desc", "per_page": 100},
                max_pages=10,
            ):
                older = False
                for pr in page:
                    if not isinstance(pr, dict):
                        continue
                    updated = parse_time(pr.get("updated_at"))
                    closed = parse_time(pr.get("closed_at"))
                    if updated is not None and updated < since:
                        older = True
                        break
                    if (
                        closed is not None
                        and since <= closed <= self.now
                        and len(selected) < MAX_PULLS
                    ):
                        selected.append(pr)
                self.step("github: pull requests", 25)
                if older or len(selected) >= MAX_PULLS:
                    break
        except NotAvailable as exc:
            self.unknown(ids, f"the token cannot list pull requests ({exc.status})")
            return
        except RateLimited as exc:
            self.stopped_wait = exc.wait_seconds
            self._pull_measures(selected, examined=[], stopped=True, listed_all=False)
            raise _Stop from None
        examined: list[dict[str, Any]] = []
        try:
            for index, pr in enumerate(selected):
                number = pr.get("number")
                reviews: list[Any] = []
                for page in self.client.pages(
                    self.api(f"/pulls/{number}/reviews"), {"per_page": 100}, max_pages=3
                ):
                    reviews += page
                full = pr
                if pr.get("merged_at"):
                    detail, _ = self.client.get(self.api(f"/pulls/{number}"))
                    full = detail if isinstance(detail, dict) else pr
                examined.append({"pr": full, "reviews": reviews})
                if index % 10 == 0:
                    self.step("github: reviews", 25 + int(30 * index / max(1, len(selected))))
        except NotAvailable as exc:
            self.warnings.append(f"Some pull request details could not be read ({exc.status}).")
        except RateLimited as exc:
            self.stopped_wait = exc.wait_seconds
            self._pull_measures(selected, examined, stopped=True)
            raise _Stop from None
        self._pull_measures(selected, examined, stopped=False)

    def _pull_measures(
        self,
        selected: list[dict[str, Any]],
        examined: list[dict[str, Any]],
        *,
        stopped: bool,
        listed_all: bool = True,
    ) -> None:
        outcomes, facts = judge_pulls(
            selected,
            examined,
            window_days=self.window_days,
            stopped=stopped,
            listed_all=listed_all,
            pulls_url=self.client.url(
                self.api("/pulls"), {"state": "closed", "sort": "updated", "direction": "desc"}
            ),
        )
        self.outcomes.update(outcomes)
        self.facts["pulls"] = facts

    def actions(self) -> None:
        runs: list[dict[str, Any]] = []
        try:
            for page in self.call(
                lambda: list(
                    self.client.pages(
                        self.api("/actions/runs"),
                        {"per_page": 100, "created": f">={self.since.date().isoformat()}"},
                        max_pages=MAX_RUN_PAGES,
                        key="workflow_runs",
                    )
                )
            ):
                runs += [r for r in page if isinstance(r, dict)]
        except NotAvailable as exc:
            self.unknown(
                ("github.actions-success-rate",),
                f"the token cannot read Actions runs ({exc.status})",
            )
            return
        completed = [r for r in runs if r.get("status") == "completed"]
        judged = [
            r
            for r in completed
            if r.get("conclusion") == "success" or r.get("conclusion") in FAILED
        ]
        success = sum(1 for r in judged if r.get("conclusion") == "success")
        durations = Sample()
        for run in judged:
            start, end = parse_time(run.get("run_started_at")), parse_time(run.get("updated_at"))
            if start is not None and end is not None and end >= start:
                durations.add(int((end - start).total_seconds()))
        reruns = sum(1 for r in completed if int(r.get("run_attempt") or 1) > 1)
        rate = success / len(judged) if judged else None
        median = durations.quantile(0.5)
        self.facts["actions"] = {
            "runs": len(runs),
            "completed": len(completed),
            "success": success,
            "failed": len(judged) - success,
            "success_rate": None if rate is None else round(rate, 4),
            "median_minutes": None if median is None else round(median / 60, 2),
            "rerun_share": round(reruns / len(completed), 4) if completed else None,
        }
        if len(judged) < MIN_RUNS:
            self.unknown(
                ("github.actions-success-rate",),
                f"only {len(judged)} finished workflow runs in the window",
            )
            return
        assert rate is not None
        failing = [r for r in judged if r.get("conclusion") in FAILED][:10]
        self.outcomes["github.actions-success-rate"] = (
            "found" if rate >= ACTIONS_SUCCESS else "absent",
            f"{success} of {len(judged)} finished runs succeeded ({rate:.0%}; threshold {ACTIONS_SUCCESS:.0%}); "
            f"median duration {self.facts['actions']['median_minutes']} min; {reruns} re-runs.",
            # The failed runs, then the list every run came from.
            tuple(Pointer("api", str(r.get("url") or ""), url=r.get("html_url")) for r in failing)
            + (Pointer("api", self.api("/actions/runs")),),
        )

    def deployments(self) -> None:
        items: list[dict[str, Any]] = []
        try:
            for page in self.call(
                lambda: list(
                    self.client.pages(self.api("/deployments"), {"per_page": 100}, max_pages=3)
                )
            ):
                older = False
                for dep in page:
                    created = parse_time(dep.get("created_at")) if isinstance(dep, dict) else None
                    if created is None:
                        continue
                    if created < self.since:
                        older = True
                        break
                    if created <= self.now and len(items) < MAX_DEPLOYMENTS:
                        items.append(dep)
                if older:
                    break
        except NotAvailable as exc:
            self.unknown(
                ("github.deployments",), f"the token cannot read deployments ({exc.status})"
            )
            return
        records: list[dict[str, Any]] = []
        for index, dep in enumerate(items):
            status = "unknown"
            if index < MAX_DEPLOYMENT_STATUSES:
                try:
                    statuses, _ = self.call(
                        partial(
                            self.client.get,
                            self.api(f"/deployments/{dep.get('id')}/statuses"),
                            {"per_page": 100},
                        )
                    )
                except NotAvailable:
                    statuses = []
                states = [s.get("state") for s in statuses or [] if isinstance(s, dict)]
                if "success" in states:
                    status = "success"
                elif states and states[0] in ("failure", "error"):
                    status = "failure"
                elif states:
                    status = str(states[0])
            records.append(
                {
                    "id": str(dep.get("id")),
                    "time": _iso(parse_time(dep.get("created_at")) or self.now),
                    "status": status,
                    "shas": [dep["sha"]] if isinstance(dep.get("sha"), str) else [],
                    "environment": dep.get("environment"),
                }
            )
        successful = sum(1 for r in records if r["status"] == "success")
        weeks = max(1.0, self.window_days / 7)
        self.facts["deployments"] = {
            "in_window": len(records),
            "successful": successful,
            "per_week": round(successful / weeks, 2),
            "environments": sorted({str(r["environment"]) for r in records if r["environment"]}),
            "records": records,
        }
        self.outcomes["github.deployments"] = (
            (
                "found",
                f"{len(records)} deployments recorded in the last {self.window_days} days ({successful} successful, {self.facts['deployments']['per_week']} per week).",
                (Pointer("api", self.api("/deployments")),),
            )
            if records
            else (
                "absent",
                f"No deployment was recorded through the Deployments API in the last {self.window_days} days.",
                (Pointer("api", self.api("/deployments")),),
            )
        )

    def environments(self) -> None:
        try:
            data, _ = self.call(
                lambda: self.client.get(self.api("/environments"), {"per_page": 100})
            )
        except NotAvailable as exc:
            self.unknown(
                ("github.environments",), f"the token cannot read environments ({exc.status})"
            )
            return
        envs = [e for e in (data or {}).get("environments") or [] if isinstance(e, dict)]
        protected = [
            str(e.get("name"))
            for e in envs
            if e.get("protection_rules") or e.get("deployment_branch_policy")
        ]
        self.facts["environments"] = {
            "names": [str(e.get("name")) for e in envs],
            "protected": protected,
        }
        listing = (Pointer("api", self.api("/environments")),)
        if protected:
            self.outcomes["github.environments"] = (
                "found",
                f"Protected environments: {', '.join(protected)}.",
                listing,
            )
        elif envs:
            self.outcomes["github.environments"] = (
                "absent",
                f"{len(envs)} environment(s), none with protection rules.",
                listing,
            )
        else:
            self.outcomes["github.environments"] = (
                "absent",
                "The repository has no deployment environments.",
                listing,
            )


def scan_github_repository(
    *,
    repo: str,
    client: GitHubClient,
    now: datetime,
    window_days: int,
    progress: Progress | None,
    catalogue: Catalogue,
) -> ScanResult:
    if not isinstance(repo, str) or not _REPO.match(repo) or ".." in repo:
        raise ScanError("The GitHub repository must be given as owner/name.")
    scan = _Scan(repo=repo, client=client, now=now, window_days=window_days, progress=progress)
    scan.step("github: repository", 5)
    try:
        data, _ = client.get(f"/repos/{repo}")
    except NotAvailable as exc:
        if exc.status in (403, 404):
            raise ScanError(
                "GitHub: the repository was not found, or the token cannot read it."
            ) from None
        raise ScanError("GitHub could not be reached.") from None
    except RateLimited as exc:
        raise ScanError(
            f"GitHub's rate limit for this token is used up; try again in about {exc.wait_seconds / 60:.0f} minutes."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("default_branch"), str):
        raise ScanError("GitHub returned an unexpected answer for the repository.")
    branch = data["default_branch"]
    scan.facts["repository"] = {
        "full_name": data.get("full_name", repo),
        "default_branch": branch,
        "private": data.get("private"),
        "allow_auto_merge": data.get("allow_auto_merge"),
        "window_days": window_days,
        "since": _iso(scan.since),
        "until": _iso(now),
    }
    # (label, percent at its start, reader, the findings it settles); pull requests report
    # their own progress from 25 to 55.
    sections: list[tuple[str, int, Callable[[], None], tuple[str, ...]]] = [
        (
            "branch rules",
            10,
            lambda: scan.branch_rules(branch, data.get("allow_auto_merge")),
            BRANCH_RULE_MEASURES,
        ),
        (
            "pull requests and reviews",
            25,
            scan.pulls,
            (
                "github.pr-review-latency",
                "github.merged-without-approval",
                "github.pr-size",
                "github.agent-pull-requests",
            ),
        ),
        ("Actions runs", 60, scan.actions, ("github.actions-success-rate",)),
        ("deployments", 75, scan.deployments, ("github.deployments",)),
        ("environments", 90, scan.environments, ("github.environments",)),
    ]
    for label, percent, run, ids in sections:
        if scan.stopped_wait is not None:
            scan.missing.append(label)
            scan.unknown(ids, "GitHub's rate limit ran out before this was read")
            continue
        scan.step(f"github: {label}", percent)
        try:
            run()
        except _Stop:
            scan.missing.append(label)
            scan.unknown(ids, "GitHub's rate limit ran out before this was read")
    stopped = scan.stopped_wait is not None
    if stopped:
        assert scan.stopped_wait is not None
        scan.warnings.append(
            "GitHub's rate limit ran out (it resets in about "
            f"{max(1, round(scan.stopped_wait / 60))} min): missing or incomplete: {', '.join(scan.missing)}."
        )
    scan.step("done", 100)
    findings = []
    for measure in catalogue.measures:
        if measure.source != "github":
            continue
        outcome = scan.outcomes.get(measure.id, ("unknown", "Could not determine.", ()))
        findings.extend(measure.findings(*outcome))
    scan.facts["requests"] = client.requests
    return ScanResult(
        source=f"github:{repo}",
        findings=tuple(findings),
        facts=scan.facts,
        warnings=tuple(client.redact(w) for w in scan.warnings),
        partial=stopped,
    )
