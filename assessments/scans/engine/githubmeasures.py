"""GitHub measures as pure functions of what the API returned (thresholds: docs/scans.md).

githubscan.py fetches; this module judges. Status speaks for the practice each detector's
title names; "absent" needs every rule source to be readable, otherwise "unknown".
"""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from assessments.scans.engine.agents import classify_login
from assessments.scans.engine.history import Sample
from assessments.scans.engine.model import Pointer, Status

MAX_RECORDS = 300
MIN_PULLS = 5
MERGED_WITHOUT_APPROVAL_SHARE = 0.10
FIRST_REVIEW_HOURS = 24.0
PR_SIZE_LINES = 400
BOT_ACTOR_TYPES = {"Integration", "DeployKey"}

Outcome = tuple[Status, str, tuple[Pointer, ...]]
Outcomes = dict[str, Outcome]


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def hours(sample: Sample, q: float) -> float | None:
    """A quantile of a sample of minutes, in hours."""
    value = sample.quantile(q)
    return None if value is None else round(value / 60, 2)


def judge_branch_rules(
    *,
    branch: str,
    classic: dict[str, Any] | None,
    classic_known: bool,
    rulesets: list[dict[str, Any]],
    rulesets_known: bool,
    bypass_known: bool,
    allow_auto_merge: Any,
    protection_url: str,
    rulesets_url: str,
    repo_url: str,
) -> tuple[Outcomes, dict[str, Any]]:
    """Findings from classic protection (None: known absent) and applicable active rulesets.

    Every found or absent finding points at what it was judged from: the protection and
    ruleset endpoints (both, when neither protects the branch), and the repository for its
    auto-merge setting.
    """
    outcomes: Outcomes = {}
    facts: dict[str, Any] = {
        "branch": branch,
        "classic_protection": None if not classic_known else classic is not None,
        "rulesets": [str(r.get("name")) for r in rulesets] if rulesets_known else None,
    }
    rules_known = classic_known and rulesets_known
    pointers: list[Pointer] = []
    if classic is not None:
        pointers.append(Pointer("api", protection_url))
    pointers += [Pointer("api", r["_api_url"]) for r in rulesets]
    evidence = tuple(pointers[:20]) or (
        Pointer("api", protection_url),
        Pointer("api", rulesets_url),
    )
    repository = Pointer("api", repo_url)
    names = ", ".join(str(r.get("name")) for r in rulesets)

    protected = classic is not None or bool(rulesets)
    if protected:
        what = ("branch protection" if classic is not None else "") + (
            (" and " if classic is not None else "") + f"rulesets ({names})" if rulesets else ""
        )
        outcomes["github.branch-protection"] = (
            "found",
            f"{branch} is protected by {what}.",
            evidence,
        )
    elif rules_known:
        outcomes["github.branch-protection"] = (
            "absent",
            f"{branch} has no branch protection and no active ruleset.",
            evidence,
        )
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
    facts.update(
        {"required_approvals": count, "code_owner_review": owners, "required_checks": checks}
    )

    def settle(ident: str, found: bool, yes: str, no: str) -> None:
        # A rule seen anywhere is found; "absent" needs every rule source to be readable.
        if found:
            outcomes[ident] = ("found", yes, evidence)
        elif rules_known:
            outcomes[ident] = ("absent", no, evidence)

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
    classic_apps = [
        a.get("slug") or a.get("name") for a in apps.get("apps") or [] if isinstance(a, dict)
    ]
    classic_bots = [
        u.get("login")
        for u in apps.get("users") or []
        if isinstance(u, dict) and u.get("type") == "Bot"
    ]
    if bots or classic_apps or classic_bots:
        described = [
            f"{actor.get('actor_type')} {actor.get('actor_id')} on ruleset {rs.get('name')}"
            for rs, actor in bots
        ]
        described += [f"app {a} may skip required reviews" for a in classic_apps]
        described += [f"bot {b} may skip required reviews" for b in classic_bots]
        pointers_bots = tuple(Pointer("api", rs["_api_url"]) for rs, _ in bots) + (
            (Pointer("api", protection_url),) if classic_apps or classic_bots else ()
        )
        outcomes["github.ruleset-bypass-bots"] = (
            "absent",
            "Bots or apps can bypass the branch rules: " + "; ".join(described[:10]) + ".",
            pointers_bots[:20],
        )
    elif rules_known and bypass_known and protected:
        outcomes["github.ruleset-bypass-bots"] = (
            "found",
            "No bot, app or deploy key is a bypass actor.",
            evidence,
        )
    elif rules_known and not protected:
        outcomes["github.ruleset-bypass-bots"] = (
            "unknown",
            "Not applicable: there are no branch rules to bypass (see github.branch-protection).",
            (),
        )

    if allow_auto_merge is False:
        outcomes["github.auto-merge-guarded"] = (
            "found",
            "Auto-merge is turned off for the repository.",
            (repository,),
        )
    elif allow_auto_merge is True and checks:
        outcomes["github.auto-merge-guarded"] = (
            "found",
            "Auto-merge is on and required status checks guard it.",
            (repository, *evidence),
        )
    elif allow_auto_merge is True and rules_known:
        outcomes["github.auto-merge-guarded"] = (
            "absent",
            "Auto-merge is on and no status check is required: changes can merge unchecked.",
            (repository, *evidence),
        )
    return outcomes, facts


def _pr_pointer(pr: dict[str, Any]) -> Pointer:
    return Pointer("api", str(pr.get("url") or ""), url=pr.get("html_url"))


def judge_pulls(
    selected: list[dict[str, Any]],
    examined: list[dict[str, Any]],
    *,
    window_days: int,
    stopped: bool,
    pulls_url: str,
    listed_all: bool = True,
) -> tuple[Outcomes, dict[str, Any]]:
    """Findings from the pull requests closed in the window (`examined`: with their reviews).

    `stopped`: the rate limit ended the scan early; `listed_all`: False when it did so while
    the pull requests were still being listed, so `selected` may miss some of the window's.
    Found and absent findings point at sample pull requests, or at the list (`pulls_url`).
    """
    outcomes: Outcomes = {}
    listing = (Pointer("api", pulls_url),)

    def unknown(ids: tuple[str, ...], why: str) -> None:
        for ident in ids:
            outcomes.setdefault(ident, ("unknown", f"Could not determine: {why}.", ()))

    latency, sizes = Sample(), Sample()
    reviews_total = merged = unapproved = agent_prs = unreviewed = 0
    by_agent: dict[str, int] = {}
    unapproved_pointers: list[Pointer] = []
    agent_pointers: list[Pointer] = []
    records: list[dict[str, Any]] = []
    waits: list[tuple[float, Pointer]] = []  # hours to the first human review; inf: none
    sized: list[tuple[int, Pointer]] = []
    merged_pointers: list[Pointer] = []
    for pr in selected:
        user = pr.get("user") or {}
        identity = classify_login(str(user.get("login") or ""), user.get("type"))
        if identity is not None and identity.kind == "ai-agent":
            agent_prs += 1
            by_agent[identity.label] = by_agent.get(identity.label, 0) + 1
            if len(agent_pointers) < 10:
                agent_pointers.append(
                    Pointer("api", str(pr.get("url") or ""), url=pr.get("html_url"))
                )
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
            and classify_login(
                str((r.get("user") or {}).get("login") or ""), (r.get("user") or {}).get("type")
            )
            is None
        ]
        reviews_total += len(human)
        times = sorted(
            t for t in (parse_time(r.get("submitted_at")) for r in human) if t is not None
        )
        first = None
        if times and created is not None:
            first = (times[0] - created).total_seconds() / 3600
            latency.add(int(max(0.0, first) * 60))
            waits.append((first, _pr_pointer(pr)))
        elif not times:
            unreviewed += 1
            waits.append((float("inf"), _pr_pointer(pr)))
        approved = any(r.get("state") == "APPROVED" for r in human)
        size = None
        if pr.get("merged_at"):
            merged += 1
            if len(merged_pointers) < 10:
                merged_pointers.append(_pr_pointer(pr))
            if isinstance(pr.get("additions"), int) and isinstance(pr.get("deletions"), int):
                size = pr["additions"] + pr["deletions"]
                sizes.add(size)
                sized.append((size, _pr_pointer(pr)))
            if not approved:
                unapproved += 1
                if len(unapproved_pointers) < 10:
                    unapproved_pointers.append(
                        Pointer("api", str(pr.get("url") or ""), url=pr.get("html_url"))
                    )
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
    weeks = max(1.0, window_days / 7)
    facts = {
        "closed_in_window": len(selected),
        "examined": len(examined),
        "merged": merged,
        "per_week": round(len(selected) / weeks, 2),
        "median_hours_to_first_review": hours(latency, 0.5),
        "p90_hours_to_first_review": hours(latency, 0.9),
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
    note = (
        " (the rate limit stopped the scan before all pull requests were read)" if stopped else ""
    )
    if not selected:
        unknown(
            (
                "github.pr-review-latency",
                "github.merged-without-approval",
                "github.pr-size",
                "github.agent-pull-requests",
            ),
            f"no pull request was closed in the last {window_days} days"
            if listed_all
            else "the rate limit stopped the scan before the pull requests were listed",
        )
        return outcomes, facts
    if agent_prs:
        outcomes["github.agent-pull-requests"] = (
            "found",
            f"{agent_prs} of {len(selected)} pull requests were opened by coding agents ({', '.join(f'{k} {v}' for k, v in sorted(by_agent.items()))}).",
            tuple(agent_pointers),
        )
    elif listed_all:
        outcomes["github.agent-pull-requests"] = (
            "absent",
            f"None of {len(selected)} pull requests was opened by a coding agent account.",
            listing,
        )
    else:
        # The unread pages may hold an agent's pull request: absence is not established.
        unknown(
            ("github.agent-pull-requests",),
            f"none of the {len(selected)} pull requests listed before the rate limit stopped "
            "the scan was opened by a coding agent account, but not all were listed",
        )
    if len(examined) < MIN_PULLS:
        unknown(
            ("github.pr-review-latency", "github.merged-without-approval", "github.pr-size"),
            f"only {len(examined)} pull requests could be examined{note}",
        )
        return outcomes, facts
    # The slowest to get a first review (none at all first), then the list they came from.
    slowest = tuple(p for _h, p in sorted(waits, key=lambda item: -item[0])[:5]) + listing
    median = hours(latency, 0.5)
    if median is None:
        outcomes["github.pr-review-latency"] = (
            "absent",
            f"None of {len(examined)} pull requests got a human review{note}.",
            slowest,
        )
    else:
        outcomes["github.pr-review-latency"] = (
            "found" if median <= FIRST_REVIEW_HOURS else "absent",
            f"Median {median} h to the first human review (90th percentile {hours(latency, 0.9)} h) over "
            f"{len(examined)} pull requests; {unreviewed} had none (threshold {FIRST_REVIEW_HOURS:g} h){note}.",
            slowest,
        )
    if merged:
        share = unapproved / merged
        outcomes["github.merged-without-approval"] = (
            "found" if share <= MERGED_WITHOUT_APPROVAL_SHARE else "absent",
            f"{unapproved} of {merged} merged pull requests had no human approval ({share:.0%}; "
            f"threshold {MERGED_WITHOUT_APPROVAL_SHARE:.0%}){note}.",
            tuple(unapproved_pointers or merged_pointers),
        )
    size_median = sizes.quantile(0.5)
    if size_median is not None:
        outcomes["github.pr-size"] = (
            "found" if size_median <= PR_SIZE_LINES else "absent",
            f"Median {size_median} changed lines per merged pull request (90th percentile "
            f"{sizes.quantile(0.9)}; threshold {PR_SIZE_LINES}){note}.",
            # The largest merged pull requests, then the list they came from.
            tuple(p for _n, p in sorted(sized, key=lambda item: -item[0])[:5]) + listing,
        )
    unknown(
        ("github.merged-without-approval", "github.pr-size"),
        "no pull request was merged in the window",
    )

    # -- Actions, deployments, environments ------------------------------------------------
    return outcomes, facts


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


def applies_to_branch(ruleset: dict[str, Any], branch: str) -> bool:
    """Does a branch ruleset's ref_name condition include the default branch?"""
    conditions = ruleset.get("conditions")
    if not isinstance(conditions, dict) or not isinstance(conditions.get("ref_name"), dict):
        return True  # no condition: the ruleset targets every branch
    ref = f"refs/heads/{branch}"

    def hit(patterns: Any) -> bool:
        for pattern in patterns or []:
            if pattern in ("~ALL", "~DEFAULT_BRANCH") or pattern in (ref, branch):
                return True
            if isinstance(pattern, str) and (
                fnmatchcase(ref, pattern) or fnmatchcase(branch, pattern)
            ):
                return True
        return False

    names = conditions["ref_name"]
    return hit(names.get("include")) and not hit(names.get("exclude"))
