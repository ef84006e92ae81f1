"""Event-log analysis against small logs whose numbers are known by hand."""

from __future__ import annotations

import io
from typing import Any

import pytest

from assessments.processes.core import eventlog
from assessments.processes.core.eventlog import LogError, LogMappingError, LogOptions

MAPPING = {"case": "case", "activity": "activity", "timestamp": "time", "resource": "who"}
MAPPING3 = {"case": "case", "activity": "activity", "timestamp": "time"}


def analyse(text: str, zone: str = "UTC", order: str = "auto", **kw: Any) -> dict[str, Any]:
    data = text.strip().encode() + b"\n"
    return eventlog.analyse(
        io.BytesIO(data), LogOptions(kw.pop("mapping", MAPPING), zone, order), **kw
    )


# Three invoices. A: 3 steps in 3 h. B: checked twice (rework), 24 h. C: same path as A, 5 h.
LOG = """
case,activity,time,who
A,Receive,2024-05-06T09:00:00,ann
A,Check,2024-05-06T10:00:00,bob
A,Approve,2024-05-06T12:00:00,cat
B,Receive,2024-05-07T09:00:00,ann
B,Check,2024-05-07T09:30:00,bob
B,Check,2024-05-07T11:30:00,dan
B,Approve,2024-05-08T09:00:00,cat
C,Receive,2024-05-13T08:00:00,ann
C,Check,2024-05-13T09:00:00,ann
C,Approve,2024-05-13T13:00:00,cat
"""


def test_variants_cycle_times_rework_and_handoffs_by_hand() -> None:
    a = analyse(LOG)
    assert a["cases"] == 3 and a["events_used"] == 10 and a["events_skipped"] == 0
    assert a["variants"][0] == {
        "activities": ["Receive", "Check", "Approve"],
        "cases": 2,
        "share": pytest.approx(0.6667, abs=1e-4),
    }
    assert a["variants"][1]["activities"] == ["Receive", "Check", "Check", "Approve"]
    assert a["n_variants"] == 2
    # Cycle times 3 h, 24 h, 5 h: median 5 h; p90 by linear interpolation 5 + 0.8 * 19.
    assert a["cycle_time"]["median_hours"] == 5.0
    assert a["cycle_time"]["p90_hours"] == pytest.approx(20.2)
    assert a["rework"]["cases"] == 1 and a["rework"]["share"] == pytest.approx(0.3333, abs=1e-4)
    assert a["rework"]["activities"] == [{"activity": "Check", "cases": 1}]
    # Hand-offs: A ann>bob>cat (2), B ann>bob>dan>cat (3), C ann>ann>cat (1).
    assert a["handoffs"]["total"] == 6
    assert a["handoffs"]["per_case_median"] == 2.0
    # Waits Check->Approve: A 2 h, B 21.5 h (from the second check), C 4 h.
    check_approve = next(w for w in a["waits"] if (w["from"], w["to"]) == ("Check", "Approve"))
    assert check_approve["count"] == 3 and check_approve["median_hours"] == 4.0
    # Two cases start in the week of 6 May, one in the week of 13 May.
    assert a["weekly"] == [{"week": "2024-05-06", "cases": 2}, {"week": "2024-05-13", "cases": 1}]


def test_stated_time_zone_applies_to_naive_times_and_offsets_are_kept() -> None:
    text = """
case,activity,time
A,Start,2024-05-06 09:00
A,End,2024-05-06T10:00:00+00:00
"""
    a = analyse(text, zone="Europe/Oslo", mapping=MAPPING3)
    # 09:00 in Oslo (UTC+2 in May) is 07:00 UTC; the end is 10:00 UTC: three hours.
    assert a["first_event"].startswith("2024-05-06T07:00")
    assert a["cycle_time"]["median_hours"] == 3.0


def test_day_first_dates_are_recognised_when_unambiguous() -> None:
    text = """
case,activity,time
A,Start,31/05/2024 09:00
A,End,01/06/2024 09:00
"""
    a = analyse(text, mapping=MAPPING3)
    assert a["cycle_time"]["median_hours"] == 24.0
    assert a["handoffs"] is None


def test_ambiguous_day_month_order_must_be_chosen() -> None:
    text = """
case,activity,time
A,Start,03/04/2024 09:00
A,End,04/04/2024 09:00
"""
    mapping = MAPPING3
    with pytest.raises(LogMappingError, match="day-first or month-first"):
        analyse(text, mapping=mapping)
    day = analyse(text, order="dayfirst", mapping=mapping)
    month = analyse(text, order="monthfirst", mapping=mapping)
    assert day["cycle_time"]["median_hours"] == 24.0
    assert month["cycle_time"]["median_hours"] == 24.0 * 31  # 4 March to 4 April


def test_epoch_seconds_and_milliseconds() -> None:
    mapping = MAPPING3
    seconds = analyse("case,activity,time\nA,a,1714986000\nA,b,1714989600", mapping=mapping)
    millis = analyse("case,activity,time\nA,a,1714986000000\nA,b,1714993200000", mapping=mapping)
    assert seconds["cycle_time"]["median_hours"] == 1.0
    assert millis["cycle_time"]["median_hours"] == 2.0


def test_bad_rows_are_skipped_and_reported_with_row_numbers() -> None:
    text = """
case,activity,time,who
A,Receive,2024-05-06T09:00:00,ann
A,Check,2024-05-06T10:00:00,bob
A,Check,2024-05-06T10:00:00,bob
,Receive,2024-05-06T11:00:00,ann
B,,2024-05-06T11:00:00,ann
B,Receive,,ann
B,Receive,not a date,ann
C,Receive,2024-05-06T12:00:00,ann
"""
    a = analyse(text)
    assert a["skipped"] == {
        "missing case id": 1,
        "missing activity": 1,
        "missing timestamp": 1,
        "unreadable timestamp": 1,
        "duplicate of an earlier row": 1,
        "case with a single event (left out)": 1,
    }
    rows = {e["reason"]: e["row"] for e in a["skipped_examples"]}
    assert rows == {
        "duplicate of an earlier row": 4,
        "missing case id": 5,
        "missing activity": 6,
        "missing timestamp": 7,
        "unreadable timestamp": 8,
    }
    assert a["cases"] == 1 and a["events_used"] == 2 and a["events_read"] == 8


def test_events_out_of_order_are_sorted_and_reported() -> None:
    text = """
case,activity,time
A,Approve,2024-05-06T12:00:00
A,Receive,2024-05-06T09:00:00
A,Check,2024-05-06T10:00:00
"""
    a = analyse(text, mapping=MAPPING3)
    assert a["variants"][0]["activities"] == ["Receive", "Check", "Approve"]
    assert a["cases_out_of_order"] == 1
    assert "sorted" in a["warnings"][0]


def test_only_one_event_cases_is_a_clear_error() -> None:
    text = "case,activity,time\nA,x,2024-05-06T09:00:00\nB,x,2024-05-06T09:00:00"
    with pytest.raises(LogError, match="two or more readable events"):
        analyse(text, mapping=MAPPING3)


def test_unknown_time_zone_and_missing_mapping_are_refused() -> None:
    with pytest.raises(LogMappingError, match="time zone"):
        analyse(LOG, zone="Mars/Olympus")
    with pytest.raises(LogMappingError, match="timestamp"):
        analyse(LOG, mapping={"case": "case", "activity": "activity"})


def test_unrecognised_timestamps_name_an_example() -> None:
    text = "case,activity,time\nA,x,yesterday\nA,y,today\nA,z,now"
    with pytest.raises(LogMappingError, match="yesterday"):
        analyse(text, mapping=MAPPING3)


def test_chunks_give_the_same_answer_as_one_read() -> None:
    whole = analyse(LOG)
    chunked = analyse(LOG, chunk_rows=2)
    assert chunked == whole


def test_sniff_suggests_process_mining_column_names() -> None:
    head = b"case:concept:name;concept:name;time:timestamp;org:resource\n1;a;2024-01-01;x\n"
    sniffed = eventlog.sniff(head)
    assert sniffed.delimiter == ";"
    assert sniffed.suggested == {
        "case": "case:concept:name",
        "activity": "concept:name",
        "timestamp": "time:timestamp",
        "resource": "org:resource",
    }
    with pytest.raises(LogError):
        eventlog.sniff(b"\x00\x01binary")
    with pytest.raises(LogError, match="three columns"):
        eventlog.sniff(b"a,b\n1,2\n")


def test_prefill_and_sankey_from_the_analysis() -> None:
    a = analyse(LOG)
    values = eventlog.prefill(a)
    assert values["steps"] == ["Receive", "Check", "Approve"]
    assert values["error_rate"] == pytest.approx(33.3)
    flow = eventlog.sankey(a)
    assert flow["labels"][0] == "Start" and "End" in flow["labels"]
    # Every case leaves Start once.
    assert sum(v for s, v in zip(flow["source"], flow["value"], strict=True) if s == 0) == 3


def test_a_time_outside_what_nanoseconds_hold_is_unreadable_not_a_crash() -> None:
    text = """
case,activity,time
A,Start,2024-05-06T09:00:00
A,Typo,3024-05-06T10:00:00
A,Old,1000-05-06T10:00:00
A,End,2024-05-06T11:00:00
"""
    for chunk_rows in (2, 100):
        a = analyse(text, mapping=MAPPING3, chunk_rows=chunk_rows)
        assert a["skipped"]["unreadable timestamp"] == 2
        assert a["cycle_time"]["median_hours"] == 2.0


def test_a_chunk_the_parser_cannot_read_whole_falls_back_without_changing_the_answer() -> None:
    # With two rows a chunk, rows 4-5 hold the unreadable time (read value by value) and the
    # other chunks are read by the CSV parser; the answer equals the one-chunk read.
    text = LOG.replace("B,Check,2024-05-07T09:30:00,bob", "B,Check,half past nine,bob")
    whole = analyse(text)
    chunked = analyse(text, chunk_rows=2)
    assert chunked == whole
    assert whole["skipped"]["unreadable timestamp"] == 1
    assert [e["row"] for e in whole["skipped_examples"]] == [6]


def test_a_clean_iso_log_is_timed_by_the_csv_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def value_by_value(*_args: Any) -> None:
        raise AssertionError("the value-by-value path ran")

    monkeypatch.setattr(eventlog, "parse_times", value_by_value)
    assert analyse(LOG, chunk_rows=3)["cases"] == 3
