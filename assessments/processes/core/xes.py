"""XES event logs (IEEE 1849), read as a stream into the same columns as a CSV log.

An XES file is XML: a log holds traces (cases), a trace holds events, and each carries typed
attributes such as `<string key="concept:name" value="Approve"/>` or `<date
key="time:timestamp" value="2024-05-06T09:00:00.000+02:00"/>`. Each event becomes one row:
its own attributes under their keys (`concept:name`, `time:timestamp`, `org:resource`, ...)
and its trace's attributes prefixed with `case:` (`case:concept:name`), the names process-mining
tools use when they flatten XES to CSV. The column mapping then works as for a CSV file.

Reading is streamed with expat, a block at a time, so memory holds one chunk of rows and the
open trace's events, not the document. The parser refuses any document type declaration (DTD): XES has no use for one,
and a DTD is how an XML file expands entities to gigabytes ("billion laughs") or pulls in
other files (external entities). Without a DTD no entity can be declared, and an undeclared
entity is an error.

Events whose `lifecycle:transition` is present and is not "complete" (start, schedule, ...)
are left out and counted: an activity with a start and a complete event is one step, not a
repeated one.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from xml.parsers import expat

import pandas as pd

BLOCK_BYTES = 1 << 20
SNIFF_EVENTS = 200
SNIFF_BYTES = 4 << 20
CHUNK_ROWS = 50_000  # an event as Python strings costs far more than a CSV row in pandas
LIFECYCLE = "lifecycle:transition"
EVENT_NUMBER = "_event"  # each row's event number in the file, counted from 1
ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})


class XesError(ValueError):
    """The file is not an XES log this importer reads (the message says why)."""


def looks_like_xes(head: bytes) -> bool:
    """An XML document rather than a CSV: the first thing after a byte-order mark and blank
    space is a tag."""
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            return bom == codecs.BOM_UTF8 and head[len(bom) :].lstrip().startswith(b"<")
    return head.lstrip().startswith(b"<")


def _refuse_dtd(*_args: Any) -> None:
    raise XesError(
        "The XES file declares a document type (DTD). XES logs have none, and a DTD can "
        "expand entities without bound or read other files, so the file is refused. "
        "Remove the <!DOCTYPE ...> declaration and upload again."
    )


def _refuse_entity(*_args: Any) -> int:
    raise XesError("The XES file refers to an external entity; the file is refused.")


@dataclass
class _State:
    """Where the parser is and what it has seen, between blocks."""

    wanted: Mapping[str, str] | None  # flattened key -> output column; None: keep every key
    depth: int = 0
    in_log: bool = False
    trace_depth: int = -1
    event_depth: int = -1
    trace: dict[str, str] = field(default_factory=dict)
    event: dict[str, str] = field(default_factory=dict)
    pending: list[dict[str, str]] = field(default_factory=list)  # events of the open trace
    rows: list[Any] = field(default_factory=list)  # dicts when sniffing, else tuples
    keys: dict[str, None] = field(default_factory=dict)  # every flattened key, first seen first
    events: int = 0
    not_complete: int = 0
    traces: int = 0


def _parser(state: _State) -> Any:
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag: str, attrs: dict[str, str]) -> None:
        state.depth += 1
        name = tag.rsplit(":", 1)[-1]  # <xes:trace> where the file uses a prefix
        if state.depth == 1:
            if name != "log":
                raise XesError(f"This is XML but not an XES log: it starts with <{tag}>.")
            state.in_log = True
            return
        if name == "trace" and state.trace_depth < 0 and state.depth == 2:
            state.trace_depth = state.depth
            state.trace = {}
            state.pending = []
            return
        if name == "event" and state.trace_depth > 0 and state.event_depth < 0:
            state.event_depth = state.depth
            state.event = {}
            return
        if name not in ATTRIBUTE_TAGS or "key" not in attrs:
            return
        # Only an event's or a trace's own attributes count, not ones nested inside them.
        if state.event_depth > 0 and state.depth == state.event_depth + 1:
            state.event[attrs["key"]] = attrs.get("value", "")
        elif state.event_depth < 0 < state.trace_depth and state.depth == state.trace_depth + 1:
            state.trace["case:" + attrs["key"]] = attrs.get("value", "")

    def end(tag: str) -> None:
        if state.depth == state.event_depth:
            state.event_depth = -1
            state.pending.append(state.event)
        elif state.depth == state.trace_depth:
            state.trace_depth = -1
            state.traces += 1
            _emit(state)
        state.depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    return parser


def _emit(state: _State) -> None:
    """The closed trace's events as rows (its attributes may come after its events)."""
    for event in state.pending:
        state.events += 1
        transition = event.get(LIFECYCLE)
        if transition is not None and transition.strip().lower() not in ("", "complete"):
            state.not_complete += 1
            continue
        merged = {**state.trace, **event}
        if state.wanted is None:
            state.keys.update(dict.fromkeys(merged))
            state.rows.append(merged)
        else:
            # A tuple per event: the wanted values in order, then the event's number.
            state.rows.append((*(merged.get(key, "") for key in state.wanted), state.events))
    state.pending = []


def _feed(stream: IO[bytes], state: _State, *, limit: int | None = None) -> Iterator[None]:
    """Feed the stream block by block; yields after each block so callers can take rows."""
    parser = _parser(state)
    read = 0
    try:
        while True:
            block = stream.read(BLOCK_BYTES)
            read += len(block)
            parser.Parse(block, not block)
            yield None
            if not block or (limit is not None and read >= limit):
                break
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) if exc.code else str(exc)
        raise XesError(
            f"The XES file is not well-formed XML (line {exc.lineno}, column {exc.offset}: "
            f"{reason})."
        ) from None
    if not state.in_log:
        raise XesError("The file holds no XES log.")


@dataclass(frozen=True)
class XesSniff:
    columns: tuple[str, ...]
    preview: tuple[dict[str, str], ...]


def sniff(stream: IO[bytes], *, max_events: int = SNIFF_EVENTS) -> XesSniff:
    """The flattened columns (trace attributes as `case:key`, then event attributes) and the
    first rows, from the start of the file."""
    state = _State(wanted=None)
    try:
        for _ in _feed(stream, state, limit=SNIFF_BYTES):
            if state.events >= max_events:
                break
    except XesError as exc:
        # A file cut at the sniffing limit is fine; a broken start is not.
        if not state.events:
            raise
        if "not well-formed" not in str(exc):
            raise
    if not state.rows and state.pending:
        _emit(state)  # a first trace longer than the sniffed part
    if not state.keys:
        raise XesError("The XES log has no events (no <trace> with an <event> in it).")
    keys = list(state.keys)
    columns = [k for k in keys if k.startswith("case:")] + [
        k for k in keys if not k.startswith("case:")
    ]
    preview = tuple({k: row.get(k, "") for k in columns} for row in state.rows[:5])
    return XesSniff(tuple(columns), preview)


def sample(stream: IO[bytes], key: str, size: int = 2000) -> list[str]:
    """The first values of one flattened key (for checking the timestamp format)."""
    state = _State(wanted={key: "value"})
    try:
        for _ in _feed(stream, state, limit=SNIFF_BYTES):
            if len(state.rows) >= size:
                break
    except XesError:
        if not state.rows:
            raise
    return [row[0] for row in state.rows[:size]]


class XesReader:
    """Rows of the mapped columns, in chunks of DataFrames, with what was left out."""

    def __init__(self, stream: IO[bytes], columns: Mapping[str, str], chunk_rows: int) -> None:
        self.stream = stream
        self.state = _State(wanted=dict(columns))
        self.chunk_rows = min(chunk_rows, CHUNK_ROWS)
        self.names = [*columns.values(), EVENT_NUMBER]

    @property
    def not_complete(self) -> int:
        return self.state.not_complete

    def _frame(self, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
        frame = pd.DataFrame.from_records(rows, columns=self.names)
        numbers = frame.pop(EVENT_NUMBER).astype("int64")
        # Empty values are missing, as an empty CSV cell is.
        frame = frame.astype(object).replace("", None)
        frame[EVENT_NUMBER] = numbers
        return frame

    def __iter__(self) -> Iterator[pd.DataFrame]:
        state = self.state
        for _ in _feed(self.stream, state):
            while len(state.rows) >= self.chunk_rows:
                rows = state.rows[: self.chunk_rows]
                del state.rows[: self.chunk_rows]
                yield self._frame(rows)
        if state.rows:
            rows, state.rows = state.rows, []
            yield self._frame(rows)
