"""Event-log analysis: variants, cycle times, waits, rework, hand-offs and weekly volume.

A log is a CSV with one event per row: a case id, an activity, a timestamp and optionally a
resource (who did it), the columns chosen in a mapping step; or an XES file, which `core.xes`
streams into the same columns (`source="xes"`). It is read in chunks, and each
chunk is reduced at once to integer codes (case, activity, resource) and int64 nanoseconds, so
memory grows with the number of events by about 24 bytes each, not with the text of the file.

Bad input never stops the analysis; it is counted and reported:
- rows without a case id, activity or timestamp, and timestamps that cannot be read, are
  skipped (with the first examples and their row numbers); a word such as "now" or "today"
  in place of a time counts as a missing timestamp (pandas would read it as the moment of
  the import);
- exact duplicate events (same case, activity, time and resource) are counted once;
- events out of order in the file are sorted by time within their case (and reported);
- cases with a single event are left out (a case needs a start and an end to have a cycle
  time or a path), and counted.

Timestamps: ISO 8601, epoch seconds or milliseconds, RFC 2822, and day/month/year or
month/day/year with or without a time. A timestamp with an offset keeps it; one without is
read in the stated time zone. A day-first or month-first order the sample cannot settle has to
be chosen: the analysis refuses to guess.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from assessments.processes.core import xes

REQUIRED = ("case", "activity", "timestamp")
FIELDS = (*REQUIRED, "resource")
ALIASES: dict[str, tuple[str, ...]] = {
    "case": (
        "case:concept:name",
        "case_id",
        "caseid",
        "case",
        "case id",
        "ticket",
        "ticket_id",
        "order_id",
        "id",
        "key",
    ),
    "activity": (
        "concept:name",
        "activity",
        "activity_name",
        "event",
        "event_name",
        "step",
        "status",
        "action",
        "task",
    ),
    "timestamp": (
        "time:timestamp",
        "timestamp",
        "time",
        "start_timestamp",
        "complete_timestamp",
        "datetime",
        "date",
        "event_time",
        "created_at",
        "occurred_at",
    ),
    "resource": (
        "org:resource",
        "resource",
        "user",
        "actor",
        "performer",
        "assignee",
        "agent",
        "owner",
        "who",
    ),
}
CHUNK_ROWS = 250_000
NOT_COMPLETE = "XES event that is not a completion (start, schedule ...; left out)"
MAX_EXAMPLES = 20
TOP_VARIANTS = 10
TOP_WAITS = 12
TOP_HANDOFFS = 10
SANKEY_VARIANTS = 5
SANKEY_STEPS = 12
NS_PER_HOUR = 3_600 * 1_000_000_000

# Candidate formats tried on a sample, best first. pandas parses ISO 8601 itself.
DAY_FIRST = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
)
MONTH_FIRST = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
)
OTHER = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%a, %d %b %Y %H:%M:%S %z",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%b %d, %Y %H:%M:%S",
)
# An offset after a time of day (a bare "-2024" after a date is not one).
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})$")
_EPOCH = re.compile(r"^\d{9,13}(?:\.\d+)?$")

Progress = Callable[[str, int], None]
NAT = np.iinfo(np.int64).min


class LogError(ValueError):
    """The log as a whole cannot be analysed (the message says what to change)."""


class LogMappingError(LogError):
    """The column mapping or date format needs a choice from the user."""


@dataclass(frozen=True)
class LogOptions:
    mapping: Mapping[str, str]
    time_zone: str = "UTC"
    date_order: str = "auto"  # auto, dayfirst, monthfirst


@dataclass(frozen=True)
class Sniffed:
    columns: tuple[str, ...]
    delimiter: str
    suggested: Mapping[str, str]
    preview: tuple[dict[str, str], ...]


@dataclass
class Skips:
    counts: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, reason: str, rows: np.ndarray[Any, Any], values: Sequence[Any] | None = None
    ) -> None:
        if not len(rows):
            return
        self.counts[reason] += len(rows)
        room = MAX_EXAMPLES - sum(1 for e in self.examples if e["reason"] == reason)
        for i in range(min(room, len(rows), 3)):
            example: dict[str, Any] = {"row": int(rows[i]), "reason": reason}
            if values is not None:
                example["value"] = str(values[i])[:80]
            self.examples.append(example)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest_mapping(columns: Sequence[str]) -> dict[str, str]:
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for name in FIELDS:
        for alias in ALIASES[name]:
            match = by_key.get(_key(alias))
            if match is not None and match not in used:
                mapping[name] = match
                used.add(match)
                break
    return mapping


def sniff(head: bytes) -> Sniffed:
    """Columns, delimiter, a suggested mapping and the first rows, from the file's start."""
    if not head.strip():
        raise LogError("The file is empty.")
    if b"\x00" in head[:4096]:
        raise LogError("This is not a CSV file (it holds binary data).")
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if len(head) >= 65536 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    sample = "\n".join(lines[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
    if not rows or not any(c.strip() for c in rows[0]):
        raise LogError("The first line of the file should name the columns.")
    header = [c.strip() for c in rows[0]]
    if len(set(header)) != len(header):
        raise LogError("Two columns have the same name; rename one and upload again.")
    if len(header) < 3:
        raise LogError(
            "The log needs at least three columns (case id, activity, timestamp); "
            f"found {len(header)} with the delimiter {delimiter!r}."
        )
    preview = tuple(dict(zip(header, r, strict=False)) for r in rows[1:6])
    return Sniffed(tuple(header), delimiter, suggest_mapping(header), preview)


# --- Timestamps ------------------------------------------------------------------------------


# pandas reads these words as the current time; in a log they are not a time at all. A hash
# lookup (isin) rather than a regular expression: this runs over every timestamp.
_RELATIVE = {
    variant
    for word in ("now", "today", "tomorrow", "yesterday")
    for variant in (word, word.upper(), word.title())
}


def _literal(text: pd.Series[Any]) -> pd.Series[Any]:
    return text.where(~text.isin(_RELATIVE), None)


def _share_parsed(sample: pd.Series[Any], fmt: str) -> float:
    sample = _literal(sample)
    try:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce", utc=True)
    except (ValueError, TypeError):
        return 0.0
    return float(parsed.notna().mean()) if len(sample) else 0.0


def detect_format(values: Sequence[str], date_order: str) -> str:
    """The format (or "epoch-s", "epoch-ms") most of the sample is written in."""
    sample = pd.Series([v for v in values if v and v.strip()][:2000], dtype=object).str.strip()
    if sample.empty:
        raise LogError("No timestamps found in the first rows.")
    if sample.str.fullmatch(_EPOCH).mean() > 0.9:
        digits = sample.str.split(".").str[0].str.len()
        return "epoch-ms" if digits.median() > 11 else "epoch-s"
    scores: list[tuple[float, str]] = []
    candidates = {
        "auto": ("ISO8601", *DAY_FIRST, *MONTH_FIRST, *OTHER),
        "dayfirst": ("ISO8601", *DAY_FIRST, *OTHER),
        "monthfirst": ("ISO8601", *MONTH_FIRST, *OTHER),
    }.get(date_order)
    if candidates is None:
        raise LogMappingError(f"Unknown date format choice {date_order!r}.")
    for fmt in candidates:
        share = _share_parsed(sample, fmt)
        if share > 0:
            scores.append((share, fmt))
        if fmt == "ISO8601" and share > 0.99:
            return fmt
    scores.sort(key=lambda pair: -pair[0])  # stable: ISO 8601 wins a tie
    if not scores or scores[0][0] < 0.5:
        shown = sample.iloc[0][:40]
        raise LogMappingError(
            f"The timestamps are in a format this importer does not recognise (for example "
            f"{shown!r}). Use ISO 8601 (2024-05-31T14:00:00) or choose the date order."
        )
    best_share, best = scores[0]
    if date_order == "auto" and best in DAY_FIRST + MONTH_FIRST:
        rival_pool = MONTH_FIRST if best in DAY_FIRST else DAY_FIRST
        rivals = [s for s, f in scores if f in rival_pool]
        if rivals and rivals[0] >= best_share:
            raise LogMappingError(
                f"Dates like {sample.iloc[0][:20]!r} could be day-first or month-first. "
                "Choose the date order."
            )
    return best


def parse_times(values: pd.Series[Any], fmt: str, zone: ZoneInfo) -> np.ndarray[Any, Any]:
    """int64 nanoseconds since the epoch (UTC); NaT (the minimum int64) where unreadable."""
    text = values.astype(object)
    parsed = _parse_times(text, fmt, zone)
    # pandas reads "now" and "today" as the current time. Rather than look every value up,
    # only the values read as a time near now are compared with those words.
    now = pd.Timestamp.now(tz="UTC").value
    window = 3 * 24 * NS_PER_HOUR
    near = np.flatnonzero((parsed > now - window) & (parsed < now + window))
    if len(near):
        relative = text.iloc[near].str.strip().isin(_RELATIVE).to_numpy()
        parsed[near[relative]] = NAT
    return parsed


def _parse_times(text: pd.Series[Any], fmt: str, zone: ZoneInfo) -> np.ndarray[Any, Any]:
    if fmt in ("epoch-s", "epoch-ms"):
        numbers = pd.to_numeric(text, errors="coerce")
        unit = "ms" if fmt == "epoch-ms" else "s"
        parsed = pd.to_datetime(numbers, unit=unit, errors="coerce", utc=True)
        return _ns(parsed)
    # The fast path: the whole chunk in one call, all naive or all with the same offset.
    try:
        whole = pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError):
        whole = None  # mixed offsets, or naive and aware times together
    if whole is not None:
        fast = _ns(_to_utc(whole, zone))
        missed = (fast == NAT) & text.notna().to_numpy()
        if not missed.any():
            return fast
        # Values the format did not read may carry an offset the others lack.
        fast[missed] = _parse_mixed(text[missed], fmt, zone)
        return fast
    return _parse_mixed(text, fmt, zone)


def _ns(parsed: pd.Series[Any]) -> np.ndarray[Any, Any]:
    """int64 nanoseconds (UTC) of parsed times; NaT for a time outside what they can hold
    (pandas reads the year 3024 in microseconds, and nanoseconds would overflow)."""
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    values = parsed.to_numpy()
    if values.dtype == np.dtype("datetime64[ns]"):
        exact: np.ndarray[Any, Any] = values.view("int64")
        return exact
    # An int64 of nanoseconds holds 1677-09-21 to 2262-04-11; NaT lies below both bounds.
    unit, count = np.datetime_data(values.dtype)
    per = count * {"s": 10**9, "ms": 10**6, "us": 10**3}.get(unit, 1)
    ticks = values.view("int64")
    inside = (ticks > pd.Timestamp.min.value // per + 1) & (ticks < pd.Timestamp.max.value // per)
    out = np.full(len(values), NAT, dtype=np.int64)
    out[inside] = values[inside].astype("datetime64[ns]").view("int64")
    return out


def _to_utc(parsed: pd.Series[Any], zone: ZoneInfo) -> pd.Series[Any]:
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_convert("UTC")
    # In the hour that repeats when clocks go back, read the first of the two; a time skipped
    # when clocks go forward moves to the first valid time after it.
    return parsed.dt.tz_localize(
        zone, ambiguous=np.ones(len(parsed), dtype=bool), nonexistent="shift_forward"
    ).dt.tz_convert("UTC")


def _parse_mixed(text: pd.Series[Any], fmt: str, zone: ZoneInfo) -> np.ndarray[Any, Any]:
    """Value by value kind: times with an offset keep it, the others are local to `zone`."""
    out = np.full(len(text), NAT, dtype=np.int64)
    with_offset = text.str.contains(_OFFSET, na=False).to_numpy()
    if with_offset.any():
        aware = pd.to_datetime(text[with_offset], format=fmt, errors="coerce", utc=True)
        out[with_offset] = _ns(aware)
    naive_mask = ~with_offset
    if naive_mask.any():
        try:
            naive = pd.to_datetime(text[naive_mask], format=fmt, errors="coerce")
        except (ValueError, TypeError):
            return out
        local = _to_utc(naive, zone)
        out[naive_mask] = _ns(local)
    return out


# --- Reading ---------------------------------------------------------------------------------


class _Codes:
    """Text to dense integer codes, across chunks, without a Python step per distinct value.

    Each chunk keeps its own codes and its own distinct values; `finish` factorises all the
    chunks' distinct values at once and maps every chunk's codes onto the shared ones. Memory
    is the codes (4 bytes an event) plus each chunk's distinct values, which a dictionary of
    names would hold anyway."""

    def __init__(self) -> None:
        self.codes: list[np.ndarray[Any, Any]] = []
        self.uniques: list[np.ndarray[Any, Any]] = []
        self.names: list[str] = []

    def add(self, values: pd.Series[Any]) -> None:
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            uniques = values.cat.categories.to_numpy(dtype=object)
        else:
            codes, index = pd.factorize(values, use_na_sentinel=True)
            uniques = np.asarray(index, dtype=object)
        self.codes.append(codes.astype(np.int32, copy=False))
        self.uniques.append(uniques)

    def add_missing(self, size: int) -> None:
        self.codes.append(np.full(size, -1, dtype=np.int32))
        self.uniques.append(np.empty(0, dtype=object))

    def finish(self) -> np.ndarray[Any, Any]:
        """All chunks' codes in one int32 array (-1 where the value was missing)."""
        total = sum(len(c) for c in self.codes)
        out = np.empty(total, dtype=np.int32)
        if not self.uniques:
            return out
        everything = np.concatenate(self.uniques)
        # The parser's categories are text already (read_csv reads a category column as text).
        shared, names = pd.factorize(everything, use_na_sentinel=True)
        self.names = [str(n) for n in names]
        position = offset = 0
        for codes, uniques in zip(self.codes, self.uniques, strict=True):
            # -1 (missing) picks the appended -1 at the end of the lookup.
            lookup = np.append(shared[offset : offset + len(uniques)], -1).astype(np.int32)
            out[position : position + len(codes)] = lookup[codes]
            position += len(codes)
            offset += len(uniques)
        self.codes.clear()
        self.uniques.clear()
        return out


@dataclass
class _Events:
    case: np.ndarray[Any, Any]
    activity: np.ndarray[Any, Any]
    resource: np.ndarray[Any, Any]
    time: np.ndarray[Any, Any]
    row: np.ndarray[Any, Any]


def read_events(
    stream: IO[bytes],
    options: LogOptions,
    *,
    delimiter: str = ",",
    total_bytes: int = 0,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    source: str = "csv",
) -> tuple[_Events, list[str], list[str], list[str], Skips, int, str]:
    mapping = dict(options.mapping)
    missing = [f for f in REQUIRED if not mapping.get(f)]
    if missing:
        raise LogMappingError(f"Choose a column for: {', '.join(missing)}.")
    try:
        zone = ZoneInfo(options.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise LogMappingError(f"Unknown time zone {options.time_zone!r}.") from None
    columns = {mapping[f]: f for f in FIELDS if mapping.get(f)}
    cases, activities, resources = _Codes(), _Codes(), _Codes()
    parts: list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = []
    skips = Skips()
    fmt: str | None = None
    rows_read = 0
    reader: Iterable[pd.DataFrame]
    xes_reader: xes.XesReader | None = None
    try:
        if source == "xes":
            reader = xes_reader = xes.XesReader(stream, columns, chunk_rows)
        else:
            time_column = mapping["timestamp"]
            fmt = _head_format(stream, delimiter, time_column, options.date_order)
            # With the format known, the parser reads the timestamps itself, with no Python
            # string per event. A chunk it cannot read whole (an unreadable value, mixed
            # offsets) comes back as text and takes the value-by-value path below. Words
            # pandas would read as the current time are missing values here.
            in_parser = fmt is not None and fmt not in ("epoch-s", "epoch-ms")
            reader = pd.read_csv(
                stream,
                sep=delimiter,
                usecols=list(columns),
                # The parser builds categories itself: one string per distinct case, activity
                # or resource in a chunk instead of one per event.
                dtype={
                    column: (str if name == "timestamp" else "category")
                    for column, name in columns.items()
                    if not (in_parser and name == "timestamp")
                },
                parse_dates=[time_column] if in_parser else None,
                date_format=fmt if in_parser else None,
                keep_default_na=False,
                na_values={
                    column: ["", *sorted(_RELATIVE)] if name == "timestamp" else [""]
                    for column, name in columns.items()
                },
                chunksize=chunk_rows,
                encoding="utf-8",
                encoding_errors="replace",
                on_bad_lines="skip",
            )
        for chunk in reader:
            if xes_reader is not None:
                rows = chunk.pop(xes.EVENT_NUMBER).to_numpy(dtype=np.int64)
            else:
                chunk = chunk.rename(columns=columns)
                start = rows_read + 2  # spreadsheet rows: the header is row 1
                rows = np.arange(start, start + len(chunk), dtype=np.int64)
            rows_read += len(chunk)
            stamps = chunk["timestamp"]
            parsed = pd.api.types.is_datetime64_any_dtype(stamps.dtype)
            if not parsed:
                # A word pandas would read as the current time gives no time at all (the
                # CSV parser was told so through na_values).
                chunk["timestamp"] = stamps = stamps.where(~stamps.isin(_RELATIVE), None)
            keep = np.ones(len(chunk), dtype=bool)
            for name, reason in (
                ("case", "missing case id"),
                ("activity", "missing activity"),
                ("timestamp", "missing timestamp"),
            ):
                empty = chunk[name].isna().to_numpy() & keep
                skips.add(reason, rows[empty])
                keep &= ~empty
            times = np.full(len(chunk), NAT, dtype=np.int64)
            if parsed:
                # Read by the CSV parser: every value that is not missing is a time.
                if keep.any():
                    times[keep] = _ns(_to_utc(stamps[keep], zone))
            else:
                if fmt is None:
                    fmt = detect_format(stamps[keep].head(2000).tolist(), options.date_order)
                if keep.any():
                    times[keep] = parse_times(stamps[keep], fmt, zone)
            bad = keep & (times == NAT)
            skips.add("unreadable timestamp", rows[bad], stamps[bad].astype(str).tolist())
            keep &= ~bad
            if not keep.all():
                chunk = chunk[keep]
            _add_codes(chunk, cases, activities, resources)
            parts.append((times[keep], rows[keep].astype(np.int32)))
            _report(progress, stream, total_bytes)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LogError(f"The CSV file could not be read ({str(exc)[:200]}).") from None
    except xes.XesError as exc:
        raise LogError(str(exc)) from None
    except ValueError as exc:
        if "Usecols" in str(exc) or "columns expected" in str(exc):
            raise LogMappingError(
                "A chosen column is not in the file; choose the columns again."
            ) from None
        raise
    if xes_reader is not None and xes_reader.not_complete:
        # Counted as read and skipped, so the report adds up to the events in the file.
        rows_read += xes_reader.not_complete
        skips.counts[NOT_COMPLETE] += xes_reader.not_complete
    if not parts:
        raise LogError("The log has no events.")
    times_all = np.concatenate([p[0] for p in parts])
    rows_all = np.concatenate([p[1] for p in parts])
    parts.clear()
    events = _Events(cases.finish(), activities.finish(), resources.finish(), times_all, rows_all)
    return events, cases.names, activities.names, resources.names, skips, rows_read, fmt or ""


def _head_format(stream: IO[bytes], delimiter: str, column: str, date_order: str) -> str | None:
    """The timestamp format of the file's first rows, read ahead and rewound; None when the
    stream cannot be rewound or the first rows hold no timestamp (the chunks decide then)."""
    seekable = getattr(stream, "seekable", None)
    if seekable is None or not seekable():
        return None
    position = stream.tell()
    try:
        head = pd.read_csv(
            stream,
            sep=delimiter,
            usecols=[column],
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            nrows=2000,
            encoding="utf-8",
            encoding_errors="replace",
            on_bad_lines="skip",
        )
    finally:
        stream.seek(position)
    values = head[column].dropna().tolist()
    return detect_format(values, date_order) if values else None


def _add_codes(chunk: pd.DataFrame, cases: _Codes, activities: _Codes, resources: _Codes) -> None:
    cases.add(chunk["case"])
    activities.add(chunk["activity"])
    if "resource" in chunk:
        resources.add(chunk["resource"])
    else:
        resources.add_missing(len(chunk))


def _report(progress: Progress | None, stream: IO[bytes], total_bytes: int) -> None:
    if progress is not None and total_bytes:
        done = stream.tell() / total_bytes if hasattr(stream, "tell") else 0
        progress("Reading events", 5 + int(min(1.0, done) * 70))


# --- Analysis --------------------------------------------------------------------------------


def _hours(ns: Any) -> float | None:
    if ns is None or (isinstance(ns, float) and math.isnan(ns)):
        return None
    return round(float(ns) / NS_PER_HOUR, 2)


def _quantile(values: np.ndarray[Any, Any], q: float) -> float | None:
    return _hours(np.quantile(values, q)) if len(values) else None


def analyse(
    stream: IO[bytes],
    options: LogOptions,
    *,
    delimiter: str = ",",
    total_bytes: int = 0,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    source: str = "csv",
) -> dict[str, Any]:
    """The analysis of one log as JSON-ready data (see the module docstring)."""
    events, case_names, act_names, res_names, skips, rows_read, fmt = read_events(
        stream,
        options,
        delimiter=delimiter,
        total_bytes=total_bytes,
        progress=progress,
        chunk_rows=chunk_rows,
        source=source,
    )
    if progress:
        progress("Ordering events", 78)
    case, act, res, ts, row = events.case, events.activity, events.resource, events.time, events.row
    # Events out of order in the file: compare neighbours in file order within each case
    # (events arrive in file order, so a stable sort by case keeps it within each case).
    file_order = np.argsort(case, kind="stable")
    c_sorted, t_sorted = case[file_order], ts[file_order]
    same = c_sorted[1:] == c_sorted[:-1]
    backwards = same & (t_sorted[1:] < t_sorted[:-1])
    cases_out_of_order = int(np.unique(c_sorted[1:][backwards]).size)
    # Time order within each case (file order breaks ties), then exact duplicates. When no case
    # runs backwards in the file, grouping by case in file order is that order already.
    order = file_order if not cases_out_of_order else np.lexsort((row, ts, case))
    del file_order, c_sorted, t_sorted, same, backwards
    case, act, res, ts, row = case[order], act[order], res[order], ts[order], row[order]
    del order
    # Exact duplicates share case and time, so after the sort they sit in runs of equal
    # (case, time); only rows in such runs are compared, and the first in file order is kept.
    tied = np.zeros(len(case), dtype=bool)
    same_moment = (case[1:] == case[:-1]) & (ts[1:] == ts[:-1])
    tied[1:] |= same_moment
    tied[:-1] |= same_moment
    dup = np.zeros(len(case), dtype=bool)
    if tied.any():
        candidates = np.flatnonzero(tied)
        dup[candidates] = (
            pd.DataFrame(
                {
                    "c": case[candidates],
                    "t": ts[candidates],
                    "a": act[candidates],
                    "r": res[candidates],
                }
            )
            .duplicated(keep="first")
            .to_numpy()
        )
    skips.add("duplicate of an earlier row", np.sort(row[dup]))
    keep = ~dup
    case, act, res, ts = case[keep], act[keep], res[keep], ts[keep]
    # Cases with one event have neither a path nor a cycle time.
    sizes = np.bincount(case, minlength=len(case_names))
    single = sizes[case] == 1
    single_cases = int(np.count_nonzero(sizes == 1))
    if single_cases:  # no "0 cases with a single event" line in the report
        skips.counts["case with a single event (left out)"] += single_cases
    keep = ~single
    case, act, res, ts = case[keep], act[keep], res[keep], ts[keep]
    if progress:
        progress("Measuring cases", 85)
    n_events = len(case)
    if n_events == 0:
        raise LogError(
            "No case has two or more readable events, so nothing can be measured. "
            + _skip_summary(skips)
        )
    starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
    ends = np.r_[starts[1:], n_events]
    n_cases = len(starts)
    cycle = ts[ends - 1] - ts[starts]
    # Variants: each case's activity sequence as bytes, counted.
    width = np.uint16 if len(act_names) < 65_535 else np.uint32
    raw = act.astype(width).tobytes()
    size = np.dtype(width).itemsize
    sequences = [
        raw[s * size : e * size] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    variant_counts = Counter(sequences)
    variants: list[dict[str, Any]] = []
    # Ties are broken by the path's names, so the answer never depends on chunking.
    leaders = sorted(variant_counts.items(), key=lambda kv: -kv[1])[: TOP_VARIANTS * 5]
    named = [
        ([act_names[int(c)] for c in np.frombuffer(seq, dtype=width)], n) for seq, n in leaders
    ]
    for names, count in sorted(named, key=lambda pair: (-pair[1], pair[0]))[:TOP_VARIANTS]:
        variants.append({"activities": names, "cases": count, "share": round(count / n_cases, 4)})
    # Waits between consecutive steps, by pair of activities.
    inner = np.ones(n_events, dtype=bool)
    inner[ends - 1] = False  # the last event of a case has no next step
    src = act[inner]
    nxt = act[np.flatnonzero(inner) + 1]
    wait = ts[np.flatnonzero(inner) + 1] - ts[inner]
    n_act = max(1, len(act_names))
    stats = _pair_waits(src.astype(np.int64) * n_act + nxt, wait, n_act * n_act)
    stats["name"] = [(act_names[int(p) // n_act], act_names[int(p) % n_act]) for p in stats.index]
    stats = stats.sort_values(["sum", "name"], ascending=[False, True])
    waits = [
        {
            "from": act_names[int(pair) // n_act],
            "to": act_names[int(pair) % n_act],
            "count": int(r["count"]),
            "median_hours": _hours(r["median"]),
            "p90_hours": _hours(r["p90"]),
            "total_hours": _hours(r["sum"]),
        }
        for pair, r in stats.head(TOP_WAITS).iterrows()
    ]
    dfg = [
        {
            "from": act_names[int(pair) // n_act],
            "to": act_names[int(pair) % n_act],
            "count": int(r["count"]),
        }
        for pair, r in stats.sort_values(["count", "name"], ascending=[False, True])
        .head(40)
        .iterrows()
    ]
    # Rework: an activity that occurs more than once in a case.
    pair_keys = case.astype(np.int64) * n_act + act
    if len(case_names) * n_act <= 50_000_000:
        per_pair = np.bincount(pair_keys, minlength=len(case_names) * n_act)
        repeated = np.flatnonzero(per_pair > 1)
    else:
        uniq, counts = np.unique(pair_keys, return_counts=True)
        repeated = uniq[counts > 1]
    rework_cases = int(np.unique(repeated // max(1, len(act_names))).size)
    repeated_acts = np.bincount(repeated % max(1, len(act_names)), minlength=len(act_names))
    by_activity = Counter({int(a): int(repeated_acts[a]) for a in np.flatnonzero(repeated_acts)})
    rework = {
        "cases": rework_cases,
        "share": round(rework_cases / n_cases, 4),
        "activities": [
            {"activity": act_names[int(a)], "cases": n}
            for a, n in sorted(by_activity.items(), key=lambda kv: (-kv[1], act_names[kv[0]]))[:10]
        ],
    }
    # Hand-offs: the next event of the case done by another resource.
    handoffs: dict[str, Any] | None = None
    if res_names:
        r_src, r_nxt = res[inner], res[np.flatnonzero(inner) + 1]
        known = (r_src >= 0) & (r_nxt >= 0)
        change = known & (r_src != r_nxt)
        per_case = np.bincount(case[inner][change], minlength=len(case_names))[case[starts]]
        n_res = max(1, len(res_names))
        pair_codes, pair_counts = np.unique(
            r_src[change].astype(np.int64) * n_res + r_nxt[change], return_counts=True
        )
        top = Counter(
            {
                (int(k // n_res), int(k % n_res)): int(n)
                for k, n in zip(pair_codes.tolist(), pair_counts.tolist(), strict=True)
            }
        )
        handoffs = {
            "total": int(change.sum()),
            "per_case_median": float(np.median(per_case)),
            "per_case_mean": round(float(per_case.mean()), 2),
            "cases_with_handoff": int(np.count_nonzero(per_case)),
            "pairs": [
                {"from": res_names[a], "to": res_names[b], "count": n}
                for (a, b), n in sorted(
                    top.items(), key=lambda kv: (-kv[1], res_names[kv[0][0]], res_names[kv[0][1]])
                )[:TOP_HANDOFFS]
            ],
        }
    # Volume: cases started per week (weeks from Monday, in the stated time zone).
    if progress:
        progress("Counting weeks", 92)
    zone = options.time_zone
    started = pd.to_datetime(ts[starts], utc=True).tz_convert(zone).tz_localize(None)
    weeks = (started.normalize() - pd.to_timedelta(started.day_of_week, unit="D")).value_counts()
    full_range = pd.date_range(weeks.index.min(), weeks.index.max(), freq="7D")
    weekly = weeks.reindex(full_range, fill_value=0)
    # A first or last week the log covers only partly would pull the mean down.
    core = weekly.iloc[1:-1] if len(weekly) >= 4 else weekly
    per_week = float(core.mean()) if len(core) else float(n_cases)
    per_activity = np.bincount(act, minlength=len(act_names))
    activity_counts = Counter({int(a): int(per_activity[a]) for a in np.flatnonzero(per_activity)})
    total_skipped = sum(v for k, v in skips.counts.items() if not k.startswith("case with"))
    warnings = []
    if cases_out_of_order:
        warnings.append(
            f"{cases_out_of_order} case(s) had events out of time order in the file; they were "
            "sorted by their timestamps."
        )
    return {
        "events_read": rows_read,
        "source": source,
        "events_used": n_events,
        "events_skipped": total_skipped,
        "cases": n_cases,
        "single_event_cases": single_cases,
        "cases_out_of_order": cases_out_of_order,
        "skipped": dict(skips.counts),
        "skipped_examples": sorted(skips.examples, key=lambda e: e["row"])[:MAX_EXAMPLES],
        "warnings": warnings,
        "timestamp_format": fmt,
        "time_zone": zone,
        "first_event": pd.Timestamp(int(ts.min()), tz="UTC").isoformat(),
        "last_event": pd.Timestamp(int(ts.max()), tz="UTC").isoformat(),
        "activities": [
            {"activity": act_names[a], "events": n}
            for a, n in sorted(activity_counts.items(), key=lambda kv: (-kv[1], act_names[kv[0]]))[
                :50
            ]
        ],
        "n_activities": len(activity_counts),
        "variants": variants,
        "n_variants": len(variant_counts),
        "top_variants_share": round(sum(float(v["share"]) for v in variants[:5]), 4),
        "cycle_time": {
            "median_hours": _quantile(cycle, 0.5),
            "p90_hours": _quantile(cycle, 0.9),
            "mean_hours": _hours(float(cycle.mean())),
        },
        "waits": waits,
        "directly_follows": dfg,
        "rework": rework,
        "handoffs": handoffs,
        "weekly": [{"week": d.date().isoformat(), "cases": int(n)} for d, n in weekly.items()][
            -104:
        ],
        "cases_per_week": round(per_week, 2),
    }


def _pair_waits(
    pair: np.ndarray[Any, Any], wait: np.ndarray[Any, Any], n_pairs: int
) -> pd.DataFrame:
    """Count, median, 90th percentile and sum of the waits of each pair, indexed by pair.

    One sort of (pair, wait) packed into one int64 does the work of a group-by with quantiles:
    the waits are counted in the finest unit (a millisecond, or coarser for very long waits or
    very many pairs) that lets the pair and the wait share 62 bits; the figures are reported
    in hours to two decimals, far coarser than that unit. Quantiles interpolate linearly
    between the two nearest waits, as pandas and numpy do by default."""
    longest = int(wait.max()) if len(wait) else 0
    unit = 1_000_000  # nanoseconds in a millisecond
    while n_pairs * (longest // unit + 1) >= 2**62:
        unit *= 1_000
    base = longest // unit + 1
    packed = np.sort(pair * base + wait // unit)
    keys = packed // base
    values = (packed % base).astype(np.float64) * unit
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
    counts = np.diff(np.r_[starts, len(keys)])

    def quantile(q: float) -> np.ndarray[Any, Any]:
        position = (counts - 1) * q
        low = np.floor(position).astype(np.int64)
        high = np.ceil(position).astype(np.int64)
        below, above = values[starts + low], values[starts + high]
        return np.asarray(below + (above - below) * (position - low))

    pair_keys = keys[starts]
    sums = np.bincount(np.searchsorted(pair_keys, pair), weights=wait, minlength=len(starts))
    return pd.DataFrame(
        {"count": counts, "median": quantile(0.5), "sum": sums, "p90": quantile(0.9)},
        index=pair_keys,
    )


def _skip_summary(skips: Skips) -> str:
    if not skips.counts:
        return ""
    return "Skipped: " + "; ".join(f"{n} {reason}" for reason, n in skips.counts.items()) + "."


def prefill(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """What the log says about the catalogue entry: steps (the most common path), runs a week,
    the rework rate (as the error or rework rate) and that a trace exists."""
    variants = analysis.get("variants") or []
    steps = list(variants[0]["activities"]) if variants else []
    return {
        "steps": steps,
        "runs_per_week": analysis.get("cases_per_week"),
        "error_rate": round(100 * float((analysis.get("rework") or {}).get("share", 0.0)), 1),
        "recording": "trace",
    }


def sankey(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """Nodes and links of the top variants laid out step by step: node "3. Approve" is the
    third step; the layout never loops, so rework reads left to right."""
    nodes: dict[tuple[int, str], int] = {}
    links: Counter[tuple[int, int]] = Counter()
    labels: list[str] = []
    for variant in (analysis.get("variants") or [])[:SANKEY_VARIANTS]:
        path = ["Start", *variant["activities"][:SANKEY_STEPS], "End"]
        previous: int | None = None
        for position, name in enumerate(path):
            key = (position if name != "End" else SANKEY_STEPS + 1, name)
            if key not in nodes:
                nodes[key] = len(labels)
                labels.append(name if name in ("Start", "End") else f"{position}. {name}")
            index = nodes[key]
            if previous is not None:
                links[(previous, index)] += int(variant["cases"])
            previous = index
    return {
        "labels": labels,
        "source": [s for s, _t in links],
        "target": [t for _s, t in links],
        "value": list(links.values()),
    }
