"""GitHub measures: branch rules, pull requests and reviews, Actions runs, deployments.

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
from fnmatch import fnmatchcase
from typing import Any

from assessments.scans.engine.agents import classify_login
from assessments.scans.engine.detectors import Catalogue
from assessments.scans.engine.github import GitHubClient, NotAvailable, RateLimited
from assessments.scans.engine.history import Sample
from assessments.scans.engine.model import Finding, Pointer, Progress, ScanError, ScanResult, Status

_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
MAX_PULLS = 100
MAX_RUN_PAGES = 5
MAX_DEPLOYMENTS = 300
MAX_DEPLOYMENT_STATUSES = 100
MAX_RECORDS = 300
MIN_PULLS = 5
MIN_RUNS = 5
# Thresholds (docs/scans.md).
MERGED_WITHOUT_APPROVAL_SHARE = 0.10
FIRST_REVIEW_HOURS = 24.0
PR_SIZE_LINES = 400
ACTIONS_SUCCESS = 0.85
BOT_ACTOR_TYPES = {"Integration", "DeployKey"}
FAILED = {"failure", "timed_out", "startup_failure"}

Outcome = tuple[Status, str, tuple[Pointer, ...]]


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(sample: Sample, q: float) -> float | None:
    value = sample.quantile(q)
    return None if value is None else round(value / 60, 2)


class _Stop(Exception):
    """A rate limit too long to wait out: stop reading."""


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
        ids = (
            "github.branch-protection",
            "github.required-reviews",
            "github.codeowners-review",
            "github.status-checks",
            "github.ruleset-bypass-bots",
            "github.auto-merge-guarded",
        )
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
                lambda: list(self.client.pages(self.api("/rulesets"), {"per_page": 100, "includes_parents": "true"}, max_pages=5))
            ):
                for item in page:
                    if not isinstance(item, dict) or item.get("enforcement") != "active":
                        continue
                    if item.get("target", "branch") != "branch":
                        continue
                    detail_url = self.api(f"/rulesets/{item.get('id')}")
                    full, _ = self.call(lambda u=detail_url: self.client.get(u))
                    if isinstance(full, dict) and _applies(full, branch):
                        full["_api_url"] = detail_url
                        rulesets.append(full)
                        if "bypass_actors" not in full:
                            bypass_known = False
        except NotAvailable as exc:
            rulesets_known = False
            self.warnings.append(f"Rulesets could not be read ({exc.status}).")

        rules_known = classic_known and rulesets_known
        pointers: list[Pointer] = []
        if classic is not None:
            pointers.append(Pointer("api", protection_url))
        pointers += [Pointer("api", r["_api_url"]) for r in rulesets]
        evidence = tuple(pointers[:20])
        names = ", ".join(str(r.get("name")) for r in rulesets)

        protected = classic is not None or bool(rulesets)
        self.facts["branch_rules"] = {
            "branch": branch,
            "classic_protection": None if not classic_known else classic is not None,
            "rulesets": [str(r.get("name")) for r in rulesets] if rulesets_known else None,
        }
        if protected:
            what = ("branch protection" if classic is not None else "") + (
                (" and " if classic is not None else "") + f"rulesets ({names})" if rulesets else ""
            )
            self.outcomes["github.branch-protection"] = ("found", f"{branch} is protected by {what}.", evidence)
        elif rules_known:
            self.outcomes["github.branch-protection"] = ("absent", f"{branch} has no branch protection and no active ruleset.", ())
        count = int(_classic_reviews(classic).get("required_approving_review_count") or 0)
        owners = _classic_reviews(classic).get("require_code_owner_reviews") is True
        checks = _classic_checks(classic)
        for rs in rulesets:
            for r in rs.get("rules") or []:
                if not isinstance(r, dict):
                    continue
                params = r.get("parameters") or {}
                if r.get("type") == "pull_request":
                    count = max(count, int(params.get("required_approving_review_count") or 0))
                    owners = owners or params.get("require_code_owner_review") is True
                elif r.get("type") == "required_status_checks":
                    checks += [
                        str(c.get("context"))
                        for c in params.get("required_status_checks") or []
                        if isinstance(c, dict)
                    ]
        checks = sorted(set(checks))
        self.facts["branch_rules"].update(
            {"required_approvals": count, "code_owner_review": owners, "required_checks": checks}
        )

        def settle(ident: str, found: bool, yes: str, no: str) -> None:
            # A rule seen anywhere is found; "absent" needs every rule source to be readable.
            if found:
                self.outcomes[ident] = ("found", yes, evidence)
            elif rules_known:
                self.outcomes[ident] = ("absent", no, evidence)

        settle(
            "github.required-reviews",
            count >= 1,
            f"{count} approving review(s) required on {branch}.",
            f"No approving review is required on {branch}.",
        )
        settle(
            "github.codeowners-review",
            owners,
            "Code owner review is required.",
            "Code owner review is not required.",
        )
        settle(
            "github.status-checks",
            bool(checks),
            f"Required checks: {', '.join(checks)}.",
            "No status check is required before merging.",
        )

        bots = [
            (rs, actor)
            for rs in rulesets
            for actor in rs.get("bypass_actors") or []
            if isinstance(actor, dict) and actor.get("actor_type") in BOT_ACTOR_TYPES
        ]
        apps = _classic_reviews(classic).get("bypass_pull_request_allowances", {}) or {}
        classic_apps = [a.get("slug") or a.get("name") for a in apps.get("apps") or [] if isinstance(a, dict)]
        classic_bots = [
            u.get("login") for u in apps.get("users") or [] if isinstance(u, dict) and u.get("type") == "Bot"
        ]
        if bots or classic_apps or classic_bots:
            described = [f"{actor.get('actor_type')} {actor.get('actor_id')} on ruleset {rs.get('name')}" for rs, actor in bots]
            described += [f"app {a} may skip required reviews" for a in classic_apps]
            described += [f"bot {b} may skip required reviews" for b in classic_bots]
            pointers_bots = tuple(Pointer("api", rs["_api_url"]) for rs, _ in bots) + (
                (Pointer("api", protection_url),) if classic_apps or classic_bots else ()
            )
            self.outcomes["github.ruleset-bypass-bots"] = (
                "absent",
                "Bots or apps can bypass the branch rules: " + "; ".join(described[:10]) + ".",
                pointers_bots[:20],
            )
        elif rules_known and bypass_known and protected:
            self.outcomes["github.ruleset-bypass-bots"] = ("found", "No bot, app or deploy key is a bypass actor.", evidence)
        elif rules_known and not protected:
            self.outcomes["github.ruleset-bypass-bots"] = (
                "unknown",
                "Not applicable: there are no branch rules to bypass (see github.branch-protection).",
                (),
            )

        if allow_auto_merge is False:
            self.outcomes["github.auto-merge-guarded"] = ("found", "Auto-merge is turned off for the repository.", ())
        elif allow_auto_merge is True and checks:
            self.outcomes["github.auto-merge-guarded"] = ("found", "Auto-merge is on and required status checks guard it.", evidence)
        elif allow_auto_merge is True and rules_known:
            self.outcomes["github.auto-merge-guarded"] = (
                "absent",
                "Auto-merge is on and no status check is required: changes can merge unchecked.",
                (),
            )
        self.unknown(ids, "the token cannot read the branch rules (403/404)")

    # -- pull requests -----------------------------------------------------------------------

    def pulls(self) -> None:
        ids = ("github.pr-review-latency", "github.merged-without-approval", "github.pr-size", "github.agent-pull-requests")
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
                    if closed is not None and since <= closed <= self.now and len(selected) < MAX_PULLS:
                        selected.append(pr)
                self.step("github: pull requests", 25)
                if older or len(selected) >= MAX_PULLS:
                    break
        except NotAvailable as exc:
            self.unknown(ids, f"the token cannot list pull requests ({exc.status})")
            return
        except RateLimited as exc:
            self.stopped_wait = exc.wait_seconds
            self._pull_measures(selected, examined=[], stopped=True)
            raise _Stop from None
        examined: list[dict[str, Any]] = []
        try:
            for index, pr in enumerate(selected):
                number = pr.get("number")
                reviews: list[Any] = []
                for page in self.client.pages(self.api(f"/pulls/{number}/reviews"), {"per_page": 100}, max_pages=3):
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

    def _pull_measures(self, selected: list[dict[str, Any]], examined: list[dict[str, Any]], *, stopped: bool) -> None:
        latency, sizes = Sample(), Sample()
        reviews_total = merged = unapproved = agent_prs = unreviewed = 0
        by_agent: dict[str, int] = {}
        unapproved_pointers: list[Pointer] = []
        agent_pointers: list[Pointer] = []
        records = []
        for pr in selected:
            user = pr.get("user") or {}
            identity = classify_login(str(user.get("login") or ""), user.get("type"))
            if identity is not None and identity.kind == "ai-agent":
                agent_prs += 1
                by_agent[identity.label] = by_agent.get(identity.label, 0) + 1
                if len(agent_pointers) < 10:
                    agent_pointers.append(Pointer("api", str(pr.get("url") or ""), url=pr.get("html_url")))
        for item in examined:
            pr, reviews = item["pr"], item["reviews"]
            author = str((pr.get("user") or {}).get("login") or "")
            created = parse_time(pr.get("created_at"))
            human = [
                r
                for r in reviews
                if isinstance(r, dict)
                and r.get("state") not in ("PENDING", None)
                and (r.get("user") or {}).get("login") != author
                and classify_login(str((r.get("user") or {}).get("login") or ""), (r.get("user") or {}).get("type")) is None
            ]
            reviews_total += len(human)
            times = sorted(t for t in (parse_time(r.get("submitted_at")) for r in human) if t is not None)
            first = None
            if times and created is not None:
                first = (times[0] - created).total_seconds() / 3600
                latency.add(int(max(0.0, first) * 60))
            elif not times:
                unreviewed += 1
            approved = any(r.get("state") == "APPROVED" for r in human)
            size = None
            if pr.get("merged_at"):
                merged += 1
                if isinstance(pr.get("additions"), int) and isinstance(pr.get("deletions"), int):
                    size = pr["additions"] + pr["deletions"]
                    sizes.add(size)
                if not approved:
                    unapproved += 1
                    if len(unapproved_pointers) < 10:
                        unapproved_pointers.append(Pointer("api", str(pr.get("url") or ""), url=pr.get("html_url")))
            if len(records) < MAX_RECORDS:
                records.append(
                    {
                        "number": pr.get("number"),
                        "created": pr.get("created_at"),
                        "merged": pr.get("merged_at"),
                        "hours_to_first_review": None if first is None else round(first, 2),
                        "human_reviews": len(human),
                        "approved": approved,
                        "size": size,
                    }
                )
        weeks = max(1.0, self.window_days / 7)
        self.facts["pulls"] = {
            "closed_in_window": len(selected),
            "examined": len(examined),
            "merged": merged,
            "per_week": round(len(selected) / weeks, 2),
            "median_hours_to_first_review": _hours(latency, 0.5),
            "p90_hours_to_first_review": _hours(latency, 0.9),
            "without_human_review": unreviewed,
            "reviews_per_pr": round(reviews_total / len(examined), 2) if examined else None,
            "merged_without_approval": unapproved,
            "merged_without_approval_share": round(unapproved / merged, 4) if merged else None,
            "median_size": sizes.quantile(0.5),
            "p90_size": sizes.quantile(0.9),
            "agent_prs": agent_prs,
            "by_agent": dict(sorted(by_agent.items())),
            "records": records,
            "stopped_early": stopped,
        }
        note = " (the rate limit stopped the scan before all pull requests were read)" if stopped else ""
        if not selected:
            self.unknown(
                ("github.pr-review-latency", "github.merged-without-approval", "github.pr-size", "github.agent-pull-requests"),
                f"no pull request was closed in the last {self.window_days} days",
            )
            return
        self.outcomes["github.agent-pull-requests"] = (
            ("found", f"{agent_prs} of {len(selected)} pull requests were opened by coding agents ({', '.join(f'{k} {v}' for k, v in sorted(by_agent.items()))}).", tuple(agent_pointers))
            if agent_prs
            else ("absent", f"None of {len(selected)} pull requests was opened by a coding agent account.", ())
        )
        if len(examined) < MIN_PULLS:
            self.unknown(
                ("github.pr-review-latency", "github.merged-without-approval", "github.pr-size"),
                f"only {len(examined)} pull requests could be examined{note}",
            )
            return
        median = _hours(latency, 0.5)
        if median is None:
            self.outcomes["github.pr-review-latency"] = ("absent", f"None of {len(examined)} pull requests got a human review{note}.", ())
        else:
            self.outcomes["github.pr-review-latency"] = (
                "found" if median <= FIRST_REVIEW_HOURS else "absent",
                f"Median {median} h to the first human review (90th percentile {_hours(latency, 0.9)} h) over "
                f"{len(examined)} pull requests; {unreviewed} had none (threshold {FIRST_REVIEW_HOURS:g} h){note}.",
                (),
            )
        if merged:
            share = unapproved / merged
            self.outcomes["github.merged-without-approval"] = (
                "found" if share <= MERGED_WITHOUT_APPROVAL_SHARE else "absent",
                f"{unapproved} of {merged} merged pull requests had no human approval ({share:.0%}; "
                f"threshold {MERGED_WITHOUT_APPROVAL_SHARE:.0%}){note}.",
                tuple(unapproved_pointers),
            )
        size_median = sizes.quantile(0.5)
        if size_median is not None:
            self.outcomes["github.pr-size"] = (
                "found" if size_median <= PR_SIZE_LINES else "absent",
                f"Median {size_median} changed lines per merged pull request (90th percentile "
                f"{sizes.quantile(0.9)}; threshold {PR_SIZE_LINES}){note}.",
                (),
            )
        self.unknown(("github.merged-without-approval", "github.pr-size"), "no pull request was merged in the window")

    # -- Actions, deployments, environments ------------------------------------------------

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
            self.unknown(("github.actions-success-rate",), f"the token cannot read Actions runs ({exc.status})")
            return
        completed = [r for r in runs if r.get("status") == "completed"]
        judged = [r for r in completed if r.get("conclusion") == "success" or r.get("conclusion") in FAILED]
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
            self.unknown(("github.actions-success-rate",), f"only {len(judged)} finished workflow runs in the window")
            return
        assert rate is not None
        failing = [r for r in judged if r.get("conclusion") in FAILED][:10]
        self.outcomes["github.actions-success-rate"] = (
            "found" if rate >= ACTIONS_SUCCESS else "absent",
            f"{success} of {len(judged)} finished runs succeeded ({rate:.0%}; threshold {ACTIONS_SUCCESS:.0%}); "
            f"median duration {self.facts['actions']['median_minutes']} min; {reruns} re-runs.",
            tuple(Pointer("api", str(r.get("url") or ""), url=r.get("html_url")) for r in failing),
        )

    def deployments(self) -> None:
        items: list[dict[str, Any]] = []
        try:
            for page in self.call(
                lambda: list(self.client.pages(self.api("/deployments"), {"per_page": 100}, max_pages=3))
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
            self.unknown(("github.deployments",), f"the token cannot read deployments ({exc.status})")
            return
        records = []
        for index, dep in enumerate(items):
            status = "unknown"
            if index < MAX_DEPLOYMENT_STATUSES:
                try:
                    statuses, _ = self.call(
                        lambda d=dep: self.client.get(self.api(f"/deployments/{d.get('id')}/statuses"), {"per_page": 100})
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
            ("found", f"{len(records)} deployments recorded in the last {self.window_days} days ({successful} successful, {self.facts['deployments']['per_week']} per week).", (Pointer("api", self.api("/deployments")),))
            if records
            else ("absent", f"No deployment was recorded through the Deployments API in the last {self.window_days} days.", ())
        )

    def environments(self) -> None:
        try:
            data, _ = self.call(lambda: self.client.get(self.api("/environments"), {"per_page": 100}))
        except NotAvailable as exc:
            self.unknown(("github.environments",), f"the token cannot read environments ({exc.status})")
            return
        envs = [e for e in (data or {}).get("environments") or [] if isinstance(e, dict)]
        protected = [
            str(e.get("name"))
            for e in envs
            if e.get("protection_rules") or e.get("deployment_branch_policy")
        ]
        self.facts["environments"] = {"names": [str(e.get("name")) for e in envs], "protected": protected}
        if protected:
            self.outcomes["github.environments"] = ("found", f"Protected environments: {', '.join(protected)}.", (Pointer("api", self.api("/environments")),))
        elif envs:
            self.outcomes["github.environments"] = ("absent", f"{len(envs)} environment(s), none with protection rules.", ())
        else:
            self.outcomes["github.environments"] = ("absent", "The repository has no deployment environments.", ())


def _classic_reviews(classic: dict[str, Any] | None) -> dict[str, Any]:
    if classic is None:
        return {}
    reviews = classic.get("required_pull_request_reviews")
    return reviews if isinstance(reviews, dict) else {}


def _classic_checks(classic: dict[str, Any] | None) -> list[str]:
    if classic is None or not isinstance(classic.get("required_status_checks"), dict):
        return []
    checks = classic["required_status_checks"]
    names = [str(c) for c in checks.get("contexts") or []]
    names += [str(c.get("context")) for c in checks.get("checks") or [] if isinstance(c, dict)]
    return names


def _applies(ruleset: dict[str, Any], branch: str) -> bool:
    """Does a branch ruleset's ref_name condition include the default branch?"""
    conditions = ruleset.get("conditions")
    if not isinstance(conditions, dict) or not isinstance(conditions.get("ref_name"), dict):
        return True  # no condition: the ruleset targets every branch
    ref = f"refs/heads/{branch}"

    def hit(patterns: Any) -> bool:
        for pattern in patterns or []:
            if pattern in ("~ALL", "~DEFAULT_BRANCH") or pattern in (ref, branch):
                return True
            if isinstance(pattern, str) and (fnmatchcase(ref, pattern) or fnmatchcase(branch, pattern)):
                return True
        return False

    names = conditions["ref_name"]
    return hit(names.get("include")) and not hit(names.get("exclude"))


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
            raise ScanError("GitHub: the repository was not found, or the token cannot read it.") from None
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
        ("branch rules", 10, lambda: scan.branch_rules(branch, data.get("allow_auto_merge")), (
            "github.branch-protection", "github.required-reviews", "github.codeowners-review",
            "github.status-checks", "github.ruleset-bypass-bots", "github.auto-merge-guarded")),
        ("pull requests and reviews", 25, scan.pulls, (
            "github.pr-review-latency", "github.merged-without-approval", "github.pr-size", "github.agent-pull-requests")),
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
    partial = scan.stopped_wait is not None
    if partial:
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
        status, detail, evidence = scan.outcomes.get(measure.id, ("unknown", "Could not determine.", ()))
        for capability in measure.capabilities:
            findings.append(Finding(measure.id, capability, status, measure.strength, measure.title, detail, evidence))
    scan.facts["requests"] = client.requests
    return ScanResult(
        source=f"github:{repo}",
        findings=tuple(findings),
        facts=scan.facts,
        warnings=tuple(client.redact(w) for w in scan.warnings),
        partial=partial,
    )
