"""The graph ``pipeline.main.build`` makes for Dataflow is the recorded one, and nothing local.

Every launch configuration of ``run.sh`` (``tests/unit/test_launch_graphs.py``)
is built offline and reduced to its shape: each transform's label, kind (URN),
parts, and where its inputs come from. That shape is compared with
``dataflow_graphs.json``, one graph per write method (the streaming mode and
the packaging change the job's options, not its graph), recorded from the
graph as it stood before the
local-run layer (``ops/local_pipeline/``) moved out of ``pipeline/``; a change
to it is a change to what Dataflow runs (and to what ``./run.sh update`` must
map), so it is recorded on purpose, never by accident::

    .venv/bin/python -m tests.unit.test_dataflow_graph   # rewrites dataflow_graphs.json

And no transform Dataflow is sent refers to the local-run layer: its source,
its acknowledgements and its module names appear nowhere in the job's proto.
"""

from __future__ import annotations

import base64
import bz2
import itertools
import json
import sys
import zlib
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2

from pipeline.main import build, pipeline_options
from pipeline.options import IngestOptions
from tests.unit.test_launch_graphs import (
    PACKAGINGS,
    STREAMING_MODES,
    WRITE_METHODS,
    go_offline,
    launch_arguments,
)

GOLDEN = Path(__file__).with_name("dataflow_graphs.json")
LOCAL_MACHINERY = (b"ops.local_pipeline", b"pipeline.acks", b"pipeline.direct_pubsub")
"""Module names no transform of a Dataflow graph may carry: the local-run layer's package, and
where its acknowledgements and Pub/Sub reader lived in ``pipeline/`` before it."""
CONFIGURATIONS = list(itertools.product(WRITE_METHODS, STREAMING_MODES, PACKAGINGS))


def dataflow_proto(write_method: str, streaming_mode: str, packaging: str) -> Any:
    """Return the runner API proto of the graph ``build`` makes with ``run.sh launch``'s options."""
    options = pipeline_options(launch_arguments(write_method, streaming_mode, packaging))
    pipeline = beam.Pipeline(options=options)
    build(pipeline, options.view_as(IngestOptions))
    return pipeline.to_runner_api()


def pickled_code(proto: beam_runner_api_pb2.Pipeline) -> bytes:
    """Return the pickles of every DoFn and source in the graph, decompressed and joined.

    Beam sends each as base64 of a compressed pickle; a pickle names the module
    of every class and function it holds by reference.
    """
    pickles = []
    for transform in proto.components.transforms.values():
        if transform.spec.urn == common_urns.primitives.PAR_DO.urn:
            payload = beam_runner_api_pb2.ParDoPayload.FromString(transform.spec.payload)
            pickles.append(payload.do_fn.payload)
        elif transform.spec.urn == common_urns.deprecated_primitives.READ.urn:
            read = beam_runner_api_pb2.ReadPayload.FromString(transform.spec.payload)
            pickles.append(read.source.payload)
    decoded = []
    for pickled in pickles:
        compressed = base64.b64decode(pickled)
        try:
            decoded.append(bz2.decompress(compressed))
        except OSError:
            decoded.append(zlib.decompress(compressed))
    return b"\n".join(decoded)


def shape(proto: beam_runner_api_pb2.Pipeline) -> dict[str, Any]:
    """Return the graph's shape: per transform label, its URN, parts, inputs and outputs.

    Identifiers Beam numbers as it builds (PCollections, coders, environments)
    are replaced by what they stand for: an input is named by the transform
    and output tag that produce it.
    """
    transforms = proto.components.transforms
    producers = {}
    for transform in transforms.values():
        if transform.subtransforms:
            continue  # a composite's outputs are its parts' outputs
        for tag, pcollection in transform.outputs.items():
            producers[pcollection] = f"{transform.unique_name}[{tag}]"
    return {
        transform.unique_name: {
            "urn": transform.spec.urn,
            "parts": sorted(transforms[part].unique_name for part in transform.subtransforms),
            "inputs": sorted(
                f"{tag}<-{producers.get(pcollection, '?')}"
                for tag, pcollection in transform.inputs.items()
            ),
            "outputs": sorted(transform.outputs),
        }
        for transform in transforms.values()
    }


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Build without reaching any network (see ``tests/unit/test_launch_graphs.py``)."""
    return go_offline(monkeypatch)


@pytest.mark.parametrize(("write_method", "streaming_mode", "packaging"), CONFIGURATIONS)
def test_the_dataflow_graph_is_the_recorded_one(
    write_method: str, streaming_mode: str, packaging: str, offline: list[Any]
):
    recorded = json.loads(GOLDEN.read_text())[write_method]
    built = shape(dataflow_proto(write_method, streaming_mode, packaging))
    assert sorted(built) == sorted(recorded), "the transforms' labels changed"
    assert built == recorded
    assert offline == []


@pytest.mark.parametrize("write_method", WRITE_METHODS)
def test_no_transform_of_the_dataflow_graph_refers_to_the_local_layer(
    write_method: str, offline: list[Any]
):
    proto = dataflow_proto(write_method, STREAMING_MODES[0], PACKAGINGS[0])
    code = pickled_code(proto)
    assert b"pipeline.sinks" in code, "the sinks' DoFns are among the pickles searched"
    assert [name for name in LOCAL_MACHINERY if name in code] == []
    assert offline == []


def test_the_shape_tells_a_changed_graph_from_the_recorded_one(offline: list[Any]):
    """The comparison can fail: one extra step, or a step fed from elsewhere, changes the shape."""
    args = launch_arguments(WRITE_METHODS[0], STREAMING_MODES[0], PACKAGINGS[0])
    options = pipeline_options(args)
    pipeline = beam.Pipeline(options=options)
    build(pipeline, options.view_as(IngestOptions))
    recorded = shape(pipeline.to_runner_api())
    _ = pipeline | "Extra" >> beam.Create([1])
    assert shape(pipeline.to_runner_api()) != recorded


def record() -> None:
    """Rewrite the golden file from the graphs ``build`` makes now."""
    with pytest.MonkeyPatch.context() as patch:
        go_offline(patch)
        graphs = {
            method: shape(dataflow_proto(method, STREAMING_MODES[0], PACKAGINGS[0]))
            for method in WRITE_METHODS
        }
    GOLDEN.write_text(json.dumps(graphs, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(graphs)} graphs in {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    record()
