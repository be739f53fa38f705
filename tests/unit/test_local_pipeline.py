"""The local-run layer: ack ids beside the records, acknowledgement after durable writes, and
the pipeline's graph wrapped without a change of shape.

The writers are the pipeline's own DoFns (a warehouse sink writing into a
list, the real dead-letter writer into ``tmp_path``), driven bundle by bundle;
the Pub/Sub client is a fake at the ``pull`` and ``acknowledge`` boundary.
The whole path on the emulator, killed and restarted, is
``tests/integration/test_restart.py``.
"""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import apache_beam as beam
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.runners.direct import transform_evaluator
from google.pubsub_v1.types import PubsubMessage, PullResponse, ReceivedMessage

from ops import local_pipeline
from ops.local_pipeline import pulls
from ops.local_pipeline.acknowledge import (
    AcknowledgeWrittenDeadLetters,
    AcknowledgeWrittenRows,
    acknowledge,
)
from ops.local_pipeline.deliveries import AckId, Deliveries
from ops.local_pipeline.wrap import NothingToAcknowledgeAfterError, acknowledge_after_writes
from pipeline.deadletter import DeadLetterLine
from pipeline.deadletter_files import WriteDeadLetterFilesFn
from pipeline.main import prepare
from pipeline.model import FactRow
from pipeline.options import UsageError
from pipeline.record import MessageRows, PubsubRecord
from pipeline.sinks.batches import Batch
from pipeline.sinks.refusals import Refusal
from pipeline.sinks.warehouse_sink import WarehouseSinkFn
from tests.unit.test_dataflow_graph import pickled_code, shape

SUBSCRIPTION = "projects/ecom-local/subscriptions/orders-pipeline"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "input.ndjson"


class FakeSubscriber:
    """Records acknowledgements, and what the dead-letter folder held at each."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.acknowledged: list[tuple[str, list[str]]] = []
        self.files_then: list[list[str]] = []
        self.closed = False

    def acknowledge(self, subscription: str, ack_ids: list[str]) -> None:
        self.acknowledged.append((subscription, list(ack_ids)))
        if self.folder is not None:
            self.files_then.append(sorted(p.suffix for p in self.folder.glob("*")))

    def close(self) -> None:
        self.closed = True

    def ack_ids(self) -> set[str]:
        return {ack_id for _, ids in self.acknowledged for ack_id in ids}


class ListSinkFn(WarehouseSinkFn):
    """A warehouse sink writing into a list: refuses rows keyed ``bad*``, fails on ``bug*``."""

    written: ClassVar[list[str]] = []

    def write(self, table: str, batch: Batch) -> list[Refusal]:
        refusals: list[Refusal] = []
        for pending in batch:
            if pending.row.key.startswith("bug"):
                raise KeyError(pending.row.key)
            if pending.row.key.startswith("bad"):
                refusals.append((pending.row, pending.record, "refused"))
            else:
                ListSinkFn.written.append(pending.row.key)
        return refusals


def _message(message_id: str, *keys: str) -> MessageRows:
    rows = [FactRow("fact_inventory", key, {"event_id": key}) for key in keys]
    return rows, PubsubRecord(b"payload", {"k": "v"}, message_id)


def _pulled(deliveries: Deliveries, *message_ids: str) -> None:
    for message_id in message_ids:
        deliveries.pulled(message_id, AckId(SUBSCRIPTION, f"ack-{message_id}"))


def _bundle(fn: beam.DoFn, *elements: Any) -> list[Any]:
    """Run one bundle of ``fn`` over ``elements``; return every output."""
    fn.start_bundle()
    outputs = [output for element in elements for output in fn.process(element)]
    outputs += list(fn.finish_bundle())
    return outputs


def test_the_table_hands_out_every_delivery_of_a_message_once():
    deliveries = Deliveries()
    _pulled(deliveries, "m1", "m2")
    deliveries.pulled("m1", AckId(SUBSCRIPTION, "ack-m1-again"))  # its ack deadline passed
    deliveries.pulled("m3", AckId("projects/p/subscriptions/other", "ack-m3"))
    assert len(deliveries) == 3
    taken = deliveries.take(["m1", "m3", "replayed"])
    assert taken == {
        SUBSCRIPTION: ["ack-m1", "ack-m1-again"],
        "projects/p/subscriptions/other": ["ack-m3"],
    }
    assert deliveries.take(["m1"]) == {}
    assert len(deliveries) == 1
    assert Deliveries.of(deliveries.run_id) is deliveries


def test_acknowledgements_go_in_requests_of_at_most_a_thousand():
    client = FakeSubscriber()
    ids = [f"a{i}" for i in range(2500)]
    assert acknowledge(client, {SUBSCRIPTION: ids}) == 2500
    assert [len(batch) for _, batch in client.acknowledged] == [1000, 1000, 500]


def test_a_sink_acknowledges_its_messages_after_their_rows_are_written_not_its_dead_letters():
    deliveries = Deliveries()
    _pulled(deliveries, "written", "refused", "no-rows")
    client = FakeSubscriber()
    ListSinkFn.written = []
    sink = AcknowledgeWrittenRows(ListSinkFn(), deliveries.run_id, lambda: client)
    sink.setup()
    sink.start_bundle()
    outputs = list(
        sink.process([_message("written", "a1", "a2"), _message("refused", "bad-b1", "b2")])
    )
    outputs += list(sink.process([_message("no-rows")]))
    assert client.acknowledged == [], "nothing before the bundle's rows are written"
    outputs += list(sink.finish_bundle())
    sink.teardown()

    assert ListSinkFn.written == ["a1", "a2", "b2"]
    letters = [o.value if hasattr(o, "value") else o for o in outputs]
    assert [key for key, _ in letters] == ["refused"], "the sink's own outputs pass unchanged"
    assert client.ack_ids() == {"ack-written", "ack-no-rows"}
    assert deliveries.take(["refused"]) == {SUBSCRIPTION: ["ack-refused"]}, "left to its writer"
    assert client.closed


def test_a_sink_bundle_that_fails_acknowledges_nothing():
    deliveries = Deliveries()
    _pulled(deliveries, "fine", "buggy")
    client = FakeSubscriber()
    sink = AcknowledgeWrittenRows(ListSinkFn(), deliveries.run_id, lambda: client)
    sink.setup()
    with pytest.raises(KeyError, match="bug-1"):
        _bundle(sink, [_message("fine", "ok-1"), _message("buggy", "bug-1")])
    assert client.acknowledged == []
    assert len(deliveries) == 2, "both are delivered again"


def _dead_letter(message_id: str) -> tuple[str, DeadLetterLine]:
    return message_id, DeadLetterLine(f'{{"messageId": "{message_id}"}}', "OrderEvent")


def test_dead_letters_are_acknowledged_once_their_file_is_renamed_into_place(tmp_path: Path):
    deliveries = Deliveries()
    _pulled(deliveries, "m1", "m2")
    folder = tmp_path / "dead_letters"
    client = FakeSubscriber(folder)
    writer = WriteDeadLetterFilesFn(str(folder), 60, "run-1")
    wrapped = AcknowledgeWrittenDeadLetters(writer, deliveries.run_id, lambda: client)
    wrapped.setup()
    names = _bundle(wrapped, _dead_letter("m1"), _dead_letter("m2"), _dead_letter("m1"))
    wrapped.teardown()
    assert len(names) == 1, "the writer's file names pass unchanged"
    assert client.ack_ids() == {"ack-m1", "ack-m2"}
    assert client.files_then == [[".ndjson"]], "acknowledged after the rename, not before"
    assert len(deliveries) == 0


def test_dead_letters_whose_file_cannot_be_renamed_are_not_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def refuse(*_: Any) -> None:
        raise OSError("the bucket is away")

    monkeypatch.setattr(FileSystems, "rename", refuse)
    deliveries = Deliveries()
    _pulled(deliveries, "m1")
    client = FakeSubscriber()
    writer = WriteDeadLetterFilesFn(str(tmp_path / "dead_letters"), 60, "run-2")
    wrapped = AcknowledgeWrittenDeadLetters(writer, deliveries.run_id, lambda: client)
    wrapped.setup()
    with pytest.raises(OSError, match="the bucket is away"):
        _bundle(wrapped, _dead_letter("m1"))
    assert client.acknowledged == []
    assert len(deliveries) == 1


def _local_graph(tmp_path: Path) -> beam.Pipeline:
    return prepare(
        ["--subscription", f"ecom.events.v1.OrderEvent={SUBSCRIPTION}",
         "--subscription", "ecom.events.v1.InventoryEvent=projects/ecom-local/subscriptions/stock",
         "--sink", "duckdb", "--duckdb_path", str(tmp_path / "w.duckdb"),
         "--dead_letter_prefix", str(tmp_path / "dead_letters")]
    )  # fmt: skip


def test_the_local_layer_wraps_the_writers_in_place_and_the_graph_keeps_its_shape(tmp_path: Path):
    plain = _local_graph(tmp_path).to_runner_api()
    pipeline = _local_graph(tmp_path)
    wrapped = acknowledge_after_writes(pipeline, Deliveries().run_id)
    assert wrapped.sinks == ["WriteToDuckDB/InsertRows"]
    assert sorted(wrapped.dead_letter_writers) == [
        "WriteDeadLetters/WriteDeadLetterFiles",
        "WriteRefusedRowDeadLetters/WriteDeadLetterFiles",
    ]
    local = pipeline.to_runner_api()
    assert shape(local) == shape(plain)
    assert b"ops.local_pipeline" in pickled_code(local), "the wrappers are what the steps run"
    assert b"ops.local_pipeline" not in pickled_code(plain)


def test_a_graph_without_a_warehouse_sink_is_refused(tmp_path: Path):
    pipeline = beam.Pipeline()
    _ = (
        pipeline
        | beam.Create([_dead_letter("m1")])
        | beam.ParDo(WriteDeadLetterFilesFn(str(tmp_path), 60, "run-3"))
    )
    with pytest.raises(NothingToAcknowledgeAfterError, match="sinks \\[\\]"):
        acknowledge_after_writes(pipeline, Deliveries().run_id)


def _received(message_id: str) -> ReceivedMessage:
    published = dt.datetime(2025, 12, 1, 10, tzinfo=dt.UTC)
    message = PubsubMessage(data=b"x", message_id=message_id, publish_time=published)
    return ReceivedMessage(ack_id=f"ack-{message_id}", message=message)


class ScriptedPulls:
    """Answers pulls from a script; has no ``acknowledge``: the local read must never call it."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[int] = []

    def pull(self, request: dict[str, Any], timeout: float) -> PullResponse:
        self.asked.append(request["max_messages"])
        ids = self.answers.pop(0) if self.answers else []
        return PullResponse(received_messages=[_received(i) for i in ids])


@pytest.fixture
def no_local_pulls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restore Beam's read and forget registrations when the test ends."""
    evaluator = transform_evaluator._PubSubReadEvaluator
    monkeypatch.setattr(evaluator, "_read_from_pubsub", evaluator._read_from_pubsub)
    monkeypatch.setattr(pulls, "_pulls", {})


def test_a_local_read_fills_the_bundle_and_acknowledges_nothing(no_local_pulls: None):
    deliveries = Deliveries()
    pulls.pull_locally([SUBSCRIPTION], 5, deliveries)
    client = ScriptedPulls(["m1", "m2", "m3"], ["m4", "m5"], ["m6"])
    evaluator = SimpleNamespace(
        _sub_name=SUBSCRIPTION,
        _applied_ptransform=None,
        _get_subscriber_client=lambda _: client,
    )
    read = transform_evaluator._PubSubReadEvaluator._read_from_pubsub(evaluator, None)  # type: ignore[arg-type]
    assert [message.message_id for _, message in read] == ["m1", "m2", "m3", "m4", "m5"]
    assert client.asked == [5, 2], "pulled until the bundle held its five"
    assert deliveries.take(["m1", "m5"]) == {SUBSCRIPTION: ["ack-m1", "ack-m5"]}
    assert len(deliveries) == 3
    assert read[0][0].to_utc_datetime(has_tz=True) == dt.datetime(2025, 12, 1, 10, tzinfo=dt.UTC)


def test_an_idle_local_read_returns_at_once(no_local_pulls: None):
    pulls.pull_locally([SUBSCRIPTION], 1000, Deliveries())
    client = ScriptedPulls()
    evaluator = SimpleNamespace(
        _sub_name=SUBSCRIPTION, _applied_ptransform=None, _get_subscriber_client=lambda _: client
    )
    assert pulls._read(evaluator, None) == []
    assert client.asked == [1000]


def test_a_subscription_no_local_run_registered_keeps_beams_own_read(
    no_local_pulls: None, monkeypatch: pytest.MonkeyPatch
):
    calls: list[Any] = []

    def beams_read(evaluator: Any, _: Any) -> list[Any]:
        calls.append(evaluator)
        return []

    monkeypatch.setattr(pulls, "_beams_read", beams_read)
    pulls.pull_locally([SUBSCRIPTION], 1000, Deliveries())
    evaluator = SimpleNamespace(_sub_name="projects/p/subscriptions/someone-elses")
    assert pulls._read(evaluator, None) == []
    assert calls == [evaluator]


def test_beams_pubsub_evaluator_has_the_shape_the_local_read_relies_on():
    """Fails on a Beam upgrade that moves what ``ops.local_pipeline.pulls`` replaces or uses."""
    evaluator = transform_evaluator._PubSubReadEvaluator
    assert list(inspect.signature(pulls._beams_read).parameters) == ["self", "timestamp_attribute"]
    assert "self._read_from_pubsub(self.source.timestamp_attribute)" in inspect.getsource(
        evaluator.finish_bundle
    )
    assert "self._sub_name = " in inspect.getsource(evaluator.__init__)
    assert list(inspect.signature(evaluator._get_subscriber_client).parameters) == ["transform"]


def test_a_local_run_reads_pub_sub_on_the_direct_runner_only(tmp_path: Path):
    with pytest.raises(UsageError, match="a local run reads Pub/Sub"):
        local_pipeline.run(["--replay", str(GOLDEN), "--sink", "files"])
    with pytest.raises(UsageError, match="--runner DataflowRunner: a local run runs on the Direct"):
        local_pipeline.run(["--subscription", SUBSCRIPTION, "--runner", "DataflowRunner"])
    with pytest.raises(UsageError, match="expected \\[CONTRACT=\\]projects/P/subscriptions/S"):
        local_pipeline.run(["--subscription", "orders"])


def test_the_command_lists_the_pipelines_options_and_its_own(capsys: pytest.CaptureFixture[str]):
    assert local_pipeline.main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--subscription", "--sink", "--dead_letter_prefix", "--direct_pubsub_batch"):
        assert option in out, option
    assert out.startswith("usage: python -m ops.local_pipeline")
    assert local_pipeline.main(["--replay", str(GOLDEN)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m ops.local_pipeline: error: a local run reads Pub/Sub")
    assert len(err.strip().splitlines()) == 1
