"""The producers' wheel on its own: installed without Beam, validating and publishing.

The ecom-contracts wheel is built from this checkout and installed, with its
dependencies from the package index and nothing else, in a fresh virtual
environment; from an empty folder (every access to the checkout refused) its
command checks a file of events, publishes it to the Pub/Sub emulator, and a
few lines of the README's Python publish one more. The pipeline, from the
development environment, reads the subscription and lands every event.
Without the Google Cloud CLI the emulator part is skipped, loudly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.protobuf import json_format

from ecom_contracts_pb.events.v1 import inventory_event_pb2
from ops.emulators import PubsubEmulator
from tests.integration.test_installed_package import GUARD
from tests.integration.wheels import build_wheel

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "ecom-producers"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the ecom-contracts wheel, built from this checkout."""
    return build_wheel(ROOT / "producer", tmp_path_factory.mktemp("producer-wheel") / "dist")


def _environment(work: Path, *requirements: str) -> Path:
    """Return the bin/ folder of a fresh environment in ``work`` holding ``requirements``."""
    venv.EnvBuilder(with_pip=True).create(work / "env")
    installing = subprocess.run(
        [str(work / "env" / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", *requirements],
        capture_output=True, text=True, cwd=work, check=False,
    )  # fmt: skip
    assert installing.returncode == 0, installing.stderr[-3000:]
    (work / "guard.py").write_text(GUARD)
    return work / "env" / "bin"


@pytest.fixture(scope="module")
def producer(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the bin/ folder of a fresh environment holding only the ecom-contracts wheel."""
    return _environment(tmp_path_factory.mktemp("producer"), str(wheel))


@pytest.fixture(scope="module")
def publishing_producer(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the bin/ folder of a fresh environment holding ecom-contracts[publish]."""
    return _environment(tmp_path_factory.mktemp("publishing-producer"), f"{wheel}[publish]")


def _run(
    bin_dir: Path, folder: Path, *argv: str, guarded: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the environment's python (under the checkout guard) or one of its commands."""
    command = [str(bin_dir / argv[0]), *argv[1:]]
    if guarded:
        command = [str(bin_dir / "python"), str(bin_dir.parents[1] / "guard.py"), str(ROOT), *argv]
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder), **(env or {})},
    )  # fmt: skip


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def _stock(event_id: str, change: int = 5) -> inventory_event_pb2.InventoryEvent:
    event = inventory_event_pb2.InventoryEvent(
        event_id=event_id,
        product_id="p-1",
        warehouse_id="wh-1",
        quantity_change=change,
        reason=inventory_event_pb2.INVENTORY_REASON_RESTOCK,
    )
    event.event_timestamp.FromJsonString("2025-12-01T10:00:00Z")
    return event


def _ndjson(path: Path, *events: inventory_event_pb2.InventoryEvent) -> Path:
    path.write_text("".join(json_format.MessageToJson(e, indent=None) + "\n" for e in events))
    return path


def test_the_wheel_installs_without_beam_or_the_warehouse(producer: Path, tmp_path: Path):
    folder = _empty(tmp_path)
    probe = (
        "import importlib.util as u, ecom_contracts, ecom_contracts_pb.events.v1.order_event_pb2\n"
        "print(ecom_contracts.VERSION, ecom_contracts.RELEASE, ecom_contracts.__file__)\n"
        "print(*[m for m in ('apache_beam', 'duckdb', 'pipeline', 'ops', 'contracts',"
        " 'ecom_warehouse', 'grpc_tools') if u.find_spec(m)])\n"
        "import ecom_contracts_pb.catalog\n"
        "print(ecom_contracts_pb.catalog.__file__,"
        " *(c.schema_id for c in ecom_contracts.CONTRACTS))\n"
    )
    (folder / "probe.py").write_text(probe)
    completed = _run(producer, folder, "probe.py")
    assert completed.returncode == 0, completed.stderr[-3000:]
    version, where, catalog = completed.stdout.splitlines()
    assert version.startswith("1.0.0 1 ")
    assert str(producer.parents[1]) in version
    assert where == "", f"not a producer's dependency: {where}"
    # The generated catalogue ships in the wheel, under the contracts' API.
    catalog_file, *schema_ids = catalog.split()
    assert catalog_file.startswith(str(producer.parents[1]))
    assert catalog_file.endswith("/ecom_contracts_pb/catalog.py")
    assert schema_ids == ["inventory-event", "order-event", "user-activity-event"]
    beam = _run(producer, folder, "python", "-c", "import apache_beam", guarded=False)
    assert beam.returncode != 0
    assert "No module named 'apache_beam'" in beam.stderr
    said = _run(producer, folder, "ecom-contracts", "version", guarded=False)
    assert said.returncode == 0
    assert said.stdout.startswith("ecom-contracts 1.0.0 (registry release 1)\n")
    assert "order-event" in said.stdout


def test_validate_a_file_from_an_empty_folder(producer: Path, tmp_path: Path):
    folder = _empty(tmp_path)
    good = _ndjson(tmp_path / "good.ndjson", _stock("s-1"), _stock("s-2"))
    mixed = _ndjson(tmp_path / "mixed.ndjson", _stock("s-1"), _stock("s-3", change=-5))
    checked = _run(
        producer, folder, "ecom_contracts", "validate", "--contract", "inventory-event", str(good)
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == ""
    assert "2 valid, 0 refused" in checked.stderr
    refused = _run(
        producer, folder, "ecom-contracts", "validate", "--contract", "inventory-event",
        str(mixed), guarded=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert (
        refused.stdout
        == f"{mixed}:2: invalid: (message): inventory.quantity_sign: "
        + (refused.stdout.split("inventory.quantity_sign: ", 1)[1])
    )
    assert refused.stdout.count("\n") == 1
    wrong = _run(producer, folder, "ecom_contracts", "validate", "--contract", "refund", str(good))
    assert wrong.returncode == 2
    assert "argument --contract: unknown contract 'refund'" in wrong.stderr


COLLIDING = """\
import ecom, buf
import ecom_contracts

print(ecom.__file__)
print(buf.__file__)
order = ecom_contracts.contract("order-event").message
event = order(event_id="e-1", order_id="o-1")
print(len(ecom_contracts.collect_violations(event)) > 0)
"""


def test_a_service_with_its_own_ecom_and_buf_packages_imports_the_contracts(
    producer: Path, tmp_path: Path
):
    # A producer's service whose own code is a regular package named `ecom` (and which has
    # some other `buf` on its path) first on sys.path, beside the installed wheel.
    service = tmp_path / "service"
    for package in ("ecom", "buf"):
        (service / package).mkdir(parents=True)
        (service / package / "__init__.py").write_text(f"OWN = {package!r}\n")
    (service / "probe.py").write_text(COLLIDING)
    events = _ndjson(tmp_path / "events.ndjson", _stock("s-1"))
    env = {"PYTHONPATH": str(service)}
    probed = _run(producer, service, "probe.py", env=env)
    assert probed.returncode == 0, probed.stderr[-3000:]
    assert probed.stdout.splitlines() == [
        str(service / "ecom" / "__init__.py"),
        str(service / "buf" / "__init__.py"),
        "True",
    ]
    checked = _run(
        producer, service, "ecom-contracts", "validate", "--contract", "inventory-event",
        str(events), guarded=False, env=env,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "1 valid, 0 refused" in checked.stderr


def test_the_wheel_carries_only_the_producers_contracts(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        files = archive.namelist()
        about = archive.read(next(f for f in files if f.endswith(".dist-info/METADATA")))
    tops = {name.split("/")[0] for name in files}
    assert tops == {
        "ecom_contracts",
        "ecom_contracts_pb",
        f"{wheel.name.split('-py3')[0]}.dist-info",
    }
    assert {
        "ecom_contracts/py.typed",
        "ecom_contracts_pb/py.typed",
        "ecom_contracts_pb/catalog.py",
        "ecom_contracts_pb/events/v1/order_event_pb2.py",
        "ecom_contracts_pb/events/v1/order_event_pb2.pyi",
        "ecom_contracts_pb/types/v1/types_pb2.py",
        "ecom_contracts_pb/pubsub/v1/order_event_pb2.py",
        "ecom_contracts_pb/buf/validate/validate_pb2.py",
    } <= set(files)
    # The warehouse tables' and dead letters' classes are the pipeline's (ecom_ingest_pb).
    assert not [f for f in files if "/warehouse/" in f or "/deadletter/" in f]
    requires = [line for line in about.decode().splitlines() if line.startswith("Requires-Dist:")]
    assert [line for line in requires if "google-cloud-pubsub" in line] == [
        'Requires-Dist: google-cloud-pubsub<3,>=2.44.0; extra == "publish"'
    ]


def test_validation_needs_no_pubsub_client_and_publish_says_how_to_get_it(
    producer: Path, tmp_path: Path
):
    folder = _empty(tmp_path)
    events = _ndjson(tmp_path / "events.ndjson", _stock("s-1"))
    absent = _run(producer, folder, "python", "-c", "import google.cloud.pubsub_v1", guarded=False)
    assert absent.returncode != 0
    checked = _run(
        producer, folder, "ecom-contracts", "validate", "--contract", "inventory-event",
        str(events), guarded=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr[-3000:]
    published = _run(
        producer, folder, "ecom-contracts", "publish", "--topic",
        f"projects/{PROJECT}/topics/inventory-events", "--contract", "inventory-event",
        str(events), guarded=False,
    )  # fmt: skip
    assert published.returncode == 2
    assert published.stderr == (
        "ecom-contracts publish: error: publishing needs the Pub/Sub client, not installed: "
        "pip install 'ecom-contracts[publish]'\n"
    )
    dry = _run(
        producer, folder, "ecom-contracts", "publish", "--topic",
        f"projects/{PROJECT}/topics/inventory-events", "--contract", "inventory-event",
        "--dry-run", str(events), guarded=False,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "dry run: 1 of 1 event(s) would be published" in dry.stderr
    # A topic named after another contract is refused with no service and no client.
    wrong = _run(
        producer, folder, "ecom-contracts", "publish", "--topic",
        f"projects/{PROJECT}/topics/order-events", "--contract", "inventory-event",
        "--dry-run", str(events), guarded=False,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "argument --topic: " in wrong.stderr
    assert "carries ecom.events.v1.OrderEvent" in wrong.stderr
    # Producers' unit tests record with RecordingPublisher, without the Pub/Sub client.
    (folder / "record.py").write_text(RECORD)
    recorded = _run(producer, folder, "record.py")
    assert recorded.returncode == 0, recorded.stderr[-3000:]
    assert recorded.stdout.split() == ["s-rec", "True", "KeyHeldError"]


RECORD = """\
from ecom_contracts_pb.events.v1 import inventory_event_pb2 as inventory
import ecom_contracts

event = inventory.InventoryEvent(
    event_id="s-rec", product_id="p-1", warehouse_id="wh-1", quantity_change=5,
    reason=inventory.INVENTORY_REASON_RESTOCK,
)
event.event_timestamp.FromJsonString("2025-12-01T10:00:00Z")
bad = inventory.InventoryEvent()
bad.CopyFrom(event)
bad.quantity_change = -5
publisher = ecom_contracts.RecordingPublisher("projects/p/topics/inventory-events", ordering=True)
results = publisher.publish([bad, event], ordering_key_field="product_id")
publisher.resume("p-1")
sent = publisher.send(event, ordering_key_field="product_id").result()
print(*(e.event_id for e in publisher.events), sent.ok, type(results[1].refusal).__name__)
"""


TYPED = """\
import ecom_contracts
from ecom_contracts_pb.catalog import ORDER_EVENT
from ecom_contracts_pb.events.v1.order_event_pb2 import OrderEvent


def quantities(data: bytes) -> list[int]:
    event = ecom_contracts.decode(data, ecom_contracts.contract("order-event"))
    return [item.quantity for item in event.items]


def currency(data: bytes) -> str:
    return ecom_contracts.decode(data, ORDER_EVENT, "JSON").currency


def same(event: OrderEvent) -> OrderEvent:
    return ecom_contracts.contract_of(event).message.FromString(event.SerializeToString())
"""


def test_decode_is_typed_by_contract_under_mypy_strict(producer: Path, tmp_path: Path):
    # As the README says: mypy and types-protobuf beside the wheel, `mypy --strict`.
    versions = [f"{name}=={metadata.version(name)}" for name in ("mypy", "types-protobuf")]
    installing = subprocess.run(
        [str(producer / "python"), "-m", "pip", "install", "--quiet", *versions],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installing.returncode == 0, installing.stderr[-3000:]
    folder = _empty(tmp_path)
    (folder / "typed.py").write_text(TYPED)
    checked = _run(producer, folder, "python", "-m", "mypy", "--strict", "typed.py", guarded=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (folder / "wrong.py").write_text(
        "import ecom_contracts\n\n\ndef f(data: bytes) -> str:\n"
        '    return ecom_contracts.decode(data, ecom_contracts.contract("order-event")).sku\n'
    )
    wrong = _run(producer, folder, "python", "-m", "mypy", "--strict", "wrong.py", guarded=False)
    assert wrong.returncode == 1
    assert '"OrderEvent" has no attribute "sku"' in wrong.stdout


PUBLISH = """\
import sys
from ecom_contracts_pb.events.v1 import inventory_event_pb2 as inventory
import ecom_contracts

topic = sys.argv[1]
event = inventory.InventoryEvent(
    event_id="s-api", product_id="p-1", warehouse_id="wh-1", quantity_change=5,
    reason=inventory.INVENTORY_REASON_RESTOCK,
)
event.event_timestamp.FromJsonString("2025-12-01T10:00:00Z")
ecom_contracts.validate(event)
bad = inventory.InventoryEvent()
bad.CopyFrom(event)
bad.quantity_change = -5
try:
    ecom_contracts.validate(bad)
except ecom_contracts.InvalidEventError as refused:
    print("refused", *(f"{v.field_path}:{v.rule_id}" for v in refused.violations))
publisher = ecom_contracts.Publisher(topic, encoding="BINARY", timeout=30.0)
for result in publisher.publish([event, bad]):
    print("published" if result.ok else f"not published: {result.error}")
recording = ecom_contracts.RecordingPublisher(topic)
recording.publish([event, bad])
print("recorded", *(e.event_id for e in recording.events))
"""

READ = """\
import json, sys, time
import duckdb
from ops.report import landed_events
from pipeline.main import run
from pipeline.warehouse import create_tables

subscription, warehouse, letters, expected = sys.argv[1:5]
expected = set(expected.split(","))
with duckdb.connect(warehouse) as connection:
    create_tables(connection)
streaming = run([
    "--subscription", f"ecom.events.v1.InventoryEvent={subscription}",
    "--sink", "duckdb", "--duckdb_path", warehouse, "--dead_letter_prefix", letters,
    "--dead_letter_window_seconds", "1",
])
deadline = time.monotonic() + 120
landed = set()
try:
    while time.monotonic() < deadline and landed != expected:
        time.sleep(0.5)
        with duckdb.connect(warehouse, read_only=False) as connection:
            landed = landed_events(connection)
finally:
    streaming.cancel()
print(json.dumps(sorted(landed)))
"""


def test_publish_to_the_emulator_and_the_pipeline_lands_it(
    publishing_producer: Path, emulator: PubsubEmulator, tmp_path: Path
):
    producer = publishing_producer
    folder = _empty(tmp_path)
    name = uuid.uuid4().hex[:8]
    topic = f"projects/{PROJECT}/topics/inventory-events-{name}"
    subscription = f"projects/{PROJECT}/subscriptions/inventory-events-pipeline-{name}"
    pubsub_v1.PublisherClient().create_topic(name=topic)
    subscriber = pubsub_v1.SubscriberClient()
    subscriber.create_subscription(name=subscription, topic=topic)
    audit = f"{subscription}-audit"  # a second reader, to see the messages as sent
    subscriber.create_subscription(name=audit, topic=topic)
    events = _ndjson(tmp_path / "events.ndjson", _stock("s-1"), _stock("s-2"), _stock("s-3"))
    host = {"PUBSUB_EMULATOR_HOST": emulator.host}

    published = _run(
        producer, folder, "ecom-contracts", "publish", "--topic", topic,
        "--contract", "inventory-event", str(events), guarded=False, env=host,
    )  # fmt: skip
    assert published.returncode == 0, published.stdout + published.stderr[-3000:]
    assert f"{topic}: BINARY messages" in published.stderr
    assert "published 3 of 3 events" in published.stderr

    (folder / "publish.py").write_text(PUBLISH)
    scripted = _run(producer, folder, "publish.py", topic, env=host)
    assert scripted.returncode == 0, scripted.stderr[-3000:]
    assert scripted.stdout.splitlines() == [
        "refused :inventory.quantity_sign",
        "published",
        "not published: invalid against its contract: 1 rule(s) broken: "
        "(message): inventory.quantity_sign",
        "recorded s-api",
    ]

    read = subprocess.run(
        [sys.executable, "-c", READ, subscription, str(tmp_path / "w.duckdb"),
         str(tmp_path / "dead_letters"), "s-1,s-2,s-3,s-api"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, **host},
    )  # fmt: skip
    assert read.returncode == 0, read.stderr[-3000:]
    assert json.loads(read.stdout.splitlines()[-1]) == ["s-1", "s-2", "s-3", "s-api"]
    assert not list((tmp_path / "dead_letters").glob("*.ndjson")), "nothing dead-lettered"
    sent = subscriber.pull(subscription=audit, max_messages=10, timeout=30).received_messages
    assert {m.message.attributes["ecom_revision"] for m in sent} == {"r1"}
    assert {m.message.attributes["ecom_contract"] for m in sent} == {
        "ecom.events.v1.InventoryEvent"
    }


def test_examples_piped_into_validate_and_the_release_check_from_the_wheel(
    producer: Path, tmp_path: Path
):
    folder = _empty(tmp_path)
    piped = subprocess.run(
        "set -o pipefail; ecom-contracts example --contract order-event"
        " | ecom-contracts validate --contract order-event -",
        shell=True, executable="/bin/bash", cwd=folder, capture_output=True, text=True,
        timeout=120, check=False, env={"PATH": f"{producer}:/usr/bin:/bin", "HOME": str(folder)},
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert "2 valid, 0 refused" in piped.stderr
    checked = _run(
        producer, folder, "ecom-contracts", "check-compatibility", "--contract", "order-event",
        guarded=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("accepted: ecom.events.v1.OrderEvent r1 is in registry")
