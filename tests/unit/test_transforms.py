"""The Beam transforms on the DirectRunner: both outputs of each, and a streaming case."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from ecom_contracts_pb.events.v1 import user_activity_event_pb2
from pipeline.deadletter import DeadLetterLine
from pipeline.deadletter_files import WriteDeadLetters
from pipeline.record import PubsubRecord
from pipeline.transforms import ProcessMessages

CONTRACT = {"ecom_contract": "ecom.events.v1.UserActivityEvent"}


def _activity(event_id: str, timestamp: str) -> bytes:
    event = user_activity_event_pb2.UserActivityEvent(
        event_id=event_id,
        user_id="u",
        session_id="s",
        activity_type=user_activity_event_pb2.ACTIVITY_TYPE_PAGE_VIEW,
        page="/",
        user_agent="ua",
    )
    event.event_timestamp.FromJsonString(timestamp)
    return event.SerializeToString()


def test_process_messages_splits_rows_and_dead_letters():
    records = [
        PubsubRecord(_activity("a", "2025-12-01T10:00:00Z"), CONTRACT, "m1"),
        PubsubRecord(b"\xff", CONTRACT, "m2"),
        PubsubRecord(b"", {"ecom_contract": "nope"}, "m3"),
    ]
    with TestPipeline() as pipeline:
        result = pipeline | beam.Create(records) | ProcessMessages()
        rows = result.rows | "RowSummary" >> beam.FlatMap(
            lambda batch: [
                (r.table, r.key, record.message_id) for rows, record in batch for r in rows
            ]
        )
        letters = result.dead_letters | "LetterSummary" >> beam.MapTuple(
            lambda key, letter: (key, json.loads(letter[0])["reason"])
        )
        assert_that(rows, equal_to([("fact_user_activity", "a", "m1")]), label="rows")
        assert_that(
            letters,
            equal_to([("m2", "REASON_DECODE_ERROR"), ("m3", "REASON_UNKNOWN_EVENT")]),
            label="dead_letters",
        )


def test_streaming_out_of_order_event_times_partition_by_event_time():
    """Late and early events land in the partition of their own event time, not arrival."""
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    stream = (
        TestStream()
        .advance_watermark_to(1000)
        .add_elements(
            [
                TimestampedValue(
                    PubsubRecord(_activity("late", "2025-11-30T23:59:59Z"), CONTRACT, "m1"), 1001
                )
            ]
        )
        .advance_watermark_to(2000)
        .add_elements(
            [
                TimestampedValue(
                    PubsubRecord(_activity("early", "2025-12-02T00:00:00Z"), CONTRACT, "m2"), 1500
                ),
                TimestampedValue(PubsubRecord(b"\xff", CONTRACT, "m3"), 2001),
            ]
        )
        .advance_watermark_to_infinity()
    )
    with TestPipeline(options=options) as pipeline:
        result = pipeline | stream | ProcessMessages()
        dates = result.rows | beam.FlatMap(
            lambda batch: [(r.key, r.row["event_date"]) for rows, _ in batch for r in rows]
        )
        assert_that(dates, equal_to([("late", "2025-11-30"), ("early", "2025-12-02")]))
        keys = result.dead_letters | beam.Keys()
        assert_that(keys, equal_to(["m3"]), label="dead_letters")


def test_dead_letters_are_written_once_per_delivery(tmp_path: Path):
    lines = [
        ("m1", DeadLetterLine('{"messageId": "m1", "reason": "REASON_INVALID"}', "OrderEvent")),
        ("m1", DeadLetterLine('{"messageId": "m1", "reason": "REASON_INVALID"}', "OrderEvent")),
        (
            "m2",
            DeadLetterLine('{"messageId": "m2", "reason": "REASON_DECODE_ERROR"}', "unknown"),
        ),
    ]
    with TestPipeline() as pipeline:
        _ = pipeline | beam.Create(lines) | WriteDeadLetters(str(tmp_path / "dl"), 60)
    written = [
        json.loads(line)
        for path in (tmp_path / "dl").glob("dead-letters-*.ndjson")
        for line in path.read_text().splitlines()
    ]
    assert sorted(d["messageId"] for d in written) == ["m1", "m2"]
    families = sorted(path.name.split("-")[4] for path in (tmp_path / "dl").glob("*.ndjson"))
    assert families == ["OrderEvent", "unknown"]  # one file per event family
    assert not list((tmp_path / "dl").glob("*.tmp"))


def test_a_failed_bundle_forgets_what_it_did_not_finish_writing(tmp_path: Path):
    from pipeline.deadletter_files import WriteDeadLetterFilesFn

    letter = DeadLetterLine('{"messageId": "m1"}', "OrderEvent")
    fn = WriteDeadLetterFilesFn(str(tmp_path / "dl"), 3600, "run-1")
    fn.start_bundle()
    fn.process(("m1", letter))  # the bundle then fails: finish_bundle never runs
    fn.start_bundle()  # the retry
    fn.process(("m1", letter))
    fn.process(("m1", letter))  # a redelivery within the bundle
    (name,) = [value.value for value in fn.finish_bundle()]
    assert Path(name).read_text().splitlines() == [letter.line]
    fn.start_bundle()
    fn.process(("m1", letter))  # a later delivery in the same window: nothing new
    assert list(fn.finish_bundle()) == []


def test_dead_letter_files_replay_as_input(tmp_path: Path):
    """A dead-letter record parses as replay input with its original payload and attributes."""
    import ecom_contracts
    from pipeline.deadletter import dead_letter, to_json_line
    from pipeline.errors import MalformedPayloadError

    original = PubsubRecord(b"\x00\xffpayload", {"a": "b"}, "m9", "2025-12-01T10:00:00Z")
    line = to_json_line(
        dead_letter(original, MalformedPayloadError(ecom_contracts.DecodeError("bad")))
    )
    assert PubsubRecord.from_json(line) == original


def test_counters_report_outcomes_revisions_and_unknown_fields():
    """A message from a newer revision lands; its unknown fields are counted, not dead-lettered."""
    from apache_beam.metrics.metric import MetricsFilter

    newer = _activity("n1", "2025-12-01T10:00:00Z") + b"\x98\x06\x01"  # field 99, unknown
    pipeline = TestPipeline()
    result = (
        pipeline
        | beam.Create([PubsubRecord(newer, CONTRACT, "m1"), PubsubRecord(b"\xff", CONTRACT, "m2")])
        | ProcessMessages()
    )
    _ = result.rows
    outcome = pipeline.run()
    outcome.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in outcome.metrics().query(MetricsFilter().with_namespace("ecom"))["counters"]
    }
    assert counters["UserActivityEvent.ok"] == 1
    assert counters["UserActivityEvent.decoded_as.r1"] == 1
    assert counters["UserActivityEvent.decode_error"] == 1
    assert counters["unknown_fields"] == 1
