"""History measures from ONE streaming `git log` process (plus one `for-each-ref` for tags).

`git log --topo-order --numstat` over the window is read in 1 MiB chunks and parsed record
by record; nothing per commit is kept except the bounded per-change records that delivery
metrics need. Memory is bounded: weekly buckets (one per week of the window), exact samples up
to a cap then a seeded reservoir, and small "pending" maps whose size is the width of the
history (branches in flight), not its length:

- lead time to release: topological order shows every child before its parents, so the
  earliest release-tag time reachable from a commit's descendants is handed from children to
  parents as the walk goes ("first tag that contains the commit") without `git tag --contains`;
- time to revert: a revert names the sha it reverts, which comes later in the walk;
- merged by someone else: a merge's committer is compared with its branch tip's author.

Trailers come from git's own trailer parser restricted to an allow-list of keys, so subject
prefixes such as `polys:` are never mistaken for trailers. The findings and their thresholds
are in historyfindings.py (documented in docs/scans.md).
"""

from __future__ import annotations

import array
import contextlib
import os
import random
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from assessments.scans.engine.agents import classify, classify_trailer
from assessments.scans.engine.detectors import Catalogue
from assessments.scans.engine.gitrunner import GitRunner, git_date
from assessments.scans.engine.historyfindings import history_findings
from assessments.scans.engine.model import Finding, Limits, ScanError

TRAILER_KEYS = (
    "Reviewed-by",
    "Co-authored-by",
    "Signed-off-by",
    "Acked-by",
    "Tested-by",
    "Approved-by",
)
REVIEW_TRAILERS = frozenset({b"reviewed-by", b"acked-by", b"approved-by"})
_TRAILERS = ",".join(f"key={k}" for k in TRAILER_KEYS)
LOG_FORMAT = (
    "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%ct%x1f%s%x1f"
    f"%(trailers:{_TRAILERS},unfold,separator=%x1c)%x1f%b%x1d"
)
WEB_FLOW = b"noreply@github.com"  # the committer of changes merged in GitHub's web UI
_REVERTS = re.compile(rb"This reverts commit ([0-9a-f]{7,40})")
_SHA_FIELD = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
# Release tags: optional prefix (a chart-releaser `chart-1.2.3`, a `module/v1.2`), optional v,
# 2-4 numeric parts and a Maven final-release suffix, but no pre-release suffix; or a
# Jenkins/Maven incrementals version `852.v317db_5d17a_b_0` (a build number and a commit).
RELEASE_TAG = re.compile(
    r"^(?:(?:[A-Za-z0-9._-]*[-/_@])?[vV]?\d+(?:\.\d+){1,3}(?:[.-](?:RELEASE|Final|GA))?"
    r"|\d+\.v[0-9a-f][0-9a-f_]{5,}\d*)$"
)
# Co-authored-by lines anywhere in the body, not only in git's trailer block (squash merges
# list them mid-message).
_BODY_COAUTHOR = re.compile(rb"(?im)^[ \t>*-]*co-authored-by:[ \t]*(.+?)[ \t]*$")
_EPOCH_MONDAY = date(1969, 12, 29)
SAMPLE_CAP = 100_000
MAX_RELEASE_RECORDS = 5000
LARGE_CHANGE_LINES = 400
MAX_RECORD_BYTES = 64 * 1024 * 1024


class Sample:
    """Integers kept exactly up to `cap`, then as a seeded reservoir (quantiles stay fair)."""

    def __init__(self, cap: int = SAMPLE_CAP, seed: int = 7) -> None:
        self.values = array.array("q")
        self.cap = cap
        self.seen = 0
        self._random = random.Random(seed)

    def add(self, value: int) -> None:
        self.seen += 1
        if len(self.values) < self.cap:
            self.values.append(value)
        else:
            slot = self._random.randrange(self.seen)
            if slot < self.cap:
                self.values[slot] = value

    def quantile(self, q: float) -> int | None:
        """Nearest-rank quantile (an observed value), or None when empty."""
        if not self.values:
            return None
        ordered = sorted(self.values)
        rank = max(1, -(-int(q * 1000) * len(ordered) // 1000))
        return ordered[min(rank, len(ordered)) - 1]

    def share_above(self, limit: int) -> float | None:
        if not self.values:
            return None
        return sum(1 for v in self.values if v > limit) / len(self.values)


@dataclass
class _Week:
    commits: int = 0
    landings: int = 0
    merges: int = 0
    ai: int = 0
    bots: int = 0
    reverts: int = 0
    releases: int = 0
    authors: set[bytes] | None = None


def week_of(epoch: int) -> int:
    return (epoch // 86400 + 3) // 7


def week_start(index: int) -> str:
    return (_EPOCH_MONDAY + timedelta(days=7 * index)).isoformat()


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ReleaseTag:
    name: str
    sha: bytes
    time: int


def read_release_tags(*, runner: GitRunner, git_dir: Path) -> tuple[list[ReleaseTag], int]:
    """Release tags (semver/calver-like names that point at commits) and the total tag count."""
    out = runner.run(
        [
            "for-each-ref",
            "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00"
            "%(*objecttype)%00%(*objectname)%00%(creatordate:unix)",
            "refs/tags",
        ],
        git_dir=git_dir,
        stage="history",
        percent=60,
    )
    tags, total = [], 0
    for line in out.split(b"\n"):
        parts = line.split(b"\0")
        if len(parts) != 6:
            continue
        total += 1
        name = parts[0].decode("utf-8", "replace")
        if parts[1] == b"commit":
            sha = parts[2]
        elif parts[1] == b"tag" and parts[3] == b"commit":
            sha = parts[4]
        else:
            continue
        if RELEASE_TAG.match(name) and parts[5].isdigit():
            tags.append(ReleaseTag(name, sha, int(parts[5])))
    return tags, total


class HistoryStats:
    """Aggregates commits streamed newest-first in topological order."""

    def __init__(
        self,
        *,
        head: bytes,
        since: int,
        until: int,
        tags: Sequence[ReleaseTag],
        max_records: int,
    ) -> None:
        self.since, self.until = since, until
        self.release_at: dict[bytes, int] = {}
        for tag in tags:
            current = self.release_at.get(tag.sha)
            if current is None or tag.time < current:
                self.release_at[tag.sha] = tag.time
        self.tags = tags
        self.expected_mainline: bytes | None = head
        self.pending_release: dict[bytes, int] = {}
        self.pending_revert: dict[bytes, int] = {}
        self.pending_merge: dict[bytes, bytes] = {}
        self.weeks: dict[int, _Week] = {}
        self.authors: set[bytes] = set()
        self.commits = self.merges = self.changes = self.landings = 0
        self.pr_landings = self.visible_landings = self.reviewed_landings = 0
        self.ai_changes = self.ai_authored = self.ai_coauthored = 0
        self.dependency_bot_changes = self.other_bot_changes = 0
        self.reverts = 0
        self.trailers: dict[str, int] = {}
        self.by_identity: dict[str, int] = {}
        self.sizes, self.files = Sample(), Sample()
        self.lead, self.lead_ai, self.lead_other = Sample(), Sample(), Sample()
        self.revert_delay = Sample()
        self.unreleased = 0
        self.earliest: int | None = None
        self.malformed = 0
        self.max_records = max_records
        self.rec_sha: list[str] = []
        self.rec_time: list[int] = []
        self.rec_ai: list[bool] = []
        self.rec_bot: list[bool] = []
        self.rec_revert: list[bool] = []
        self.records_truncated = False

    def add(
        self,
        sha: bytes,
        parents: list[bytes],
        author: tuple[bytes, bytes],
        committer: tuple[bytes, bytes],
        ctime: int,
        subject: bytes,
        trailers: bytes,
        body: bytes,
        added: int,
        deleted: int,
        files: int,
    ) -> None:
        # Hand-offs along the graph happen for every commit, in or out of the window.
        release = self.pending_release.pop(sha, None)
        tagged = self.release_at.get(sha)
        if tagged is not None and (release is None or tagged < release):
            release = tagged
        if release is not None:
            for parent in parents:
                known = self.pending_release.get(parent)
                if known is None or release < known:
                    self.pending_release[parent] = release
        mainline = sha == self.expected_mainline
        if mainline:
            self.expected_mainline = parents[0] if parents else None
        reverted_at = self.pending_revert.pop(sha, None)
        if reverted_at is not None and reverted_at >= ctime:
            self.revert_delay.add(reverted_at - ctime)
        merged_by = self.pending_merge.pop(sha, None)
        if merged_by is not None and author[1].lower() != merged_by:
            self.reviewed_landings += 1
        if not self.since <= ctime <= self.until:
            return

        self.commits += 1
        if self.earliest is None or ctime < self.earliest:
            self.earliest = ctime
        week = self.weeks.get(week_of(ctime))
        if week is None:
            week = self.weeks[week_of(ctime)] = _Week(authors=set())
        week.commits += 1
        author_email = author[1].lower()
        assert week.authors is not None
        week.authors.add(author_email)
        self.authors.add(author_email)
        is_merge = len(parents) > 1
        trailer_keys: set[bytes] = set()
        ai_coauthor = None
        bot_coauthor = False
        coauthors: list[bytes] = []
        if trailers:
            for item in trailers.split(b"\x1c"):
                key, _, value = item.partition(b":")
                key = key.strip().lower()
                trailer_keys.add(key)
                if key == b"co-authored-by":
                    coauthors.append(value.strip())
        if b"-authored-by" in body.lower():
            for found in _BODY_COAUTHOR.findall(body):
                if found not in coauthors:
                    coauthors.append(found)
                    trailer_keys.add(b"co-authored-by")
        for value in coauthors:
            identity = classify_trailer(value.decode("utf-8", "replace"))
            if identity is not None and identity.kind == "ai-agent":
                ai_coauthor = ai_coauthor or identity
            elif identity is not None:
                bot_coauthor = True
        if trailer_keys:
            for key in trailer_keys:
                name = key.decode("ascii", "replace")
                self.trailers[name] = self.trailers.get(name, 0) + 1
        web_flow = committer[1].lower() == WEB_FLOW
        if mainline:
            self.landings += 1
            week.landings += 1
            if is_merge or web_flow:
                self.pr_landings += 1
            if not web_flow:
                self.visible_landings += 1
                if trailer_keys & REVIEW_TRAILERS:
                    self.reviewed_landings += 1
                elif is_merge:
                    self.pending_merge[parents[1]] = committer[1].lower()
                elif committer[1].lower() != author_email:
                    self.reviewed_landings += 1  # applied by someone else (patch workflow)
        if is_merge:
            self.merges += 1
            week.merges += 1
            return

        self.changes += 1
        who = classify(author[0].decode("utf-8", "replace"), author[1].decode("utf-8", "replace"))
        by = classify(
            committer[0].decode("utf-8", "replace"), committer[1].decode("utf-8", "replace")
        )
        agent = who if who is not None and who.kind == "ai-agent" else None
        if agent is None and by is not None and by.kind == "ai-agent":
            agent = by
        ai = agent is not None or ai_coauthor is not None
        if ai:
            self.ai_changes += 1
            week.ai += 1
            if agent is not None:
                self.ai_authored += 1
            else:
                self.ai_coauthored += 1
            label = (agent or ai_coauthor).label  # type: ignore[union-attr]
            self.by_identity[label] = self.by_identity.get(label, 0) + 1
        bot = who is not None and who.kind == "dependency-bot"
        if bot:
            self.dependency_bot_changes += 1
            week.bots += 1
        elif (who is not None and who.kind == "bot") or (who is None and bot_coauthor):
            # A bot that appears only as a co-author still made the change with a person.
            self.other_bot_changes += 1
        revert = subject.startswith(b'Revert "') or b"This reverts commit " in body
        if revert:
            self.reverts += 1
            week.reverts += 1
            target = _REVERTS.search(body)
            if target and len(target.group(1)) == 40:
                self.pending_revert[target.group(1)] = ctime
        self.sizes.add(added + deleted)
        self.files.add(files)
        if release is not None and release >= ctime:
            hours_x100 = (release - ctime) * 100 // 3600
            self.lead.add(hours_x100)
            (self.lead_ai if ai else self.lead_other).add(hours_x100)
        else:
            self.unreleased += 1
        if len(self.rec_sha) < self.max_records:
            self.rec_sha.append(sha.decode("ascii"))
            self.rec_time.append(ctime)
            self.rec_ai.append(ai)
            self.rec_bot.append(bot)
            self.rec_revert.append(revert)
        else:
            self.records_truncated = True

    # -- results -----------------------------------------------------------------------------

    def active_days(self) -> float:
        if self.earliest is None:
            return 0.0
        # At least a week, so a young repository's first busy day is not extrapolated.
        return max(7.0, (self.until - max(self.earliest, self.since)) / 86400)

    def facts(self, *, window_days: int, head: str, tag_total: int) -> dict[str, Any]:
        releases = [t for t in self.tags if self.since <= t.time <= self.until]
        for tag in releases:
            week = self.weeks.get(week_of(tag.time))
            if week is None:
                week = self.weeks[week_of(tag.time)] = _Week(authors=set())
            week.releases += 1
        first, last = week_of(self.since), week_of(self.until)
        weekly = []
        for index in range(first, last + 1):
            week = self.weeks.get(index) or _Week(authors=set())
            weekly.append(
                {
                    "week": week_start(index),
                    "commits": week.commits,
                    "landings": week.landings,
                    "merges": week.merges,
                    "authors": len(week.authors or ()),
                    "ai": week.ai,
                    "bots": week.bots,
                    "reverts": week.reverts,
                    "releases": week.releases,
                }
            )
        releases.sort(key=lambda t: (-t.time, t.name))
        days = self.active_days()
        lead = self.lead.quantile(0.5)
        return {
            "head": head,
            "window_days": window_days,
            "since": iso(self.since),
            "until": iso(self.until),
            "commits": self.commits,
            "merges": self.merges,
            "changes": self.changes,
            "landings": self.landings,
            "authors": len(self.authors),
            "active_days": round(days, 2),
            "landings_per_week": round(self.landings / days * 7, 2) if days else 0.0,
            "merge_share": _ratio(self.merges, self.commits),
            "pr_landed_share": _ratio(self.pr_landings, self.landings),
            "weekly": weekly,
            "trailers": dict(sorted(self.trailers.items())),
            "ai": {
                "changes": self.ai_changes,
                "authored": self.ai_authored,
                "co_authored": self.ai_coauthored,
                "share": _ratio(self.ai_changes, self.changes),
                "by_identity": dict(sorted(self.by_identity.items())),
            },
            "bots": {
                "dependency_changes": self.dependency_bot_changes,
                "other_changes": self.other_bot_changes,
            },
            "reverts": {
                "count": self.reverts,
                "share": _ratio(self.reverts, self.changes),
                "median_hours_to_revert": _hours(self.revert_delay.quantile(0.5), scale=3600),
            },
            "change_size": {
                "median_lines": self.sizes.quantile(0.5),
                "p90_lines": self.sizes.quantile(0.9),
                "share_over_400_lines": _round(self.sizes.share_above(LARGE_CHANGE_LINES)),
                "median_files": self.files.quantile(0.5),
            },
            "review": {
                "visible_landings": self.visible_landings,
                "landings_with_evidence": self.reviewed_landings,
                "share": _ratio(self.reviewed_landings, self.visible_landings),
            },
            "releases": {
                "tags_total": tag_total,
                "release_tags": len(self.tags),
                "release_tags_in_window": len(releases),
                "per_30_days": round(len(releases) / days * 30, 2) if days else 0.0,
                "records": [
                    {"tag": t.name, "sha": t.sha.decode("ascii"), "time": iso(t.time)}
                    for t in releases[:MAX_RELEASE_RECORDS]
                ],
            },
            "lead_time": {
                "released_changes": self.lead.seen,
                "unreleased_changes": self.unreleased,
                "median_hours": _hours(lead, scale=100),
                "p90_hours": _hours(self.lead.quantile(0.9), scale=100),
                "ai_median_hours": _hours(self.lead_ai.quantile(0.5), scale=100),
                "other_median_hours": _hours(self.lead_other.quantile(0.5), scale=100),
            },
            "changes_records": {
                "sha": self.rec_sha,
                "time": [iso(t) for t in self.rec_time],
                "ai_assisted": self.rec_ai,
                "bot": self.rec_bot,
                "revert": self.rec_revert,
                "truncated": self.records_truncated,
                "limit": self.max_records,
            },
            "malformed_records": self.malformed,
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _hours(value: int | None, *, scale: int) -> float | None:
    return None if value is None else round(value / scale, 2)


def _records(stream: IO[bytes], *, limit: int = MAX_RECORD_BYTES) -> Iterator[bytes | None]:
    """Records split on the \\x1e separator; None for one that grew past `limit` bytes.

    A single record is bounded (a hostile commit message or a commit touching a million files
    would otherwise be buffered whole); its bytes are skipped up to the next separator.
    """
    fd = stream.fileno()
    buffer = b""
    skipping = False
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        if skipping:
            start = chunk.find(b"\x1e")
            if start < 0:
                continue
            chunk, skipping = chunk[start:], False
        buffer += chunk
        parts = buffer.split(b"\x1e")
        buffer = parts.pop()
        for part in parts:
            yield None if len(part) > limit else part
        if len(buffer) > limit:
            buffer, skipping = b"", True
            yield None
    if buffer and not skipping:
        yield buffer


def _numstat(block: bytes) -> tuple[int, int, int] | None:
    """(lines added, lines deleted, files) from a commit's numstat lines; None if malformed."""
    added = deleted = files = 0
    for line in block.split(b"\n"):
        if not line:
            continue
        a, _, tail = line.partition(b"\t")
        d = tail.partition(b"\t")[0]
        files += 1
        if a == b"-" and d == b"-":
            continue  # a binary file
        if not (a.isdigit() and d.isdigit()):
            return None
        added += int(a)
        deleted += int(d)
    return added, deleted, files


def log_args(*, since: int) -> list[str]:
    """The one `git log` command (the runner adds the diff safety flags)."""
    return [
        "log",
        "--topo-order",
        "--numstat",
        f"--format={LOG_FORMAT}",
        f"--since={git_date(since)}",
        "HEAD",
        "--",
    ]


# A long history is read by two `git log` processes at once (see stream_history); below this
# many commits the second process and the count cost more than they save.
SPLIT_MIN_COMMITS = 4000


def _feed(stream: IO[bytes], stats: HistoryStats, runner: GitRunner, low: int, high: int) -> None:
    """Parse one `git log` output and hand each commit to `stats`, in order."""
    span = max(1, stats.until - stats.since)
    add = stats.add
    count = 0
    for record in _records(stream):
        if record is None:
            stats.malformed += 1
            continue
        if not record:
            continue
        # The numstat block follows the LAST \x1d: a commit message may hold \x1d itself,
        # while numstat paths never do (git quotes control characters in paths).
        head, sep, rest = record.rpartition(b"\x1d")
        fields = head.split(b"\x1f", 9)
        numstat = _numstat(rest) if sep else None
        if (
            numstat is None
            or len(fields) != 10
            or not _SHA_FIELD.fullmatch(fields[0])
            or not fields[6].isdigit()
        ):
            stats.malformed += 1
            continue
        added, deleted, files = numstat
        ctime = int(fields[6])
        add(
            fields[0],
            fields[1].split(),
            (fields[2], fields[3]),
            (fields[4], fields[5]),
            ctime,
            fields[7],
            fields[8],
            fields[9],
            added,
            deleted,
            files,
        )
        count += 1
        if count % 2000 == 0:
            done = min(1.0, max(0.0, (stats.until - ctime) / span))
            runner.check("history", low + int((high - low) * done))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def stream_history(
    *,
    runner: GitRunner,
    git_dir: Path,
    stats: HistoryStats,
    percent: tuple[int, int] = (60, 95),
) -> None:
    """Feed every commit of the window to `stats`, newest first in topological order.

    Diffing dominates a long history and `git log` diffs on one core. From `split_min`
    commits on (and with two cores or more) two processes share it: the first `--max-count=K`
    commits are parsed as they stream, while a second process diffs the rest (`--skip=K`) into
    a file in the job folder, parsed once the first is done. Both walk the same history with
    the same arguments, so the two outputs joined are exactly the one process's output.
    """
    low, high = percent
    args = log_args(since=stats.since)
    total = 0
    if _cores() >= 2:
        counted = runner.run(
            ["rev-list", "--count", f"--since={git_date(stats.since)}", "HEAD", "--"],
            git_dir=git_dir,
            stage="history",
            percent=low,
        )
        total = int(counted.strip() or 0)
    if total < max(SPLIT_MIN_COMMITS, 2):
        with runner.stream(
            args, git_dir=git_dir, stage="history", percent=low, buffered=True
        ) as proc:
            _feed(proc.stdout, stats, runner, low, high)
        return
    first = total // 2
    middle = (low + high) // 2
    head = args.index("HEAD")
    newer_args = [*args[:head], f"--max-count={first}", *args[head:]]
    older_args = [*args[:head], f"--skip={first}", *args[head:]]
    with tempfile.TemporaryFile(dir=runner.job_root, prefix="history-") as rest:
        with runner.stream(
            older_args, git_dir=git_dir, stage="history", percent=low, buffered=True
        ) as older:
            failed: list[OSError | ValueError] = []
            drain = threading.Thread(
                target=_drain,
                args=(older.stdout, rest, failed),
                name="history-older",
                daemon=True,
            )
            drain.start()
            with runner.stream(
                newer_args, git_dir=git_dir, stage="history", percent=low, buffered=True
            ) as newer:
                _feed(newer.stdout, stats, runner, low, middle)
            drain.join()
            if failed:
                raise ScanError(
                    "The history could not be read: the job folder could not be written."
                ) from failed[0]
        # Leaving `older` checked its exit status (or raised ScanTimeout): its output is whole.
        rest.seek(0)
        _feed(rest, stats, runner, middle, high)


def _drain(source: IO[bytes], target: IO[bytes], failed: list[OSError | ValueError]) -> None:
    """Copy a process's output to a file; on a write failure (a full disk), note it and close
    the pipe so the process stops rather than block on it forever."""
    try:
        shutil.copyfileobj(source, target, 1 << 20)
    except (OSError, ValueError) as exc:
        failed.append(exc)
        with contextlib.suppress(OSError):
            source.close()


def window_start(now: datetime, window_days: int) -> int:
    """The first second of a window of `window_days` days ending at `now` (epoch seconds).

    Raises ScanError for a window git cannot read: under one day, or starting before
    1970-01-01 (git stores no earlier date).
    """
    until = int(now.timestamp())
    longest = until // 86400
    if not 1 <= window_days <= longest:
        raise ScanError(
            f"The history window must be between 1 and {longest:,} days (a longer one would "
            f"start before 1970, before any git commit); {window_days:,} was asked for."
        )
    return until - window_days * 86400


def scan_history(
    *,
    runner: GitRunner,
    git_dir: Path,
    catalogue: Catalogue,
    head: str,
    now: datetime,
    window_days: int,
    limits: Limits,
) -> tuple[list[Finding], dict[str, Any]]:
    """History findings and facts for the window ending at `now`."""
    until = int(now.timestamp())
    since = window_start(now, window_days)
    tags, tag_total = read_release_tags(runner=runner, git_dir=git_dir)
    stats = HistoryStats(
        head=head.encode("ascii"),
        since=since,
        until=until,
        tags=tags,
        max_records=limits.max_change_records,
    )
    stream_history(runner=runner, git_dir=git_dir, stats=stats)
    facts = stats.facts(window_days=window_days, head=head, tag_total=tag_total)
    if stats.commits == 0:
        # A quiet repository is not one without the practice: say when it was last active.
        out = runner.run(["log", "-1", "--format=%ct", head], git_dir=git_dir, stage="history")
        stamp = out.decode("ascii", "replace").strip()
        if stamp.isdigit():
            last = datetime.fromtimestamp(int(stamp), UTC)
            facts["last_commit_at"] = last.isoformat()
            # The window of the same length ending on the day of the last commit (never
            # before 1970): what `--since/--until` would scan to measure the team at work.
            start = max(last.date() - timedelta(days=window_days - 1), date(1970, 1, 1))
            facts["suggested_window"] = {
                "since": start.isoformat(),
                "until": last.date().isoformat(),
            }
    return history_findings(catalogue, facts, head=head), facts
