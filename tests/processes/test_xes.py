"""XES logs: streamed into the same columns as a CSV log, and hostile XML refused."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from assessments.processes.core import eventlog, xes
from assessments.processes.core.eventlog import LogError, LogOptions

MAPPING = {
    "case": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "resource": "org:resource",
}


def event(activity: str, at: str, who: str = "", lifecycle: str = "", extra: str = "") -> str:
    parts = [f'<string key="concept:name" value="{activity}"/>']
    if lifecycle:
        parts.append(f'<string key="lifecycle:transition" value="{lifecycle}"/>')
    parts.append(f'<date key="time:timestamp" value="{at}"/>')
    if who:
        parts.append(f'<string key="org:resource" value="{who}"/>')
    return f"<event>{''.join(parts)}{extra}</event>"


# The CSV test log's three invoices, as XES: A 3 steps in 3 h; B checked twice (rework),
# 24 h, with a start event for its first check; C the same path as A in 5 h. Case C names
# itself after its events, which XES allows.
XES = f"""<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="org:resource" value="UNKNOWN"/></global>
  <string key="concept:name" value="invoices"/>
  <trace>
    <string key="concept:name" value="A"/>
    {event("Receive", "2024-05-06T09:00:00.000+00:00", "ann")}
    {event("Check", "2024-05-06T10:00:00.000+00:00", "bob")}
    {event("Approve", "2024-05-06T12:00:00.000+00:00", "cat")}
  </trace>
  <trace>
    <string key="concept:name" value="B"/>
    {event("Receive", "2024-05-07T09:00:00.000+00:00", "ann", "complete")}
    {event("Check", "2024-05-07T09:10:00.000+00:00", "bob", "start")}
    {event("Check", "2024-05-07T09:30:00.000+00:00", "bob", "complete")}
    {event("Check", "2024-05-07T11:30:00.000+00:00", "dan", "complete")}
    {
    event(
        "Approve",
        "2024-05-08T09:00:00.000+00:00",
        "cat",
        "complete",
        '<list key="items"><string key="concept:name" value="not an activity"/></list>',
    )
}
  </trace>
  <trace>
    {event("Receive", "2024-05-13T10:00:00.000+02:00", "ann")}
    {event("Check", "2024-05-13T11:00:00.000+02:00", "ann")}
    {event("Approve", "2024-05-13T15:00:00.000+02:00", "cat")}
    <string key="concept:name" value="C"/>
  </trace>
</log>
"""


def analyse(data: str | bytes, **kw: Any) -> dict[str, Any]:
    raw = data.encode() if isinstance(data, str) else data
    return eventlog.analyse(
        io.BytesIO(raw), LogOptions(kw.pop("mapping", MAPPING), "UTC"), source="xes", **kw
    )


def test_xes_gives_the_numbers_known_by_hand() -> None:
    a = analyse(XES)
    assert a["source"] == "xes" and a["cases"] == 3 and a["events_used"] == 10
    assert a["events_read"] == 11
    assert a["skipped"] == {eventlog.NOT_COMPLETE: 1}
    assert a["variants"][0] == {
        "activities": ["Receive", "Check", "Approve"],
        "cases": 2,
        "share": pytest.approx(0.6667, abs=1e-4),
    }
    assert a["variants"][1]["activities"] == ["Receive", "Check", "Check", "Approve"]
    # 3 h, 24 h and 5 h (C's +02:00 offset kept: 08:00 to 13:00 UTC).
    assert a["cycle_time"]["median_hours"] == 5.0
    assert a["cycle_time"]["p90_hours"] == pytest.approx(20.2)
    assert a["rework"]["activities"] == [{"activity": "Check", "cases": 1}]
    assert a["handoffs"]["total"] == 6
    assert "not an activity" not in {x["activity"] for x in a["activities"]}


def test_xes_matches_the_same_log_as_csv() -> None:
    csv_text = "case,activity,time,who\n" + "\n".join(
        [
            "A,Receive,2024-05-06T09:00:00,ann",
            "A,Check,2024-05-06T10:00:00,bob",
            "A,Approve,2024-05-06T12:00:00,cat",
            "B,Receive,2024-05-07T09:00:00,ann",
            "B,Check,2024-05-07T09:30:00,bob",
            "B,Check,2024-05-07T11:30:00,dan",
            "B,Approve,2024-05-08T09:00:00,cat",
            "C,Receive,2024-05-13T08:00:00,ann",
            "C,Check,2024-05-13T09:00:00,ann",
            "C,Approve,2024-05-13T13:00:00,cat",
        ]
    )
    from_csv = eventlog.analyse(
        io.BytesIO(csv_text.encode()),
        LogOptions(
            {"case": "case", "activity": "activity", "timestamp": "time", "resource": "who"}
        ),
    )
    from_xes = analyse(XES)
    for key in ("variants", "cycle_time", "waits", "rework", "handoffs", "weekly", "cases"):
        assert from_xes[key] == from_csv[key], key


def test_chunked_xes_reads_the_same_as_one_chunk() -> None:
    assert analyse(XES, chunk_rows=2) == analyse(XES)


def test_sniff_lists_trace_and_event_keys_and_suggests_the_mapping() -> None:
    found = xes.sniff(io.BytesIO(XES.encode()))
    assert found.columns[0] == "case:concept:name"
    assert {"concept:name", "time:timestamp", "org:resource", "lifecycle:transition"} <= set(
        found.columns
    )
    assert eventlog.suggest_mapping(found.columns) == MAPPING
    assert found.preview[0]["case:concept:name"] == "A"
    assert found.preview[0]["concept:name"] == "Receive"
    assert xes.looks_like_xes(b"\xef\xbb\xbf  <?xml version='1.0'?><log/>")
    assert not xes.looks_like_xes(b"case,activity,time\n")


def test_bad_events_are_skipped_with_their_event_numbers() -> None:
    body = "".join(
        [
            "<trace>",
            '<string key="concept:name" value="A"/>',
            event("Receive", "2024-05-06T09:00:00Z"),
            event("Check", "not a time"),
            "<event><string key='concept:name' value='Approve'/></event>",
            event("Approve", "2024-05-06T12:00:00Z"),
            "</trace>",
        ]
    )
    a = analyse(f"<log>{body}</log>")
    assert a["skipped"]["unreadable timestamp"] == 1
    assert a["skipped"]["missing timestamp"] == 1
    rows = {e["reason"]: e["row"] for e in a["skipped_examples"]}
    assert rows == {"unreadable timestamp": 2, "missing timestamp": 3}
    assert a["cases"] == 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE log [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<log><trace><string key="concept:name" value="&lol9;"/>
<event><string key="concept:name" value="a"/><date key="time:timestamp" value="2024-05-06T09:00:00Z"/></event>
<event><string key="concept:name" value="b"/><date key="time:timestamp" value="2024-05-06T10:00:00Z"/></event>
</trace></log>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE log [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<log><trace><string key="concept:name" value="A"/>
<event><string key="concept:name" value="&secret;"/><date key="time:timestamp" value="2024-05-06T09:00:00Z"/></event>
<event><string key="concept:name" value="b"/><date key="time:timestamp" value="2024-05-06T10:00:00Z"/></event>
</trace></log>"""


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_hostile_xml_is_refused_before_any_entity_expands(hostile: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(xes.XesError, match="document type"):
        xes.sniff(io.BytesIO(hostile))
    with pytest.raises(LogError, match="document type"):
        analyse(hostile)
    assert time.monotonic() - started < 5


def test_an_undeclared_entity_and_broken_xml_are_clear_errors() -> None:
    undeclared = (
        b'<log><trace><event><string key="concept:name" value="&x;"/></event></trace></log>'
    )
    with pytest.raises(xes.XesError, match="undefined entity"):
        xes.sniff(io.BytesIO(undeclared))
    broken = XES.encode()[: len(XES) // 2]
    with pytest.raises(LogError, match="not well-formed XML"):
        analyse(broken)
    with pytest.raises(xes.XesError, match="not an XES log"):
        xes.sniff(io.BytesIO(b"<html><body>hi</body></html>"))
    with pytest.raises(xes.XesError, match="no events"):
        xes.sniff(io.BytesIO(b"<log><trace></trace></log>"))


def test_a_time_word_among_good_times_is_a_missing_timestamp() -> None:
    # pandas reads "now" and "today" as the moment of the import; in a log they give no time.
    body = "".join(
        [
            "<trace>",
            '<string key="concept:name" value="A"/>',
            event("Receive", "2024-05-06T09:00:00Z"),
            event("Check", "now"),
            event("Approve", "2024-05-06T12:00:00Z"),
            "</trace>",
        ]
    )
    a = analyse(f"<log>{body}</log>")
    assert a["skipped"]["missing timestamp"] == 1
    assert a["cycle_time"]["median_hours"] == 3.0
    options = LogOptions({"case": "case", "activity": "activity", "timestamp": "time"})
    text = "case,activity,time\nA,a,2024-05-06T09:00:00\nA,b,today\nA,c,2024-05-06T10:00:00\n"
    # In a chunk the CSV parser reads whole, and in one that falls back to value by value
    # (the unreadable "soon" makes it fall back).
    for extra in ("", "A,d,soon\n"):
        csv = eventlog.analyse(io.BytesIO((text + extra).encode()), options)
        assert csv["skipped"]["missing timestamp"] == 1 and csv["events_used"] == 2
        assert csv["cycle_time"]["median_hours"] == 1.0
